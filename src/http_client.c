/*-------------------------------------------------------------------------
 *
 * http_client.c
 *		  HTTP requests over libcurl's multi interface.
 *
 * This is the only file that includes curl.h.  All requests of a backend go
 * through one multi handle that lives as long as the backend, so keep-alive
 * connections are reused from query to query.  A scan owns an SfHttpClient;
 * its requests run concurrently, up to the scan's max_concurrency, and each
 * starts only when its server's shared limits let it (http_request.c queues
 * them, shared_state.c keeps the limits).
 *
 * The backend waits for the transfers in http_wait.c, which curl's socket
 * and timer callbacks tell what to wait for.
 *
 * request_timeout and connect_timeout count only the time the backend
 * spends waiting for the transfers: a response that waits for the scan to
 * read it (a client that paused a cursor) is not timed out, and the
 * low-speed check measures the same time.  curl's own timeouts are off.
 *
 * Nothing here raises an error inside a libcurl callback: the callbacks
 * record an oversized or unallocatable body, oversized headers or an
 * unrequested Content-Encoding and return 0, which makes curl fail the
 * transfer; the caller raises the error afterwards.  Each request lives in
 * a memory context of its own whose reset callback detaches and frees the
 * curl handle and gives back its server slot, so an error anywhere, a cancel
 * included, releases every handle when the executor's memory goes away.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "lib/ilist.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "http_client_int.h"

/*
 * Once a response has started, one slower than this many bytes/s over a
 * quarter of request_timeout is aborted: a server that trickles its body
 * fails early instead of holding the query until request_timeout.
 */
#define LOW_SPEED_BYTES		1024

/* Response headers larger than this fail the request (libcurl's own cap). */
#define MAX_HEADER_BYTES	(100 * 1024)

/* The backend's multi handle and with it its connection cache. */
static CURLM *backend_multi = NULL;

/* The table of sockets (http_wait.c) could not grow: the transfers fail. */
static bool sockets_out_of_memory = false;

/* Every request of the backend that is in curl, for the timeouts. */
static dlist_head active_requests = DLIST_STATIC_INIT(active_requests);

/* Sets up libcurl once per backend, before any thread could exist. */
void
sf_http_global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not initialize libcurl")));
}

/*
 * curl's socket callback: records which sockets to wait for.  Runs inside
 * libcurl, so it only records; failing to grow the table fails the
 * transfers, and the error is raised afterwards.
 */
static int
note_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	if (what == CURL_POLL_REMOVE)
	{
		sf_wait_forget_socket(fd);
		return 0;
	}
	if (!sf_wait_watch_socket(fd, ((what & CURL_POLL_IN) ? WL_SOCKET_READABLE : 0) |
							  ((what & CURL_POLL_OUT) ? WL_SOCKET_WRITEABLE : 0)))
	{
		sockets_out_of_memory = true;
		return -1;
	}
	return 0;
}

/* curl's timer callback: records when curl wants to be called. */
static int
note_timer(CURLM *multi, long timeout_ms, void *userp)
{
	sf_wait_set_timer(timeout_ms);
	return 0;
}

/*
 * The backend's multi handle, made on first use, so that every scan of
 * the backend shares one connection cache.
 */
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
		curl_multi_setopt(backend_multi, CURLMOPT_SOCKETFUNCTION, note_socket);
		curl_multi_setopt(backend_multi, CURLMOPT_TIMERFUNCTION, note_timer);
	}
	return backend_multi;
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

/*
 * Detaches a request's handle from the multi handle and frees it, and gives
 * back the request's slot of its server.
 */
static void
detach_handle(SfHttpRequest *request)
{
	if (request->handle != NULL)
	{
		if (request->attached_at != 0)
		{
			curl_multi_remove_handle(backend_multi, request->handle);
			dlist_delete(&request->active_node);
			request->attached_at = 0;
		}
		curl_easy_cleanup(request->handle);
		request->handle = NULL;
	}
	if (request->server != NULL)
	{
		sf_server_release(request->server, request->server_epoch);
		request->server = NULL;
	}
}

