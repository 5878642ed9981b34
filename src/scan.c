/*-------------------------------------------------------------------------
 *
 * scan.c
 *		  The scan engine: one request sequence per key, for every resource.
 *
 * A scan reads the records of one or more keys.  Each key is a stream of
 * requests that follows its resource's paging protocol (a single response,
 * numbered pages, or point-in-time chunks); up to max_concurrency streams run
 * at once.  A response becomes a chunk: its raw body and the byte ranges of
 * its records.  Rows are returned from the current chunk while the stream's
 * next request is already under way, and the transfers are moved forward
 * every few rows, so the network's latency hides behind row processing.  A
 * stream holds at most two chunks, the one being read and the next, which
 * bounds a scan's memory whatever the number of rows.
 *
 * Transient failures are retried with exponential backoff and jitter; a
 * chunk is used only once it arrived whole, and a request whose answer may
 * have moved a point in time on is never sent again, so a retry can neither
 * duplicate nor skip a row.  Which failures are transient, and the errors
 * of the others, are request_error.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#if PG_VERSION_NUM >= 150000
#include "common/pg_prng.h"
#endif
#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "subscriber_fdw.h"

/* Rows returned between two nudges of the transfers in flight. */
#define ROWS_PER_POLL			32

/* Backoff of retries: the first wait, the longest, and Retry-After's cap. */
#define BACKOFF_BASE_MS			200
#define BACKOFF_MAX_MS			10000
#define RETRY_AFTER_MAX_MS		30000


typedef struct SfStream
{
	char	   *key;
	char	   *path;			/* endpoint path with the key filled in */
	int64		received;		/* records received for this key */
	int64		expected_total; /* from the first response, -1 before */
	int64		total_pages;	/* pages: from the first response */
	int64		next_page;		/* pages: 1-based */
	char	   *cursor;			/* point in time: the latest cursor */
	uint64		page_hash;		/* pages without totals: the last page's records */
	int			attempt;		/* retries of the request in flight */
	bool		finished;
	bool		deferred;		/* next request waits for a chunk to be read */
} SfStream;

typedef struct SfChunk
{
	SfStream   *stream;
	SfHttpRequest *response;	/* owns the body and this chunk */
	char	   *label;			/* "METHOD target" for messages */
	SfSpan	   *records;
	int			nrecords;
	int			next;
	int64		first_record;	/* number of its first record in the stream */
} SfChunk;

struct SfScan
{
	MemoryContext cxt;
	MemoryContext pass_cxt;		/* keys and streams of one pass, reset by a rescan */
	const SfResource *resource;
	const SfOptions *options;
	SfRecordConverter *converter;
	SfHttpClient *client;
	int64		limit;			/* records wanted at most, -1 for all */
	int64		received;		/* records received over all streams */
	int64		returned;
	SfStream   *streams;
	int			nstreams;
	int			next_to_open;
	int			open_streams;
	List	   *ready;			/* chunks received and not yet read */
	SfChunk    *current;
	int			rows_since_poll;
	SfScanStats stats;
	bool		totals_only;	/* one record asked per key, only its total read */
	SfTotalHook total_hook;		/* told the total of each key, or NULL */
	void	   *total_hook_arg;
};

/*
 * Creates a scan engine in the parent context, with its HTTP client and
 * the memory of its passes.  limit is -1 for no limit.
 */
SfScan *
sf_scan_create(MemoryContext parent, const SfResource *resource,
			   const SfOptions *options, SfRecordConverter *converter,
			   int64 limit)
{
	SfScan	   *scan = MemoryContextAllocZero(parent, sizeof(SfScan));

	scan->cxt = parent;
	scan->resource = resource;
	scan->options = options;
	scan->converter = converter;
	scan->limit = limit;
	scan->client = sf_http_client_create(parent, options, resource->sends_tenant);
	scan->pass_cxt = AllocSetContextCreate(parent, "subscriber_fdw pass",
										   ALLOCSET_SMALL_SIZES);
	return scan;
}

/* Records per request: fetch_size, or fewer when a LIMIT needs fewer. */
static int
chunk_size(SfScan *scan)
{
	if (scan->totals_only)
		return 1;
	if (scan->limit >= 0 && scan->limit < scan->options->fetch_size)
		return (int) Max(scan->limit, 1);
	return scan->options->fetch_size;
}

/* Whether the records received already satisfy a pushed-down LIMIT. */
static bool
limit_reached(SfScan *scan)
{
	return scan->limit >= 0 && scan->received >= scan->limit;
}

