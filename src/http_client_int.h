/*-------------------------------------------------------------------------
 *
 * http_client_int.h
 *		  The HTTP client's own structs, for its two files only.
 *
 * The rest of the extension sees SfHttpClient and SfHttpRequest as opaque
 * handles (subscriber_fdw.h) and uses their functions.  Their members are
 * shared by http_client.c, which runs the transfers over libcurl, and
 * http_request.c, which queues a scan's requests and reads what came back,
 * as libpq's files share libpq-int.h.  Nothing else includes this file.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HTTP_CLIENT_INT_H
#define HTTP_CLIENT_INT_H

#include "lib/ilist.h"

#include "subscriber_fdw.h"

/* A client: one per scan, with its queue of requests. */
struct SfHttpClient
{
	MemoryContext cxt;
	char	   *base_url;		/* without a trailing slash */
	const SfOptions *options;
	struct SfServerState *server;	/* limits and statistics of its server */
	struct curl_slist *headers; /* libcurl's list, opaque here */
	int			max_running;
	int64		low_speed_window_us;	/* see enforce_timeouts */
	List	   *waiting;		/* submitted, not yet handed to curl */
	List	   *running;		/* in the multi handle */
	List	   *finished;		/* done, not yet returned to the caller */
	char	   *spare_body;		/* a released body buffer, for the next one */
	size_t		spare_capacity;
	MemoryContextCallback cleanup;
};

/*
 * A request.  Its memory context holds it, its target, body and error
 * message; the body buffer is malloc'd (see write_body).
 */
struct SfHttpRequest
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

	/* the transfer */
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
};

/* http_client.c: hands a request to curl, and moves the transfers on */
extern void sf_http_start_transfer(SfHttpRequest *request, int64 wait_us);
extern void sf_http_drive_transfers(long timeout_ms);

#endif							/* HTTP_CLIENT_INT_H */
