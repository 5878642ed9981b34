/*-------------------------------------------------------------------------
 *
 * http_client.c
 *		  HTTP requests over libcurl's multi interface.
 *
 * This is the only file that includes curl.h.  All requests of a backend go
 * through one multi handle that lives as long as the backend, so keep-alive
 * connections are reused from query to query.  A scan owns an SfHttpClient;
 * its requests run concurrently, up to the scan's max_concurrency.
 *
 * Nothing here raises an error inside a libcurl callback: the write callback
 * records an oversized or unallocatable body and returns 0, which makes curl
 * fail the transfer; the caller raises the error afterwards.  Each request
 * lives in a memory context of its own whose reset callback detaches and
 * frees the curl handle, so an error anywhere, a cancel included, releases
 * every handle when the executor's memory goes away.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "subscriber_fdw.h"

/* How often the wait loop wakes up to check for a query cancel. */
#define WAIT_SLICE_MS		100

/*
 * Once a response has started, one slower than this many bytes/s over a
 * quarter of request_timeout is aborted: a server that trickles its body
 * fails early instead of holding the query until request_timeout.
 */
#define LOW_SPEED_BYTES		1024

struct SfHttpClient
{
	MemoryContext cxt;
	char	   *base_url;		/* without a trailing slash */
	const SfOptions *options;
	struct curl_slist *headers;
	int			max_running;
	long		low_speed_window_ms;	/* see check_speed */
	List	   *waiting;		/* submitted, not yet handed to curl */
	List	   *running;		/* in the multi handle */
	List	   *finished;		/* done, not yet returned to the caller */
	char	   *spare_body;		/* a released body buffer, for the next one */
	size_t		spare_capacity;
	MemoryContextCallback cleanup;
};

/* The backend's multi handle and with it its connection cache. */
static CURLM *backend_multi = NULL;

/* Sets up libcurl once per backend, before any thread could exist. */
void
sf_http_global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not initialize libcurl")));
}

static CURLM *
get_multi(void)
{
	if (backend_multi == NULL)
	{
		backend_multi = curl_multi_init();
		if (backend_multi == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not create a libcurl multi handle")));
		curl_multi_setopt(backend_multi, CURLMOPT_MAXCONNECTS, 16L);
	}
	return backend_multi;
}

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

/* Releases what the client holds outside PostgreSQL's memory. */
static void
client_cleanup(void *arg)
{
	SfHttpClient *client = (SfHttpClient *) arg;

	curl_slist_free_all(client->headers);
	client->headers = NULL;
	free(client->spare_body);
	client->spare_body = NULL;
}

/* Detaches a request's handle from the multi handle and frees it. */
static void
detach_handle(SfHttpRequest *request)
{
	if (request->handle != NULL)
	{
		curl_multi_remove_handle(backend_multi, request->handle);
		curl_easy_cleanup(request->handle);
		request->handle = NULL;
	}
}

/*
 * Frees all a request holds outside PostgreSQL's memory: its curl handle
 * and its body buffer.  Runs when the request's memory context goes away,
 * on success and on error alike.
 */
static void
request_cleanup(void *arg)
{
	SfHttpRequest *request = (SfHttpRequest *) arg;

	detach_handle(request);
	if (request->capacity > 0)
		free(request->data);
	request->data = NULL;
	request->capacity = 0;
}

static struct curl_slist *
append_header(struct curl_slist *list, const char *header)
{
	struct curl_slist *longer = curl_slist_append(list, header);

	if (longer == NULL)
	{
		curl_slist_free_all(list);
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while building HTTP headers")));
	}
	return longer;
}

/*
 * Creates the client of one scan.  Its memory, and with it every request and
 * curl handle, is released when the parent context goes away.
 */
SfHttpClient *
sf_http_client_create(MemoryContext parent, const SfOptions *options,
					  bool send_tenant)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "subscriber_fdw http client",
											  ALLOCSET_SMALL_SIZES);
	SfHttpClient *client = MemoryContextAllocZero(cxt, sizeof(SfHttpClient));
	struct curl_slist *headers = NULL;
	size_t		len;

	client->cxt = cxt;
	client->options = options;
	client->max_running = options->max_concurrency;
	client->low_speed_window_ms = Max(1, options->request_timeout / 4) * 1000L;
	client->base_url = MemoryContextStrdup(cxt, options->base_url);
	len = strlen(client->base_url);
	while (len > 0 && client->base_url[len - 1] == '/')
		client->base_url[--len] = '\0';

	headers = append_header(headers, "Accept: application/json");
	headers = append_header(headers, "Content-Type: application/json");
	headers = append_header(headers, "Expect:");
	if (send_tenant && options->tenant != NULL)
	{
		char	   *line = psprintf("tenant: %s", options->tenant);

		headers = append_header(headers, line);
		pfree(line);
	}
	client->headers = headers;
	client->cleanup.func = client_cleanup;
	client->cleanup.arg = client;
	MemoryContextRegisterResetCallback(cxt, &client->cleanup);
	return client;
}

