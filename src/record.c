/*-------------------------------------------------------------------------
 *
 * record.c
 *		  JSON responses to records, and records to tuples.
 *
 * A response body of thousands of records is never parsed as one tree.  One
 * structural scan, which only tracks strings and brackets, finds the
 * top-level members the scan engine needs (error code, paging state) and the
 * byte range of every record; json-c reads those few small members.  Each
 * record is then parsed on its own when its row is wanted, over the tokens of
 * PostgreSQL's JSON lexer (faster than json-c here, and exact with numbers),
 * into a small tree in the per-row memory.  So the memory of a scan is the
 * raw bytes of its chunks plus one record.
 *
 * Values become column values through the column type's input function, with
 * a few rules of the contract: absent, null, and "" for a column that is not
 * a string type are NULL; zone-less timestamps are read in remote_timezone;
 * XML-style lists are always arrays; jsonb is built from the tree.  A value
 * that does not convert is an error that names the column, the value and the
 * record, never a wrong value.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "parser/parse_coerce.h"
#include "mb/pg_wchar.h"
#include "nodes/pg_list.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/datetime.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

/*
 * PostgreSQL's SQL function json_object() and json-c's type json_object
 * share a name; hide the former, which this file does not call.
 */
#define json_object pg_sql_json_object
#include "utils/builtins.h"
#undef json_object
#include "utils/json.h"
#include "utils/jsonb.h"

#include <json-c/json.h>

#include "subscriber_fdw.h"

/* Nesting the structural scan and the record parser accept in a response. */
#define MAX_JSON_DEPTH		64

/* Bytes of a value shown in an error context. */
#define VALUE_EXCERPT_BYTES	40

/* ----------------------------------------------------------------
 * Structural scanning
 * ----------------------------------------------------------------
 */

static inline const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The bytes the structural scan stops at: quotes and brackets. */
static const bool structural[256] = {
	['"'] = true, ['{'] = true, ['}'] = true, ['['] = true, [']'] = true
};

/*
 * Skips a string starting at its opening quote; NULL if unterminated.  A
 * quote ends the string unless an odd number of backslashes precedes it.
 */
static const char *
skip_string(const char *p, const char *end)
{
	for (p++; p < end;)
	{
		const char *quote = memchr(p, '"', end - p);
		const char *backslash;

		if (quote == NULL)
			return NULL;
		for (backslash = quote; backslash > p && backslash[-1] == '\\'; backslash--)
			;
		if (((quote - backslash) & 1) == 0)
			return quote + 1;
		p = quote + 1;
	}
	return NULL;
}

/*
 * Finds the end of the JSON value starting at p, matching brackets and
 * strings.  It does not validate scalars: records are parsed afterwards
 * by the record parser and envelope members by json-c, which do.
 */
static const char *
skip_value(const char *p, const char *end, const char **problem)
{
	char		stack[MAX_JSON_DEPTH];
	int			depth = 0;

	p = skip_ws(p, end);
	if (p < end && *p != '"' && *p != '{' && *p != '[')
	{
		const char *start = p;

		while (p < end && strchr(",:]} \t\r\n", *p) == NULL)
			p++;
		if (p == start)
		{
			*problem = "a value was expected";
			return NULL;
		}
		return p;
	}
	for (;;)
	{
		while (p < end && !structural[(unsigned char) *p])
			p++;
		if (p >= end)
		{
			*problem = "the body ends inside a value";
			return NULL;
		}
		switch (*p)
		{
			case '"':
				p = skip_string(p, end);
				if (p == NULL)
				{
					*problem = "a string is not terminated";
					return NULL;
				}
				break;
			case '{':
			case '[':
				if (depth == MAX_JSON_DEPTH)
				{
					*problem = "values are nested too deeply";
					return NULL;
				}
				stack[depth++] = *p++;
				break;
			default:			/* a closing bracket */
				if (depth == 0 || stack[depth - 1] != (*p == '}' ? '{' : '['))
				{
					*problem = "brackets do not match";
					return NULL;
				}
				depth--;
				p++;
				break;
		}
		if (depth == 0)
			return p;
	}
}

static bool
span_equals(SfSpan span, const char *text, size_t len)
{
	return span.len == len && memcmp(span.start, text, len) == 0;
}

/* Walks the members of one object without parsing their values. */
typedef struct ObjectWalker
{
	const char *pos;
	const char *end;
	bool		started;
	/* set by sf_envelope_parse: the member whose records are indexed */
	const char *records_key;
	SfEnvelope *envelope;
	bool		allow_single;
} ObjectWalker;

/* Appends a record's byte range to the envelope's index. */
static void
add_record(SfEnvelope *envelope, const char *start, const char *end)
{
	if (envelope->nrecords == envelope->capacity)
	{
		envelope->capacity = Max(64, envelope->capacity * 2);
		envelope->record_spans = envelope->record_spans == NULL ?
			palloc(envelope->capacity * sizeof(SfSpan)) :
			repalloc_huge(envelope->record_spans, envelope->capacity * sizeof(SfSpan));
	}
	envelope->record_spans[envelope->nrecords].start = start;
	envelope->record_spans[envelope->nrecords].len = end - start;
	envelope->nrecords++;
}

/*
 * Indexes the records of a container, an array or a bare object standing
 * for a list of one, in the same pass that skips over it; returns the end
 * of the container, or NULL with *problem set.
 */
