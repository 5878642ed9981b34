/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		  The remote endpoints of the connectivity platform, described as data.
 *
 * Every foreign table reads one resource of this catalog.  An entry says how
 * to call the endpoint (method, path, key), where a response keeps its
 * records and paging state, and which columns a record yields.  The scan
 * engine and the record converter read nothing but these entries, so a new
 * endpoint is a new entry here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "subscriber_fdw.h"

#define FIELD(name, type, path) {name, type, SF_SOURCE_FIELD, path, NULL}

static const SfColumnDef customer_subscriber_columns[] = {
	{"customer_id", "uuid", SF_SOURCE_KEY, NULL, NULL},
	FIELD("subscriber_id", "uuid", "subscriberId"),
	FIELD("iccid", "text", "iccid"),
	FIELD("status", "text", "status"),
	FIELD("imei", "text", "imei"),
	FIELD("imeisv", "text", "imeisv"),
	FIELD("attached_customer_id", "uuid", "customerId"),
	FIELD("attached_customer_name", "text", "customerName"),
	{"active_imsi", "text", SF_SOURCE_ACTIVE_PAIR, "imsi", NULL},
	{"active_msisdn", "text", SF_SOURCE_ACTIVE_PAIR, "msisdn", NULL},
	FIELD("imsi_msisdn_pairs", "jsonb", "imsiMsisdnPairs"),
};

static const SfColumnDef subscriber_detail_columns[] = {
	{"customer_id", "uuid", SF_SOURCE_KEY, NULL, NULL},
	FIELD("subscriber_id", "uuid", "subscriberId"),
	FIELD("eid", "text", "eId"),
	FIELD("status", "text", "status"),
	FIELD("imei", "text", "imei"),
	/* the API documents "meisv"; examples send "imeisv" */
	{"imeisv", "text", SF_SOURCE_FIELD, "imeisv", "meisv"},
	FIELD("attached_customer_id", "uuid", "customerId"),
	FIELD("attached_customer_name", "text", "customerName"),
	{"active_iccid", "text", SF_SOURCE_ACTIVE_PROFILE, "iccid", NULL},
	{"active_imsi", "text", SF_SOURCE_ACTIVE_PAIR, "imsi", NULL},
	{"active_msisdn", "text", SF_SOURCE_ACTIVE_PAIR, "msisdn", NULL},
	FIELD("profiles", "jsonb", "profile"),
	FIELD("daily_sms_usage", "numeric", "dailySmsUsage"),
	FIELD("daily_data_usage_mb", "numeric", "dailyDataUsage"),
	FIELD("weekly_sms_usage", "numeric", "weeklySmsUsage"),
	FIELD("weekly_data_usage_mb", "numeric", "weeklyDataUsage"),
	FIELD("monthly_sms_usage", "numeric", "monthlySmsUsage"),
	FIELD("monthly_data_usage_mb", "numeric", "monthlyDataUsage"),
	FIELD("last_network_mcc", "text", "lastConnectedNetwork.mcc"),
	FIELD("last_network_mnc", "text", "lastConnectedNetwork.mnc"),
	FIELD("last_network_plmn", "text", "lastConnectedNetwork.plmn"),
	FIELD("last_network_country", "text", "lastConnectedNetwork.countryCode"),
	FIELD("last_usage_mcc", "text", "lastUsageLocation.mcc"),
	FIELD("last_usage_mnc", "text", "lastUsageLocation.mnc"),
	FIELD("last_usage_location", "jsonb", "lastUsageLocation"),
	FIELD("last_ip", "inet", "lastIp"),
	FIELD("last_rat_type", "text", "lastRatType"),
	FIELD("last_rat_type_label", "text", "lastRatTypeLabel"),
	FIELD("last_data_rat_type", "text", "lastDataRatType"),
	/* the API documents the label with its first letter missing */
	{"last_data_rat_type_label", "text", SF_SOURCE_FIELD,
	"lastDataRatTypeLabel", "astDataRatTypeLabel"},
	FIELD("last_apn", "text", "lastApn"),
	FIELD("is_in_data_session", "boolean", "isInDataSession"),
	FIELD("last_data_session", "timestamptz", "lastDataSession"),
	FIELD("last_data_session_record", "timestamptz", "lastDataSessionRecord"),
	FIELD("first_activated_time", "timestamptz", "firstActivatedTime"),
};

