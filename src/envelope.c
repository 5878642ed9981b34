/*-------------------------------------------------------------------------
 *
 * envelope.c
 *		  The top-level members of a response: errors, records, paging state.
 *
 * A response of the API is one JSON object whose members report an error,
 * hold the records, and carry the paging state (totals, the next cursor).
 * The catalog says which members those are.  One structural walk over the
 * top level (json.c) finds them and indexes the records in the same pass;
 * json-c reads the few small scalars.  The scan engine (scan.c) applies the
 * result to its paging protocol.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "mb/pg_wchar.h"

#include <json-c/json.h>

#include "subscriber_fdw.h"

/* Parses one small value with json-c; the caller puts the result. */
static struct json_object *
parse_small_value(SfSpan span)
{
	struct json_tokener *tok = json_tokener_new_ex(SF_MAX_JSON_DEPTH);
	struct json_object *obj;

	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, span.start, (int) span.len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
		(size_t) json_tokener_get_parse_end(tok) != span.len)
	{
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* Converts a UTF-8 string from the API into the database encoding. */
static char *
to_server_encoding(const char *text, size_t len)
{
	int			encoding = GetDatabaseEncoding();

	if (encoding == PG_UTF8 || encoding == PG_SQL_ASCII)
		return pnstrdup(text, len);
	return pg_any_to_server(pnstrdup(text, len), (int) len, PG_UTF8);
}

/* A string member, or NULL when absent, null, empty or not a string. */
static char *
span_to_string(SfSpan span)
{
	struct json_object *obj = parse_small_value(span);
	char	   *result = NULL;

	if (obj != NULL && json_object_is_type(obj, json_type_string) &&
		json_object_get_string_len(obj) > 0)
	{
		const char *s = json_object_get_string(obj);
		size_t		len = (size_t) json_object_get_string_len(obj);

		if (memchr(s, '\0', len) == NULL)
			result = to_server_encoding(s, len);
	}
	json_object_put(obj);
	return result;
}

/* A non-negative count sent as a number or as a string of digits. */
static bool
span_to_count(SfSpan span, int64 *count)
{
	const char *p = span.start;
	const char *end = span.start + span.len;
	int64		value = 0;

	if (p < end && *p == '"')
	{
		p++;
		end--;
	}
	if (p >= end)
		return false;
	for (; p < end; p++)
	{
		if (*p < '0' || *p > '9' || value > (PG_INT64_MAX - 9) / 10)
			return false;
		value = value * 10 + (*p - '0');
	}
	*count = value;
	return true;
}

static bool
span_is_empty_value(SfSpan span)
{
	return sf_span_equals(span, "null", 4) || sf_span_equals(span, "\"\"", 2);
}

static void
raise_body_error(const char *request_label, const char *data, size_t len,
				 const char *where, const char *problem, bool invalid_json)
{
	ereport(ERROR,
			(errcode(invalid_json ? ERRCODE_INVALID_JSON_TEXT : ERRCODE_FDW_INVALID_DATA_TYPE),
			 invalid_json ?
			 errmsg("invalid JSON in the response to %s", request_label) :
			 errmsg("unexpected JSON in the response to %s", request_label),
			 errdetail("%s%s%s (the body has %zu bytes).",
					   where ? where : "", where ? ": " : "", problem, len),
			 (len > 0 && data[0] == '<') ?
			 errhint("The server answered with HTML; check base_url.") : 0));
}

/* Whether a member name is the given name. */
static bool
key_is(SfSpan key, const char *name)
{
	return name != NULL && sf_span_equals(key, name, strlen(name));
}

/*
 * Takes the error code and message from a top-level member, under any of
 * the names the API writes a message with (the first one wins over later
 * ones); false when the member is neither.
 */
static bool
read_error_member(const SfApi *api, SfSpan key, SfSpan value,
				  SfEnvelope *envelope, int *message_rank)
{
	if (key_is(key, api->error_code_member))
	{
		envelope->error_code = span_to_string(value);
		return true;
	}
	for (int rank = 0; api->error_message_members[rank] != NULL; rank++)
	{
		if (key_is(key, api->error_message_members[rank]))
		{
			if (rank <= *message_rank)
			{
				envelope->error_message = span_to_string(value);
				*message_rank = rank;
			}
			return true;
		}
	}
	return false;
}

/* Whether a member name is the first segment of a dotted path. */
static bool
first_segment_is(SfSpan key, const char *path)
{
	return sf_span_equals(key, path, strcspn(path, "."));
}

/*
 * The value at a dotted path, given the value of its first segment (found
 * while walking the top level); false when absent.
 */
static bool
resolve_path(SfSpan first, const char *path, SfSpan *value)
{
	const char *rest;
	const char *problem;

	if (path == NULL || first.start == NULL)
		return false;
	rest = strchr(path, '.');
	if (rest == NULL)
	{
		*value = first;
		return true;
	}
	return sf_find_path(first, rest + 1, value, &problem);
}

/*
 * Reads the top-level members that the scan engine needs.  A body that is
 * not one JSON object, has trailing bytes, or holds a member of the wrong
 * kind is an error naming the request.
 */
void
sf_envelope_parse(const SfResource *resource, const char *data, size_t len,
				  SfEnvelope *envelope, const char *request_label)
{
	SfSpan		body = {data, len};
	SfObjectWalker walker;
	SfSpan		key,
				value;
	const char *problem = NULL;
	const char *end;
	bool		list_is_empty = false;
	int			valid;
	const char *paging_paths[] = {
		resource->total_records_path, resource->total_pages_path, resource->cursor_path
	};
	SfSpan		paging_members[3] = {{NULL, 0}, {NULL, 0}, {NULL, 0}};

	int			message_rank = INT_MAX;

	memset(envelope, 0, sizeof(SfEnvelope));
	envelope->total_records = -1;
	envelope->total_pages = -1;

	/* JSON is UTF-8; every later step relies on the body being valid */
	valid = pg_encoding_verifymbstr(PG_UTF8, data, (int) len);
	if ((size_t) valid != len)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("invalid UTF-8 in the response to %s", request_label),
				 errdetail("The bytes at offset %d are not valid UTF-8.", valid)));

	if (!sf_object_walker_init(&walker, body))
		raise_body_error(request_label, data, len, NULL,
						 len == 0 ? "the body is empty" : "the body is not a JSON object",
						 true);
	walker.index_member = resource->records_path;
	walker.index_single = resource->records_as_list;
	walker.index = &envelope->record_index;
	while (sf_object_walker_next(&walker, &key, &value, &problem))
	{
		/* the members the paging paths start at, found in this one walk */
		for (int i = 0; i < (int) lengthof(paging_paths); i++)
		{
			if (paging_paths[i] != NULL && first_segment_is(key, paging_paths[i]))
				paging_members[i] = value;
		}
		if (read_error_member(resource->api, key, value, envelope, &message_rank))
			continue;
		if (key_is(key, resource->records_path))
		{
			if (envelope->has_records)
				raise_body_error(request_label, data, len, resource->records_path,
								 "the member appears twice", false);
			envelope->has_records = true;
			envelope->records = value;
		}
		else if (resource->records_as_list && key_is(key, resource->api->list_length_member))
		{
			int64		count;

			list_is_empty = span_to_count(value, &count) && count == 0;
		}
	}
	if (problem != NULL)
		raise_body_error(request_label, data, len,
						 psprintf("at byte %ld", (long) (walker.pos - data)),
						 problem, true);
	end = sf_skip_ws(walker.pos, data + len);
	if (end != data + len)
		raise_body_error(request_label, data, len,
						 psprintf("at byte %ld", (long) (end - data)),
						 "unexpected bytes follow the JSON object", true);

	if (envelope->error_code != NULL)
		return;					/* the caller reports it; nothing else matters */

	if (list_is_empty)
		envelope->record_index.count = 0;
	else if (envelope->has_records && envelope->record_index.count == 0 &&
			 !span_is_empty_value(envelope->records) &&
			 !sf_span_equals(envelope->records, "[]", 2))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected JSON in the response to %s", request_label),
				 errdetail("The records are not a JSON array.")));

	if (resolve_path(paging_members[0], resource->total_records_path, &value) &&
		!span_to_count(value, &envelope->total_records))
		raise_body_error(request_label, data, len, resource->total_records_path,
						 "not a count of records", false);
	if (resolve_path(paging_members[1], resource->total_pages_path, &value) &&
		!span_to_count(value, &envelope->total_pages))
		raise_body_error(request_label, data, len, resource->total_pages_path,
						 "not a count of pages", false);
	if (resolve_path(paging_members[2], resource->cursor_path, &value))
		envelope->cursor = span_to_string(value);
}

/*
 * Reads the error code and message from an error response, whatever its shape;
 * a body that is not a JSON object leaves both NULL.
 */
void
sf_envelope_parse_error_body(const SfResource *resource, const char *data,
							 size_t len, SfEnvelope *envelope)
{
	SfSpan		body = {data, len};
	SfObjectWalker walker;
	SfSpan		key,
				value;
	const char *problem;
	int			message_rank = INT_MAX;

	memset(envelope, 0, sizeof(SfEnvelope));
	if (!sf_object_walker_init(&walker, body))
		return;
	while (sf_object_walker_next(&walker, &key, &value, &problem))
		read_error_member(resource->api, key, value, envelope, &message_rank);
}
