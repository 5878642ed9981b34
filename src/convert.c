/*-------------------------------------------------------------------------
 *
 * convert.c
 *		  JSON values to column values.
 *
 * Values become column values through the column type's input function,
 * or for JSON booleans and the commonest forms of uuid and numeric values,
 * directly (the same datum, without the input function's general parsing),
 * with the rules of the contract: null, and "" for a column that is not a
 * string type, are NULL; timestamps are read in the API's layout only,
 * zone-less ones in remote_timezone, so that no session setting changes
 * them; XML-style lists are always arrays; jsonb is built from the parsed
 * tree rather than parsed again.  A value that does not convert is an error
 * (the caller's error context names the column, the value and the record),
 * never a wrong value.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "subscriber_fdw.h"

/*
 * Text of a record, which is UTF-8, in the database encoding.  Only values
 * that become column values come here, so fields a query does not read cost
 * nothing and cannot fail; an untranslatable character fails naming the
 * column (the caller's error context).  ASCII, nearly everything, and any
 * text in a UTF-8 database is returned as it is, with *outlen = len.
 */
static inline char *
server_text(SfRecordConverter *converter, const char *text, int len, int *outlen)
{
	*outlen = len;
	if (converter->transcode)
	{
		for (int i = 0; i < len; i++)
		{
			if (IS_HIGHBIT_SET(text[i]))
			{
				char	   *converted = pg_any_to_server(text, len, PG_UTF8);

				*outlen = strlen(converted);
				return converted;
			}
		}
	}
	return (char *) text;
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

/* The value of a hexadecimal digit, -1 if it is not one. */
static inline int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * A uuid in its canonical layout, 8-4-4-4-12 hexadecimal digits, read
 * directly; false for any other text, which uuid_in then reads (or
 * refuses) as it always does.
 */
static bool
uuid_value(const char *text, size_t len, Datum *result)
{
	pg_uuid_t	uuid;
	const char *p = text;

	if (len != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
		text[23] != '-')
		return false;
	for (int i = 0; i < UUID_LEN; i++)
	{
		int			high,
					low;

		if (*p == '-')
			p++;
		high = hex_value(p[0]);
		low = hex_value(p[1]);
		if (high < 0 || low < 0)
			return false;
		uuid.data[i] = (unsigned char) (high << 4 | low);
		p += 2;
	}
	*result = UUIDPGetDatum(memcpy(palloc(sizeof(pg_uuid_t)), &uuid, sizeof(pg_uuid_t)));
	return true;
}

/*
 * A plain decimal ("-12", "12.0", "0.25") of at most 18 digits, built from
 * its digits as an int64 and its scale: numeric_in would give the same
 * datum (the same digits and display scale, normalised alike) at several
 * times the cost.  false for anything else (exponents, spaces, signs
 * other than a leading "-", a typmod to apply, more digits), which
 * numeric_in then reads as it always does.
 */
static bool
numeric_value(const char *text, size_t len, int32 typmod, Datum *result)
{
	const char *p = text;
	const char *end = text + len;
	bool		negative = false;
	int64		value = 0;
	int			digits = 0;
	int			scale = 0;
	bool		in_fraction = false;

	if (typmod >= 0)
		return false;
	if (p < end && *p == '-')
	{
		negative = true;
		p++;
	}
	if (p == end || *p < '0' || *p > '9')
		return false;
	for (; p < end; p++)
	{
		if (*p >= '0' && *p <= '9')
		{
			if (++digits > 18)
				return false;
			value = value * 10 + (*p - '0');
			scale += in_fraction;
		}
		else if (*p == '.' && !in_fraction && p + 1 < end)
			in_fraction = true;
		else
			return false;
	}
	/* "-0" and "-0.0" are left to numeric_in, which knows what they are */
	if (negative && value == 0)
		return false;
	if (negative)
		value = -value;
	*result = NumericGetDatum(scale == 0 ? int64_to_numeric(value) :
							  int64_div_fast_to_numeric(value, scale));
	return true;
}

/*
 * Whether jsonb orders key a before key b: shorter first, then by bytes, as
 * jsonb stores an object's keys so that it can search them.
 */
static inline bool
jsonb_key_before(const JsonbValue *a, const JsonbValue *b)
{
	if (a->val.string.len != b->val.string.len)
		return a->val.string.len < b->val.string.len;
	return memcmp(a->val.string.val, b->val.string.val, a->val.string.len) < 0;
}

/*
 * The jsonb form of a parsed value, built straight from the tree: jsonb_in
 * would parse the same bytes again, and pushJsonbValue would copy every
 * value and sort each object's keys with a general sort.  An object's keys
 * are put in jsonb's order by insertion, cheap for the few keys an object
 * of the API has; a record never holds a key twice (the parser refuses
 * it), so there is nothing to remove.
 */
static void
jsonb_value(SfRecordConverter *converter, SfJsonNode *node, JsonbValue *out)
{
	switch (node->type)
	{
		case SF_JSON_OBJECT:
			{
				JsonbPair  *pairs = palloc(Max(1, node->nchildren) * sizeof(JsonbPair));
				int			n = 0;

				for (SfJsonNode *child = node->first_child; child; child = child->next)
				{
					JsonbPair	pair;
					int			i;

					pair.key.type = jbvString;
					pair.key.val.string.val = server_text(converter, child->key, child->keylen,
														  &pair.key.val.string.len);
					pair.order = n;
					jsonb_value(converter, child, &pair.value);
					for (i = n; i > 0 && jsonb_key_before(&pair.key, &pairs[i - 1].key); i--)
						pairs[i] = pairs[i - 1];
					pairs[i] = pair;
					n++;
				}
				out->type = jbvObject;
				out->val.object.nPairs = n;
				out->val.object.pairs = pairs;
				break;
			}
		case SF_JSON_ARRAY:
			{
				JsonbValue *elems = palloc(Max(1, node->nchildren) * sizeof(JsonbValue));
				int			n = 0;

				for (SfJsonNode *child = node->first_child; child; child = child->next)
					jsonb_value(converter, child, &elems[n++]);
				out->type = jbvArray;
				out->val.array.nElems = n;
				out->val.array.elems = elems;
				out->val.array.rawScalar = false;
				break;
			}
		case SF_JSON_STRING:
			out->type = jbvString;
			out->val.string.val = server_text(converter, node->text, node->textlen,
											  &out->val.string.len);
			break;
		case SF_JSON_NUMBER:
			{
				Datum		number;

				if (!numeric_value(node->text, node->textlen, -1, &number))
					number = DirectFunctionCall3(numeric_in, CStringGetDatum(node->text),
												 ObjectIdGetDatum(InvalidOid),
												 Int32GetDatum(-1));
				out->type = jbvNumeric;
				out->val.numeric = DatumGetNumeric(number);
				break;
			}
		case SF_JSON_BOOL:
			out->type = jbvBool;
			out->val.boolean = node->text[0] == 't';
			break;
		case SF_JSON_NULL:
			out->type = jbvNull;
			break;
	}
}

/*
 * The jsonb of a container, or of an XML-style list: with "as_list" an
 * array stays as it is, a bare object becomes an array of one, and NULL an
 * empty array.
 */
static Datum
container_jsonb(SfRecordConverter *converter, SfJsonNode *node, bool as_list)
{
	JsonbValue	result;

	if (as_list && (node == NULL || node->type != SF_JSON_ARRAY))
	{
		JsonbValue *elem = palloc(sizeof(JsonbValue));

		if (node != NULL)
			jsonb_value(converter, node, elem);
		result.type = jbvArray;
		result.val.array.nElems = node != NULL ? 1 : 0;
		result.val.array.elems = elem;
		result.val.array.rawScalar = false;
	}
	else
		jsonb_value(converter, node, &result);
	return JsonbPGetDatum(JsonbValueToJsonb(&result));
}

/*
 * Calls the column's input function.  PostgreSQL's input functions quote
 * the whole value in their messages, so the message and detail of an error
 * about a long value are shortened before it goes on; short values, nearly
 * all of them, go straight through at no cost.
 */
static Datum
call_input(SfColumnPlan *column, char *text, size_t len)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		result;

	if (len <= SF_MESSAGE_TEXT_BYTES)
		return InputFunctionCall(&column->input, text, column->ioparam, column->typmod);
	PG_TRY();
	{
		result = InputFunctionCall(&column->input, text, column->ioparam, column->typmod);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		if (edata->message != NULL)
			edata->message = sf_message_text(edata->message, strlen(edata->message));
		if (edata->detail != NULL)
			edata->detail = sf_message_text(edata->detail, strlen(edata->detail));
		ReThrowError(edata);
	}
	PG_END_TRY();
	return result;
}

