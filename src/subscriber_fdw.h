/*-------------------------------------------------------------------------
 *
 * subscriber_fdw.h
 *		  Declarations shared by the files of subscriber_fdw, grouped by the
 *		  file that defines them.
 *
 * The extension turns the REST endpoints of an IoT connectivity platform
 * into foreign tables, whose scans subscriber_fdw.c plans and foreign_scan.c
 * runs.  Each endpoint is described as data in catalog.c; one scan engine
 * (scan.c) drives the requests of any of them through the HTTP client
 * (http_client.c, the only file that sees libcurl; http_request.c queues
 * the requests and http_wait.c waits for their transfers; the two first
 * share the structs of http_client_int.h, opaque to the rest), whose requests
 * start when their server's limits let them (shared_state.c: shared memory
 * when the library is preloaded), and request_error.c raises the errors of
 * those that fail; json.c reads the JSON syntax of a response and
 * record_parser.c each record's, envelope.c the top level of a response,
 * and tuple.c and convert.c turn its records into tuples.
 * A batched join (planned in batch_join_plan.c, run by batch_join.c) joins
 * a foreign table on its key by handing the engine the keys of many outer
 * rows.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUBSCRIBER_FDW_H
#define SUBSCRIBER_FDW_H

#include "postgres.h"

#include "access/attnum.h"
#include "common/jsonapi.h"
#include "fmgr.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "port/pg_bitutils.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "utils/palloc.h"

#define SUBSCRIBER_FDW_VERSION "1.1"

/* ----------------------------------------------------------------
 * catalog.c: the remote endpoints, described as data
 * ----------------------------------------------------------------
 */
typedef enum SfHttpMethod
{
	SF_HTTP_GET,
	SF_HTTP_POST
} SfHttpMethod;

/* How the records of one key are spread over several responses. */
typedef enum SfPaging
{
	SF_PAGING_NONE,				/* a single response holds them all */
	SF_PAGING_PAGES,			/* numbered pages, asked for in the query string */
	SF_PAGING_PIT				/* point-in-time chunks, a cursor in a POST body */
} SfPaging;

/* Where the value of a column comes from. */
typedef enum SfColumnSource
{
	SF_SOURCE_KEY,				/* the key value the request was made for */
	SF_SOURCE_FIELD,			/* a JSON path in the record */
	SF_SOURCE_LIST,				/* a JSON path holding an XML-style list */
	SF_SOURCE_ACTIVE_PAIR,		/* a field of the pair flagged active */
	SF_SOURCE_ACTIVE_PROFILE	/* a field of the profile holding that pair */
} SfColumnSource;

typedef struct SfColumnDef
{
	const char *name;			/* column name in SQL */
	const char *type_name;		/* its type in IMPORT FOREIGN SCHEMA */
	SfColumnSource source;
	const char *path;			/* dot-separated JSON path */
	const char *fallback_path;	/* read when path is absent, or NULL */
} SfColumnDef;

/*
 * What an error code of the API means here.  The message may hold one %s,
 * the key the request was made for; the hint may hold one %d, the
 * pit_keep_alive option in minutes.
 */
typedef struct SfErrorCode
{
	const char *code;			/* the code as the API sends it */
	int			sqlstate;		/* built with MAKE_SQLSTATE */
	const char *message;
	const char *hint;			/* or NULL */
	bool		transient;		/* worth a retry, and overload if retries run out */
} SfErrorCode;

/*
 * The conventions one API shares over its endpoints: how its responses
 * report errors, and the member names of its XML-style lists and of the
 * flag that marks the active IMSI/MSISDN pair.
 */
typedef struct SfApi
{
	const char *error_code_member;
	const char *const *error_message_members;	/* preferred first, NULL-ended */
	const SfErrorCode *error_codes;
	int			nerror_codes;
	const char *list_length_member; /* a count sent beside a list, or NULL */
	const char *active_flag_member; /* true on the pair in use, or NULL */
} SfApi;