/*
 * Makes the next passes read only each key's total: one request per key,
 * asking for a single record, and no rows.  A point in time opened this way
 * is left to expire on the API.
 */
void
sf_scan_set_totals_only(SfScan *scan, bool totals_only)
{
	scan->totals_only = totals_only;
}

/* Has the scan tell every total the API reports for a key. */
void
sf_scan_set_total_hook(SfScan *scan, SfTotalHook hook, void *arg)
{
	scan->total_hook = hook;
	scan->total_hook_arg = arg;
}

/*
 * The key of stream number "index" of this pass and the total its first
 * response reported (-1 when it had none); false past the last key.
 */
bool
sf_scan_key_total(SfScan *scan, int index, const char **key, int64 *total)
{
	if (index < 0 || index >= scan->nstreams)
		return false;
	*key = scan->streams[index].key;
	*total = scan->streams[index].expected_total;
	return true;
}

/* Sets the keys of the next pass; NULL and duplicate keys are already gone. */
void
sf_scan_set_keys(SfScan *scan, List *keys)
{
	MemoryContext old = MemoryContextSwitchTo(scan->pass_cxt);
	ListCell   *lc;
	int			i = 0;

	scan->nstreams = list_length(keys);
	scan->streams = palloc0(Max(1, scan->nstreams) * sizeof(SfStream));
	foreach(lc, keys)
	{
		SfStream   *stream = &scan->streams[i++];

		stream->key = pstrdup(lfirst(lc));
		stream->path = sf_resource_path(scan->resource,
										sf_http_escape_segment(stream->key));
		stream->expected_total = -1;
		stream->total_pages = -1;
		stream->next_page = scan->resource->first_page;
	}
	MemoryContextSwitchTo(old);
}

/* Builds and queues the next request of a stream. */
static void
send_next_request(SfScan *scan, SfStream *stream, int delay_ms)
{
	const SfResource *resource = scan->resource;
	char	   *target = stream->path;
	char	   *body = NULL;
	SfHttpRequest *request;

	switch (resource->paging)
	{
		case SF_PAGING_NONE:
			break;
		case SF_PAGING_PAGES:
			target = psprintf("%s?%s=" INT64_FORMAT "&%s=%d", stream->path,
							  resource->page_param, stream->next_page,
							  resource->page_size_param, chunk_size(scan));
			break;
		case SF_PAGING_PIT:
			{
				StringInfoData buf;

				initStringInfo(&buf);
				appendStringInfoChar(&buf, '{');
				escape_json(&buf, resource->cursor_member);
				appendStringInfoChar(&buf, ':');
				escape_json(&buf, stream->cursor ? stream->cursor : "");
				if (stream->cursor == NULL)
				{
					appendStringInfoChar(&buf, ',');
					escape_json(&buf, resource->keep_alive_member);
					appendStringInfo(&buf, ":%d", scan->options->pit_keep_alive);
				}
				appendStringInfoChar(&buf, ',');
				escape_json(&buf, resource->chunk_size_member);
				appendStringInfo(&buf, ":%d}", chunk_size(scan));
				body = buf.data;
				break;
			}
	}
	request = sf_http_request_create(scan->client, resource->method, target,
									 body, stream);
	sf_http_submit(request, delay_ms);
}

/* Marks a stream done, counting it out of the open streams only once. */
static void
finish_stream(SfScan *scan, SfStream *stream)
{
	if (!stream->finished)
	{
		stream->finished = true;
		scan->open_streams--;
	}
}

/*
 * Starts streams until max_concurrency of them run.  Chunks waiting to be
 * read count too, so that many short streams (one response per key) cannot
 * pile up responses faster than rows are returned.
 */
static void
open_streams(SfScan *scan)
{
	while (scan->open_streams + list_length(scan->ready) < scan->options->max_concurrency &&
		   scan->next_to_open < scan->nstreams &&
		   !limit_reached(scan))
	{
		SfStream   *stream = &scan->streams[scan->next_to_open++];

		scan->open_streams++;
		send_next_request(scan, stream, 0);
	}
}

/* A random number in [0, 1), for jitter. */
static double
random_fraction(void)
{
#if PG_VERSION_NUM >= 150000
	return pg_prng_double(&pg_global_prng_state);
#else
	return (double) random() / ((double) MAX_RANDOM_VALUE + 1);
#endif
}