static const char *
index_records(ObjectWalker *walker, const char *p, const char **problem)
{
	const char *end = walker->end;
	bool		first = true;

	if (*p == '{')
	{
		const char *record_end = skip_value(p, end, problem);

		if (record_end != NULL)
			add_record(walker->envelope, p, record_end);
		return record_end;
	}
	for (p++;; first = false)
	{
		const char *record_end;

		p = skip_ws(p, end);
		if (p < end && *p == ']')
			return p + 1;
		if (!first)
		{
			if (p >= end || *p != ',')
			{
				*problem = "a comma was expected between records";
				return NULL;
			}
			p = skip_ws(p + 1, end);
		}
		record_end = skip_value(p, end, problem);
		if (record_end == NULL)
			return NULL;
		add_record(walker->envelope, p, record_end);
		p = record_end;
	}
}

static bool
object_walker_init(ObjectWalker *walker, SfSpan object)
{
	const char *p = skip_ws(object.start, object.start + object.len);

	if (p >= object.start + object.len || *p != '{')
		return false;
	memset(walker, 0, sizeof(ObjectWalker));
	walker->pos = p + 1;
	walker->end = object.start + object.len;
	return true;
}

/* Returns the next member; false at the end or, with *problem set, on error. */
static bool
object_walker_next(ObjectWalker *walker, SfSpan *key, SfSpan *value,
				   const char **problem)
{
	const char *p = skip_ws(walker->pos, walker->end);
	const char *key_end;

	*problem = NULL;
	if (p < walker->end && *p == '}')
	{
		walker->pos = p + 1;
		return false;
	}
	if (walker->started)
	{
		if (p >= walker->end || *p != ',')
		{
			*problem = "a comma or a closing brace was expected between members";
			walker->pos = p;
			return false;
		}
		p = skip_ws(p + 1, walker->end);
	}
	if (p >= walker->end || *p != '"')
	{
		*problem = "a member name was expected";
		walker->pos = p;
		return false;
	}
	key_end = skip_string(p, walker->end);
	if (key_end == NULL)
	{
		*problem = "a member name is not terminated";
		walker->pos = p;
		return false;
	}
	key->start = p + 1;
	key->len = key_end - p - 2;
	p = skip_ws(key_end, walker->end);
	if (p >= walker->end || *p != ':')
	{
		*problem = "a colon was expected after a member name";
		walker->pos = p;
		return false;
	}
	p = skip_ws(p + 1, walker->end);
	value->start = p;
	if (walker->records_key != NULL && p < walker->end &&
		(*p == '[' || (*p == '{' && walker->allow_single)) &&
		span_equals(*key, walker->records_key, strlen(walker->records_key)))
	{
		if (walker->envelope->nrecords > 0)
		{
			*problem = "the records appear twice";
			walker->pos = p;
			return false;
		}
		p = index_records(walker, p, problem);
	}
	else
		p = skip_value(p, walker->end, problem);
	if (p == NULL)
	{
		walker->pos = value->start;
		return false;
	}
	value->len = p - value->start;
	walker->pos = p;
	walker->started = true;
	return true;
}


/*
 * Finds the value at a dotted path below an object.  Returns false when a
 * member is missing or a step is not an object.
 */
static bool
find_path(SfSpan object, const char *path, SfSpan *value, const char **problem)
{
	SfSpan		current = object;

	*problem = NULL;
	while (*path)
	{
		size_t		seglen = strcspn(path, ".");
		ObjectWalker walker;
		SfSpan		key,
					member;
		bool		found = false;

		if (!object_walker_init(&walker, current))
			return false;
		while (object_walker_next(&walker, &key, &member, problem))
		{
			if (span_equals(key, path, seglen))
			{
				if (found)
				{
					*problem = "a member appears twice";
					return false;
				}
				found = true;
				*value = member;
			}
		}
		if (*problem != NULL || !found)
			return false;
		current = *value;
		path += seglen;
		if (*path == '.')
			path++;
	}
	return true;
}

/* ----------------------------------------------------------------
 * Envelopes
 * ----------------------------------------------------------------
 */

