/*-------------------------------------------------------------------------
 *
 * record_parser.c
 *		  JSON syntax: one record parsed into a small tree.
 *
 * A record is parsed into a tree allocated in the per-row memory context:
 * scalars keep their exact text (numbers are never rounded through a
 * double), containers keep the byte range they came from, so jsonb columns
 * receive the record's bytes as received.  The tree goes away with the row
 * context.
 *
 * Two parsers share the tree's construction.  The fast one reads the bytes
 * itself and accepts exactly the JSON grammar, nothing more; on anything it
 * does not accept, the record is parsed again over PostgreSQL's own JSON
 * lexer (json_lex), which then names the problem and its position in the
 * words PostgreSQL's JSON functions use.  Valid records, nearly all of them,
 * cost one pass over their bytes; an invalid one costs two passes and gets
 * the same error as before there was a fast parser.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/jsonapi.h"

#include "subscriber_fdw.h"

/*
 * The state of either parser over one record.  "copy" holds the record's
 * bytes a second time: strings without escapes and scalar tokens end up
 * there, terminated where their closing quote or the next byte was, so that
 * no value needs an allocation of its own.  Without "build" nothing is
 * allocated: the record is only validated.
 */
typedef struct RecordParser
{
	SfSpan		record;
	const char *end;			/* the byte after the record */
	char	   *copy;
	bool		build;
	int			depth;
	const char *duplicate_key;
	SfJsonNode *node_block;
	int			free_nodes;
	int			nodes;			/* built so far, at most SF_MAX_RECORD_VALUES */
	SfJsonNode *root;			/* the first node built */
	JsonLexContext *lex;		/* the lexer-based parser only */
} RecordParser;

#define NODES_PER_BLOCK 64

/* ----------------------------------------------------------------
 * The tree
 * ----------------------------------------------------------------
 */