/* Makes a request that has not been sent yet. */
SfHttpRequest *
sf_http_request_create(SfHttpClient *client, SfHttpMethod method,
					   const char *target, const char *body, void *owner)
{
	MemoryContext cxt = AllocSetContextCreate(client->cxt, "subscriber_fdw request",
											  ALLOCSET_DEFAULT_SIZES);
	SfHttpRequest *request = MemoryContextAllocZero(cxt, sizeof(SfHttpRequest));
	MemoryContextCallback *callback = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));

	request->cxt = cxt;
	request->client = client;
	request->method = method;
	request->target = MemoryContextStrdup(cxt, target);
	request->body = body ? MemoryContextStrdup(cxt, body) : NULL;
	request->owner = owner;
	request->retry_after = -1;
	request->limit = (size_t) client->options->max_response_size;
	request->errbuf = MemoryContextAllocZero(cxt, CURL_ERROR_SIZE);
	callback->func = request_cleanup;
	callback->arg = request;
	MemoryContextRegisterResetCallback(cxt, callback);
	return request;
}

/*
 * Appends what arrives to the request's body.  Runs inside libcurl, so it
 * must not raise an error: allocation failures and oversized bodies are
 * recorded, and returning 0 makes curl fail the transfer.  The buffer is
 * malloc'd so that it can outlive the request as the client's spare, which
 * spares every chunk the page faults of a fresh buffer.
 */
static size_t
write_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	SfHttpRequest *request = (SfHttpRequest *) userdata;
	size_t		n = size * nmemb;

	if (n > request->limit - request->len)
	{
		request->overflowed = true;
		return 0;
	}
	if (request->len + n + 1 > request->capacity)
	{
		curl_off_t	announced = -1;
		size_t		want = Max(request->capacity * 2, request->len + n + 1);
		char	   *grown;

		/* the first piece: size the buffer by Content-Length when sane */
		if (request->len == 0 &&
			curl_easy_getinfo(request->handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
							  &announced) == CURLE_OK &&
			announced > 0 && (size_t) announced <= request->limit)
			want = Max(want, (size_t) announced + 1);
		want = Max(want, 8192);
		want = Min(want, request->limit + 1);
		grown = realloc(request->data, want);
		if (grown == NULL)
		{
			request->out_of_memory = true;
			return 0;
		}
		request->data = grown;
		request->capacity = want;
	}
	memcpy(request->data + request->len, ptr, n);
	request->len += n;
	request->data[request->len] = '\0';
	return n;
}

/*
 * libcurl's progress callback, used for the low-speed check.  Unlike
 * CURLOPT_LOW_SPEED_TIME it leaves alone the wait for the first byte, which
 * is the server's thinking time and governed by request_timeout.  Runs
 * inside libcurl: it only records, and returning 1 aborts the transfer.
 */
static int
check_speed(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
			curl_off_t ultotal, curl_off_t ulnow)
{
	SfHttpRequest *request = (SfHttpRequest *) clientp;
	TimestampTz now;
	long		window_ms = request->client->low_speed_window_ms;

	if (dlnow == 0)
		return 0;
	now = GetCurrentTimestamp();
	if (request->window_start == 0)
	{
		request->window_start = now;
		request->window_bytes = dlnow;
		return 0;
	}
	if (now - request->window_start < window_ms * INT64CONST(1000))
		return 0;
	if ((dlnow - request->window_bytes) * 1000 < LOW_SPEED_BYTES * window_ms)
	{
		request->too_slow = true;
		return 1;
	}
	request->window_start = now;
	request->window_bytes = dlnow;
	return 0;
}

#define SETOPT(handle, option, value) \
	do { \
		if (curl_easy_setopt(handle, option, value) != CURLE_OK) \
			goto setopt_failed; \
	} while (0)