/* Parses one small value with json-c; the caller puts the result. */
static struct json_object *
parse_small_value(SfSpan span)
{
	struct json_tokener *tok = json_tokener_new_ex(MAX_JSON_DEPTH);
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
	return span_equals(span, "null", 4) || span_equals(span, "\"\"", 2);
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

/*
 * Takes errorCode and the message from a top-level member, whichever API
 * wrote it ("errorMessage" of the customer APIs, "message" of the sessions
 * API); false when the member is neither.
 */
static bool
read_error_member(SfSpan key, SfSpan value, SfEnvelope *envelope)
{
	if (span_equals(key, "errorCode", 9))
		envelope->error_code = span_to_string(value);
	else if (span_equals(key, "errorMessage", 12) ||
			 (span_equals(key, "message", 7) && envelope->error_message == NULL))
		envelope->error_message = span_to_string(value);
	else
		return false;
	return true;
}

/* Whether a member name is the first segment of a dotted path. */
static bool
first_segment_is(SfSpan key, const char *path)
{
	return span_equals(key, path, strcspn(path, "."));
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
	return find_path(first, rest + 1, value, &problem);
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
	ObjectWalker walker;
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

	if (!object_walker_init(&walker, body))
		raise_body_error(request_label, data, len, NULL,
						 len == 0 ? "the body is empty" : "the body is not a JSON object",
						 true);
	walker.records_key = resource->records_path;
	walker.envelope = envelope;
	walker.allow_single = resource->records_as_list;
	while (object_walker_next(&walker, &key, &value, &problem))
	{
		/* the members the paging paths start at, found in this one walk */
		for (int i = 0; i < (int) lengthof(paging_paths); i++)
		{
			if (paging_paths[i] != NULL && first_segment_is(key, paging_paths[i]))
				paging_members[i] = value;
		}
		if (read_error_member(key, value, envelope))
			continue;
		if (span_equals(key, resource->records_path, strlen(resource->records_path)))
		{
			if (envelope->has_records)
				raise_body_error(request_label, data, len, resource->records_path,
								 "the member appears twice", false);
			envelope->has_records = true;
			envelope->records = value;
		}
		else if (resource->records_as_list && span_equals(key, "length", 6))
		{
			int64		count;

			list_is_empty = span_to_count(value, &count) && count == 0;
		}
	}
	if (problem != NULL)
		raise_body_error(request_label, data, len,
						 psprintf("at byte %ld", (long) (walker.pos - data)),
						 problem, true);
	end = skip_ws(walker.pos, data + len);
	if (end != data + len)
		raise_body_error(request_label, data, len,
						 psprintf("at byte %ld", (long) (end - data)),
						 "unexpected bytes follow the JSON object", true);

	if (envelope->error_code != NULL)
		return;					/* the caller reports it; nothing else matters */

	if (list_is_empty)
		envelope->nrecords = 0;
	else if (envelope->has_records && envelope->nrecords == 0 &&
			 !span_is_empty_value(envelope->records) &&
			 !span_equals(envelope->records, "[]", 2))
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
 * Reads errorCode and a message from an error response, whatever its shape;
 * a body that is not a JSON object leaves both NULL.
 */
void
sf_envelope_parse_error_body(const char *data, size_t len, SfEnvelope *envelope)
{
	SfSpan		body = {data, len};
	ObjectWalker walker;
	SfSpan		key,
				value;
	const char *problem;

	memset(envelope, 0, sizeof(SfEnvelope));
	if (!object_walker_init(&walker, body))
		return;
	while (object_walker_next(&walker, &key, &value, &problem))
		read_error_member(key, value, envelope);
}

/* ----------------------------------------------------------------
 * Records to tuples
 * ----------------------------------------------------------------
 *
 * A record is parsed with PostgreSQL's own JSON parser into a small tree
 * allocated in the per-row memory context: scalars keep their exact text
 * (numbers are never rounded through a double), containers keep the byte
 * range they came from, so jsonb columns receive the record's bytes as
 * received.  The tree goes away with the row context.
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
	struct SfJsonNode *first_child;
	struct SfJsonNode *last_child;
	struct SfJsonNode *next;
} SfJsonNode;

/*
 * The parser of one record.  PostgreSQL's JSON lexer (json_lex) validates
 * the tokens; the grammar above them is here, so that strings need not be
 * copied character by character and container tokens keep their position.
 * Without "build" nothing is allocated: the record is only validated.
 */
typedef struct RecordParser
{
	JsonLexContext *lex;
	SfSpan		record;
	char	   *copy;			/* the record's bytes, where strings end up */
	bool		build;
	int			depth;
	const char *duplicate_key;
	SfJsonNode *node_block;
	int			free_nodes;
} RecordParser;

#define NODES_PER_BLOCK 64

static void
parser_error(RecordParser *parser, JsonParseErrorType error)
{
	ereport(ERROR,
			(errcode(error == JSON_UNICODE_CODE_POINT_ZERO ?
					 ERRCODE_UNTRANSLATABLE_CHARACTER : ERRCODE_INVALID_JSON_TEXT),
			 errmsg("invalid JSON in a record"),
			 errdetail("%s (at byte %ld of the record)",
					   json_errdetail(error, parser->lex),
					   (long) (parser->lex->token_start - parser->record.start))));
}

static inline void
next_token(RecordParser *parser)
{
	JsonParseErrorType result = json_lex(parser->lex);

	if (result != JSON_SUCCESS)
		parser_error(parser, result);
}

static inline void
expect_token(RecordParser *parser, JsonTokenType type, JsonParseErrorType error)
{
	if (parser->lex->token_type != type)
		parser_error(parser, error);
}

static JsonLexContext *
make_lexer(const char *text, int len, bool need_escapes)
{
#if PG_VERSION_NUM >= 170000
	return makeJsonLexContextCstringLen(NULL, (char *) text, len,
										GetDatabaseEncoding(), need_escapes);
#else
	return makeJsonLexContextCstringLen((char *) text, len,
										GetDatabaseEncoding(), need_escapes);
#endif
}

/*
 * The contents of the current string token.  Strings without a backslash,
 * nearly all of them, are copied at once; the others are decoded by the
 * lexer itself, so escapes follow PostgreSQL's rules (\u0000 refused).
 */
static char *
token_string(RecordParser *parser, int *len)
{
	const char *start = parser->lex->token_start + 1;
	int			n = (int) (parser->lex->token_terminator - start) - 1;
	JsonLexContext *escaped;
	JsonParseErrorType result;

	if (memchr(start, '\\', n) == NULL)
	{
		/* the record's copy, with the closing quote made a terminator */
		char	   *copy = parser->copy + (start - parser->record.start);

		copy[n] = '\0';
		*len = n;
		return copy;
	}
	escaped = make_lexer(parser->lex->token_start,
						 (int) (parser->lex->token_terminator - parser->lex->token_start),
						 true);
	result = json_lex(escaped);
	if (result != JSON_SUCCESS)
		parser_error(parser, result);
	*len = escaped->strval->len;
	return escaped->strval->data;
}

/* Hangs a new node under its container, checking member names. */
static SfJsonNode *
add_node(RecordParser *parser, SfJsonNode *parent, SfJsonType type,
		 char *key, int keylen)
{
	SfJsonNode *node;

	/* nodes come from blocks: one allocation per many nodes */
	if (parser->free_nodes == 0)
	{
		parser->node_block = palloc(NODES_PER_BLOCK * sizeof(SfJsonNode));
		parser->free_nodes = NODES_PER_BLOCK;
	}
	node = &parser->node_block[--parser->free_nodes];
	memset(node, 0, sizeof(SfJsonNode));
	node->type = type;
	if (parent == NULL)
		return node;
	if (parent->type == SF_JSON_OBJECT)
	{
		/* a cheap signature of the name spares most comparisons */
		uint32		signature = keylen > 0 ?
			((uint32) keylen << 16) ^ ((unsigned char) key[0] << 8) ^ (unsigned char) key[keylen - 1] : 0;

		node->key = key;
		node->keylen = keylen;
		node->keysig = signature;
		for (SfJsonNode *sibling = parent->first_child; sibling; sibling = sibling->next)
		{
			if (sibling->keysig == signature && sibling->keylen == keylen &&
				memcmp(sibling->key, key, keylen) == 0 && parser->duplicate_key == NULL)
				parser->duplicate_key = key;
		}
	}
	if (parent->last_child)
		parent->last_child->next = node;
	else
		parent->first_child = node;
	parent->last_child = node;
	parent->nchildren++;
	return node;
}

/*
 * Parses the value at the current token and leaves the lexer on the token
 * after it.  Returns its node, or NULL when not building.  Recursion is
 * bounded by MAX_JSON_DEPTH, which the structural scan that found the
 * record enforced already.
 */
static SfJsonNode *
parse_value(RecordParser *parser, SfJsonNode *parent, char *key, int keylen)
{
	JsonLexContext *lex = parser->lex;
	SfJsonNode *node = NULL;
	JsonTokenType type = lex->token_type;

	switch (type)
	{
		case JSON_TOKEN_OBJECT_START:
		case JSON_TOKEN_ARRAY_START:
			{
				bool		is_object = type == JSON_TOKEN_OBJECT_START;
				JsonTokenType close = is_object ? JSON_TOKEN_OBJECT_END : JSON_TOKEN_ARRAY_END;

				if (++parser->depth > MAX_JSON_DEPTH)
					parser_error(parser, JSON_EXPECTED_JSON);
				if (parser->build)
				{
					node = add_node(parser, parent, is_object ? SF_JSON_OBJECT : SF_JSON_ARRAY,
									key, keylen);
					node->raw = lex->token_start;
				}
				next_token(parser);
				if (lex->token_type != close)
				{
					for (;;)
					{
						char	   *member_key = NULL;
						int			member_keylen = 0;

						if (is_object)
						{
							expect_token(parser, JSON_TOKEN_STRING, JSON_EXPECTED_STRING);
							if (parser->build)
								member_key = token_string(parser, &member_keylen);
							next_token(parser);
							expect_token(parser, JSON_TOKEN_COLON, JSON_EXPECTED_COLON);
							next_token(parser);
						}
						parse_value(parser, node, member_key, member_keylen);
						if (lex->token_type == JSON_TOKEN_COMMA)
						{
							next_token(parser);
							continue;
						}
						expect_token(parser, close, is_object ?
									 JSON_EXPECTED_OBJECT_NEXT : JSON_EXPECTED_ARRAY_NEXT);
						break;
					}
				}
				if (node != NULL)
					node->rawlen = (int) (lex->token_terminator - node->raw);
				parser->depth--;
				next_token(parser);
				return node;
			}
		case JSON_TOKEN_STRING:
			if (parser->build)
			{
				int			len;

				node = add_node(parser, parent, SF_JSON_STRING, key, keylen);
				node->text = token_string(parser, &len);
				node->textlen = len;
			}
			break;
		case JSON_TOKEN_NUMBER:
		case JSON_TOKEN_TRUE:
		case JSON_TOKEN_FALSE:
		case JSON_TOKEN_NULL:
			if (parser->build)
			{
				node = add_node(parser, parent,
								type == JSON_TOKEN_NUMBER ? SF_JSON_NUMBER :
								type == JSON_TOKEN_NULL ? SF_JSON_NULL : SF_JSON_BOOL,
								key, keylen);
				node->textlen = (int) (lex->token_terminator - lex->token_start);
				node->text = parser->copy + (lex->token_start - parser->record.start);
				node->text[node->textlen] = '\0';
			}
			break;
		default:
			parser_error(parser, JSON_EXPECTED_JSON);
	}
	next_token(parser);
	return node;
}

/*
 * Parses one record into a tree, or with build false only validates it.
 * The record must be one JSON object with no member twice in any object.
 */
static SfJsonNode *
parse_record(SfSpan record, bool build)
{
	RecordParser parser;
	SfJsonNode *root;

	memset(&parser, 0, sizeof(parser));
	parser.record = record;
	parser.build = build;
	/* one copy per record gives every string its storage at once */
	if (build)
		parser.copy = pnstrdup(record.start, record.len);
	parser.lex = make_lexer(record.start, (int) record.len, false);
	next_token(&parser);
	if (parser.lex->token_type != JSON_TOKEN_OBJECT_START)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("a record is not a JSON object")));
	root = parse_value(&parser, NULL, NULL, 0);
	expect_token(&parser, JSON_TOKEN_END, JSON_EXPECTED_END);
	if (parser.duplicate_key != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_JSON_OBJECT_KEY_VALUE),
				 errmsg("a record has the member \"%s\" twice in one object",
						parser.duplicate_key),
				 errdetail("A record that says two things about one field is refused rather than one of them picked.")));
	return root;
}