typedef struct SfResource
{
	const char *name;			/* value of the table option "resource" */
	const SfApi *api;
	SfHttpMethod method;
	const char *path_template;	/* endpoint path with one "{key}" */
	const char *key_column;		/* the column the key is taken from */
	const char *key_label;		/* how the API names the key, for messages */
	bool		key_from_customer_option;	/* customer_id option as fallback */
	bool		sends_tenant;	/* send the server's "tenant" header */
	bool		not_found_is_empty; /* HTTP 404 means "no records" */
	SfPaging	paging;
	const char *records_path;	/* where a response holds its records */
	bool		records_as_list;	/* they may be a bare object or missing */
	const char *total_records_path; /* total records of the key, or NULL */
	const char *total_pages_path;	/* SF_PAGING_PAGES: number of pages */
	const char *cursor_path;	/* SF_PAGING_PIT: the cursor to continue with */
	/* how the next request asks for its records */
	const char *page_param;		/* SF_PAGING_PAGES: query parameter of the page */
	const char *page_size_param;	/* and of the records per page */
	int			first_page;		/* number of the first page */
	const char *cursor_member;	/* SF_PAGING_PIT: body member of the cursor */
	const char *keep_alive_member;	/* body member of the keep-alive minutes */
	const char *chunk_size_member;	/* body member of the records per chunk */
	const char *profile_list_path;	/* profiles holding pairs, or NULL */
	const char *pair_list_path; /* IMSI/MSISDN pairs, or NULL */
	int			max_records;	/* SF_PAGING_NONE: records one response may hold */
	double		rows_per_key;	/* planner estimate */
	const SfColumnDef *columns;
	int			ncolumns;
} SfResource;

extern const SfResource *sf_resource_lookup(const char *name);
extern const SfResource *sf_resource_at(int index);
extern int	sf_resource_count(void);
extern const SfColumnDef *sf_resource_column(const SfResource *resource,
											 const char *name);
extern char *sf_resource_path(const SfResource *resource, const char *segment);
extern char *sf_resource_names(void);
extern const SfErrorCode *sf_error_code_lookup(const SfApi *api,
											   const char *code);

/* ----------------------------------------------------------------
 * known_sizes.c: the sizes of keys seen, for row estimates
 * ----------------------------------------------------------------
 */
extern void sf_known_size_remember(Oid serverid, const SfResource *resource,
								   const char *key, int64 records);
extern bool sf_known_size_lookup(Oid serverid, const SfResource *resource,
								 const char *key, int64 *records);

/* ----------------------------------------------------------------
 * option.c: option validation and lookup
 * ----------------------------------------------------------------
 */
typedef struct SfOptions
{
	/* server, some overridable per table */
	char	   *base_url;
	char	   *customer_id;
	char	   *tenant;
	int			fetch_size;
	int			pit_keep_alive; /* minutes */
	int			connect_timeout;	/* seconds */
	int			request_timeout;	/* seconds */
	int			max_retries;
	int			max_concurrency;
	int			max_response_size;	/* bytes */
	bool		count_pushdown; /* count(*) from the API's totals */
	int			join_batch_size;	/* outer rows of one batched join batch */
	double		max_requests_per_second;	/* 0: unlimited */
	int			max_server_concurrency; /* 0: unlimited */
	int			max_requests_per_query; /* 0: unlimited */
	char	   *remote_timezone;
	bool		tls_verify;
	char	   *ca_file;
	/* table */
	char	   *resource;
	/* user mapping */
	char	   *username;
	char	   *password;
	char	   *token;
	/* the server the options are of */
	Oid			serverid;
} SfOptions;

extern SfOptions *sf_get_options(Oid foreigntableid, Oid userid);
extern char *sf_get_column_json_path(Oid relid, AttrNumber attnum);

/* ----------------------------------------------------------------
 * http_client.c: the client, and the transfers over libcurl
 * ----------------------------------------------------------------
 */

/* What went wrong below HTTP, so that callers can tell transient faults. */
typedef enum SfTransportError
{
	SF_TRANSPORT_OK,
	SF_TRANSPORT_CONNECT,		/* refused, unreachable, name not found */
	SF_TRANSPORT_TLS,			/* handshake or certificate verification */
	SF_TRANSPORT_TIMEOUT,		/* connect, request or low-speed timeout */
	SF_TRANSPORT_BROKEN,		/* connection reset or closed mid-response */
	SF_TRANSPORT_TOO_LARGE,		/* body exceeded max_response_size */
	SF_TRANSPORT_PROTOCOL,		/* an answer that breaks HTTP or our limits */
	SF_TRANSPORT_OTHER
} SfTransportError;