/*
 * Frees all a request holds outside PostgreSQL's memory: its curl handle,
 * its server slot and its body buffer.  Runs when the request's memory
 * context goes away, on success and on error alike.
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

/*
 * curl_slist_append returns NULL when out of memory; this raises instead,
 * freeing the list built so far.
 */
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
	client->server = sf_server_state(options->serverid);
	client->max_running = options->max_concurrency;
	client->low_speed_window_us = Max(1, options->request_timeout / 4) * USECS_PER_SEC;
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
	request->window_start_us = -1;
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
 * Checks each response header line as it arrives.  Headers past
 * MAX_HEADER_BYTES, and a Content-Encoding that was never asked for (no
 * Accept-Encoding is sent, so the body would be undecodable bytes), stop
 * the transfer.  Runs inside libcurl: it only records and returns 0.
 */
static size_t
check_header(char *line, size_t size, size_t nitems, void *userdata)
{
	SfHttpRequest *request = (SfHttpRequest *) userdata;
	size_t		n = size * nitems;
	static const char name[] = "content-encoding:";
	const size_t name_len = sizeof(name) - 1;

	request->header_bytes += n;
	if (request->header_bytes > MAX_HEADER_BYTES)
		return 0;
	if (n > name_len && pg_strncasecmp(line, name, name_len) == 0)
	{
		const char *value = line + name_len;
		size_t		len = n - name_len;

		while (len > 0 && (*value == ' ' || *value == '\t'))
			value++, len--;
		while (len > 0 && (value[len - 1] == '\r' || value[len - 1] == '\n' ||
						   value[len - 1] == ' ' || value[len - 1] == '\t'))
			len--;
		if (len > 0 && !(len == 8 && pg_strncasecmp(value, "identity", 8) == 0))
		{
			len = Min(len, sizeof(request->encoding) - 1);
			for (size_t i = 0; i < len; i++)
				request->encoding[i] = (value[i] >= 0x20 && value[i] < 0x7f) ? value[i] : '?';
			request->encoding[len] = '\0';
			return 0;
		}
	}
	return n;
}

#define SETOPT(handle, option, value) \
	do { \
		CURLcode setopt_code = curl_easy_setopt(handle, option, value); \
		if (setopt_code != CURLE_OK) \
			refused_option(#option, setopt_code); \
	} while (0)

/* SETOPT's error: a libcurl that refuses an option is not used half set up. */
static void
refused_option(const char *option, CURLcode code)
{
	ereport(ERROR,
			(errcode(ERRCODE_SYSTEM_ERROR),
			 errmsg("could not configure an HTTP request"),
			 errdetail("libcurl refused %s: %s.", option, curl_easy_strerror(code))));
}

/*
 * Hands a request to libcurl, with every safety option set, when its
 * client's queue starts it (http_request.c).  Its server has admitted it;
 * the handle is freed by request_cleanup if anything fails.
 */
void
sf_http_start_transfer(SfHttpRequest *request, int64 wait_us)
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
	SETOPT(handle, CURLOPT_HEADERFUNCTION, check_header);
	SETOPT(handle, CURLOPT_HEADERDATA, request);
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
	/* enforce_timeouts applies the timeouts; curl's would count pauses */
	SETOPT(handle, CURLOPT_CONNECTTIMEOUT_MS, (long) INT_MAX);
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
	request->attached_at = GetCurrentTimestamp();
	dlist_push_tail(&active_requests, &request->active_node);
	client->running = lappend(client->running, request);
	sf_server_count_start(client->server, request->is_retry, wait_us);
}