static char **
split_path(const char *path)
{
	char	  **segments;
	char	   *copy;
	int			count = 1;
	int			i = 0;

	if (path == NULL)
		return NULL;
	for (const char *p = path; *p; p++)
		count += (*p == '.');
	segments = palloc((count + 1) * sizeof(char *));
	copy = pstrdup(path);
	for (char *tok = strtok(copy, "."); tok != NULL; tok = strtok(NULL, "."))
		segments[i++] = tok;
	segments[i] = NULL;
	return segments;
}

/*
 * Plans the conversion of the columns the query reads.  Every column of
 * the table was checked at planning time; here only used ones are set up,
 * so unused ones cost nothing per row.
 */
SfRecordConverter *
sf_converter_create(const SfResource *resource, Relation rel,
					List *retrieved_attrs, const SfOptions *options)
{
	SfRecordConverter *converter = palloc0(sizeof(SfRecordConverter));
	TupleDesc	tupdesc = RelationGetDescr(rel);
	ListCell   *lc;
	int			n = 0;

	converter->resource = resource;
	converter->cxt = CurrentMemoryContext;
	converter->transcode = GetDatabaseEncoding() != PG_UTF8 &&
		GetDatabaseEncoding() != PG_SQL_ASCII;
	converter->columns = palloc0(Max(1, list_length(retrieved_attrs)) * sizeof(SfColumnPlan));
	converter->remote_timezone = pg_tzset(options->remote_timezone);
	if (converter->remote_timezone == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" is not recognized", options->remote_timezone)));
	fmgr_info(F_TIMESTAMP_IN, &converter->timestamp_in);

	foreach(lc, retrieved_attrs)
	{
		AttrNumber	attnum = lfirst_int(lc);
		Form_pg_attribute attr = TupleDescAttr(tupdesc, attnum - 1);
		SfColumnPlan *column = &converter->columns[n++];
		char	   *json_path = sf_get_column_json_path(RelationGetRelid(rel), attnum);
		const SfColumnDef *def = sf_resource_column(resource, NameStr(attr->attname));
		Oid			input_func;

		column->attnum = attnum;
		column->name = pstrdup(NameStr(attr->attname));
		column->namelen = -1;
		if (json_path != NULL)
		{
			column->source = SF_SOURCE_FIELD;
			column->path = split_path(json_path);
		}
		else
		{
			Assert(def != NULL);	/* checked at planning time */
			column->source = def->source;
			column->path = split_path(def->path);
			column->fallback_path = split_path(def->fallback_path);
		}
		column->typid = attr->atttypid;
		column->typmod = attr->atttypmod;
		getTypeInputInfo(column->typid, &input_func, &column->ioparam);
		fmgr_info(input_func, &column->input);
		column->is_text = column->typid == TEXTOID;
		column->empty_is_null = TypeCategory(column->typid) != TYPCATEGORY_STRING;
		column->is_json = column->typid == JSONBOID || column->typid == JSONOID;
		column->is_jsonb = column->typid == JSONBOID;
		column->is_timestamptz = column->typid == TIMESTAMPTZOID;
		if (column->source == SF_SOURCE_ACTIVE_PAIR ||
			column->source == SF_SOURCE_ACTIVE_PROFILE)
			converter->needs_active_pair = true;
		if (column->source != SF_SOURCE_KEY)
			converter->needs_tree = true;
	}
	converter->ncolumns = n;
	return converter;
}

