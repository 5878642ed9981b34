/*-------------------------------------------------------------------------
 *
 * option.c
 *		  Validation and lookup of the options of subscriber_fdw.
 *
 * One table lists every option with the levels it may be given at and the
 * kind of value it takes; the validator and the lookup both read it, so an
 * option cannot be accepted by one and ignored by the other.  Secrets are
 * accepted in user mappings only, and their values are never repeated in a
 * message.  A value that becomes part of a request holds no control
 * character, so that no option can add or change a request header.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/reloptions.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "subscriber_fdw.h"

PG_FUNCTION_INFO_V1(subscriber_fdw_validator);

/* The levels an option may be given at, as a bit mask. */
#define LEVEL_SERVER	0x01
#define LEVEL_TABLE		0x02
#define LEVEL_USER		0x04
#define LEVEL_COLUMN	0x08

typedef enum SfOptionKind
{
	KIND_URL,
	KIND_UUID,
	KIND_TEXT,
	KIND_INT,
	KIND_NUMBER,
	KIND_BOOL,
	KIND_TIMEZONE,
	KIND_RESOURCE,
	KIND_JSON_PATH,
	KIND_USER_NAME,				/* never repeated in a message, like a secret */
	KIND_SECRET
} SfOptionKind;

typedef struct SfOptionDef
{
	const char *name;
	int			levels;
	SfOptionKind kind;
	int			min;			/* KIND_INT only */
	int			max;			/* KIND_INT and KIND_NUMBER */
	size_t		offset;			/* field of SfOptions, or -1 */
	bool		sent;			/* the value goes into requests (headers, path) */
} SfOptionDef;

#define NO_FIELD ((size_t) -1)
#define OPT(f) offsetof(SfOptions, f)

static const SfOptionDef option_defs[] = {
	{"base_url", LEVEL_SERVER, KIND_URL, 0, 0, OPT(base_url), false},
	{"customer_id", LEVEL_SERVER | LEVEL_TABLE, KIND_UUID, 0, 0, OPT(customer_id), true},
	{"tenant", LEVEL_SERVER, KIND_TEXT, 0, 0, OPT(tenant), true},
	{"fetch_size", LEVEL_SERVER | LEVEL_TABLE, KIND_INT, 1, 10000, OPT(fetch_size), false},
	{"pit_keep_alive", LEVEL_SERVER | LEVEL_TABLE, KIND_INT, 1, 30, OPT(pit_keep_alive), false},
	{"connect_timeout", LEVEL_SERVER | LEVEL_TABLE, KIND_INT, 1, 300, OPT(connect_timeout), false},
	{"request_timeout", LEVEL_SERVER | LEVEL_TABLE, KIND_INT, 1, 3600, OPT(request_timeout), false},
	{"max_retries", LEVEL_SERVER | LEVEL_TABLE, KIND_INT, 0, 10, OPT(max_retries), false},
	{"max_concurrency", LEVEL_SERVER | LEVEL_TABLE, KIND_INT, 1, 64, OPT(max_concurrency), false},
	{"max_response_size", LEVEL_SERVER | LEVEL_TABLE, KIND_INT, 1024, 134217728, OPT(max_response_size), false},
	{"count_pushdown", LEVEL_SERVER | LEVEL_TABLE, KIND_BOOL, 0, 0, OPT(count_pushdown), false},
	{"join_batch_size", LEVEL_SERVER | LEVEL_TABLE, KIND_INT, 1, 10000, OPT(join_batch_size), false},
	{"max_requests_per_second", LEVEL_SERVER, KIND_NUMBER, 0, SF_MAX_RATE, OPT(max_requests_per_second), false},
	{"max_server_concurrency", LEVEL_SERVER, KIND_INT, 1, 1000000, OPT(max_server_concurrency), false},
	{"max_requests_per_query", LEVEL_SERVER | LEVEL_TABLE, KIND_INT, 1, INT_MAX, OPT(max_requests_per_query), false},
	{"remote_timezone", LEVEL_SERVER, KIND_TIMEZONE, 0, 0, OPT(remote_timezone), false},
	{"tls_verify", LEVEL_SERVER, KIND_BOOL, 0, 0, OPT(tls_verify), false},
	{"ca_file", LEVEL_SERVER, KIND_TEXT, 0, 0, OPT(ca_file), false},
	{"resource", LEVEL_TABLE, KIND_RESOURCE, 0, 0, OPT(resource), false},
	{"json_path", LEVEL_COLUMN, KIND_JSON_PATH, 0, 0, NO_FIELD, false},
	{"username", LEVEL_USER, KIND_USER_NAME, 0, 0, OPT(username), true},
	{"password", LEVEL_USER, KIND_SECRET, 0, 0, OPT(password), true},
	{"token", LEVEL_USER, KIND_SECRET, 0, 0, OPT(token), true},
};

