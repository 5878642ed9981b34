/*-------------------------------------------------------------------------
 *
 * request_error.c
 *		  What a failed request means, and the error it ends in.
 *
 * A request of the scan engine fails below HTTP (no connection, a timeout,
 * a broken transfer, an oversized body), or the API answers with an error:
 * a status other than 2xx, or an error code in the body.  The scan engine
 * retries what this file calls transient; what is left is raised here with
 * the SQLSTATE, message and hint that the README lists, and the request as
 * the context.  Remote text and keys are shortened, and a body is shown
 * only as printable ASCII.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "subscriber_fdw.h"

/* Remote text or a key value as a message may show it. */
static const char *
shortened(const char *text)
{
	return sf_message_text(text, strlen(text));
}

/*
 * "METHOD target" for messages, the target shortened if it is long, since
 * it holds the key.
 */
char *
sf_request_label(SfHttpRequest *request)
{
	return psprintf("%s %s", sf_http_method_name(sf_http_request_method(request)),
					shortened(sf_http_request_target(request)));
}

/* HTTP statuses that mean the API may answer if asked again later. */
bool
sf_status_is_transient(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
}

/* What the catalog says of the error code a response carries, if any. */
const SfErrorCode *
sf_known_error(const SfResource *resource, const SfEnvelope *envelope)
{
	if (envelope->error_code == NULL)
		return NULL;
	return sf_error_code_lookup(resource->api, envelope->error_code);
}

/* At most max bytes of a body, with anything but printable ASCII as '?'. */
static char *
printable_excerpt(const char *data, size_t len, size_t max)
{
	size_t		n = Min(len, max);
	char	   *out = palloc(n + 1);

	for (size_t i = 0; i < n; i++)
		out[i] = (data[i] >= 0x20 && data[i] < 0x7f) ? data[i] : '?';
	out[n] = '\0';
	return out;
}

/*
 * Raises the error for a request that failed below HTTP, after "retries"
 * retries.  pit_continued says that it asked a point in time for its next
 * chunk, which cannot be asked for again.
 */
void
sf_raise_transport_error(SfHttpRequest *request, const SfOptions *options,
						 int retries, bool pit_continued)
{
	const char *label = sf_request_label(request);

	switch (sf_http_request_transport_error(request))
	{
		case SF_TRANSPORT_CONNECT:
		case SF_TRANSPORT_TLS:
			ereport(ERROR,
					(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					 errmsg("could not connect to the subscriber API"),
					 errdetail("%s (after %d retries).", sf_http_request_transport_message(request), retries),
					 sf_http_request_transport_error(request) == SF_TRANSPORT_TLS ?
					 errhint("Check the server's certificate, or give the CA that signed it in option \"ca_file\".") :
					 errhint("Check option \"base_url\" of the server and that the API is reachable."),
					 errcontext("request %s", label)));
			break;
		case SF_TRANSPORT_TIMEOUT:
		case SF_TRANSPORT_BROKEN:
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("the connection to the subscriber API failed"),
					 errdetail("%s (after %d retries).", sf_http_request_transport_message(request), retries),
					 pit_continued ?
					 errhint("A chunk of a point in time cannot be asked for again; run the query again.") :
					 sf_http_request_transport_error(request) == SF_TRANSPORT_TIMEOUT ?
					 errhint("Raise option \"request_timeout\" if the API is slow but alive.") : 0,
					 errcontext("request %s", label)));
			break;
		case SF_TRANSPORT_TOO_LARGE:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("a response of the subscriber API exceeded max_response_size (%d bytes)",
							options->max_response_size),
					 errhint("Lower option \"fetch_size\" or raise option \"max_response_size\"."),
					 errcontext("request %s", label)));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("a request to the subscriber API failed"),
					 errdetail("%s.", sf_http_request_transport_message(request)),
					 errcontext("request %s", label)));
			break;
	}
}

/*
 * Raises the error for a remote error code or a non-2xx status of a request
 * for a key of the resource, after "retries" retries.  The SQLSTATEs are
 * listed in the README.
 */
void
sf_raise_remote_error(SfHttpRequest *request, const SfEnvelope *envelope,
					  const SfResource *resource, const SfOptions *options,
					  const char *key, int retries)
{
	const char *label = sf_request_label(request);
	const char *code = envelope->error_code;
	const SfErrorCode *known = sf_known_error(resource, envelope);
	const char *message = envelope->error_message ? shortened(envelope->error_message) : "";
	long		status = sf_http_request_status(request);
	size_t		len;
	const char *data = sf_http_request_data(request, &len);
	char	   *detail;

	if (code != NULL)
		detail = psprintf("The API answered HTTP %ld with %s: %s", status, shortened(code),
						  message);
	else if (envelope->error_message != NULL)
		detail = psprintf("The API answered HTTP %ld: %s", status, message);
	else
		detail = psprintf("The API answered HTTP %ld with a body of %zu bytes%s%s",
						  status, len, len > 0 ? ": " : "",
						  printable_excerpt(data, len, 200));

	if (known != NULL)
		ereport(ERROR,
				(errcode(known->sqlstate),
				 errmsg("%s", psprintf(known->message, shortened(key))),
				 known->transient ?
				 errdetail("%s (after %d retries).", detail, retries) :
				 errdetail("%s", detail),
				 known->hint ?
				 errhint("%s", psprintf(known->hint, options->pit_keep_alive)) : 0,
				 errcontext("request %s", label)));
	if (sf_status_is_transient(status))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("the subscriber API is overloaded"),
				 errdetail("%s (after %d retries).", detail, retries),
				 errhint("Try again later, or raise option \"max_retries\"."),
				 errcontext("request %s", label)));
	if (status == 401)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("the subscriber API refused the credentials"),
				 errdetail("%s", detail),
				 errhint("Check the username and password, or the token, of your user mapping for the server."),
				 errcontext("request %s", label)));
	if (status == 403)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("the subscriber API denied access"),
				 errdetail("%s", detail),
				 resource->sends_tenant ?
				 errhint("Check the permissions of the API user and option \"tenant\" of the server.") :
				 errhint("Check the permissions of the API user."),
				 errcontext("request %s", label)));
	if (status >= 300 && status < 400)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("the subscriber API answered with a redirect, which is not followed"),
				 errdetail("%s", detail),
				 errhint("Point option \"base_url\" at the final location."),
				 errcontext("request %s", label)));
	ereport(ERROR,
			(errcode(ERRCODE_FDW_ERROR),
			 code != NULL ?
			 errmsg("the subscriber API reported error %s", shortened(code)) :
			 errmsg("the subscriber API answered HTTP %ld", status),
			 errdetail("%s", detail),
			 errcontext("request %s", label)));
}
