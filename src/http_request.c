/*-------------------------------------------------------------------------
 *
 * http_request.c
 *		  A scan's HTTP requests: queued, started when allowed, returned.
 *
 * A scan owns an SfHttpClient (http_client.c) and makes its requests with
 * it.  A request waits in its client's queue until its delay (a retry's
 * backoff) is over, fewer than max_concurrency requests of the client are
 * running, and its server's shared limits let it start (shared_state.c);
 * http_client.c then hands it to libcurl.  Finished requests are returned
 * one at a time with what came back.  A key goes into the target as a
 * percent-encoded path segment, and a URL too long for the limit is
 * refused before anything is sent.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "http_client_int.h"

/* The longest request URL sent; a longer one fails before it is sent. */
#define MAX_URL_LENGTH		8192

/* The method as it appears in messages and EXPLAIN. */
const char *
sf_http_method_name(SfHttpMethod method)
{
	return method == SF_HTTP_POST ? "POST" : "GET";
}

/*
 * Percent-encodes a value for use as one path segment.  Everything but
 * RFC 3986's unreserved characters is encoded, dots included, so that no key
 * can add a segment, a query, a fragment or a dot-segment to the path.
 */
char *
sf_http_escape_segment(const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		len = strlen(value);
	char	   *out = palloc(len * 3 + 1);
	char	   *o = out;

	for (const unsigned char *p = (const unsigned char *) value; *p; p++)
	{
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			(*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '~')
			*o++ = (char) *p;
		else
		{
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 0x0F];
		}
	}
	*o = '\0';
	return out;
}

/*
 * The same request once more, for a retry: counted as one in the server's
 * statistics.  The failed request is left to the caller to release.
 */
SfHttpRequest *
sf_http_request_again(SfHttpRequest *failed)
{
	SfHttpRequest *again = sf_http_request_create(failed->client, failed->method,
												  failed->target, failed->body,
												  failed->owner);

	again->is_retry = true;
	return again;
}

/* The caller's bookkeeping, as given to sf_http_request_create. */
void *
sf_http_request_owner(const SfHttpRequest *request)
{
	return request->owner;
}

/* Lets the scan engine name the request in its messages. */
SfHttpMethod
sf_http_request_method(const SfHttpRequest *request)
{
	return request->method;
}

/* The path and query the request appends to base_url. */
const char *
sf_http_request_target(const SfHttpRequest *request)
{
	return request->target;
}

/*
 * The memory context of the request, which lives until the request is
 * released: what the caller derives from the body can live and die with it.
 */
MemoryContext
sf_http_request_context(const SfHttpRequest *request)
{
	return request->cxt;
}

/* The HTTP status of a finished request, 0 without a response. */
long
sf_http_request_status(const SfHttpRequest *request)
{
	return request->status;
}

/* What went wrong below HTTP, SF_TRANSPORT_OK when nothing did. */
SfTransportError
sf_http_request_transport_error(const SfHttpRequest *request)
{
	return request->transport_error;
}

/* What libcurl or http_client.c said about a transport error. */
const char *
sf_http_request_transport_message(const SfHttpRequest *request)
{
	return request->transport_message;
}

/* The body of a finished request, NUL-terminated, and its length. */
const char *
sf_http_request_data(const SfHttpRequest *request, size_t *len)
{
	*len = request->len;
	return request->data;
}

/* Seconds from a Retry-After header, -1 when there was none. */
long
sf_http_request_retry_after(const SfHttpRequest *request)
{
	return request->retry_after;
}

/*
 * Queues a request.  It starts after delay_ms (a retry's backoff) and once
 * fewer than max_concurrency requests of the client are running.
 */
void
sf_http_submit(SfHttpRequest *request, int delay_ms)
{
	SfHttpClient *client = request->client;
	MemoryContext old = MemoryContextSwitchTo(client->cxt);

	request->start_after = delay_ms > 0 ?
		TimestampTzPlusMilliseconds(GetCurrentTimestamp(), delay_ms) : 0;
	client->waiting = lappend(client->waiting, request);
	MemoryContextSwitchTo(old);
}