/* Bytes of a refused value that a message repeats at most. */
#define SHOWN_VALUE_BYTES	64

/* Defaults, documented in the README's option reference. */
#define DEFAULT_FETCH_SIZE			5000
#define DEFAULT_PIT_KEEP_ALIVE		5
#define DEFAULT_CONNECT_TIMEOUT		10
#define DEFAULT_REQUEST_TIMEOUT		60
#define DEFAULT_MAX_RETRIES			3
#define DEFAULT_MAX_CONCURRENCY		8
#define DEFAULT_MAX_RESPONSE_SIZE	(64 * 1024 * 1024)
#define DEFAULT_JOIN_BATCH_SIZE		1000

/*
 * The level an option list belongs to, from the catalog the validator
 * is called for.
 */
static int
level_of_catalog(Oid catalog)
{
	switch (catalog)
	{
		case ForeignServerRelationId:
			return LEVEL_SERVER;
		case ForeignTableRelationId:
			return LEVEL_TABLE;
		case UserMappingRelationId:
			return LEVEL_USER;
		case AttributeRelationId:
			return LEVEL_COLUMN;
		default:
			return 0;			/* the wrapper takes no option */
	}
}

/* Names a level for the message of a misplaced option. */
static const char *
level_name(int level)
{
	switch (level)
	{
		case LEVEL_SERVER:
			return "a server";
		case LEVEL_TABLE:
			return "a foreign table";
		case LEVEL_USER:
			return "a user mapping";
		case LEVEL_COLUMN:
			return "a column";
		default:
			return "the foreign-data wrapper";
	}
}

/* Names where an option belongs, for the hint of a misplaced option. */
static char *
levels_text(int levels)
{
	StringInfoData buf;
	static const int order[] = {LEVEL_SERVER, LEVEL_TABLE, LEVEL_USER, LEVEL_COLUMN};

	initStringInfo(&buf);
	for (int i = 0; i < (int) lengthof(order); i++)
	{
		if (levels & order[i])
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? " or " : "",
							 level_name(order[i]));
	}
	return buf.data;
}

/* Lists the options a level takes, for the hint of an unknown option. */
static char *
valid_options_text(int level)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < (int) lengthof(option_defs); i++)
	{
		if (option_defs[i].levels & level)
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
							 option_defs[i].name);
	}
	return buf.len > 0 ? buf.data : pstrdup("none");
}

/* The definition of an option by name, or NULL if there is none. */
static const SfOptionDef *
find_option(const char *name)
{
	for (int i = 0; i < (int) lengthof(option_defs); i++)
	{
		if (strcmp(option_defs[i].name, name) == 0)
			return &option_defs[i];
	}
	return NULL;
}

/*
 * Checks the host and port of base_url (the authority, without user
 * information).  A percent-encoded host is refused because libcurl decodes
 * it into another host than the one written (and than an allow-list of
 * hosts checked), and a port must be a number that TCP has, 1 to 65535, so
 * that a mistyped port fails at CREATE SERVER rather than at the first
 * query.  An IPv6 address is written in brackets.
 */
static bool
host_and_port_are_valid(const char *authority, size_t len, const char **problem)
{
	const char *end = authority + len;
	const char *host_end;
	const char *port;
	long		number = 0;
	int			digits = 0;

	if (authority[0] == '[')
	{
		host_end = memchr(authority, ']', len);
		if (host_end == NULL)
		{
			*problem = "An IPv6 address in it lacks its closing \"]\"";
			return false;
		}
		host_end++;
		if (host_end < end && *host_end != ':')
		{
			*problem = "Only a port may follow an IPv6 address";
			return false;
		}
	}
	else
	{
		host_end = memchr(authority, ':', len);
		if (host_end == NULL)
			host_end = end;
		else if (memchr(host_end + 1, ':', end - host_end - 1) != NULL)
		{
			*problem = "An IPv6 address must be written in brackets, as in \"http://[::1]:8080\"";
			return false;
		}
	}
	if (host_end == authority || (authority[0] == '[' && host_end == authority + 2))
	{
		*problem = "It has no host";
		return false;
	}
	if (memchr(authority, '%', host_end - authority) != NULL)
	{
		*problem = "The host must not be percent-encoded";
		return false;
	}
	if (host_end == end)
		return true;			/* no port: the scheme's */

	port = host_end + 1;
	if (port == end)
	{
		*problem = "It has a \":\" but no port after it";
		return false;
	}
	for (const char *p = port; p < end && number <= 65535; p++)
	{
		if (!isdigit((unsigned char) *p))
			break;
		number = number * 10 + (*p - '0');
		digits++;
	}
	if (port + digits != end || number < 1 || number > 65535)
	{
		*problem = "The port must be a number from 1 to 65535";
		return false;
	}
	return true;
}