static SfJsonNode *
member(SfJsonNode *object, const char *name)
{
	if (object == NULL || object->type != SF_JSON_OBJECT)
		return NULL;
	for (SfJsonNode *child = object->first_child; child; child = child->next)
	{
		if (strcmp(child->key, name) == 0)
			return child;
	}
	return NULL;
}

/* Looks a path up; NULL when a member on the way is absent. */
static SfJsonNode *
lookup_path(SfJsonNode *node, char **path)
{
	for (; node != NULL && *path != NULL; path++)
		node = member(node, *path);
	return node;
}

/*
 * Looks a column's path up in a record.  Records of one response list their
 * members in the same order, so the position where the first member was
 * found last time is tried first, which spares a search per column.
 */
static SfJsonNode *
lookup_record_path(SfJsonNode **members, int nmembers, char **path, int *hint,
				   int *namelen_cache)
{
	const char *name = path[0];
	int			namelen = *namelen_cache >= 0 ? *namelen_cache : (*namelen_cache = strlen(name));

	if (*hint < nmembers && members[*hint]->keylen == namelen &&
		memcmp(members[*hint]->key, name, namelen) == 0)
		return lookup_path(members[*hint], path + 1);
	for (int i = 0; i < nmembers; i++)
	{
		if (members[i]->keylen == namelen && memcmp(members[i]->key, name, namelen) == 0)
		{
			*hint = i;
			return lookup_path(members[i], path + 1);
		}
	}
	return NULL;
}