typedef struct SfHttpClient SfHttpClient;

/* A request and, once finished, what came back; see the accessors below. */
typedef struct SfHttpRequest SfHttpRequest;

extern void sf_http_global_init(void);
extern SfHttpClient *sf_http_client_create(MemoryContext parent,
										   const SfOptions *options,
										   bool send_tenant);
extern SfHttpRequest *sf_http_request_create(SfHttpClient *client,
											 SfHttpMethod method,
											 const char *target,
											 const char *body,
											 void *owner);
extern void sf_http_request_release(SfHttpRequest *request);

/* ----------------------------------------------------------------
 * http_request.c: a scan's requests, queued until they may start
 * ----------------------------------------------------------------
 */
extern void sf_http_submit(SfHttpRequest *request, int delay_ms);
extern SfHttpRequest *sf_http_request_again(SfHttpRequest *failed);
extern void *sf_http_request_owner(const SfHttpRequest *request);
extern SfHttpMethod sf_http_request_method(const SfHttpRequest *request);
extern const char *sf_http_request_target(const SfHttpRequest *request);
extern MemoryContext sf_http_request_context(const SfHttpRequest *request);
extern long sf_http_request_status(const SfHttpRequest *request);
extern SfTransportError sf_http_request_transport_error(const SfHttpRequest *request);
extern const char *sf_http_request_transport_message(const SfHttpRequest *request);
extern const char *sf_http_request_data(const SfHttpRequest *request, size_t *len);
extern long sf_http_request_retry_after(const SfHttpRequest *request);
extern SfHttpRequest *sf_http_next_finished(SfHttpClient *client, bool wait);
extern int	sf_http_pending(SfHttpClient *client);
extern void sf_http_cancel_all(SfHttpClient *client);
extern char *sf_http_escape_segment(const char *value);
extern const char *sf_http_method_name(SfHttpMethod method);

/* ----------------------------------------------------------------
 * http_wait.c: waiting on the latch, curl's sockets and its timer
 * ----------------------------------------------------------------
 */

/* Told of a socket that a wait found ready, with its WL_SOCKET_* events. */
typedef void (*SfSocketReady) (pgsocket fd, uint32 events);

extern bool sf_wait_watch_socket(pgsocket fd, uint32 events);
extern void sf_wait_forget_socket(pgsocket fd);
extern void sf_wait_set_timer(long timeout_ms);
extern bool sf_wait_timer_due(void);
extern long sf_wait_ms_until(TimestampTz when);
extern bool sf_wait_for_events(long timeout_ms, SfSocketReady ready);

/* ----------------------------------------------------------------
 * shared_state.c: per-server limits and statistics in shared memory
 * ----------------------------------------------------------------
 */

/* Servers whose state shared memory holds; past it, state is per session. */
#define SF_MAX_SERVERS			64

/* The highest max_requests_per_second: the window remembers that many starts. */
#define SF_MAX_RATE				1000

/* The longest hold that a Retry-After puts on a server, in milliseconds. */
#define SF_MAX_HOLD_MS			30000

typedef struct SfServerState SfServerState;

/* Why sf_server_admit refused a request. */
typedef enum SfAdmission
{
	SF_ADMITTED,
	SF_WAIT_UNTIL,				/* the rate or a Retry-After: wait until *until */
	SF_WAIT_RELEASE				/* max_server_concurrency: wait for a release */
} SfAdmission;

extern void sf_shared_state_init(void);
extern SfServerState *sf_server_state(Oid serverid);
extern SfAdmission sf_server_admit(SfServerState *state, const SfOptions *options,
								   TimestampTz now, TimestampTz *until,
								   uint64 *epoch);
extern void sf_server_release(SfServerState *state, uint64 epoch);
extern void sf_server_end_wait(void);
extern void sf_server_hold(SfServerState *state, TimestampTz until);
extern void sf_server_count_start(SfServerState *state, bool is_retry,
								  int64 wait_us);
extern void sf_server_count_finish(SfServerState *state, long status,
								   bool failed, size_t bytes);