/*
 * Accepts http:// and https:// origins with an optional path prefix.  User
 * information is refused because credentials belong in user mappings, and a
 * query or fragment because endpoint paths are appended to the URL.
 */
static bool
base_url_is_valid(const char *url, const char **problem)
{
	const char *host;
	size_t		host_len;

	if (pg_strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (pg_strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else
	{
		*problem = "The scheme must be http or https";
		return false;
	}
	for (const char *p = url; *p; p++)
	{
		if ((unsigned char) *p <= ' ' || *p == 0x7f)
		{
			*problem = "It must not contain spaces or control characters";
			return false;
		}
		if (*p == '?' || *p == '#')
		{
			*problem = "It must not contain a query or a fragment";
			return false;
		}
	}
	host_len = strcspn(host, "/");
	if (host_len == 0)
	{
		*problem = "It has no host";
		return false;
	}
	if (memchr(host, '@', host_len) != NULL)
	{
		*problem = "Credentials belong in a user mapping, not in the URL";
		return false;
	}
	return host_and_port_are_valid(host, host_len, problem);
}

/*
 * The URL for a message, with any user information before the host replaced
 * by "***": a URL that is refused for holding credentials must not repeat
 * them.
 */
static char *
redacted_url(const char *url)
{
	const char *authority = strstr(url, "://");
	size_t		authority_len;
	const char *at;

	if (authority == NULL)
		return pstrdup(url);
	authority += 3;
	authority_len = strcspn(authority, "/");
	at = memchr(authority, '@', authority_len);
	for (const char *p = at; p != NULL && p < authority + authority_len; p++)
	{
		if (*p == '@')
			at = p;
	}
	if (at == NULL)
		return pstrdup(url);
	return psprintf("%.*s***%s", (int) (authority - url), url, at);
}

/* Accepts the canonical 8-4-4-4-12 hexadecimal form that the API uses. */
static bool
uuid_is_valid(const char *value)
{
	if (strlen(value) != 36)
		return false;
	for (int i = 0; i < 36; i++)
	{
		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (value[i] != '-')
				return false;
		}
		else if (!isxdigit((unsigned char) value[i]))
			return false;
	}
	return true;
}

/*
 * A path of keys separated by dots: no empty key at either end or
 * between two dots.
 */
static bool
json_path_is_valid(const char *value)
{
	size_t		len = strlen(value);

	return len > 0 && value[0] != '.' && value[len - 1] != '.' &&
		strstr(value, "..") == NULL;
}

/*
 * A refused value as a message shows it: control characters escaped, so
 * that a message cannot forge lines of the log, and no more than
 * SHOWN_VALUE_BYTES of it, marked "..." when shortened.
 */
static char *
shown_value(const char *value)
{
	StringInfoData buf;
	int			len = strlen(value);
	int			shown = len > SHOWN_VALUE_BYTES ?
		pg_mbcliplen(value, len, SHOWN_VALUE_BYTES) : len;

	initStringInfo(&buf);
	for (int i = 0; i < shown; i++)
	{
		unsigned char c = (unsigned char) value[i];

		if (c == '\r')
			appendStringInfoString(&buf, "\\r");
		else if (c == '\n')
			appendStringInfoString(&buf, "\\n");
		else if (c == '\t')
			appendStringInfoString(&buf, "\\t");
		else if (c < 0x20 || c == 0x7f)
			appendStringInfo(&buf, "\\x%02X", c);
		else
			appendStringInfoChar(&buf, (char) c);
	}
	if (shown < len)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/*
 * A value that becomes part of a request may hold no control character (a
 * byte below 0x20, or 0x7F): CR and LF would end the header line and start
 * a header of the value's choosing, and the others are not allowed in a
 * header.  A user name may not hold ":", which would move the split of
 * "user:password" in HTTP Basic authentication.  Secrets and user names
 * are not repeated in the message.
 */
static void
check_sent_value(const SfOptionDef *def, const char *value)
{
	bool		hidden = def->kind == KIND_SECRET || def->kind == KIND_USER_NAME;

	for (const char *p = value; *p; p++)
	{
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 hidden ?
					 errmsg("invalid value for option \"%s\"", def->name) :
					 errmsg("invalid value for option \"%s\": \"%s\"",
							def->name, shown_value(value)),
					 errdetail("The value contains a control character (a byte below 0x20, or 0x7F), which could add or change a request header."),
					 errhint("Remove line breaks, tabs and other control characters from the value.")));
	}
	if (def->kind == KIND_USER_NAME && strchr(value, ':') != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\"", def->name),
				 errdetail("The user name contains \":\", which HTTP Basic authentication puts between the user name and the password."),
				 errhint("Use a user name without \":\", or a bearer token (option \"token\").")));
}