/*
 * Sorts curl's result into the kinds the scan engine treats differently,
 * such as whether a retry is safe and what to tell the user.
 */
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
			if (request->overflowed)
				return SF_TRANSPORT_TOO_LARGE;
			if (request->header_bytes > MAX_HEADER_BYTES || request->encoding[0] != '\0')
				return SF_TRANSPORT_PROTOCOL;
			return SF_TRANSPORT_OTHER;
		case CURLE_OUT_OF_MEMORY:
			/* libcurl's way to refuse a header line over its cap */
			return request->status == 0 || request->len == 0 ?
				SF_TRANSPORT_PROTOCOL : SF_TRANSPORT_OTHER;
		case CURLE_WEIRD_SERVER_REPLY:
		case CURLE_BAD_CONTENT_ENCODING:
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
		case CURLE_HTTP3:
			return SF_TRANSPORT_PROTOCOL;
		default:
			return SF_TRANSPORT_OTHER;
	}
}

/* What to tell the user about a failed transfer. */
static const char *
transport_message(SfHttpRequest *request, CURLcode code)
{
	if (request->local_failure != NULL)
		return request->local_failure;
	if (request->transport_error == SF_TRANSPORT_TOO_LARGE)
		return "the response exceeded max_response_size";
	if (request->out_of_memory)
		return "out of memory for the response body";
	if (request->encoding[0] != '\0')
		return psprintf("the API sent its body with Content-Encoding \"%s\", which was not asked for and cannot be read",
						request->encoding);
	if (request->header_bytes > MAX_HEADER_BYTES ||
		(code == CURLE_OUT_OF_MEMORY && request->transport_error == SF_TRANSPORT_PROTOCOL))
		return psprintf("the API sent response headers larger than %d bytes",
						MAX_HEADER_BYTES);
	if (sockets_out_of_memory)
		return "out of memory for libcurl's socket table";
	return request->errbuf[0] ? request->errbuf : curl_easy_strerror(code);
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
	if (request->out_of_memory)
	{
		request->transport_error = SF_TRANSPORT_OTHER;
		request->len = 0;
	}
	if (request->transport_error != SF_TRANSPORT_OK)
		request->transport_message = MemoryContextStrdup(request->cxt,
														 transport_message(request, code));
	if (request->data == NULL)
		request->data = "";		/* not owned: capacity stays 0 */
	else
		request->data[request->len] = '\0';

	sf_server_count_finish(client->server, status,
						   request->transport_error != SF_TRANSPORT_OK, request->len);
	if ((status == 429 || status == 503) && request->retry_after > 0)
		sf_server_hold(client->server,
					   TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												   Min(request->retry_after * 1000L,
													   SF_MAX_HOLD_MS)));
	detach_handle(request);

	old = MemoryContextSwitchTo(client->cxt);
	client->running = list_delete_ptr(client->running, request);
	client->finished = lappend(client->finished, request);
	MemoryContextSwitchTo(old);
}

/* Stops a transfer that one of our own limits ended. */
static void
fail_request(SfHttpRequest *request, CURLcode code, const char *why)
{
	request->local_failure = why;
	finish_request(request, code);
}

/*
 * Adds the time the backend just waited to every transfer in curl, and
 * ends those past connect_timeout (not connected yet), request_timeout, or
 * the low-speed limit.  Time outside the waits, such as a client's pause
 * between the fetches of a cursor, never counts.
 */
static void
enforce_timeouts(TimestampTz began, TimestampTz now)
{
	dlist_mutable_iter iter;

	dlist_foreach_modify(iter, &active_requests)
	{
		SfHttpRequest *request = dlist_container(SfHttpRequest, active_node, iter.cur);
		const SfOptions *options = request->client->options;
		int64		window_us = request->client->low_speed_window_us;
		curl_off_t	pretransfer = 0;

		request->active_us += now - Max(began, request->attached_at);
		if (!request->connected &&
			curl_easy_getinfo(request->handle, CURLINFO_PRETRANSFER_TIME_T,
							  &pretransfer) == CURLE_OK && pretransfer > 0)
			request->connected = true;
		if (!request->connected &&
			request->active_us >= options->connect_timeout * USECS_PER_SEC)
			fail_request(request, CURLE_OPERATION_TIMEDOUT,
						 psprintf("no connection within connect_timeout (%d s)",
								  options->connect_timeout));
		else if (request->active_us >= options->request_timeout * USECS_PER_SEC)
			fail_request(request, CURLE_OPERATION_TIMEDOUT,
						 psprintf("no complete answer within request_timeout (%d s)",
								  options->request_timeout));
		else if (request->len > 0 && request->window_start_us < 0)
		{
			request->window_start_us = request->active_us;
			request->window_bytes = request->len;
		}
		else if (request->window_start_us >= 0 &&
				 request->active_us - request->window_start_us >= window_us)
		{
			if ((int64) (request->len - request->window_bytes) * USECS_PER_SEC <
				LOW_SPEED_BYTES * window_us)
				fail_request(request, CURLE_OPERATION_TIMEDOUT,
							 psprintf("the response arrived slower than %d bytes/s for %d s",
									  LOW_SPEED_BYTES, (int) (window_us / USECS_PER_SEC)));
			else
			{
				request->window_start_us = request->active_us;
				request->window_bytes = request->len;
			}
		}
	}
}

