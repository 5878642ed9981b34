/*-------------------------------------------------------------------------
 *
 * subscriber_fdw.h
 *		  Declarations shared by the files of subscriber_fdw, grouped by the
 *		  file that defines them.
 *
 * The extension turns the REST endpoints of an IoT connectivity platform
 * into foreign tables.  Each endpoint is described as data in catalog.c; one
 * scan engine (scan.c) drives the requests of any of them through the HTTP
 * client (http_client.c, the only file that sees libcurl), whose requests
 * start when their server's limits let them (shared_state.c: shared memory
 * when the library is preloaded), and record.c turns the JSON records it
 * receives into tuples.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUBSCRIBER_FDW_H
#define SUBSCRIBER_FDW_H

#include "postgres.h"

#include "access/attnum.h"
#include "fmgr.h"
#include "lib/ilist.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
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
	SF_PAGING_PAGES,			/* numbered pages, "page" and "size" in the query */
	SF_PAGING_PIT				/* point-in-time chunks, "pitId" in a POST body */
} SfPaging;

/* Where the value of a column comes from. */
typedef enum SfColumnSource
{
	SF_SOURCE_KEY,				/* the key value the request was made for */
	SF_SOURCE_FIELD,			/* a JSON path in the record */
	SF_SOURCE_LIST,				/* a JSON path holding an XML-style list */
	SF_SOURCE_ACTIVE_PAIR,		/* a field of the pair marked isLastActive */
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

typedef struct SfResource
{
	const char *name;			/* value of the table option "resource" */
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
	const char *cursor_path;	/* SF_PAGING_PIT: the next pitId */
	const char *profile_list_path;	/* profiles holding pairs, or NULL */
	const char *pair_list_path; /* IMSI/MSISDN pairs, or NULL */
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
 * http_client.c: requests over libcurl
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

typedef struct SfHttpRequest
{
	/* what to send */
	SfHttpMethod method;
	char	   *target;			/* path and query appended to base_url */
	char	   *body;			/* POST body, or NULL */
	void	   *owner;			/* the caller's bookkeeping */

	/* what came back */
	long		status;			/* HTTP status, 0 without a response */
	SfTransportError transport_error;
	char	   *transport_message;
	char	   *data;			/* response body, NUL-terminated */
	size_t		len;
	long		retry_after;	/* seconds from Retry-After, -1 if none */

	/* private to http_client.c */
	MemoryContext cxt;			/* holds this request and its body */
	SfHttpClient *client;
	void	   *handle;
	size_t		capacity;
	size_t		limit;
	bool		overflowed;
	bool		out_of_memory;
	bool		is_retry;		/* counted as a retry in the statistics */
	const char *local_failure;	/* why we stopped the transfer, or NULL */
	size_t		header_bytes;	/* response header bytes so far */
	char		encoding[64];	/* an unrequested Content-Encoding */
	dlist_node	active_node;	/* in the backend's list while in curl */
	TimestampTz attached_at;	/* when it was handed to curl */
	int64		active_us;		/* time the backend waited for it */
	bool		connected;		/* connected, TLS handshake included */
	int64		window_start_us;	/* low-speed check: active time at the
									 * window's start, -1 before any byte */
	size_t		window_bytes;	/* and the bytes received by then */
	TimestampTz start_after;
	TimestampTz limit_wait_since;	/* first refused by a limit, or 0 */
	struct SfServerState *server;	/* its server's limits, while admitted */
	uint64		server_epoch;	/* see sf_server_release */
	char	   *errbuf;
} SfHttpRequest;

extern void sf_http_global_init(void);
extern SfHttpClient *sf_http_client_create(MemoryContext parent,
										   const SfOptions *options,
										   bool send_tenant);
extern SfHttpRequest *sf_http_request_create(SfHttpClient *client,
											 SfHttpMethod method,
											 const char *target,
											 const char *body,
											 void *owner);
extern void sf_http_submit(SfHttpRequest *request, int delay_ms);
extern void sf_http_mark_retry(SfHttpRequest *request);
extern SfHttpRequest *sf_http_next_finished(SfHttpClient *client, bool wait);
extern int	sf_http_pending(SfHttpClient *client);
extern void sf_http_request_release(SfHttpRequest *request);
extern void sf_http_cancel_all(SfHttpClient *client);
extern char *sf_http_escape_segment(const char *value);
extern const char *sf_http_method_name(SfHttpMethod method);

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
 * record.c: JSON responses to records, records to tuples
 * ----------------------------------------------------------------
 */

/* A stretch of a response body holding one JSON value. */
typedef struct SfSpan
{
	const char *start;
	size_t		len;
} SfSpan;

/* The parts of a response's top-level object that the scan engine reads. */
typedef struct SfEnvelope
{
	char	   *error_code;		/* NULL when absent or empty */
	char	   *error_message;
	bool		has_records;
	SfSpan		records;		/* the records container, if has_records */
	SfSpan	   *record_spans;	/* where each record is in the body */
	int			nrecords;
	int			capacity;
	int64		total_records;	/* -1 when absent */
	int64		total_pages;	/* -1 when absent */
	char	   *cursor;			/* pitId, NULL when absent */
} SfEnvelope;

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
	Oid			typid;
	int32		typmod;
	FmgrInfo	input;
	Oid			ioparam;
	bool		is_text;
	bool		empty_is_null;	/* "" is NULL: the type is not a string type */
	bool		is_json;		/* json or jsonb */
	bool		is_jsonb;
	bool		is_timestamptz;
	char	   *cached_key;		/* key column: the key converted last */
	Datum		cached_value;
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
	FmgrInfo	timestamp_in;	/* reads zone-less timestamps */

	/* for error context */
	const char *request_label;
	int64		record_number;
	const SfColumnPlan *current_column;
	const char *current_value;
} SfRecordConverter;

extern void sf_envelope_parse(const SfResource *resource, const char *data,
							  size_t len, SfEnvelope *envelope,
							  const char *request_label);
extern void sf_envelope_parse_error_body(const char *data, size_t len,
										 SfEnvelope *envelope);
extern SfRecordConverter *sf_converter_create(const SfResource *resource,
											  Relation rel,
											  List *retrieved_attrs,
											  const SfOptions *options);
extern void sf_record_to_slot(SfRecordConverter *converter, SfSpan record,
							  const char *key, TupleTableSlot *slot);

/* ----------------------------------------------------------------
 * pushdown.c: keys from WHERE clauses and joins, LIMIT
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

extern SfScan *sf_scan_create(MemoryContext parent,
							  const SfResource *resource,
							  const SfOptions *options,
							  SfRecordConverter *converter,
							  int64 limit);
extern void sf_scan_set_keys(SfScan *scan, List *keys);
extern bool sf_scan_next(SfScan *scan, TupleTableSlot *slot);
extern void sf_scan_restart(SfScan *scan);
extern void sf_scan_release(SfScan *scan);
extern const SfScanStats *sf_scan_stats(SfScan *scan);

#endif							/* SUBSCRIBER_FDW_H */