/* The wait before retry number "attempt": exponential, jittered. */
static int
backoff_ms(int attempt, long retry_after)
{
	double		ceiling = Min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * pow(2.0, attempt - 1));
	double		wait = ceiling * (0.5 + 0.5 * random_fraction());

	if (retry_after >= 0)
		wait = Max(wait, Min((double) retry_after * 1000.0, RETRY_AFTER_MAX_MS));
	return (int) wait;
}

/* Sends a failed request again if retries are left; false if not. */
static bool
retry(SfScan *scan, SfHttpRequest *failed)
{
	SfStream   *stream = (SfStream *) sf_http_request_owner(failed);
	SfHttpRequest *again;

	if (stream->attempt >= scan->options->max_retries)
		return false;
	stream->attempt++;
	scan->stats.retries++;
	again = sf_http_request_again(failed);
	sf_http_submit(again, backoff_ms(stream->attempt, sf_http_request_retry_after(failed)));
	sf_http_request_release(failed);
	return true;
}

/* Whether the API's error code says that asking again may succeed. */
static bool
is_transient_code(SfScan *scan, const SfEnvelope *envelope)
{
	const SfErrorCode *known = sf_known_error(scan->resource, envelope);

	return known != NULL && known->transient;
}

/*
 * Whether a request that failed below HTTP may be sent again.  A refused
 * connection never reached the API.  A timeout or a broken connection may
 * have lost an answer the API did send: asking again is harmless for a page
 * number, but a point in time moves on with every answer, so asking again
 * for it would skip a chunk.
 */
static bool
retry_is_safe(SfScan *scan, SfStream *stream, SfHttpRequest *response)
{
	switch (sf_http_request_transport_error(response))
	{
		case SF_TRANSPORT_CONNECT:
			return true;
		case SF_TRANSPORT_TIMEOUT:
		case SF_TRANSPORT_BROKEN:
			return scan->resource->paging != SF_PAGING_PIT || stream->cursor == NULL;
		default:
			return false;
	}
}

/* Raises an error about a response that breaks the paging protocol. */
static void
raise_protocol_error(SfHttpRequest *request, const char *problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
			 errmsg("unexpected paging in the response to %s", sf_request_label(request)),
			 errdetail("%s", problem)));
}

/*
 * Whether a page scan goes on after a page.  With a total, it goes on until
 * the records received reach it, and never asks for more pages than the
 * total needs (nor than the total of pages, where one is sent); pages that
 * run out before the total mean records went missing, which is an error
 * rather than part of the rows.  Without a total, a short or empty page is
 * the last, and a page that repeats the one before it (a server that
 * ignores the page number) is an error rather than duplicated rows.
 */
static bool
more_pages(SfScan *scan, SfStream *stream, SfHttpRequest *response,
		   SfEnvelope *envelope, int nrecords)
{
	int64		pages_read = stream->next_page - scan->resource->first_page;
	int			size = chunk_size(scan);

	if (stream->expected_total >= 0)
	{
		int64		pages_needed = (stream->expected_total + size - 1) / size;

		if (stream->received >= stream->expected_total)
			return false;
		if (nrecords == 0 || pages_read >= pages_needed ||
			(stream->total_pages >= 0 && pages_read >= stream->total_pages))
			raise_protocol_error(response,
								 psprintf("The pages ended after " INT64_FORMAT " of " INT64_FORMAT " records.",
										  stream->received, stream->expected_total));
		return true;
	}
	if (nrecords > 0)
	{
		uint64		hash = hash_bytes_extended((const unsigned char *) envelope->records.start,
											   (int) envelope->records.len, 0);

		if (pages_read > 1 && hash == stream->page_hash)
			raise_protocol_error(response,
								 psprintf("Page " INT64_FORMAT " holds the same records as the page before it.",
										  stream->next_page - 1));
		stream->page_hash = hash;
	}
	if (stream->total_pages >= 0 && pages_read >= stream->total_pages)
		return false;
	return nrecords == size;
}

/*
 * Applies a successful response to its stream's paging state and decides
 * whether the stream has more to fetch.  Every path ends: a chunk without
 * records, the total reached, the last page, or an error.
 */
