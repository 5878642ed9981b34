/*-------------------------------------------------------------------------
 *
 * convert.c
 *		  JSON values to column values.
 *
 * Values become column values through the column type's input function,
 * with the rules of the contract: null, and "" for a column that is not a
 * string type, are NULL; zone-less timestamps are read in remote_timezone;
 * XML-style lists are always arrays; jsonb is built from the parsed tree
 * rather than parsed again.  A value that does not convert is an error (the
 * caller's error context names the column, the value and the record),
 * never a wrong value.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "subscriber_fdw.h"

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
 * "", or with a count member of "0"), else an array or a bare object standing
 * for a list of one.
 */
SfJsonNode *
sf_find_list(const SfApi *api, SfJsonNode *record, char **path)
{
	SfJsonNode *parent = record;
	SfJsonNode *list;
	SfJsonNode *length;
	int			last = 0;

	while (path[last + 1] != NULL)
		last++;
	for (int i = 0; i < last && parent != NULL; i++)
		parent = sf_json_member(parent, path[i]);
	if (parent == NULL || parent->type != SF_JSON_OBJECT)
		return NULL;
	length = api->list_length_member ?
		sf_json_member(parent, api->list_length_member) : NULL;
	if (length != NULL && length->text != NULL && strcmp(length->text, "0") == 0)
		return NULL;
	list = sf_json_member(parent, path[last]);
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
Datum
sf_convert_value(SfRecordConverter *converter, SfColumnPlan *column,
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


/*
 * An XML-style list as a column value: always an array, so that a list of
 * one and an empty list look like every other list.
 */
Datum
sf_convert_list(SfRecordConverter *converter, SfColumnPlan *column,
				SfJsonNode *list)
{
	if (column->is_jsonb)
		return container_jsonb(list, true);
	return input_value(converter, column, list_text(list));
}