static bool
is_true(SfJsonNode *node)
{
	return node != NULL &&
		(node->type == SF_JSON_BOOL || node->type == SF_JSON_STRING) &&
		pg_strcasecmp(node->text, "true") == 0;
}

/* The elements of a list that may arrive as an array or a bare object. */
static SfJsonNode *
list_first(SfJsonNode *list)
{
	if (list == NULL)
		return NULL;
	if (list->type == SF_JSON_ARRAY)
		return list->first_child;
	return list->type == SF_JSON_OBJECT ? list : NULL;
}

static SfJsonNode *
list_next(SfJsonNode *list, SfJsonNode *element)
{
	return list->type == SF_JSON_ARRAY ? element->next : NULL;
}

/*
 * Finds the IMSI/MSISDN pair marked isLastActive and, where pairs live in
 * profiles, the first profile that holds one.
 */
static void
find_active_pair(const SfResource *resource, SfJsonNode *record,
				 SfJsonNode **pair, SfJsonNode **profile)
{
	SfJsonNode *profiles = NULL;
	SfJsonNode *holder;

	*pair = NULL;
	*profile = NULL;
	if (resource->pair_list_path == NULL)
		return;
	if (resource->profile_list_path != NULL)
	{
		profiles = member(record, resource->profile_list_path);
		holder = list_first(profiles);
	}
	else
		holder = record;

	for (; holder != NULL; holder = profiles ? list_next(profiles, holder) : NULL)
	{
		SfJsonNode *pairs = member(holder, resource->pair_list_path);

		for (SfJsonNode *candidate = list_first(pairs); candidate != NULL;
			 candidate = list_next(pairs, candidate))
		{
			if (is_true(member(candidate, "isLastActive")))
			{
				*pair = candidate;
				*profile = profiles ? holder : NULL;
				return;
			}
		}
	}
}

/* The JSON text of a node: a container's bytes as received. */
static char *
node_json_text(SfJsonNode *node)
{
	switch (node->type)
	{
		case SF_JSON_OBJECT:
		case SF_JSON_ARRAY:
			return pnstrdup(node->raw, node->rawlen);
		case SF_JSON_STRING:
			{
				StringInfoData buf;

				initStringInfo(&buf);
				escape_json(&buf, node->text);
				return buf.data;
			}
		default:
			return node->text;
	}
}

/*
 * The elements of an XML-style list: NULL for an empty list (missing, null,
 * "", or with a "length" of "0"), else an array or a bare object standing
 * for a list of one.
 */
static SfJsonNode *
find_list(SfJsonNode *record, char **path)
{
	SfJsonNode *parent = record;
	SfJsonNode *list;
	SfJsonNode *length;
	int			last = 0;

	while (path[last + 1] != NULL)
		last++;
	for (int i = 0; i < last && parent != NULL; i++)
		parent = member(parent, path[i]);
	if (parent == NULL || parent->type != SF_JSON_OBJECT)
		return NULL;
	length = member(parent, "length");
	if (length != NULL && length->text != NULL && strcmp(length->text, "0") == 0)
		return NULL;
	list = member(parent, path[last]);
	if (list == NULL || list->type == SF_JSON_NULL ||
		(list->type == SF_JSON_STRING && list->text[0] == '\0'))
		return NULL;
	return list;
}

/* An XML-style list as the text of a JSON array. */
static char *
list_text(SfJsonNode *list)
{
	if (list == NULL)
		return "[]";
	if (list->type == SF_JSON_ARRAY)
		return node_json_text(list);
	return psprintf("[%s]", node_json_text(list));
}

/*
 * Adds a parsed value to a jsonb under construction; returns what
 * pushJsonbValue returns, the finished value once the outermost container
 * closes.  Building jsonb from the tree spares jsonb_in a second parse of
 * the same bytes.
 */
static JsonbValue *
push_jsonb(JsonbParseState **state, SfJsonNode *node, JsonbIteratorToken as)
{
	JsonbValue	value;

	switch (node->type)
	{
		case SF_JSON_OBJECT:
			pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
			for (SfJsonNode *child = node->first_child; child; child = child->next)
			{
				JsonbValue	key;

				key.type = jbvString;
				key.val.string.val = (char *) child->key;
				key.val.string.len = child->keylen;
				pushJsonbValue(state, WJB_KEY, &key);
				push_jsonb(state, child, WJB_VALUE);
			}
			return pushJsonbValue(state, WJB_END_OBJECT, NULL);
		case SF_JSON_ARRAY:
			pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
			for (SfJsonNode *child = node->first_child; child; child = child->next)
				push_jsonb(state, child, WJB_ELEM);
			return pushJsonbValue(state, WJB_END_ARRAY, NULL);
		case SF_JSON_STRING:
			value.type = jbvString;
			value.val.string.val = node->text;
			value.val.string.len = node->textlen;
			break;
		case SF_JSON_NUMBER:
			value.type = jbvNumeric;
			value.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
																	CStringGetDatum(node->text),
																	ObjectIdGetDatum(InvalidOid),
																	Int32GetDatum(-1)));
			break;
		case SF_JSON_BOOL:
			value.type = jbvBool;
			value.val.boolean = node->text[0] == 't';
			break;
		case SF_JSON_NULL:
			value.type = jbvNull;
			break;
	}
	return pushJsonbValue(state, as, &value);
}

/*
 * The jsonb of a container, or of an XML-style list: with "as_list" an
 * array stays as it is, a bare object becomes an array of one, and NULL an
 * empty array.
 */