/* Refuses a request whose URL is too long, before anything is sent. */
static void
check_url_length(SfHttpClient *client, SfHttpRequest *request)
{
	size_t		len = strlen(client->base_url) + strlen(request->target);

	if (len > MAX_URL_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the URL of a request would be longer than the %d bytes allowed",
						MAX_URL_LENGTH),
				 errdetail("It would be %zu bytes long.", len),
				 errhint("A key value this long cannot be asked for; check the query's keys."),
				 errcontext("request %s %s", sf_http_method_name(request->method),
							sf_message_text(request->target, strlen(request->target)))));
}

/*
 * Starts the waiting requests whose time has come and whose server lets
 * them, oldest first.  Returns when the next one may start, or 0 when none
 * waits for a time (one that waits for another request of its server to
 * end is woken through the server's condition variable).
 */
static TimestampTz
start_due_requests(SfHttpClient *client)
{
	TimestampTz now = 0;
	TimestampTz next = 0;
	ListCell   *lc;

	foreach(lc, client->waiting)
	{
		SfHttpRequest *request = (SfHttpRequest *) lfirst(lc);
		TimestampTz until = 0;
		SfAdmission admission;
		MemoryContext old;

		if (list_length(client->running) >= client->max_running)
			break;
		if (now == 0)
			now = GetCurrentTimestamp();
		if (request->start_after > now)
		{
			next = next == 0 ? request->start_after : Min(next, request->start_after);
			continue;
		}
		check_url_length(client, request);
		admission = sf_server_admit(client->server, client->options, now, &until,
									&request->server_epoch);
		if (admission != SF_ADMITTED)
		{
			if (request->limit_wait_since == 0)
				request->limit_wait_since = now;
			if (admission == SF_WAIT_UNTIL)
				next = next == 0 ? until : Min(next, until);
			break;				/* the next ones wait for the same server */
		}
		request->server = client->server;
		client->waiting = foreach_delete_current(client->waiting, lc);
		sf_query_budget_take(client->options);
		old = MemoryContextSwitchTo(client->cxt);
		sf_http_start_transfer(request,
							   request->limit_wait_since != 0 ?
							   now - request->limit_wait_since : 0);
		MemoryContextSwitchTo(old);
	}
	return next;
}

/*
 * Returns a finished request of the client.  With wait, blocks until one
 * finishes, on the latch and curl's sockets, so that query cancel and
 * statement_timeout end the wait at once; returns NULL when the client has
 * nothing left to do.  Without wait, only moves the transfers forward,
 * which lets later chunks arrive while the scan returns rows.
 */
SfHttpRequest *
sf_http_next_finished(SfHttpClient *client, bool wait)
{
	for (;;)
	{
		TimestampTz next_start = start_due_requests(client);
		long		timeout = -1;

		if (client->finished == NIL && client->running != NIL)
			sf_http_drive_transfers(0);
		if (client->finished != NIL)
		{
			SfHttpRequest *request = linitial(client->finished);

			sf_server_end_wait();
			client->finished = list_delete_first(client->finished);
			return request;
		}
		if (!wait || (client->running == NIL && client->waiting == NIL))
		{
			sf_server_end_wait();
			return NULL;
		}
		if (next_start != 0)
			timeout = sf_wait_ms_until(next_start);
		sf_http_drive_transfers(timeout);
		sf_server_end_wait();
	}
}

/* Requests submitted and not yet returned by sf_http_next_finished. */
int
sf_http_pending(SfHttpClient *client)
{
	return list_length(client->waiting) + list_length(client->running) +
		list_length(client->finished);
}

/* Drops every request of the client, as a rescan must. */
void
sf_http_cancel_all(SfHttpClient *client)
{
	while (client->waiting != NIL)
		sf_http_request_release(linitial(client->waiting));
	while (client->running != NIL)
		sf_http_request_release(linitial(client->running));
	while (client->finished != NIL)
		sf_http_request_release(linitial(client->finished));
}