static void
advance_stream(SfScan *scan, SfStream *stream, SfHttpRequest *response,
			   SfEnvelope *envelope, int nrecords)
{
	stream->received += nrecords;
	scan->received += nrecords;

	if (envelope->total_records >= 0)
	{
		if (stream->expected_total < 0)
		{
			stream->expected_total = envelope->total_records;
			if (scan->total_hook != NULL)
				scan->total_hook(scan->total_hook_arg, stream->key,
								 stream->expected_total);
		}
		else if (envelope->total_records != stream->expected_total &&
				 scan->resource->paging == SF_PAGING_PIT)
			raise_protocol_error(response,
								 psprintf("The total changed from " INT64_FORMAT " to " INT64_FORMAT " within one point in time.",
										  stream->expected_total, envelope->total_records));
	}
	if (stream->expected_total >= 0 && stream->received > stream->expected_total &&
		scan->resource->paging == SF_PAGING_PIT)
		raise_protocol_error(response,
							 psprintf("The API sent " INT64_FORMAT " records of a total of " INT64_FORMAT ".",
									  stream->received, stream->expected_total));

	if (scan->totals_only)
	{
		finish_stream(scan, stream);
		return;
	}

	switch (scan->resource->paging)
	{
		case SF_PAGING_NONE:
			finish_stream(scan, stream);
			break;
		case SF_PAGING_PAGES:
			if (stream->total_pages < 0)
				stream->total_pages = envelope->total_pages;
			stream->next_page++;
			if (!limit_reached(scan) && !more_pages(scan, stream, response, envelope, nrecords))
				finish_stream(scan, stream);
			break;
		case SF_PAGING_PIT:
			if (stream->expected_total < 0)
				raise_protocol_error(response,
									 psprintf("The response has no %s.",
											  scan->resource->total_records_path));
			/* an early end means chunks went missing: never return a part */
			if (nrecords == 0 && stream->received < stream->expected_total &&
				!limit_reached(scan))
				raise_protocol_error(response,
									 psprintf("The point in time ended after " INT64_FORMAT " of " INT64_FORMAT " records.",
											  stream->received, stream->expected_total));
			if (nrecords == 0 || stream->received >= stream->expected_total)
				finish_stream(scan, stream);
			else if (envelope->cursor == NULL)
				raise_protocol_error(response,
									 psprintf("The response has no %s to continue with.",
											  scan->resource->cursor_path));
			else
			{
				/* only the latest cursor is kept: the API may send a new one each time */
				if (stream->cursor != NULL)
					pfree(stream->cursor);
				stream->cursor = MemoryContextStrdup(scan->pass_cxt, envelope->cursor);
			}
			break;
	}
	if (limit_reached(scan))
		finish_stream(scan, stream);
}

/*
 * Turns a finished request into a chunk, a retry or an error, and sends the
 * stream's next request as early as the memory bound allows.
 */
static void
handle_response(SfScan *scan, SfHttpRequest *response)
{
	SfStream   *stream = (SfStream *) sf_http_request_owner(response);
	long		status = sf_http_request_status(response);
	size_t		len;
	const char *data = sf_http_request_data(response, &len);
	SfEnvelope	envelope;
	SfChunk    *chunk;
	MemoryContext old;

	scan->stats.requests++;
	scan->stats.bytes += len;

	if (sf_http_request_transport_error(response) != SF_TRANSPORT_OK)
	{
		if (retry_is_safe(scan, stream, response) && retry(scan, response))
			return;
		sf_raise_transport_error(response, scan->options, stream->attempt,
								 scan->resource->paging == SF_PAGING_PIT &&
								 stream->cursor != NULL);
	}

	if (status == 404 && scan->resource->not_found_is_empty)
	{
		finish_stream(scan, stream);
		sf_http_request_release(response);
		return;
	}

	if (status < 200 || status > 299)
	{
		sf_envelope_parse_error_body(scan->resource, data, len, &envelope);
		if ((sf_status_is_transient(status) || is_transient_code(scan, &envelope)) &&
			retry(scan, response))
			return;
		sf_raise_remote_error(response, &envelope, scan->resource, scan->options,
							  stream->key, stream->attempt);
	}

	/* the chunk and its index live and die with the response */
	old = MemoryContextSwitchTo(sf_http_request_context(response));
	chunk = palloc0(sizeof(SfChunk));
	chunk->stream = stream;
	chunk->response = response;
	chunk->label = sf_request_label(response);
	sf_envelope_parse(scan->resource, data, len,
					  scan->resource->paging == SF_PAGING_NONE ?
					  scan->resource->max_records : chunk_size(scan),
					  &envelope, chunk->label);
	MemoryContextSwitchTo(old);
	if (envelope.error_code != NULL)
	{
		if (is_transient_code(scan, &envelope) && retry(scan, response))
			return;
		sf_raise_remote_error(response, &envelope, scan->resource, scan->options,
							  stream->key, stream->attempt);
	}
	chunk->records = envelope.record_index.items;
	chunk->nrecords = envelope.record_index.count;

	stream->attempt = 0;
	chunk->first_record = stream->received;
	advance_stream(scan, stream, response, &envelope, chunk->nrecords);

	/*
	 * The next request goes out when this chunk starts being read, so a
	 * stream holds two chunks at most: the one being read and the next one,
	 * arriving or waiting.  A chunk without records is never read, nor is
	 * one that was asked for its total only.
	 */
	if (chunk->nrecords > 0 && !scan->totals_only)
	{
		old = MemoryContextSwitchTo(scan->cxt);
		scan->ready = lappend(scan->ready, chunk);
		MemoryContextSwitchTo(old);
		stream->deferred = !stream->finished;
	}
	else
	{
		sf_http_request_release(response);
		if (!stream->finished)
			send_next_request(scan, stream, 0);
	}
}