/* Milliseconds of waiting until the first of enforce_timeouts' limits. */
static long
ms_to_next_timeout(void)
{
	int64		soonest = -1;
	dlist_iter	iter;

	dlist_foreach(iter, &active_requests)
	{
		SfHttpRequest *request = dlist_container(SfHttpRequest, active_node, iter.cur);
		const SfOptions *options = request->client->options;
		int64		left = options->request_timeout * USECS_PER_SEC - request->active_us;

		if (!request->connected)
			left = Min(left, options->connect_timeout * USECS_PER_SEC - request->active_us);
		if (request->window_start_us >= 0)
			left = Min(left, request->window_start_us +
					   request->client->low_speed_window_us - request->active_us);
		left = Max(left, 0);
		soonest = soonest < 0 ? left : Min(soonest, left);
	}
	return soonest < 0 ? -1 : (long) ((soonest + 999) / 1000);
}

/*
 * Lets curl act on a socket or its timer.  A socket curl has already
 * closed is not an error.
 */
static void
socket_action(curl_socket_t fd, int flags)
{
	int			running;
	CURLMcode	rc = curl_multi_socket_action(backend_multi, fd, flags, &running);

	if (rc != CURLM_OK && rc != CURLM_BAD_SOCKET)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("libcurl failed to drive the HTTP requests"),
				 errdetail("%s.", curl_multi_strerror(rc))));
}

/* Lets curl act on a socket that the wait found ready (WL_SOCKET_* events). */
static void
socket_ready(pgsocket fd, uint32 events)
{
	socket_action(fd, ((events & WL_SOCKET_READABLE) ? CURL_CSELECT_IN : 0) |
				  ((events & WL_SOCKET_WRITEABLE) ? CURL_CSELECT_OUT : 0));
}

/*
 * Moves every transfer of the backend forward.  Waits up to timeout_ms
 * (0: not at all, -1: as long as curl and the timeouts allow) for curl's
 * sockets, its timer, or the latch, hands curl what happened, and files the
 * finished transfers with the clients that own them.  A set latch (a
 * cancel, statement_timeout, a released server slot) ends the wait at once.
 */
void
sf_http_drive_transfers(long timeout_ms)
{
	TimestampTz began = GetCurrentTimestamp();
	bool		latch_set;
	long		limit;
	int			queued;
	CURLMsg    *msg;

	limit = ms_to_next_timeout();
	if (limit >= 0)
		timeout_ms = timeout_ms < 0 ? limit : Min(timeout_ms, limit);
	latch_set = sf_wait_for_events(timeout_ms, socket_ready);
	if (sf_wait_timer_due())
		socket_action(CURL_SOCKET_TIMEOUT, 0);

	while ((msg = curl_multi_info_read(backend_multi, &queued)) != NULL)
	{
		SfHttpRequest *request = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &request);
		if (request != NULL)
			finish_request(request, msg->data.result);
	}
	enforce_timeouts(began, GetCurrentTimestamp());
	sockets_out_of_memory = false;	/* told to the transfers it failed */
	if (latch_set)
		CHECK_FOR_INTERRUPTS();
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