extern void sf_query_budget_take(const SfOptions *options);

/* ----------------------------------------------------------------
 * json.c: JSON syntax, escapes and the structural scan
 * ----------------------------------------------------------------
 */

/* Nesting the structural scan and the record parser accept in a response. */
#define SF_MAX_JSON_DEPTH	64

/*
 * JSON values one record may hold: its parsed tree is bounded (some 5 MB),
 * although a record of the API holds about a hundred.
 */
#define SF_MAX_RECORD_VALUES	65536

/* A stretch of a response body holding one JSON value. */
typedef struct SfSpan
{
	const char *start;
	size_t		len;
} SfSpan;

/* A growing index of spans: where each record is in a body. */
typedef struct SfSpanArray
{
	SfSpan	   *items;
	int			count;
	int			capacity;
} SfSpanArray;

/*
 * Walks the members of one object without parsing their values; member
 * names are compared as decoded.  When index_member is set, the elements of
 * the member of that name (an array, or with index_single a bare object
 * standing for a list of one) are appended to *index in the same pass, at
 * most index_limit of them (0: no limit).  With validate, every other
 * member's value is checked to be valid JSON.
 */
typedef struct SfObjectWalker
{
	const char *pos;
	const char *end;
	bool		started;
	bool		validate;
	const char *index_member;
	bool		index_single;
	int			index_limit;
	bool		index_overflow; /* stopped at index_limit */
	SfSpanArray *index;
} SfObjectWalker;

/*
 * The first byte at or after p that ends a run of plain string bytes, '"',
 * '\\' or a control character, or end if there is none.  Where SSE2 is
 * there (every x86-64), sixteen bytes are compared at a time; bytes of 0x80
 * and above (UTF-8) never stop it.  Inline: it runs once or more for every
 * string of every record.
 */
static inline const char *
sf_json_string_stop(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i backslash = _mm_set1_epi8('\\');
	const __m128i highest_control = _mm_set1_epi8(0x1F);

	for (; end - p >= 16; p += 16)
	{
		__m128i		bytes = _mm_loadu_si128((const __m128i *) p);
		__m128i		control = _mm_cmpeq_epi8(_mm_min_epu8(bytes, highest_control), bytes);
		int			stops = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, quote),
																		 _mm_cmpeq_epi8(bytes, backslash)),
														   control));

		if (stops != 0)
			return p + pg_rightmost_one_pos32((uint32) stops);
	}
#endif
	while (p < end && (unsigned char) *p >= 0x20 && *p != '"' && *p != '\\')
		p++;
	return p;
}

/*
 * The first byte at or after p that is not JSON white space.  Inline: the
 * structural scan and the record parser call it between any two tokens.
 */
static inline const char *
sf_skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

extern JsonLexContext *sf_json_lexer(const char *text, int len);
extern JsonParseErrorType sf_json_decode_escapes(const char *s, int n,
												 char **decoded, int *len);
extern bool sf_span_equals(SfSpan span, const char *text, size_t len);
extern bool sf_object_walker_init(SfObjectWalker *walker, SfSpan object);
extern bool sf_object_walker_next(SfObjectWalker *walker, SfSpan *key,
								  SfSpan *value, const char **problem);
extern bool sf_find_path(SfSpan object, const char *path, SfSpan *value,
						 const char **problem);

/* ----------------------------------------------------------------
 * record_parser.c: one record parsed into a tree
 * ----------------------------------------------------------------
 */

typedef enum SfJsonType
{
	SF_JSON_NULL,
	SF_JSON_STRING,
	SF_JSON_NUMBER,
	SF_JSON_BOOL,
	SF_JSON_OBJECT,
	SF_JSON_ARRAY
} SfJsonType;

/* A node of a parsed record; it lives in the per-row memory. */
typedef struct SfJsonNode
{
	SfJsonType	type;
	const char *key;			/* member name, in an object */
	int			keylen;
	uint32		keysig;			/* length and end characters of the name */
	char	   *text;			/* scalar: string contents or token */
	int			textlen;
	const char *raw;			/* container: its bytes in the body */
	int			rawlen;
	int			nchildren;
	uint64		keybits;		/* object: a bit per member name's signature */
	struct SfJsonNode *first_child;
	struct SfJsonNode *last_child;
	struct SfJsonNode *next;
} SfJsonNode;