/*
 * Moves requests forward.  With wait, blocks until a chunk is ready or
 * nothing is left to fetch.  Returns whether more rows may come.
 */
static bool
pump(SfScan *scan, bool wait)
{
	SfHttpRequest *response;

	open_streams(scan);
	while ((response = sf_http_next_finished(scan->client,
											 wait && scan->ready == NIL)) != NULL)
	{
		handle_response(scan, response);
		open_streams(scan);
	}
	return scan->ready != NIL || sf_http_pending(scan->client) > 0;
}

/* A chunk's records point into its response: releasing it frees both. */
static void
release_chunk(SfChunk *chunk)
{
	sf_http_request_release(chunk->response);
}

/*
 * Stores the next row in the slot; false at the end.  Allocations for the
 * row go to the caller's current memory context.
 */
bool
sf_scan_next(SfScan *scan, TupleTableSlot *slot)
{
	for (;;)
	{
		SfChunk    *chunk = scan->current;

		if (scan->limit >= 0 && scan->returned >= scan->limit)
			return false;
		if (chunk != NULL && chunk->next < chunk->nrecords)
		{
			SfSpan		record = chunk->records[chunk->next++];

			sf_record_to_slot(scan->converter, record, chunk->stream->key,
							  chunk->label, chunk->first_record + chunk->next, slot);
			scan->returned++;
			if (++scan->rows_since_poll >= ROWS_PER_POLL)
			{
				scan->rows_since_poll = 0;
				pump(scan, false);
			}
			return true;
		}
		if (chunk != NULL)
		{
			scan->current = NULL;
			release_chunk(chunk);
		}
		if (scan->ready != NIL)
		{
			SfStream   *stream;

			chunk = linitial(scan->ready);
			scan->ready = list_delete_first(scan->ready);
			scan->current = chunk;
			stream = chunk->stream;
			if (stream->deferred && !stream->finished)
			{
				stream->deferred = false;
				send_next_request(scan, stream, 0);
			}
			open_streams(scan);
			continue;
		}
		if (!pump(scan, true) && scan->ready == NIL)
			return false;
	}
}

/* Forgets every request and chunk, for a rescan or the end of the scan. */
static void
drop_all(SfScan *scan)
{
	sf_http_cancel_all(scan->client);
	if (scan->current != NULL)
		release_chunk(scan->current);
	scan->current = NULL;
	while (scan->ready != NIL)
	{
		release_chunk(linitial(scan->ready));
		scan->ready = list_delete_first(scan->ready);
	}
}

/* Prepares a new pass; the caller sets its keys.  Statistics accumulate. */
void
sf_scan_restart(SfScan *scan)
{
	drop_all(scan);
	MemoryContextReset(scan->pass_cxt);
	scan->streams = NULL;
	scan->nstreams = 0;
	scan->next_to_open = 0;
	scan->open_streams = 0;
	scan->received = 0;
	scan->returned = 0;
	scan->rows_since_poll = 0;
}

/* Ends the scan's requests and chunks; the memory goes with its context. */
void
sf_scan_release(SfScan *scan)
{
	drop_all(scan);
}

/* The scan's requests, retries and bytes, for EXPLAIN ANALYZE. */
const SfScanStats *
sf_scan_stats(SfScan *scan)
{
	return &scan->stats;
}

/*
 * The key whose record sf_scan_next returned last, as it was given to
 * sf_scan_set_keys; a batched join matches the row to its outer rows by it.
 */
const char *
sf_scan_current_key(SfScan *scan)
{
	return scan->current != NULL ? scan->current->stream->key : NULL;
}