/* Hands a request to libcurl, with every safety option set. */
static void
start_request(SfHttpRequest *request)
{
	SfHttpClient *client = request->client;
	const SfOptions *options = client->options;
	char	   *url = psprintf("%s%s", client->base_url, request->target);
	CURL	   *handle;

	/* reuse the body buffer of a request released before */
	if (client->spare_body != NULL && request->data == NULL)
	{
		request->data = client->spare_body;
		request->capacity = client->spare_capacity;
		client->spare_body = NULL;
		client->spare_capacity = 0;
	}

	handle = curl_easy_init();
	if (handle == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create a libcurl handle")));
	request->handle = handle;	/* from now on request_cleanup frees it */

	SETOPT(handle, CURLOPT_URL, url);
	SETOPT(handle, CURLOPT_PRIVATE, request);
	SETOPT(handle, CURLOPT_ERRORBUFFER, request->errbuf);
	SETOPT(handle, CURLOPT_WRITEFUNCTION, write_body);
	SETOPT(handle, CURLOPT_WRITEDATA, request);
	SETOPT(handle, CURLOPT_NOSIGNAL, 1L);
	SETOPT(handle, CURLOPT_HTTPHEADER, client->headers);
	SETOPT(handle, CURLOPT_USERAGENT, "subscriber_fdw/" SUBSCRIBER_FDW_VERSION);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(handle, CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SETOPT(handle, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SETOPT(handle, CURLOPT_REDIR_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SETOPT(handle, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(handle, CURLOPT_PATH_AS_IS, 1L);
	/* neither a proxy nor .netrc from the server's environment */
	SETOPT(handle, CURLOPT_PROXY, "");
	SETOPT(handle, CURLOPT_NETRC, (long) CURL_NETRC_IGNORED);
	SETOPT(handle, CURLOPT_CONNECTTIMEOUT_MS, options->connect_timeout * 1000L);
	SETOPT(handle, CURLOPT_TIMEOUT_MS, options->request_timeout * 1000L);
	SETOPT(handle, CURLOPT_XFERINFOFUNCTION, check_speed);
	SETOPT(handle, CURLOPT_XFERINFODATA, request);
	SETOPT(handle, CURLOPT_NOPROGRESS, 0L);
	SETOPT(handle, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) request->limit);
	SETOPT(handle, CURLOPT_SSL_VERIFYPEER, options->tls_verify ? 1L : 0L);
	SETOPT(handle, CURLOPT_SSL_VERIFYHOST, options->tls_verify ? 2L : 0L);
	if (options->ca_file != NULL)
		SETOPT(handle, CURLOPT_CAINFO, options->ca_file);
	if (options->token != NULL)
	{
		SETOPT(handle, CURLOPT_HTTPAUTH, (long) CURLAUTH_BEARER);
		SETOPT(handle, CURLOPT_XOAUTH2_BEARER, options->token);
	}
	else if (options->username != NULL)
	{
		SETOPT(handle, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
		SETOPT(handle, CURLOPT_USERNAME, options->username);
		SETOPT(handle, CURLOPT_PASSWORD, options->password ? options->password : "");
	}
	if (request->method == SF_HTTP_POST)
	{
		const char *body = request->body ? request->body : "";

		SETOPT(handle, CURLOPT_POST, 1L);
		SETOPT(handle, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
		SETOPT(handle, CURLOPT_POSTFIELDS, body);
	}
	pfree(url);

	if (curl_multi_add_handle(get_multi(), handle) != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not start an HTTP request")));
	client->running = lappend(client->running, request);
	return;

setopt_failed:
	ereport(ERROR,
			(errcode(ERRCODE_SYSTEM_ERROR),
			 errmsg("could not configure an HTTP request"),
			 errdetail("libcurl refused an option; it may be too old.")));
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

/* Starts the waiting requests whose time has come, oldest first. */
static void
start_due_requests(SfHttpClient *client)
{
	TimestampTz now = 0;
	ListCell   *lc;

	foreach(lc, client->waiting)
	{
		SfHttpRequest *request = (SfHttpRequest *) lfirst(lc);

		if (list_length(client->running) >= client->max_running)
			break;
		if (request->start_after != 0)
		{
			if (now == 0)
				now = GetCurrentTimestamp();
			if (request->start_after > now)
				continue;
		}
		client->waiting = foreach_delete_current(client->waiting, lc);
		{
			MemoryContext old = MemoryContextSwitchTo(client->cxt);

			start_request(request);
			MemoryContextSwitchTo(old);
		}
	}
}

static SfTransportError
classify(CURLcode code, const SfHttpRequest *request)
{
	switch (code)
	{
		case CURLE_OK:
			return SF_TRANSPORT_OK;
		case CURLE_COULDNT_CONNECT:
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
			return SF_TRANSPORT_CONNECT;
		case CURLE_OPERATION_TIMEDOUT:
			return SF_TRANSPORT_TIMEOUT;
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_CRL_BADFILE:
			return SF_TRANSPORT_TLS;
		case CURLE_RECV_ERROR:
		case CURLE_SEND_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
			return SF_TRANSPORT_BROKEN;
		case CURLE_FILESIZE_EXCEEDED:
			return SF_TRANSPORT_TOO_LARGE;
		case CURLE_WRITE_ERROR:
			return request->overflowed ? SF_TRANSPORT_TOO_LARGE : SF_TRANSPORT_OTHER;
		case CURLE_ABORTED_BY_CALLBACK:
			return request->too_slow ? SF_TRANSPORT_TIMEOUT : SF_TRANSPORT_OTHER;
		default:
			return SF_TRANSPORT_OTHER;
	}
}

/* Records the outcome of a finished transfer and frees its handle. */
static void
finish_request(SfHttpRequest *request, CURLcode code)
{
	SfHttpClient *client = request->client;
	CURL	   *handle = request->handle;
	long		status = 0;
	curl_off_t	retry_after = 0;
	MemoryContext old;

	curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(handle, CURLINFO_RETRY_AFTER, &retry_after);
	request->status = status;
	request->retry_after = retry_after > 0 ? (long) retry_after : -1;
	request->transport_error = classify(code, request);
	if (request->transport_error == SF_TRANSPORT_TOO_LARGE)
		request->transport_message = "the response exceeded max_response_size";
	else if (request->too_slow)
		request->transport_message =
			MemoryContextStrdup(request->cxt,
								psprintf("the response arrived slower than %d bytes/s for %ld s",
										 LOW_SPEED_BYTES, client->low_speed_window_ms / 1000));
	else if (code != CURLE_OK)
		request->transport_message = request->errbuf[0] ?
			request->errbuf : (char *) curl_easy_strerror(code);
	if (request->out_of_memory)
	{
		request->transport_error = SF_TRANSPORT_OTHER;
		request->transport_message = "out of memory for the response body";
		request->len = 0;
	}
	if (request->data == NULL)
		request->data = "";		/* not owned: capacity stays 0 */
	else
		request->data[request->len] = '\0';

	detach_handle(request);

	old = MemoryContextSwitchTo(client->cxt);
	client->running = list_delete_ptr(client->running, request);
	client->finished = lappend(client->finished, request);
	MemoryContextSwitchTo(old);
}

/*
 * Lets curl move every transfer of the backend forward without blocking,
 * and files the finished ones with the client that owns them.
 */
static void
drive_transfers(void)
{
	int			running;
	int			queued;
	CURLMsg    *msg;

	if (curl_multi_perform(backend_multi, &running) != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("libcurl failed to drive the HTTP requests")));
	while ((msg = curl_multi_info_read(backend_multi, &queued)) != NULL)
	{
		SfHttpRequest *request = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &request);
		if (request != NULL)
			finish_request(request, msg->data.result);
	}
}

/*
 * Returns a finished request of the client.  With wait, blocks until one
 * finishes, waking every WAIT_SLICE_MS to honour query cancel and
 * statement_timeout; returns NULL when the client has nothing left to do.
 * Without wait, only moves the transfers forward, which lets later chunks
 * arrive while the scan returns rows.
 */
SfHttpRequest *
sf_http_next_finished(SfHttpClient *client, bool wait)
{
	for (;;)
	{
		long		timeout = WAIT_SLICE_MS;

		start_due_requests(client);
		if (client->running != NIL)
			drive_transfers();
		if (client->finished != NIL)
		{
			SfHttpRequest *request = linitial(client->finished);

			client->finished = list_delete_first(client->finished);
			return request;
		}
		if (!wait || (client->running == NIL && client->waiting == NIL))
			return NULL;

		if (client->running == NIL)
		{
			SfHttpRequest *next = linitial(client->waiting);
			long		secs;
			int			usecs;

			TimestampDifference(GetCurrentTimestamp(), next->start_after,
								&secs, &usecs);
			timeout = Min(timeout, secs * 1000 + usecs / 1000);
		}
		if (timeout > 0)
			curl_multi_poll(get_multi(), NULL, 0, (int) timeout, NULL);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Requests submitted and not yet returned by sf_http_next_finished. */
int
sf_http_pending(SfHttpClient *client)
{
	return list_length(client->waiting) + list_length(client->running) +
		list_length(client->finished);
}

/*
 * Frees a request, stopping its transfer if it is still running.  Its body
 * buffer becomes the client's spare when the client has none.
 */
void
sf_http_request_release(SfHttpRequest *request)
{
	SfHttpClient *client = request->client;

	client->waiting = list_delete_ptr(client->waiting, request);
	client->running = list_delete_ptr(client->running, request);
	client->finished = list_delete_ptr(client->finished, request);
	detach_handle(request);
	if (client->spare_body == NULL && request->capacity > 0)
	{
		client->spare_body = request->data;
		client->spare_capacity = request->capacity;
		request->data = NULL;
		request->capacity = 0;
	}
	MemoryContextDelete(request->cxt);
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