extern SfJsonNode *sf_parse_record(SfSpan record, bool build);
extern SfJsonNode *sf_json_member(SfJsonNode *object, const char *name);
extern SfJsonNode *sf_json_lookup_path(SfJsonNode *node, char **path);

/* ----------------------------------------------------------------
 * envelope.c: the top-level members of a response
 * ----------------------------------------------------------------
 */

/* The parts of a response's top-level object that the scan engine reads. */
typedef struct SfEnvelope
{
	char	   *error_code;		/* NULL when absent or empty */
	char	   *error_message;
	bool		has_records;
	SfSpan		records;		/* the records container, if has_records */
	SfSpanArray record_index;	/* where each record is in the body */
	int64		total_records;	/* -1 when absent */
	int64		total_pages;	/* -1 when absent */
	char	   *cursor;			/* the next cursor, NULL when absent */
} SfEnvelope;

extern void sf_envelope_parse(const SfResource *resource, const char *data,
							  size_t len, int max_records,
							  SfEnvelope *envelope, const char *request_label);
extern void sf_envelope_parse_error_body(const SfResource *resource,
										 const char *data, size_t len,
										 SfEnvelope *envelope);

/* ----------------------------------------------------------------
 * tuple.c: records to tuples
 * ----------------------------------------------------------------
 */

/* Bytes of remote text or of a key that a message shows before cutting. */
#define SF_MESSAGE_TEXT_BYTES	200

extern char *sf_message_text(const char *text, size_t len);

/*
 * The sizes of a context that holds one record's tree and conversions and
 * is reset for every row: its first block holds a whole record's tree and
 * survives every reset, so that a row costs no malloc.
 */
#define SF_ROW_CONTEXT_SIZES	0, 64 * 1024, ALLOCSET_DEFAULT_MAXSIZE

/* How one column of the foreign table is produced. */
typedef struct SfColumnPlan
{
	AttrNumber	attnum;
	char	   *name;
	SfColumnSource source;
	char	  **path;			/* NULL-terminated path segments */
	char	  **fallback_path;
	int			hint;			/* where the member was in the last record */
	int			namelen;		/* length of path[0], -1 until known */
	Oid			typid;			/* the column's type, maybe a domain */
	int32		typmod;			/* and the typmod of its base type */
	FmgrInfo	input;			/* the base type's input function */
	Oid			ioparam;
	bool		is_domain;		/* values are checked against typid */
	void	   *domain_extra;	/* domain_check's cache */
	Oid			base_typid;		/* the type values are converted to */
	bool		empty_is_null;	/* "" is NULL: the base type is not a string type */
	char	   *cached_key;		/* key column: the key converted last */
	Datum		cached_value;
	MemoryContext key_cxt;		/* holds those two, reset for the next key */
} SfColumnPlan;

/* What one scan needs to build tuples from records. */
typedef struct SfRecordConverter
{
	const SfResource *resource;
	SfColumnPlan *columns;		/* only the columns the query reads */
	int			ncolumns;
	bool		needs_active_pair;
	bool		needs_tree;		/* a column reads the record itself */
	bool		transcode;		/* the database encoding is not UTF-8 */
	MemoryContext cxt;			/* lives as long as the scan */
	struct pg_tz *remote_timezone;	/* where zone-less timestamps are */

	/* for error context, valid during sf_record_to_slot */
	const char *request_label;	/* "METHOD target", shortened by the caller */
	int64		record_number;
	const SfColumnPlan *current_column;
	const char *current_value;
} SfRecordConverter;

extern SfRecordConverter *sf_converter_create(const SfResource *resource,
											  Relation rel,
											  List *retrieved_attrs,
											  const SfOptions *options);
extern void sf_record_to_slot(SfRecordConverter *converter, SfSpan record,
							  const char *key, const char *request_label,
							  int64 record_number, TupleTableSlot *slot);

/* ----------------------------------------------------------------
 * convert.c: JSON values to column values
 * ----------------------------------------------------------------
 */
