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

/* Converts a palloc'd UTF-8 string from the API into the database encoding. */
static char *
to_server_encoding(char *text, size_t len)
{
	int			encoding = GetDatabaseEncoding();

	if (encoding == PG_UTF8 || encoding == PG_SQL_ASCII)
		return text;
	return pg_any_to_server(text, (int) len, PG_UTF8);
}

/*
 * A string member, or NULL when absent, null, empty or not a string.  The
 * json-c object is released before the conversion to the database encoding,
 * which may raise an error.
 */
static char *
span_to_string(SfSpan span)
{
	struct json_object *obj = parse_small_value(span);
	char	   *utf8 = NULL;
	size_t		len = 0;

	if (obj != NULL && json_object_is_type(obj, json_type_string) &&
		json_object_get_string_len(obj) > 0)
	{
		const char *s = json_object_get_string(obj);

		len = (size_t) json_object_get_string_len(obj);
		if (memchr(s, '\0', len) == NULL)
			utf8 = pnstrdup(s, len);
	}
	json_object_put(obj);
	return utf8 ? to_server_encoding(utf8, len) : NULL;
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

/* Whether a (decoded) member name is the given name. */
static bool
key_is(SfSpan key, const char *name)
{
	return name != NULL && sf_span_equals(key, name, strlen(name));
}

/* null and "" both stand for a missing value in the API's answers. */
static bool
span_is_empty_value(SfSpan span)
{
	return sf_span_equals(span, "null", 4) || sf_span_equals(span, "\"\"", 2);
}

/*
 * One error for a body that is not what was expected, hinting at base_url
 * when an HTML page came back instead of JSON.
 */
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


/*
 * Which of the members the scan reads a top-level name is, so that each
 * can be refused when it appears twice: a body that says two things about
 * its error or its records is not guessed at.
 */
typedef enum EnvelopeMember
{
	MEMBER_ERROR_CODE,
	MEMBER_ERROR_MESSAGE,		/* a slot per name of the API's list, up to 8 */
	MEMBER_RECORDS = MEMBER_ERROR_MESSAGE + 8,
	MEMBER_LIST_LENGTH,
	MEMBER_PAGING,				/* one slot per paging path */
	MEMBER_COUNT = MEMBER_PAGING + 3
} EnvelopeMember;

/*
 * The message of an error, under any of the names the API writes one with;
 * the first name of the API's list wins over later ones.
 */
static void
read_error_message(int rank, SfSpan value, SfEnvelope *envelope,
				   int *message_rank)
{
	if (rank <= *message_rank)
	{
		envelope->error_message = span_to_string(value);
		*message_rank = rank;
	}
}

/* The rank of a name in the API's list of error message members, or -1. */
static int
error_message_rank(const SfApi *api, SfSpan key)
{
	for (int rank = 0; api->error_message_members[rank] != NULL; rank++)
	{
		if (key_is(key, api->error_message_members[rank]))
			return rank;
	}
	return -1;
}

/* Whether a member name is the first segment of a dotted path. */
static bool
first_segment_is(SfSpan key, const char *path)
{
	return sf_span_equals(key, path, strcspn(path, "."));
}

/*
 * The value at a dotted path, given the value of its first segment (found
 * while walking the top level); false when absent.  A member on the way
 * that appears twice is an error, as at the top level.
 */
static bool
resolve_path(SfSpan first, const char *path, SfSpan *value,
			 const char *request_label, const char *data, size_t len)
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
	if (sf_find_path(first, rest + 1, value, &problem))
		return true;
	if (problem != NULL)
		raise_body_error(request_label, data, len, path, problem, false);
	return false;
}

/*
 * Notes that a member the scan reads was seen; the second time it is an
 * error naming it.
 */
static void
note_member(bool *seen, int member, const char *name, const char *request_label,
			const char *data, size_t len)
{
	if (seen[member])
		raise_body_error(request_label, data, len, name, "the member appears twice",
						 false);
	seen[member] = true;
}

/*
 * Reads the error code: a string, empty or absent when there is no error.
 * Any other kind of value is refused rather than taken for "no error".
 */