/* How a timestamp string was read. */
typedef enum TimestampLayout
{
	TS_ZONELESS,				/* a local time of remote_timezone */
	TS_OFFSET,					/* with "Z" or a numeric offset */
	TS_OUT_OF_RANGE,			/* the layout, but a field out of range */
	TS_BAD_OFFSET,				/* the layout, but an offset out of range */
	TS_UNKNOWN					/* any other layout */
} TimestampLayout;

/* Reads "digits" decimal digits at p; NULL if one is not a digit. */
static const char *
read_number(const char *p, int digits, int *value)
{
	*value = 0;
	for (int i = 0; i < digits; i++, p++)
	{
		if (*p < '0' || *p > '9')
			return NULL;
		*value = *value * 10 + (*p - '0');
	}
	return p;
}

/*
 * Reads a timestamp in the API's layout: "YYYY-MM-DD", optionally followed
 * by 'T' or a space and "HH:MM[:SS[.fraction]]", optionally followed (after
 * a space or not) by "Z" or an offset "+HH", "+HH:MM" or "+HHMM".  These
 * read the same whatever the session's DateStyle, unlike "01/02/2024", and
 * their zone is their own or remote_timezone, never the session's TimeZone;
 * anything else is refused by the caller rather than guessed at.  The
 * string is read one character at a time and never past its terminator.
 * *offset is in seconds west of Greenwich, as PostgreSQL counts.
 */