/* Reports a value that does not fit its option, never echoing secrets. */
static void
check_option_value(const SfOptionDef *def, DefElem *elem)
{
	char	   *value = defGetString(elem);
	const char *problem = NULL;

	if (def->sent)
		check_sent_value(def, value);

	switch (def->kind)
	{
		case KIND_URL:
			if (!base_url_is_valid(value, &problem))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"",
								def->name, shown_value(redacted_url(value))),
						 errdetail("%s.", problem),
						 errhint("Give an http:// or https:// URL such as \"https://api.example.com\".")));
			break;
		case KIND_UUID:
			if (!uuid_is_valid(value))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"",
								def->name, shown_value(value)),
						 errhint("Give a UUID such as \"3bd92beb-0367-4e68-b50d-72c0fb08beab\".")));
			break;
		case KIND_INT:
			{
				char	   *end;
				long		number;

				errno = 0;
				number = strtol(value, &end, 10);
				if (errno != 0 || end == value || *end != '\0' ||
					number < def->min || number > def->max)
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"",
									def->name, shown_value(value)),
							 errhint("Option \"%s\" takes a whole number from %d to %d.",
									 def->name, def->min, def->max)));
				break;
			}
		case KIND_NUMBER:
			{
				char	   *end;
				double		number;

				errno = 0;
				number = strtod(value, &end);
				if (errno != 0 || end == value || *end != '\0' ||
					!(number > 0 && number <= def->max))
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"",
									def->name, value),
							 errhint("Option \"%s\" takes a number greater than 0 and at most %d, such as 2.5.",
									 def->name, def->max)));
				break;
			}
		case KIND_BOOL:
			{
				bool		unused;

				if (!parse_bool(value, &unused))
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"",
									def->name, shown_value(value)),
							 errhint("Option \"%s\" takes true or false.", def->name)));
				break;
			}
		case KIND_TIMEZONE:
			if (pg_tzset(value) == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"",
								def->name, shown_value(value)),
						 errhint("Give a time zone name such as \"UTC\" or \"Europe/Berlin\".")));
			break;
		case KIND_RESOURCE:
			if (sf_resource_lookup(value) == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"",
								def->name, shown_value(value)),
						 errhint("Valid resources are: %s.", sf_resource_names())));
			break;
		case KIND_JSON_PATH:
			if (!json_path_is_valid(value))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"",
								def->name, shown_value(value)),
						 errhint("Give JSON keys separated by dots, such as \"lastConnectedNetwork.mcc\".")));
			break;
		case KIND_TEXT:
		case KIND_USER_NAME:
		case KIND_SECRET:
			if (value[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("option \"%s\" must not be empty", def->name)));
			break;
	}
}

/*
 * The validator of CREATE/ALTER for the wrapper, servers, user mappings,
 * foreign tables and their columns.  It also checks combinations: a server
 * needs base_url, a table needs resource, and a user mapping gives either a
 * username with a password or a token.
 */