static const SfColumnDef subscriber_session_columns[] = {
	{"msisdn", "text", SF_SOURCE_KEY, NULL, NULL},
	FIELD("session_id", "text", "sessionId"),
	FIELD("plmn_id", "text", "plmnId"),
	{"installed_rules", "jsonb", SF_SOURCE_LIST,
	"installedRuleList.installedRule", NULL},
	{"location_profiles", "jsonb", SF_SOURCE_LIST,
	"locationProfileList.locationProfile", NULL},
};

static const SfResource resources[] = {
	{
		.name = "customer_subscribers",
		.method = SF_HTTP_GET,
		.path_template = "/api/v2/customer/{key}/subscriber",
		.key_column = "customer_id",
		.key_label = "customer",
		.key_from_customer_option = true,
		.sends_tenant = false,
		.not_found_is_empty = false,
		.paging = SF_PAGING_PAGES,
		.records_path = "content",
		.records_as_list = false,
		.total_records_path = "pageable.totalElements",
		.total_pages_path = "pageable.totalPages",
		.cursor_path = NULL,
		.profile_list_path = NULL,
		.pair_list_path = "imsiMsisdnPairs",
		.rows_per_key = 1000,
		.columns = customer_subscriber_columns,
		.ncolumns = lengthof(customer_subscriber_columns),
	},
	{
		.name = "subscriber_details",
		.method = SF_HTTP_POST,
		.path_template = "/api/v2/customer/{key}/subscriber-all-details",
		.key_column = "customer_id",
		.key_label = "customer",
		.key_from_customer_option = true,
		.sends_tenant = false,
		.not_found_is_empty = false,
		.paging = SF_PAGING_PIT,
		.records_path = "content",
		.records_as_list = false,
		.total_records_path = "totalRecordAmount",
		.total_pages_path = NULL,
		.cursor_path = "pitId",
		.profile_list_path = "profile",
		.pair_list_path = "imsiMsisdnPairs",
		.rows_per_key = 1000,
		.columns = subscriber_detail_columns,
		.ncolumns = lengthof(subscriber_detail_columns),
	},
	{
		.name = "subscriber_sessions",
		.method = SF_HTTP_GET,
		.path_template = "/pcc/spcm/subscribers/{key}/sessions",
		.key_column = "msisdn",
		.key_label = "subscriber",
		.key_from_customer_option = false,
		.sends_tenant = true,
		.not_found_is_empty = true,
		.paging = SF_PAGING_NONE,
		.records_path = "sessionInfo",
		.records_as_list = true,
		.total_records_path = NULL,
		.total_pages_path = NULL,
		.cursor_path = NULL,
		.profile_list_path = NULL,
		.pair_list_path = NULL,
		.rows_per_key = 2,
		.columns = subscriber_session_columns,
		.ncolumns = lengthof(subscriber_session_columns),
	},
};

/* Finds a resource by the name a table's "resource" option gives. */
const SfResource *
sf_resource_lookup(const char *name)
{
	for (int i = 0; i < (int) lengthof(resources); i++)
	{
		if (strcmp(resources[i].name, name) == 0)
			return &resources[i];
	}
	return NULL;
}

/* Lets IMPORT FOREIGN SCHEMA walk the catalog in a stable order. */
const SfResource *
sf_resource_at(int index)
{
	Assert(index >= 0 && index < (int) lengthof(resources));
	return &resources[index];
}

int
sf_resource_count(void)
{
	return lengthof(resources);
}

/* Finds the catalog's definition of a column by its SQL name. */
const SfColumnDef *
sf_resource_column(const SfResource *resource, const char *name)
{
	for (int i = 0; i < resource->ncolumns; i++)
	{
		if (strcmp(resource->columns[i].name, name) == 0)
			return &resource->columns[i];
	}
	return NULL;
}

/*
 * The endpoint path with "segment" in place of the key: the percent-encoded
 * key for a request, "{column}" for EXPLAIN.
 */
char *
sf_resource_path(const SfResource *resource, const char *segment)
{
	const char *hole = strstr(resource->path_template, "{key}");

	Assert(hole != NULL);
	return psprintf("%.*s%s%s", (int) (hole - resource->path_template),
					resource->path_template, segment, hole + strlen("{key}"));
}

/* The list of resource names, for hints that tell the user what exists. */
char *
sf_resource_names(void)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < (int) lengthof(resources); i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", resources[i].name);
	return buf.data;
}
