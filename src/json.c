/*-------------------------------------------------------------------------
 *
 * json.c
 *		  JSON syntax: escapes, and the structural scan of a response.
 *
 * A response body of thousands of records is never parsed as one tree.  The
 * structural scan, which only tracks strings and brackets, walks an object's
 * members and indexes the elements of one of them (the records) in the same
 * pass, so a response costs one pass over its bytes.  Each record is then
 * parsed on its own when its row is wanted (record_parser.c).  Nothing here
 * knows about tuples or about the API: the envelope (envelope.c) and the
 * conversion of records (tuple.c) are built on these pieces.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"

#include "subscriber_fdw.h"

/* ----------------------------------------------------------------
 * Lexing and escapes
 * ----------------------------------------------------------------
 */

/*
 * A lexer over UTF-8, the encoding of every response (checked by the
 * envelope), whatever the database's: records are transcoded value by value
 * (convert.c).  It only checks the tokens; escapes are decoded here.
 */
JsonLexContext *
sf_json_lexer(const char *text, int len)
{
#if PG_VERSION_NUM >= 170000
	return makeJsonLexContextCstringLen(NULL, (char *) text, len, PG_UTF8, false);
#else
	return makeJsonLexContextCstringLen((char *) text, len, PG_UTF8, false);
#endif
}