extern Datum sf_convert_value(SfRecordConverter *converter,
							  SfColumnPlan *column, SfJsonNode *value,
							  bool *isnull);
extern SfJsonNode *sf_find_list(const SfApi *api, SfJsonNode *record,
								char **path);
extern Datum sf_convert_list(SfRecordConverter *converter,
							 SfColumnPlan *column, SfJsonNode *list);

/* ----------------------------------------------------------------
 * pushdown.c: keys from WHERE clauses and joins, LIMIT, counts
 * ----------------------------------------------------------------
 */

/* How a key expression yields key values. */
typedef enum SfKeyKind
{
	SF_KEY_SCALAR,				/* key = expr */
	SF_KEY_ARRAY				/* key = ANY(array expr), key IN (...) */
} SfKeyKind;

extern bool sf_match_key_clause(PlannerInfo *root, RelOptInfo *baserel,
								AttrNumber key_attnum, Expr *clause,
								Expr **key_expr, SfKeyKind *kind);
extern List *sf_parameterized_key_clauses(PlannerInfo *root,
										  RelOptInfo *baserel,
										  AttrNumber key_attnum);
extern int64 sf_pushable_limit(PlannerInfo *root, RelOptInfo *baserel,
							   List *non_key_clauses);
extern bool sf_query_needs_no_rows(PlannerInfo *root);
extern bool sf_count_pushable(PlannerInfo *root, RelOptInfo *baserel,
							  AttrNumber key_attnum, PathTarget *grouping_target,
							  List **scan_tlist, List **having, bool *grouped);
extern bool sf_planning_key_values(Expr *key_expr, SfKeyKind kind, List **keys);
extern List *sf_key_values(ExprState *key_state, SfKeyKind kind,
						   ExprContext *econtext);

/* ----------------------------------------------------------------
 * scan.c: the scan engine shared by every resource
 * ----------------------------------------------------------------
 */
typedef struct SfScan SfScan;

typedef struct SfScanStats
{
	int64		requests;
	int64		retries;
	int64		bytes;
} SfScanStats;

/* Told the total that the first response of a key reported. */
typedef void (*SfTotalHook) (void *arg, const char *key, int64 total);

extern SfScan *sf_scan_create(MemoryContext parent,
							  const SfResource *resource,
							  const SfOptions *options,
							  SfRecordConverter *converter,
							  int64 limit);
extern void sf_scan_set_totals_only(SfScan *scan, bool totals_only);
extern void sf_scan_set_total_hook(SfScan *scan, SfTotalHook hook, void *arg);
extern void sf_scan_set_keys(SfScan *scan, List *keys);
extern bool sf_scan_key_total(SfScan *scan, int index, const char **key,
							  int64 *total);
extern bool sf_scan_next(SfScan *scan, TupleTableSlot *slot);
extern void sf_scan_restart(SfScan *scan);
extern void sf_scan_release(SfScan *scan);
extern const SfScanStats *sf_scan_stats(SfScan *scan);
extern const char *sf_scan_current_key(SfScan *scan);

/* ----------------------------------------------------------------
 * request_error.c: what a failed request means, and its error
 * ----------------------------------------------------------------
 */
extern char *sf_request_label(SfHttpRequest *request);
extern bool sf_status_is_transient(long status);
extern const SfErrorCode *sf_known_error(const SfResource *resource,
										 const SfEnvelope *envelope);
extern void sf_raise_transport_error(SfHttpRequest *request,
									 const SfOptions *options,
									 int retries, bool pit_continued);
extern void sf_raise_remote_error(SfHttpRequest *request,
								  const SfEnvelope *envelope,
								  const SfResource *resource,
								  const SfOptions *options,
								  const char *key, int retries);

/* ----------------------------------------------------------------
 * count.c: count(*) from the API's totals, at execution
 * ----------------------------------------------------------------
 */
typedef struct SfCounter SfCounter;

extern SfCounter *sf_counter_create(SfScan *scan, const SfResource *resource,
									Oid serverid, bool per_key,
									TupleDesc record_desc, List *scan_tlist);
extern void sf_counter_count(SfCounter *counter, List *keys);
extern TupleTableSlot *sf_counter_next(SfCounter *counter, TupleTableSlot *slot);
extern void sf_counter_restart(SfCounter *counter);
extern void sf_counter_release(SfCounter *counter);