static Datum
container_jsonb(SfJsonNode *node, bool as_list)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;

	if (as_list && (node == NULL || node->type != SF_JSON_ARRAY))
	{
		pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
		if (node != NULL)
			push_jsonb(&state, node, WJB_ELEM);
		result = pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	}
	else
		result = push_jsonb(&state, node, WJB_ELEM);
	return JsonbPGetDatum(JsonbValueToJsonb(result));
}

/* Tells whether a timestamp string carries no zone or offset. */
static bool
timestamp_is_zoneless(const char *s)
{
	const char *p = s;

	for (int i = 0; i < 10; i++, p++)
	{
		if (i == 4 || i == 7 ? *p != '-' : !isdigit((unsigned char) *p))
			return false;
	}
	if (*p == '\0')
		return true;
	if (*p != ' ' && *p != 'T')
		return false;
	for (p++; *p; p++)
	{
		if (!isdigit((unsigned char) *p) && *p != ':' && *p != '.')
			return false;
	}
	return true;
}

/* Reads "digits" decimal digits; -1 if one is not a digit. */
static int
read_digits(const char *s, int digits)
{
	int			value = 0;

	for (int i = 0; i < digits; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		value = value * 10 + (s[i] - '0');
	}
	return value;
}

/*
 * Reads the API's usual form, "YYYY-MM-DD HH:MM:SS" with up to six digits
 * of fraction, without the general date parser.  Anything else, or a value
 * out of range, returns false and goes to timestamp_in.
 */
static bool
read_plain_timestamp(const char *s, struct pg_tm *tm, fsec_t *fsec)
{
	int			digits = 0;

	memset(tm, 0, sizeof(struct pg_tm));
	tm->tm_year = read_digits(s, 4);
	tm->tm_mon = read_digits(s + 5, 2);
	tm->tm_mday = read_digits(s + 8, 2);
	if (tm->tm_year < 1 || s[4] != '-' || s[7] != '-' ||
		tm->tm_mon < 1 || tm->tm_mon > 12 || tm->tm_mday < 1 ||
		tm->tm_mday > day_tab[isleap(tm->tm_year)][tm->tm_mon - 1] ||
		(s[10] != ' ' && s[10] != 'T'))
		return false;
	tm->tm_hour = read_digits(s + 11, 2);
	tm->tm_min = read_digits(s + 14, 2);
	tm->tm_sec = read_digits(s + 17, 2);
	if (tm->tm_hour < 0 || tm->tm_hour > 23 || s[13] != ':' ||
		tm->tm_min < 0 || tm->tm_min > 59 || s[16] != ':' ||
		tm->tm_sec < 0 || tm->tm_sec > 59)
		return false;
	*fsec = 0;
	if (s[19] == '.')
	{
		for (digits = 0; s[20 + digits] >= '0' && s[20 + digits] <= '9'; digits++)
		{
			if (digits == 6)
				return false;
			*fsec = *fsec * 10 + (s[20 + digits] - '0');
		}
		if (digits == 0)
			return false;
		for (int i = digits; i < 6; i++)
			*fsec *= 10;
		digits++;
	}
	return s[19 + digits] == '\0';
}

static Datum
input_value(SfRecordConverter *converter, SfColumnPlan *column, char *text)
{
	converter->current_value = text;
	if (column->is_timestamptz)
	{
		struct pg_tm tm;
		fsec_t		fsec;
		int			offset;
		TimestampTz result;

		if (column->typmod >= 0 || !read_plain_timestamp(text, &tm, &fsec))
		{
			Timestamp	local;

			/* a timestamp with its own zone or offset needs no remote_timezone */
			if (!timestamp_is_zoneless(text))
				return InputFunctionCall(&column->input, text, column->ioparam,
										 column->typmod);
			local = DatumGetTimestamp(FunctionCall3(&converter->timestamp_in,
													CStringGetDatum(text),
													ObjectIdGetDatum(InvalidOid),
													Int32GetDatum(column->typmod)));
			if (TIMESTAMP_NOT_FINITE(local))
				return TimestampTzGetDatum(local);
			if (timestamp2tm(local, NULL, &tm, &fsec, NULL, NULL) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
						 errmsg("timestamp out of range")));
		}
		offset = DetermineTimeZoneOffset(&tm, converter->remote_timezone);
		if (tm2timestamp(&tm, fsec, &offset, &result) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
		return TimestampTzGetDatum(result);
	}
	return InputFunctionCall(&column->input, text, column->ioparam, column->typmod);
}

/*
 * Converts one JSON value to the column's type.  Sets *isnull for null and
 * for an empty string in a column that is not text.
 */