static void
read_error_code(SfSpan value, SfEnvelope *envelope, const char *name,
				const char *request_label, const char *data, size_t len)
{
	if (value.len > 0 && value.start[0] != '"' && !span_is_empty_value(value))
		raise_body_error(request_label, data, len, name, "the error code is not a string",
						 false);
	envelope->error_code = span_to_string(value);
}

/*
 * Reads the top-level members that the scan engine needs.  A body that is
 * not one JSON object, has trailing bytes, or holds a member of the wrong
 * kind is an error naming the request.
 */
void
sf_envelope_parse(const SfResource *resource, const char *data, size_t len,
				  int max_records, SfEnvelope *envelope, const char *request_label)
{
	const SfApi *api = resource->api;
	bool		seen[MEMBER_COUNT] = {false};
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
	walker.validate = true;
	walker.index_member = resource->records_path;
	walker.index_single = resource->records_as_list;
	walker.index_limit = max_records;
	walker.index = &envelope->record_index;
	while (sf_object_walker_next(&walker, &key, &value, &problem))
	{
		int			rank;

		/* the members the paging paths start at, found in this one walk */
		for (int i = 0; i < (int) lengthof(paging_paths); i++)
		{
			if (paging_paths[i] != NULL && first_segment_is(key, paging_paths[i]))
			{
				note_member(seen, MEMBER_PAGING + i, paging_paths[i], request_label,
							data, len);
				paging_members[i] = value;
			}
		}
		if (key_is(key, api->error_code_member))
		{
			note_member(seen, MEMBER_ERROR_CODE, api->error_code_member,
						request_label, data, len);
			read_error_code(value, envelope, api->error_code_member,
							request_label, data, len);
		}
		else if ((rank = error_message_rank(api, key)) >= 0)
		{
			note_member(seen, MEMBER_ERROR_MESSAGE + Min(rank, 7),
						api->error_message_members[rank], request_label, data, len);
			read_error_message(rank, value, envelope, &message_rank);
		}
		else if (key_is(key, resource->records_path))
		{
			note_member(seen, MEMBER_RECORDS, resource->records_path,
						request_label, data, len);
			envelope->has_records = true;
			envelope->records = value;
		}
		else if (resource->records_as_list && key_is(key, api->list_length_member))
		{
			int64		count;

			note_member(seen, MEMBER_LIST_LENGTH, api->list_length_member,
						request_label, data, len);
			list_is_empty = span_to_count(value, &count) && count == 0;
		}
	}
	if (walker.index_overflow)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the response to %s holds more than %d records",
						request_label, max_records),
				 resource->paging == SF_PAGING_NONE ?
				 errdetail("One response may hold at most %d records.", max_records) :
				 errdetail("The request asked for %d records.", max_records)));
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

	/* a success without its records would read as a key without any */
	if (!envelope->has_records && !resource->records_as_list)
		raise_body_error(request_label, data, len, resource->records_path,
						 "the member holding the records is missing", false);
	if (list_is_empty)
		envelope->record_index.count = 0;
	else if (envelope->has_records && envelope->record_index.count == 0 &&
			 !span_is_empty_value(envelope->records) &&
			 !sf_span_equals(envelope->records, "[]", 2))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected JSON in the response to %s", request_label),
				 errdetail("The records are not a JSON array.")));

	if (resolve_path(paging_members[0], resource->total_records_path, &value,
					 request_label, data, len) &&
		!span_to_count(value, &envelope->total_records))
		raise_body_error(request_label, data, len, resource->total_records_path,
						 "not a count of records", false);
	if (resolve_path(paging_members[1], resource->total_pages_path, &value,
					 request_label, data, len) &&
		!span_to_count(value, &envelope->total_pages))
		raise_body_error(request_label, data, len, resource->total_pages_path,
						 "not a count of pages", false);
	if (resolve_path(paging_members[2], resource->cursor_path, &value,
					 request_label, data, len))
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
	{
		int			rank;

		if (key_is(key, resource->api->error_code_member))
			envelope->error_code = span_to_string(value);
		else if ((rank = error_message_rank(resource->api, key)) >= 0)
			read_error_message(rank, value, envelope, &message_rank);
	}
}