/* ----------------------------------------------------------------
 * subscriber_fdw.c: what planning learned and put in the plan
 * ----------------------------------------------------------------
 */

/* Planner cost of one HTTP request, and of turning one record into a row. */
#define SF_REQUEST_COST			100.0
#define SF_RECORD_COST_FACTOR	20.0

/* What planning learned about a foreign table, in baserel->fdw_private. */
typedef struct SfRelInfo
{
	SfOptions  *options;
	const SfResource *resource;
	AttrNumber	key_attnum;		/* the key column, or 0 if not in the table */
	RestrictInfo *key_clause;	/* the WHERE clause giving the key, or NULL */
	SfKeyKind	key_kind;
	List	   *non_key_clauses;	/* every other restriction */
	List	   *join_key_clauses;	/* join clauses that can give the key */
	bool		option_key;		/* the customer_id option may give the key */
	bool		no_rows;		/* the query returns no rows (LIMIT 0) */
	double		keys;			/* estimated number of keys */
} SfRelInfo;

extern SfRelInfo *sf_rel_info(RelOptInfo *rel);

/*
 * The items of a ForeignScan's fdw_private, read back by foreign_scan.c.
 * fdw_exprs holds the key expression, if the key comes from the query.
 */
enum SfScanPrivateIndex
{
	SfScanPrivateResource,		/* String: the resource's name */
	SfScanPrivateKeyKind,		/* Integer: SfKeyKind, or SF_KEY_FROM_OPTION
								 * or SF_KEY_NONE */
	SfScanPrivateRetrievedAttrs,	/* List of Integer: columns read */
	SfScanPrivateLimit,			/* Const int8: records wanted, -1 for all */
	SfScanPrivateCount			/* Integer: SfCountMode */
};

/* Key kinds of a plan besides SfKeyKind. */
#define SF_KEY_FROM_OPTION	(-1)	/* the customer_id option */
#define SF_KEY_NONE			(-2)	/* none: the query returns no rows */

/* What a foreign scan returns: rows, or counts from the API's totals. */
typedef enum SfCountMode
{
	SF_COUNT_NONE,				/* the records, as rows */
	SF_COUNT_TOTAL,				/* one row: the counts over every key */
	SF_COUNT_PER_KEY			/* a row per key that has records */
} SfCountMode;

/* ----------------------------------------------------------------
 * foreign_scan.c: the foreign scan at execution, and EXPLAIN
 * ----------------------------------------------------------------
 */

/* As in fdwapi.h, so that this header need not include explain.h. */
struct ExplainState;

extern void sf_foreign_scan_begin(ForeignScanState *node, int eflags);
extern TupleTableSlot *sf_foreign_scan_iterate(ForeignScanState *node);
extern void sf_foreign_scan_rescan(ForeignScanState *node);
extern void sf_foreign_scan_end(ForeignScanState *node);
extern void sf_foreign_scan_explain(ForeignScanState *node,
									struct ExplainState *es);
extern char *sf_endpoint_text(const SfResource *resource);

/* ----------------------------------------------------------------
 * batch_join_plan.c: batched joins' paths, costs and plans
 * ----------------------------------------------------------------
 */

/*
 * The items of a batched join's CustomScan custom_private, read back by
 * batch_join.c.  custom_scan_tlist holds the outer plan's columns, then the
 * inner table's columns in the order of the retrieved attributes;
 * custom_exprs holds the key expression, then the key clause, then the
 * other join conditions.
 */
enum SfBatchScanPrivateIndex
{
	SfBatchScanJoinType,		/* Integer */
	SfBatchScanOuterColumns,	/* Integer: outer columns in the scan tuple */
	SfBatchScanRetrievedAttrs,	/* List of Integer: inner columns read */
	SfBatchScanResource			/* String: the inner resource's name */
};

extern void sf_batch_join_init(void);

/* ----------------------------------------------------------------
 * batch_join.c: batched joins at execution
 * ----------------------------------------------------------------
 */
extern Node *sf_batch_join_create_state(CustomScan *cscan);

#endif							/* SUBSCRIBER_FDW_H */