static TimestampLayout
read_api_timestamp(const char *s, struct pg_tm *tm, fsec_t *fsec, int *offset)
{
	const char *p = s;
	bool		has_offset = false;

	memset(tm, 0, sizeof(struct pg_tm));
	*fsec = 0;
	*offset = 0;
	if ((p = read_number(p, 4, &tm->tm_year)) == NULL || *p != '-' ||
		(p = read_number(p + 1, 2, &tm->tm_mon)) == NULL || *p != '-' ||
		(p = read_number(p + 1, 2, &tm->tm_mday)) == NULL)
		return TS_UNKNOWN;
	if (*p == 'T' || *p == ' ')
	{
		if ((p = read_number(p + 1, 2, &tm->tm_hour)) == NULL || *p != ':' ||
			(p = read_number(p + 1, 2, &tm->tm_min)) == NULL)
			return TS_UNKNOWN;
		if (*p == ':')
		{
			if ((p = read_number(p + 1, 2, &tm->tm_sec)) == NULL)
				return TS_UNKNOWN;
			if (*p == '.')
			{
				const char *fraction = ++p;

				/* microseconds, rounded half up on the seventh digit */
				for (; *p >= '0' && *p <= '9'; p++)
				{
					if (p - fraction < 6)
						*fsec = *fsec * 10 + (*p - '0');
					else if (p - fraction == 6 && *p >= '5')
						(*fsec)++;
				}
				if (p == fraction)
					return TS_UNKNOWN;
				for (int i = p - fraction; i < 6; i++)
					*fsec *= 10;
			}
		}
		if (*p == ' ' && (p[1] == 'Z' || p[1] == '+' || p[1] == '-'))
			p++;
		if (*p == 'Z')
		{
			has_offset = true;
			p++;
		}
		else if (*p == '+' || *p == '-')
		{
			int			sign = *p == '+' ? -1 : 1;
			int			hours;
			int			minutes = 0;

			if ((p = read_number(p + 1, 2, &hours)) == NULL)
				return TS_UNKNOWN;
			if (*p == ':' || (*p >= '0' && *p <= '9'))
			{
				if ((p = read_number(p + (*p == ':'), 2, &minutes)) == NULL)
					return TS_UNKNOWN;
			}
			if (hours > MAX_TZDISP_HOUR || minutes >= MINS_PER_HOUR)
				return TS_BAD_OFFSET;
			*offset = sign * (hours * SECS_PER_HOUR + minutes * SECS_PER_MINUTE);
			has_offset = true;
		}
	}
	if (*p != '\0')
		return TS_UNKNOWN;
	if (tm->tm_year < 1 || tm->tm_mon < 1 || tm->tm_mon > MONTHS_PER_YEAR ||
		tm->tm_mday < 1 || tm->tm_mday > day_tab[isleap(tm->tm_year)][tm->tm_mon - 1] ||
		tm->tm_hour > HOURS_PER_DAY || tm->tm_min >= MINS_PER_HOUR ||
		tm->tm_sec > SECS_PER_MINUTE || *fsec > USECS_PER_SEC ||
		(tm->tm_hour == HOURS_PER_DAY && (tm->tm_min > 0 || tm->tm_sec > 0 || *fsec > 0)))
		return TS_OUT_OF_RANGE;
	return has_offset ? TS_OFFSET : TS_ZONELESS;
}