/* Hangs a new node under its container, checking member names. */
static SfJsonNode *
add_node(RecordParser *parser, SfJsonNode *parent, SfJsonType type,
		 char *key, int keylen)
{
	SfJsonNode *node;

	/* nodes come from blocks: one allocation per many nodes */
	if (parser->free_nodes == 0)
	{
		/* a record's tree is bounded, whatever a record holds */
		if (parser->nodes >= SF_MAX_RECORD_VALUES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("a record holds more than %d JSON values", SF_MAX_RECORD_VALUES),
					 errdetail("A record's parsed form is limited to bound the memory of a scan.")));
		parser->nodes += NODES_PER_BLOCK;
		parser->node_block = palloc(NODES_PER_BLOCK * sizeof(SfJsonNode));
		parser->free_nodes = NODES_PER_BLOCK;
	}
	node = &parser->node_block[--parser->free_nodes];
	node->type = type;
	node->key = NULL;
	node->keylen = 0;
	node->keysig = 0;
	node->text = NULL;
	node->textlen = 0;
	node->raw = NULL;
	node->rawlen = 0;
	node->nchildren = 0;
	node->keybits = 0;
	node->first_child = NULL;
	node->last_child = NULL;
	node->next = NULL;
	if (parent == NULL)
	{
		parser->root = node;
		return node;
	}
	if (parent->type == SF_JSON_OBJECT)
	{
		/* a cheap signature of the name spares most comparisons */
		uint32		signature = keylen > 0 ?
			((uint32) keylen << 16) ^ ((unsigned char) key[0] << 8) ^ (unsigned char) key[keylen - 1] : 0;

		/* a bit per signature seen: only a name whose bit is set can be a duplicate */
		uint64		bit = UINT64CONST(1) << ((signature * 2654435761U) >> 26);

		node->key = key;
		node->keylen = keylen;
		node->keysig = signature;
		if (parent->keybits & bit)
		{
			for (SfJsonNode *sibling = parent->first_child; sibling; sibling = sibling->next)
			{
				if (sibling->keysig == signature && sibling->keylen == keylen &&
					memcmp(sibling->key, key, keylen) == 0 && parser->duplicate_key == NULL)
					parser->duplicate_key = key;
			}
		}
		parent->keybits |= bit;
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
 * The string whose contents start at "start" and run for n bytes (its
 * escapes checked), as a terminated string: in the record's copy when it
 * has no escape, decoded otherwise.  Returns the decoder's verdict.
 */
static JsonParseErrorType
string_value(RecordParser *parser, const char *start, int n, bool escaped,
			 char **text, int *len)
{
	char	   *copy;

	if (escaped)
		return sf_json_decode_escapes(start, n, text, len);
	copy = parser->copy + (start - parser->record.start);
	copy[n] = '\0';
	*text = copy;
	*len = n;
	return JSON_SUCCESS;
}

/* A scalar token's text, terminated in the record's copy. */
static void
set_token_text(RecordParser *parser, SfJsonNode *node, const char *start, int len)
{
	node->text = parser->copy + (start - parser->record.start);
	node->textlen = len;
	node->text[len] = '\0';
}

/* ----------------------------------------------------------------
 * The fast parser
 * ----------------------------------------------------------------
 *
 * Each function takes the position of a value's first byte and returns the
 * byte after it, or NULL where the bytes are not JSON (or not JSON this
 * parser reads), in which case nothing it built is used.
 */

/* ASCII digits only, as JSON has them: isdigit() follows the locale. */
static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The hexadecimal digits of a \u escape, in either case. */
static inline bool
is_hex_digit(char c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/*
 * A string at its opening quote.  Escapes are checked as PostgreSQL's lexer
 * checks them; when building, the decoder then refuses what the lexer-based
 * parser would refuse too (\u0000, lone surrogates).
 */
static const char *
fast_string(RecordParser *parser, const char *p, char **text, int *len)
{
	const char *start = p + 1;
	const char *end = parser->end;
	bool		escaped = false;

	for (p = start;; p++)
	{
		p = sf_json_string_stop(p, end);
		if (p >= end)
			return NULL;
		if (*p == '"')
			break;
		if (*p != '\\' || ++p >= end)
			return NULL;
		escaped = true;
		switch (*p)
		{
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				break;
			case 'u':
				if (end - p <= 4 || !is_hex_digit(p[1]) || !is_hex_digit(p[2]) ||
					!is_hex_digit(p[3]) || !is_hex_digit(p[4]))
					return NULL;
				p += 4;
				break;
			default:
				return NULL;
		}
	}
	if (text != NULL &&
		string_value(parser, start, (int) (p - start), escaped, text, len) != JSON_SUCCESS)
		return NULL;
	return p + 1;
}

/* A number, in the grammar of RFC 8259 that PostgreSQL's lexer follows. */
static const char *
fast_number(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (p < end && *p >= '1' && *p <= '9')
	{
		while (p < end && is_digit(*p))
			p++;
	}
	else
		return NULL;
	if (p < end && *p == '.')
	{
		if (++p >= end || !is_digit(*p))
			return NULL;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E'))
	{
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p))
			return NULL;
		while (p < end && is_digit(*p))
			p++;
	}
	return p;
}

/* true, false or null; what follows is checked by the caller's grammar. */
static const char *
fast_literal(const char *p, const char *end, SfJsonType *type)
{
	if (end - p >= 4 && memcmp(p, "true", 4) == 0)
	{
		*type = SF_JSON_BOOL;
		return p + 4;
	}
	if (end - p >= 4 && memcmp(p, "null", 4) == 0)
	{
		*type = SF_JSON_NULL;
		return p + 4;
	}
	if (end - p >= 5 && memcmp(p, "false", 5) == 0)
	{
		*type = SF_JSON_BOOL;
		return p + 5;
	}
	return NULL;
}

static const char *fast_value(RecordParser *parser, const char *p,
							  SfJsonNode *parent, char *key, int keylen);

/* An object or an array at its opening bracket. */
static const char *
fast_container(RecordParser *parser, const char *p, SfJsonNode *parent,
			   char *key, int keylen)
{
	const char *end = parser->end;
	const char *open = p;
	bool		is_object = *p == '{';
	char		close = is_object ? '}' : ']';
	SfJsonNode *node = NULL;

	if (++parser->depth > SF_MAX_JSON_DEPTH)
		return NULL;
	if (parser->build)
	{
		node = add_node(parser, parent, is_object ? SF_JSON_OBJECT : SF_JSON_ARRAY,
						key, keylen);
		node->raw = open;
	}
	p = sf_skip_ws(p + 1, end);
	if (p < end && *p == close)
		p++;
	else
	{
		for (;;)
		{
			char	   *member_key = NULL;
			int			member_keylen = 0;

			if (is_object)
			{
				if (p >= end || *p != '"' ||
					(p = fast_string(parser, p, parser->build ? &member_key : NULL,
									 &member_keylen)) == NULL)
					return NULL;
				p = sf_skip_ws(p, end);
				if (p >= end || *p != ':')
					return NULL;
				p = sf_skip_ws(p + 1, end);
			}
			if ((p = fast_value(parser, p, node, member_key, member_keylen)) == NULL)
				return NULL;
			p = sf_skip_ws(p, end);
			if (p < end && *p == ',')
			{
				p = sf_skip_ws(p + 1, end);
				continue;
			}
			if (p < end && *p == close)
			{
				p++;
				break;
			}
			return NULL;
		}
	}
	if (node != NULL)
		node->rawlen = (int) (p - open);
	parser->depth--;
	return p;
}

/* Any value; a scalar's node takes its text. */
static const char *
fast_value(RecordParser *parser, const char *p, SfJsonNode *parent,
		   char *key, int keylen)
{
	const char *end = parser->end;
	const char *start = p;
	SfJsonType	type;
	SfJsonNode *node;

	if (p >= end)
		return NULL;
	switch (*p)
	{
		case '{':
		case '[':
			return fast_container(parser, p, parent, key, keylen);
		case '"':
			if (!parser->build)
				return fast_string(parser, p, NULL, NULL);
			{
				char	   *text;
				int			len;

				if ((p = fast_string(parser, p, &text, &len)) == NULL)
					return NULL;
				node = add_node(parser, parent, SF_JSON_STRING, key, keylen);
				node->text = text;
				node->textlen = len;
				return p;
			}
		case 't':
		case 'f':
		case 'n':
			p = fast_literal(p, end, &type);
			break;
		default:
			p = fast_number(p, end);
			type = SF_JSON_NUMBER;
			break;
	}
	if (p == NULL)
		return NULL;
	if (parser->build)
	{
		node = add_node(parser, parent, type, key, keylen);
		set_token_text(parser, node, start, (int) (p - start));
	}
	return p;
}

/*
 * Parses the record with the fast parser; false when it is not (plain)
 * JSON, so that the lexer-based parser must say why.
 */
static bool
parse_fast(RecordParser *parser, SfJsonNode **root)
{
	const char *p = sf_skip_ws(parser->record.start, parser->end);

	if (p >= parser->end || *p != '{')
		return false;
	p = fast_container(parser, p, NULL, NULL, 0);
	if (p == NULL || sf_skip_ws(p, parser->end) != parser->end)
		return false;
	*root = parser->root;
	return true;
}

/* ----------------------------------------------------------------
 * The lexer-based parser
 * ----------------------------------------------------------------
 *
 * The grammar over PostgreSQL's JSON lexer, which validates the tokens.  It
 * reads what the fast parser reads, and is used for the records that the
 * fast parser refuses: its errors are PostgreSQL's.
 */

/*
 * Raises a lexer error with the byte offset in the record, the detail
 * shortened since it quotes the token.
 */
static void
parser_error(RecordParser *parser, JsonParseErrorType error)
{
	/* the lexer's detail quotes the token, which can be megabytes long */
	char	   *detail = json_errdetail(error, parser->lex);

	ereport(ERROR,
			(errcode(error == JSON_UNICODE_CODE_POINT_ZERO ?
					 ERRCODE_UNTRANSLATABLE_CHARACTER : ERRCODE_INVALID_JSON_TEXT),
			 errmsg("invalid JSON in a record"),
			 errdetail("%s (at byte %ld of the record)",
					   sf_message_text(detail, strlen(detail)),
					   (long) (parser->lex->token_start - parser->record.start))));
}

/* Moves to the next token; a lexer error is raised at once. */
static inline void
next_token(RecordParser *parser)
{
	JsonParseErrorType result = json_lex(parser->lex);

	if (result != JSON_SUCCESS)
		parser_error(parser, result);
}

/* Raises the given error unless the current token is of this type. */
static inline void
expect_token(RecordParser *parser, JsonTokenType type, JsonParseErrorType error)
{
	if (parser->lex->token_type != type)
		parser_error(parser, error);
}

/* The contents of the current string token, decoded if it has escapes. */
static char *
token_string(RecordParser *parser, int *len)
{
	const char *start = parser->lex->token_start + 1;
	int			n = (int) (parser->lex->token_terminator - start) - 1;
	char	   *text;
	JsonParseErrorType result;

	result = string_value(parser, start, n, memchr(start, '\\', n) != NULL, &text, len);
	if (result != JSON_SUCCESS)
		parser_error(parser, result);
	return text;
}

/*
 * Parses the value at the current token and leaves the lexer on the token
 * after it.  Recursion is bounded by SF_MAX_JSON_DEPTH, which the
 * structural scan that found the record enforced already.
 */
static void
parse_value(RecordParser *parser, SfJsonNode *parent, char *key, int keylen)
{
	JsonLexContext *lex = parser->lex;
	SfJsonNode *node;
	JsonTokenType type = lex->token_type;

	switch (type)
	{
		case JSON_TOKEN_OBJECT_START:
		case JSON_TOKEN_ARRAY_START:
			{
				bool		is_object = type == JSON_TOKEN_OBJECT_START;
				JsonTokenType close = is_object ? JSON_TOKEN_OBJECT_END : JSON_TOKEN_ARRAY_END;

				node = NULL;
				if (++parser->depth > SF_MAX_JSON_DEPTH)
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
					/* PostgreSQL's words for a bad first member name differ */
					JsonParseErrorType bad_name = JSON_EXPECTED_OBJECT_FIRST;

					for (;;)
					{
						char	   *member_key = NULL;
						int			member_keylen = 0;

						if (is_object)
						{
							expect_token(parser, JSON_TOKEN_STRING, bad_name);
							bad_name = JSON_EXPECTED_STRING;
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
				return;
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
				set_token_text(parser, node, lex->token_start,
							   (int) (lex->token_terminator - lex->token_start));
			}
			break;
		default:
			parser_error(parser, JSON_EXPECTED_JSON);
	}
	next_token(parser);
}

/* Parses the record over PostgreSQL's lexer, raising what it finds wrong. */
static SfJsonNode *
parse_with_lexer(RecordParser *parser)
{
	parser->lex = sf_json_lexer(parser->record.start, (int) parser->record.len);
	next_token(parser);
	if (parser->lex->token_type != JSON_TOKEN_OBJECT_START)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("a record is not a JSON object")));
	parse_value(parser, NULL, NULL, 0);
	expect_token(parser, JSON_TOKEN_END, JSON_EXPECTED_END);
	return parser->root;
}

/* ----------------------------------------------------------------
 * Records
 * ----------------------------------------------------------------
 */

/* Sets a parser up for a record, or again after the fast parser refused it. */
static void
start_parser(RecordParser *parser, SfSpan record, bool build, char *copy)
{
	memset(parser, 0, sizeof(RecordParser));
	parser->record = record;
	parser->end = record.start + record.len;
	parser->build = build;
	parser->copy = copy;
}

/*
 * Parses one record into a tree, or with build false only validates it.
 * The record must be one JSON object with no member twice in any object.
 */
SfJsonNode *
sf_parse_record(SfSpan record, bool build)
{
	RecordParser parser;
	SfJsonNode *root;

	/* one copy per record gives every string its storage at once */
	start_parser(&parser, record, build, build ? pnstrdup(record.start, record.len) : NULL);
	if (!parse_fast(&parser, &root))
	{
		/* the terminators the fast parser wrote are undone */
		if (build)
			memcpy(parser.copy, record.start, record.len);
		start_parser(&parser, record, build, parser.copy);
		root = parse_with_lexer(&parser);
	}
	if (parser.duplicate_key != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_JSON_OBJECT_KEY_VALUE),
				 errmsg("a record has the member \"%s\" twice in one object",
						sf_message_text(parser.duplicate_key,
										strlen(parser.duplicate_key))),
				 errdetail("A record that says two things about one field is refused rather than one of them picked.")));
	return root;
}

/* The member of an object by name; NULL when absent or not an object. */
SfJsonNode *
sf_json_member(SfJsonNode *object, const char *name)
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
SfJsonNode *
sf_json_lookup_path(SfJsonNode *node, char **path)
{
	for (; node != NULL && *path != NULL; path++)
		node = sf_json_member(node, *path);
	return node;
}