Datum
subscriber_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	int			level = level_of_catalog(catalog);
	bool		has_base_url = false;
	bool		has_resource = false;
	bool		has_username = false;
	bool		has_password = false;
	bool		has_token = false;
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *elem = (DefElem *) lfirst(lc);
		const SfOptionDef *def = find_option(elem->defname);

		if (def == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\"", elem->defname),
					 errhint("Valid options in this context are: %s.",
							 valid_options_text(level))));
		if ((def->levels & level) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("option \"%s\" is not allowed on %s",
							def->name, level_name(level)),
					 def->kind == KIND_SECRET ?
					 errhint("Secrets are accepted only in a user mapping: CREATE USER MAPPING ... OPTIONS (%s '...').",
							 def->name) :
					 errhint("Option \"%s\" belongs on %s.",
							 def->name, levels_text(def->levels))));
		check_option_value(def, elem);

		has_base_url |= strcmp(def->name, "base_url") == 0;
		has_resource |= strcmp(def->name, "resource") == 0;
		has_username |= strcmp(def->name, "username") == 0;
		has_password |= strcmp(def->name, "password") == 0;
		has_token |= strcmp(def->name, "token") == 0;
	}

	if (level == LEVEL_SERVER && !has_base_url)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("option \"base_url\" is required for a subscriber_fdw server"),
				 errhint("Add OPTIONS (base_url 'https://api.example.com').")));
	if (level == LEVEL_TABLE && !has_resource)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("option \"resource\" is required for a subscriber_fdw foreign table"),
				 errhint("Valid resources are: %s.", sf_resource_names())));
	if (has_password && !has_username)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("option \"password\" needs option \"username\"")));
	if (has_token && (has_username || has_password))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("options \"token\" and \"username\" exclude each other"),
				 errhint("Use HTTP Basic authentication (username, password) or a bearer token, not both.")));

	PG_RETURN_VOID();
}

/* Stores one option's value in its field of SfOptions. */
static void
apply_option(SfOptions *options, DefElem *elem)
{
	const SfOptionDef *def = find_option(elem->defname);
	char	   *field;

	if (def == NULL || def->offset == NO_FIELD)
		return;
	field = (char *) options + def->offset;
	switch (def->kind)
	{
		case KIND_INT:
			*(int *) field = atoi(defGetString(elem));
			break;
		case KIND_NUMBER:
			*(double *) field = strtod(defGetString(elem), NULL);
			break;
		case KIND_BOOL:
			*(bool *) field = defGetBoolean(elem);
			break;
		default:
			*(char **) field = defGetString(elem);
			break;
	}
}

/* Finds the user's mapping, or PUBLIC's; NULL when neither exists. */
static List *
user_mapping_options(Oid userid, Oid serverid)
{
	HeapTuple	tuple;
	List	   *options = NIL;

	tuple = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(userid),
							ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tuple))
		tuple = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
								ObjectIdGetDatum(serverid));
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		datum = SysCacheGetAttr(USERMAPPINGUSERSERVER, tuple,
											Anum_pg_user_mapping_umoptions,
											&isnull);

		if (!isnull)
			options = untransformRelOptions(datum);
		ReleaseSysCache(tuple);
	}
	return options;
}

/*
 * The options in force for a scan of a foreign table by a user: defaults,
 * then the server's, then the table's, then the user mapping's.  A missing
 * user mapping is not an error: the API may need no authentication, and if
 * it does, its 401 answer comes with a hint.
 */
SfOptions *
sf_get_options(Oid foreigntableid, Oid userid)
{
	ForeignTable *table = GetForeignTable(foreigntableid);
	ForeignServer *server = GetForeignServer(table->serverid);
	SfOptions  *options = palloc0(sizeof(SfOptions));
	ListCell   *lc;

	options->fetch_size = DEFAULT_FETCH_SIZE;
	options->pit_keep_alive = DEFAULT_PIT_KEEP_ALIVE;
	options->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
	options->request_timeout = DEFAULT_REQUEST_TIMEOUT;
	options->max_retries = DEFAULT_MAX_RETRIES;
	options->max_concurrency = DEFAULT_MAX_CONCURRENCY;
	options->max_response_size = DEFAULT_MAX_RESPONSE_SIZE;
	options->join_batch_size = DEFAULT_JOIN_BATCH_SIZE;
	options->remote_timezone = "UTC";
	options->tls_verify = true;
	options->count_pushdown = true;
	options->serverid = server->serverid;

	foreach(lc, server->options)
		apply_option(options, lfirst(lc));
	foreach(lc, table->options)
		apply_option(options, lfirst(lc));
	foreach(lc, user_mapping_options(userid, table->serverid))
		apply_option(options, lfirst(lc));

	if (options->base_url == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("server \"%s\" has no option \"base_url\"", server->servername)));
	if (options->resource == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("foreign table \"%s\" has no option \"resource\"",
						get_rel_name(foreigntableid)),
				 errhint("Valid resources are: %s.", sf_resource_names())));
	return options;
}

/* The json_path option of a column, or NULL. */
char *
sf_get_column_json_path(Oid relid, AttrNumber attnum)
{
	ListCell   *lc;

	foreach(lc, GetForeignColumnOptions(relid, attnum))
	{
		DefElem    *elem = (DefElem *) lfirst(lc);

		if (strcmp(elem->defname, "json_path") == 0)
			return defGetString(elem);
	}
	return NULL;
}