static Datum
convert_value(SfRecordConverter *converter, SfColumnPlan *column,
			  SfJsonNode *value, bool *isnull)
{
	*isnull = false;
	switch (value->type)
	{
		case SF_JSON_NULL:
			*isnull = true;
			return (Datum) 0;
		case SF_JSON_STRING:
			if (column->is_text)
				return PointerGetDatum(cstring_to_text_with_len(value->text, value->textlen));
			if (value->text[0] == '\0' && column->empty_is_null)
			{
				*isnull = true;
				return (Datum) 0;
			}
			if (column->is_json)
				return input_value(converter, column, node_json_text(value));
			return input_value(converter, column, value->text);
		case SF_JSON_NUMBER:
		case SF_JSON_BOOL:
			if (column->is_text)
				return PointerGetDatum(cstring_to_text_with_len(value->text, value->textlen));
			return input_value(converter, column, value->text);
		case SF_JSON_OBJECT:
		case SF_JSON_ARRAY:
			if (column->is_text)
				return PointerGetDatum(cstring_to_text_with_len(value->raw, value->rawlen));
			if (column->is_jsonb)
				return container_jsonb(value, false);
			if (column->is_json)
				return input_value(converter, column, node_json_text(value));
			converter->current_value = node_json_text(value);
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("cannot convert a JSON %s to type %s for column \"%s\"",
							value->type == SF_JSON_OBJECT ? "object" : "array",
							format_type_be(column->typid), column->name)));
	}
	*isnull = true;
	return (Datum) 0;
}

/* Says which column, value and record an error is about. */
static void
converter_error_context(void *arg)
{
	SfRecordConverter *converter = (SfRecordConverter *) arg;

	if (converter->current_column == NULL)
		errcontext("record %lld of the response to %s",
				   (long long) converter->record_number, converter->request_label);
	else if (converter->current_value == NULL)
		errcontext("column \"%s\" of record %lld of the response to %s",
				   converter->current_column->name,
				   (long long) converter->record_number, converter->request_label);
	else
	{
		const char *value = converter->current_value;
		int			len = strlen(value);
		int			cut = len > VALUE_EXCERPT_BYTES ?
			pg_mbcliplen(value, len, VALUE_EXCERPT_BYTES) : len;

		errcontext("column \"%s\", value \"%.*s%s\", of record %lld of the response to %s",
				   converter->current_column->name, cut, value,
				   cut < len ? "..." : "",
				   (long long) converter->record_number, converter->request_label);
	}
}

/*
 * The key column's value.  Every record of a key has the same, so it is
 * converted once per key, in the converter's memory, not once per row.
 */
static Datum
key_datum(SfRecordConverter *converter, SfColumnPlan *column, const char *key)
{
	if (column->cached_key == NULL || strcmp(column->cached_key, key) != 0)
	{
		MemoryContext old = MemoryContextSwitchTo(converter->cxt);

		/* only the last key is kept: a scan of many keys must not keep all */
		if (column->cached_key != NULL)
		{
			pfree(column->cached_key);
			column->cached_key = NULL;
			if (!get_typbyval(column->typid))
				pfree(DatumGetPointer(column->cached_value));
		}
		converter->current_value = key;
		column->cached_value = InputFunctionCall(&column->input, (char *) key,
												 column->ioparam, column->typmod);
		column->cached_key = pstrdup(key);
		MemoryContextSwitchTo(old);
	}
	return column->cached_value;
}

/*
 * Parses one record and stores the columns the query reads in the slot.
 * Allocates in the current memory context, which the caller resets per row.
 */
void
sf_record_to_slot(SfRecordConverter *converter, SfSpan record,
				  const char *key, TupleTableSlot *slot)
{
	ErrorContextCallback errcallback;
	SfJsonNode *root;
	SfJsonNode **members = NULL;
	int			nmembers = 0;
	SfJsonNode *pair = NULL;
	SfJsonNode *profile = NULL;

	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, slot->tts_tupleDescriptor->natts * sizeof(bool));

	converter->current_column = NULL;
	converter->current_value = NULL;
	errcallback.callback = converter_error_context;
	errcallback.arg = converter;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	if (converter->transcode)
	{
		record.start = pg_any_to_server(record.start, (int) record.len, PG_UTF8);
		record.len = strlen(record.start);
	}
	/* count(*) and the like need no tree: the record only has to be valid */
	root = parse_record(record, converter->needs_tree);
	if (root != NULL)
	{
		members = palloc(Max(1, root->nchildren) * sizeof(SfJsonNode *));
		for (SfJsonNode *child = root->first_child; child; child = child->next)
			members[nmembers++] = child;
	}
	if (converter->needs_active_pair)
		find_active_pair(converter->resource, root, &pair, &profile);

	for (int i = 0; i < converter->ncolumns; i++)
	{
		SfColumnPlan *column = &converter->columns[i];
		int			index = column->attnum - 1;
		SfJsonNode *value = NULL;

		converter->current_column = column;
		converter->current_value = NULL;
		switch (column->source)
		{
			case SF_SOURCE_KEY:
				slot->tts_values[index] = key_datum(converter, column, key);
				slot->tts_isnull[index] = false;
				continue;
			case SF_SOURCE_LIST:
				{
					SfJsonNode *list = find_list(root, column->path);

					slot->tts_values[index] = column->is_jsonb ?
						container_jsonb(list, true) :
						input_value(converter, column, list_text(list));
					slot->tts_isnull[index] = false;
					continue;
				}
			case SF_SOURCE_FIELD:
				value = lookup_record_path(members, nmembers, column->path,
										   &column->hint, &column->namelen);
				if (value == NULL && column->fallback_path != NULL)
					value = lookup_path(root, column->fallback_path);
				break;
			case SF_SOURCE_ACTIVE_PAIR:
				value = lookup_path(pair, column->path);
				break;
			case SF_SOURCE_ACTIVE_PROFILE:
				value = lookup_path(profile, column->path);
				break;
		}
		if (value != NULL)
			slot->tts_values[index] = convert_value(converter, column, value,
													&slot->tts_isnull[index]);
	}

	error_context_stack = errcallback.previous;
	ExecStoreVirtualTuple(slot);
}