/*
 * A timestamp or timestamptz column's value.  A zone-less value is a local
 * time of remote_timezone; one with an offset is the instant it names (in a
 * timestamp column, the local time of remote_timezone at that instant).
 * Other layouts are refused: PostgreSQL's own parser would read them in the
 * session's TimeZone and DateStyle, so the same answer would give different
 * instants to different clients.
 */
static Datum
timestamp_value(SfRecordConverter *converter, SfColumnPlan *column,
				const char *text, size_t len)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			offset;
	Timestamp	result;
	TimestampLayout layout;
	bool		with_zone = column->base_typid == TIMESTAMPTZOID;

	if (pg_strcasecmp(text, "infinity") == 0)
		return TimestampGetDatum(DT_NOEND);
	if (pg_strcasecmp(text, "-infinity") == 0)
		return TimestampGetDatum(DT_NOBEGIN);
	layout = read_api_timestamp(text, &tm, &fsec, &offset);
	switch (layout)
	{
		case TS_UNKNOWN:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
					 errmsg("unrecognized timestamp layout in column \"%s\"", column->name),
					 errdetail("The value is \"%s\".", sf_message_text(text, len)),
					 errhint("Timestamps are read in the layout \"YYYY-MM-DD HH:MM:SS.ffffff\" (with \"T\" or a space), in remote_timezone unless \"Z\" or an offset such as \"+02:00\" follows; a text column shows other layouts as sent.")));
			break;
		case TS_OUT_OF_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_FIELD_OVERFLOW),
					 errmsg("date/time field value out of range: \"%s\"",
							sf_message_text(text, len))));
			break;
		case TS_BAD_OFFSET:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TIME_ZONE_DISPLACEMENT_VALUE),
					 errmsg("time zone displacement out of range: \"%s\"",
							sf_message_text(text, len))));
			break;
		case TS_ZONELESS:
			if (with_zone)
				offset = DetermineTimeZoneOffset(&tm, converter->remote_timezone);
			break;
		case TS_OFFSET:
			break;
	}
	if (tm2timestamp(&tm, fsec, with_zone || layout == TS_OFFSET ?
					 &offset : NULL, &result) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	if (!with_zone && layout == TS_OFFSET)
	{
		/* the instant as a local time of remote_timezone */
		int			tz;

		if (timestamp2tm(result, &tz, &tm, &fsec, NULL, converter->remote_timezone) != 0 ||
			tm2timestamp(&tm, fsec, NULL, &result) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
	}
#if PG_VERSION_NUM >= 160000
	AdjustTimestampForTypmod(&result, column->typmod, NULL);
#else
	AdjustTimestampForTypmod(&result, column->typmod);
#endif
	return TimestampGetDatum(result);
}

/* json and jsonb columns take any JSON value as it was sent. */
static inline bool
is_json_column(const SfColumnPlan *column)
{
	return column->base_typid == JSONOID || column->base_typid == JSONBOID;
}

/*
 * Keeps the value for the error context, then reads it with the
 * timestamp reader, directly, or with the column type's input function.
 */
static Datum
input_value(SfRecordConverter *converter, SfColumnPlan *column, char *text,
			size_t len)
{
	Datum		result;

	converter->current_value = text;
	switch (column->base_typid)
	{
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return timestamp_value(converter, column, text, len);
		case UUIDOID:
			if (uuid_value(text, len, &result))
				return result;
			break;
		case NUMERICOID:
			if (numeric_value(text, len, column->typmod, &result))
				return result;
			break;
	}
	return call_input(column, text, len);
}

/* A value as the text of a json column. */
static Datum
json_input(SfRecordConverter *converter, SfColumnPlan *column, SfJsonNode *value)
{
	char	   *json = node_json_text(value);
	int			len;
	char	   *text = server_text(converter, json, strlen(json), &len);

	return input_value(converter, column, text, len);
}

/*
 * Converts one JSON value to the column's type.  Sets *isnull for null and
 * for an empty string in a column that is not text.
 */
Datum
sf_convert_value(SfRecordConverter *converter, SfColumnPlan *column,
				 SfJsonNode *value, bool *isnull)
{
	char	   *text;
	int			len;

	*isnull = false;
	switch (value->type)
	{
		case SF_JSON_NULL:
			*isnull = true;
			return (Datum) 0;
		case SF_JSON_STRING:
			if (column->base_typid == TEXTOID)
			{
				text = server_text(converter, value->text, value->textlen, &len);
				return PointerGetDatum(cstring_to_text_with_len(text, len));
			}
			if (value->text[0] == '\0' && column->empty_is_null)
			{
				*isnull = true;
				return (Datum) 0;
			}
			if (is_json_column(column))
				return json_input(converter, column, value);
			text = server_text(converter, value->text, value->textlen, &len);
			return input_value(converter, column, text, len);
		case SF_JSON_BOOL:
			/* true or false, which the parser checked: boolin would say the same */
			if (column->base_typid == BOOLOID)
				return BoolGetDatum(value->text[0] == 't');
			/* FALLTHROUGH */
		case SF_JSON_NUMBER:
			if (column->base_typid == TEXTOID)
				return PointerGetDatum(cstring_to_text_with_len(value->text, value->textlen));
			return input_value(converter, column, value->text, value->textlen);
		case SF_JSON_OBJECT:
		case SF_JSON_ARRAY:
			if (column->base_typid == TEXTOID)
			{
				text = server_text(converter, value->raw, value->rawlen, &len);
				return PointerGetDatum(cstring_to_text_with_len(text, len));
			}
			if (column->base_typid == JSONBOID)
				return container_jsonb(converter, value, false);
			if (is_json_column(column))
				return json_input(converter, column, value);
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
	char	   *json;
	char	   *text;
	int			len;

	if (column->base_typid == JSONBOID)
		return container_jsonb(converter, list, true);
	json = list_text(list);
	text = server_text(converter, json, strlen(json), &len);
	return input_value(converter, column, text, len);
}