/* The value of four hexadecimal digits, which the lexer has checked. */
static pg_wchar
hex4(const char *p)
{
	pg_wchar	value = 0;

	for (int i = 0; i < 4; i++)
	{
		char		c = p[i];

		value = value * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return value;
}

/*
 * Decodes the escapes of a string the lexer has checked, into UTF-8
 * whatever the database encoding: PostgreSQL's lexer would turn "\u"
 * escapes into the database encoding, mixing two encodings in one record
 * and failing on a character the database lacks in a field no query reads.
 * Escapes follow PostgreSQL's rules (\u0000 and lone surrogates refused:
 * the error is returned, not raised).  The result is never longer than the
 * escaped text.
 */
JsonParseErrorType
sf_json_decode_escapes(const char *s, int n, char **decoded, int *len)
{
	char	   *out = palloc(n + 1);
	char	   *o = out;

	for (int i = 0; i < n; i++)
	{
		pg_wchar	ch;

		if (s[i] != '\\')
		{
			*o++ = s[i];
			continue;
		}
		switch (s[++i])
		{
			case 'b':
				*o++ = '\b';
				break;
			case 'f':
				*o++ = '\f';
				break;
			case 'n':
				*o++ = '\n';
				break;
			case 'r':
				*o++ = '\r';
				break;
			case 't':
				*o++ = '\t';
				break;
			case 'u':
				ch = hex4(s + i + 1);
				i += 4;
				if (is_utf16_surrogate_first(ch))
				{
					pg_wchar	second;

					if (i + 6 >= n || s[i + 1] != '\\' || s[i + 2] != 'u')
						return JSON_UNICODE_LOW_SURROGATE;
					second = hex4(s + i + 3);
					if (is_utf16_surrogate_first(second))
						return JSON_UNICODE_HIGH_SURROGATE;
					if (!is_utf16_surrogate_second(second))
						return JSON_UNICODE_LOW_SURROGATE;
					ch = surrogate_pair_to_codepoint(ch, second);
					i += 6;
				}
				else if (is_utf16_surrogate_second(ch))
					return JSON_UNICODE_LOW_SURROGATE;
				if (ch == 0)
					return JSON_UNICODE_CODE_POINT_ZERO;
				unicode_to_utf8(ch, (unsigned char *) o);
				o += pg_utf_mblen((unsigned char *) o);
				break;
			default:			/* '"', '\\' and '/' stand for themselves */
				*o++ = s[i];
				break;
		}
	}
	*o = '\0';
	*decoded = out;
	*len = (int) (o - out);
	return JSON_SUCCESS;
}


/* ----------------------------------------------------------------
 * Structural scanning
 * ----------------------------------------------------------------
 */

/* The bytes the structural scan stops at: quotes and brackets. */
static const bool structural[256] = {
	['"'] = true, ['{'] = true, ['}'] = true, ['['] = true, [']'] = true
};

/*
 * Skips a string starting at its opening quote; NULL if unterminated.  A
 * backslash takes the byte after it along, so an escaped quote does not
 * end the string; control characters are left for the record parser.
 */
static const char *
skip_string(const char *p, const char *end)
{
	for (p++;;)
	{
		p = sf_json_string_stop(p, end);
		if (p >= end)
			return NULL;
		if (*p == '"')
			return p + 1;
		p += *p == '\\' ? 2 : 1;
	}
}

/*
 * Finds the end of the JSON value starting at p, matching brackets and
 * strings.  It does not validate scalars: records are parsed afterwards
 * by the record parser and envelope members by json-c, which do.
 */
static const char *
skip_value(const char *p, const char *end, const char **problem)
{
	char		stack[SF_MAX_JSON_DEPTH];
	int			depth = 0;

	p = sf_skip_ws(p, end);
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
				if (depth == SF_MAX_JSON_DEPTH)
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

/* Whether a span holds exactly the given bytes. */
bool
sf_span_equals(SfSpan span, const char *text, size_t len)
{
	return span.len == len && memcmp(span.start, text, len) == 0;
}

/*
 * Appends an element's byte range to an index; false when the index is
 * full, so that no response can make it grow beyond what was asked for.
 */
static bool
add_element(SfSpanArray *index, int limit, const char *start, const char *end)
{
	if (limit > 0 && index->count >= limit)
		return false;
	if (index->count == index->capacity)
	{
		index->capacity = Max(64, index->capacity * 2);
		index->items = index->items == NULL ?
			palloc(index->capacity * sizeof(SfSpan)) :
			repalloc_huge(index->items, index->capacity * sizeof(SfSpan));
	}
	index->items[index->count].start = start;
	index->items[index->count].len = end - start;
	index->count++;
	return true;
}

/*
 * Indexes the elements of a container, an array or a bare object standing
 * for a list of one, in the same pass that skips over it; returns the end
 * of the container, or NULL with *problem set.
 */
static const char *
index_elements(SfObjectWalker *walker, const char *p, const char **problem)
{
	const char *end = walker->end;
	bool		first = true;

	if (*p == '{')
	{
		const char *record_end = skip_value(p, end, problem);

		if (record_end != NULL)
			add_element(walker->index, walker->index_limit, p, record_end);
		return record_end;
	}
	for (p++;; first = false)
	{
		const char *record_end;

		p = sf_skip_ws(p, end);
		if (p < end && *p == ']')
			return p + 1;
		if (!first)
		{
			if (p >= end || *p != ',')
			{
				*problem = "a comma was expected between records";
				return NULL;
			}
			p = sf_skip_ws(p + 1, end);
		}
		record_end = skip_value(p, end, problem);
		if (record_end == NULL)
			return NULL;
		if (!add_element(walker->index, walker->index_limit, p, record_end))
		{
			*problem = "the response holds more records than asked for";
			walker->index_overflow = true;
			return NULL;
		}
		p = record_end;
	}
}

/* Starts a walk over an object's members; false when it is not an object. */
bool
sf_object_walker_init(SfObjectWalker *walker, SfSpan object)
{
	const char *p = sf_skip_ws(object.start, object.start + object.len);

	if (p >= object.start + object.len || *p != '{')
		return false;
	memset(walker, 0, sizeof(SfObjectWalker));
	walker->pos = p + 1;
	walker->end = object.start + object.len;
	return true;
}

/*
 * The name of a member as the API meant it: a name with escapes is decoded
 * by the rules of JSON, so that "n\u0061me" is "name".  The quoted
 * name runs from quote to end; false when it is not a valid JSON string.
 */
static bool
member_name(const char *quote, const char *end, SfSpan *name)
{
	JsonLexContext *lex = sf_json_lexer(quote, (int) (end - quote));

	if (json_lex(lex) != JSON_SUCCESS || lex->token_type != JSON_TOKEN_STRING ||
		lex->token_terminator != end)
		return false;
	if (memchr(quote + 1, '\\', end - quote - 2) != NULL)
	{
		char	   *decoded;
		int			len;

		if (sf_json_decode_escapes(quote + 1, (int) (end - quote - 2), &decoded, &len) != JSON_SUCCESS)
			return false;
		name->start = decoded;
		name->len = len;
	}
	else
	{
		name->start = quote + 1;
		name->len = end - quote - 2;
	}
	return true;
}

/*
 * Checks a whole value with PostgreSQL's JSON parser; NULL when valid, else
 * what is wrong.  A member the scan never reads must be valid JSON all the
 * same: a body that is not JSON is an error wherever the fault is.
 */
static const char *
invalid_json_problem(SfSpan value, const char **where)
{
	JsonLexContext *lex = sf_json_lexer(value.start, (int) value.len);
	JsonParseErrorType result = pg_parse_json(lex, &nullSemAction);

	if (result == JSON_SUCCESS)
		return NULL;
	*where = lex->token_start ? lex->token_start : value.start;
	return json_errdetail(result, lex);
}

/* Returns the next member; false at the end or, with *problem set, on error. */
bool
sf_object_walker_next(SfObjectWalker *walker, SfSpan *key, SfSpan *value,
					  const char **problem)
{
	const char *p = sf_skip_ws(walker->pos, walker->end);
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
		p = sf_skip_ws(p + 1, walker->end);
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
	if (!member_name(p, key_end, key))
	{
		*problem = "a member name is not a valid JSON string";
		walker->pos = p;
		return false;
	}
	p = sf_skip_ws(key_end, walker->end);
	if (p >= walker->end || *p != ':')
	{
		*problem = "a colon was expected after a member name";
		walker->pos = p;
		return false;
	}
	p = sf_skip_ws(p + 1, walker->end);
	value->start = p;
	if (walker->index_member != NULL && p < walker->end &&
		(*p == '[' || (*p == '{' && walker->index_single)) &&
		sf_span_equals(*key, walker->index_member, strlen(walker->index_member)))
	{
		if (walker->index->count > 0)
		{
			*problem = "the records appear twice";
			walker->pos = p;
			return false;
		}
		p = index_elements(walker, p, problem);
	}
	else
	{
		p = skip_value(p, walker->end, problem);
		if (p != NULL && walker->validate)
		{
			SfSpan		skipped = {value->start, p - value->start};
			const char *where;

			*problem = invalid_json_problem(skipped, &where);
			if (*problem != NULL)
			{
				walker->pos = where;
				return false;
			}
		}
	}
	if (p == NULL)
	{
		if (!walker->index_overflow)
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
bool
sf_find_path(SfSpan object, const char *path, SfSpan *value, const char **problem)
{
	SfSpan		current = object;

	*problem = NULL;
	while (*path)
	{
		size_t		seglen = strcspn(path, ".");
		SfObjectWalker walker;
		SfSpan		key,
					member;
		bool		found = false;

		if (!sf_object_walker_init(&walker, current))
			return false;
		while (sf_object_walker_next(&walker, &key, &member, problem))
		{
			if (sf_span_equals(key, path, seglen))
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
