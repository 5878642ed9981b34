/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		  The remote endpoints of the connectivity platform, described as data.
 *
 * Every foreign table reads one resource of this catalog.  An entry says how
 * to call the endpoint (method, path, key), where a response keeps its
 * records and paging state, how the next request of a paged answer asks
 * for its records, and which columns a record yields.  The conventions the
 * endpoints share (error members and codes, XML-style list counts, the
 * active-pair flag) are the API's entry.  The scan engine and the record
 * converter read nothing but these entries, so a new endpoint is a new
 * resource here, and a second API with other member names a new API entry.
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

/*
 * The error codes that the customer APIs document (seeds 000 and 001).  Any
 * other code is reported as a remote error with its own message.
 */
static const SfErrorCode platform_error_codes[] = {
	{"CUSTOMER_1002", MAKE_SQLSTATE('4', '2', '7', '0', '4'),
		"customer \"%s\" does not exist",
	"Check the customer_id in the query or in the option of the table or server.", false},
	{"GLOBAL_1001", MAKE_SQLSTATE('5', '3', '0', '0', '0'),
		"the subscriber API is overloaded",
	"Try again later, or raise option \"max_retries\".", true},
	{"GLOBAL_1018", MAKE_SQLSTATE('7', '2', '0', '0', '0'),
		"the point in time of the scan expired on the API",
	"Raise option \"pit_keep_alive\" (now %d minutes), or read faster with a larger \"fetch_size\".", false},
};

/* The customer APIs write "errorMessage", the sessions API "message". */
static const char *const platform_error_message_members[] = {
	"errorMessage", "message", NULL
};

static const SfApi platform_api = {
	.error_code_member = "errorCode",
	.error_message_members = platform_error_message_members,
	.error_codes = platform_error_codes,
	.nerror_codes = lengthof(platform_error_codes),
	.list_length_member = "length",
	.active_flag_member = "isLastActive",
};

static const SfResource resources[] = {
	{
		.name = "customer_subscribers",
		.api = &platform_api,
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
		.page_param = "page",
		.page_size_param = "size",
		.first_page = 1,
		.profile_list_path = NULL,
		.pair_list_path = "imsiMsisdnPairs",
		.rows_per_key = 1000,
		.columns = customer_subscriber_columns,
		.ncolumns = lengthof(customer_subscriber_columns),
	},
	{
		.name = "subscriber_details",
		.api = &platform_api,
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
		.cursor_member = "pitId",
		.keep_alive_member = "pitKeepAlive",
		.chunk_size_member = "size",
		.profile_list_path = "profile",
		.pair_list_path = "imsiMsisdnPairs",
		.rows_per_key = 1000,
		.columns = subscriber_detail_columns,
		.ncolumns = lengthof(subscriber_detail_columns),
	},
	{
		.name = "subscriber_sessions",
		.api = &platform_api,
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
		/* a subscriber has a handful of sessions; a page of them is plenty */
		.max_records = 10000,
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

/* Bounds the walk over the catalog by sf_resource_at. */
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

/* What the API means by an error code; NULL for a code it does not document. */
const SfErrorCode *
sf_error_code_lookup(const SfApi *api, const char *code)
{
	for (int i = 0; i < api->nerror_codes; i++)
	{
		if (strcmp(api->error_codes[i].code, code) == 0)
			return &api->error_codes[i];
	}
	return NULL;
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
