/*-------------------------------------------------------------------------
 *
 * tuple.c
 *		  Records to tuples.
 *
 * A scan plans, once, how each column the query reads is produced from a
 * record: a field at a JSON path (with the catalog's fallback), the key the
 * request was made for, an XML-style list, or a field of the active
 * IMSI/MSISDN pair or its profile.  Per row the record is parsed (json.c)
 * into a tree in the per-row memory, the columns are looked up in it and
 * converted (convert.c), and an error context names the column, the value
 * and the record.  Columns the query does not read cost nothing: records
 * stay UTF-8, as received, and only the values converted are transcoded to
 * a database encoding that is not UTF-8.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "parser/parse_coerce.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "subscriber_fdw.h"

/*
 * Remote text or a key as a message shows it: a palloc'd copy of its first
 * SF_MESSAGE_TEXT_BYTES bytes, cut on a character boundary and marked as
 * shortened, so that a 50 MB remote error message or a 3 MB key cannot become a
 * 50 MB message to the client and the log.  Bytes that are not valid in the
 * database encoding (remote text not yet converted) become '?', so that the
 * message itself can always be sent.
 */
char *
sf_message_text(const char *text, size_t len)
{
	StringInfoData buf;
	int			cut = (int) Min(len, SF_MESSAGE_TEXT_BYTES);

	if (len > SF_MESSAGE_TEXT_BYTES)
		cut = pg_mbcliplen(text, cut, cut);
	initStringInfo(&buf);
	if (pg_verifymbstr(text, cut, true))
		appendBinaryStringInfo(&buf, text, cut);
	else
	{
		for (int i = 0; i < cut && text[i] != '\0'; i++)
			appendStringInfoChar(&buf, IS_HIGHBIT_SET(text[i]) ? '?' : text[i]);
	}
	if ((size_t) cut < len)
		appendStringInfo(&buf, "... (shortened, %zu bytes in all)", len);
	return buf.data;
}

/* Splits a dotted JSON path once, as the converter is made, not per record. */
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

	foreach(lc, retrieved_attrs)
	{
		AttrNumber	attnum = lfirst_int(lc);
		Form_pg_attribute attr = TupleDescAttr(tupdesc, attnum - 1);
		SfColumnPlan *column = &converter->columns[n++];
		char	   *json_path = sf_get_column_json_path(RelationGetRelid(rel), attnum);
		const SfColumnDef *def = sf_resource_column(resource, NameStr(attr->attname));
		Oid			input_func;
		Oid			base;

		column->attnum = attnum;
		column->name = pstrdup(NameStr(attr->attname));
		column->namelen = -1;
		if (json_path != NULL)
		{
			/* records stay UTF-8: the member names are compared as such */
			if (converter->transcode)
				json_path = pg_server_to_any(json_path, strlen(json_path), PG_UTF8);
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
		/* a domain's value is read as its base type's, then checked */
		base = getBaseTypeAndTypmod(column->typid, &column->typmod);
		column->is_domain = base != column->typid;
		getTypeInputInfo(base, &input_func, &column->ioparam);
		fmgr_info(input_func, &column->input);
		column->base_typid = base;
		column->empty_is_null = TypeCategory(base) != TYPCATEGORY_STRING;
		if (column->source == SF_SOURCE_ACTIVE_PAIR ||
			column->source == SF_SOURCE_ACTIVE_PROFILE)
			converter->needs_active_pair = true;
		if (column->source != SF_SOURCE_KEY)
			converter->needs_tree = true;
	}
	converter->ncolumns = n;
	return converter;
}

/* Whether a member has the given name. */
static inline bool
member_is(SfJsonNode *member, const char *name, int namelen)
{
	return member->keylen == namelen && memcmp(member->key, name, namelen) == 0;
}

/*
 * Looks a column's path up in a record.  Records of one response list their
 * members in nearly the same order (optional and unknown members shift the
 * others by a place or two), so the search starts where the member was
 * found last time and moves outwards from there: most columns are found at
 * once or a step away, not after a search from the first member.
 */
static SfJsonNode *
lookup_record_path(SfJsonNode **members, int nmembers, char **path, int *hint,
				   int *namelen_cache)
{
	const char *name = path[0];
	int			namelen = *namelen_cache >= 0 ? *namelen_cache : (*namelen_cache = strlen(name));
	int			start = Min(*hint, nmembers - 1);

	for (int step = 0; step < nmembers; step++)
	{
		int			after = start + step;
		int			before = start - step - 1;

		if (after >= nmembers && before < 0)
			break;
		if (after < nmembers && member_is(members[after], name, namelen))
		{
			*hint = after;
			return sf_json_lookup_path(members[after], path + 1);
		}
		if (before >= 0 && member_is(members[before], name, namelen))
		{
			*hint = before;
			return sf_json_lookup_path(members[before], path + 1);
		}
	}
	return NULL;
}

/* The API sends flags as booleans or as strings; both count as true. */
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

/* The element after this one; a bare object is a list of one. */
static SfJsonNode *
list_next(SfJsonNode *list, SfJsonNode *element)
{
	return list->type == SF_JSON_ARRAY ? element->next : NULL;
}

/*
 * Finds the IMSI/MSISDN pair marked active and, where pairs live in
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
	if (resource->pair_list_path == NULL || resource->api->active_flag_member == NULL)
		return;
	if (resource->profile_list_path != NULL)
	{
		profiles = sf_json_member(record, resource->profile_list_path);
		holder = list_first(profiles);
	}
	else
		holder = record;

	for (; holder != NULL; holder = profiles ? list_next(profiles, holder) : NULL)
	{
		SfJsonNode *pairs = sf_json_member(holder, resource->pair_list_path);

		for (SfJsonNode *candidate = list_first(pairs); candidate != NULL;
			 candidate = list_next(pairs, candidate))
		{
			if (is_true(sf_json_member(candidate, resource->api->active_flag_member)))
			{
				*pair = candidate;
				*profile = profiles ? holder : NULL;
				return;
			}
		}
	}
}

/* Says which column, value and record an error is about. */
static void
converter_error_context(void *arg)
{
	SfRecordConverter *converter = (SfRecordConverter *) arg;

	/* the scan engine shortens the label, which names the key */
	const char *label = converter->request_label;

	if (converter->current_column == NULL)
		errcontext("record %lld of the response to %s",
				   (long long) converter->record_number, label);
	else if (converter->current_value == NULL)
		errcontext("column \"%s\" of record %lld of the response to %s",
				   converter->current_column->name,
				   (long long) converter->record_number, label);
	else
		errcontext("column \"%s\", value \"%s\", of record %lld of the response to %s",
				   converter->current_column->name,
				   sf_message_text(converter->current_value,
								   strlen(converter->current_value)),
				   (long long) converter->record_number, label);
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
		MemoryContext old;

		/* only the latest key is kept, however many keys a scan reads */
		if (column->key_cxt == NULL)
			column->key_cxt = AllocSetContextCreate(converter->cxt,
													"subscriber_fdw key",
													ALLOCSET_SMALL_SIZES);
		column->cached_key = NULL;
		MemoryContextReset(column->key_cxt);
		old = MemoryContextSwitchTo(column->key_cxt);
		converter->current_value = key;
		column->cached_value = InputFunctionCall(&column->input, (char *) key,
												 column->ioparam, column->typmod);
		if (column->is_domain)
			domain_check(column->cached_value, false, column->typid,
						 &column->domain_extra, converter->cxt);
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
				  const char *key, const char *request_label,
				  int64 record_number, TupleTableSlot *slot)
{
	ErrorContextCallback errcallback;
	SfJsonNode *root;
	SfJsonNode **members = NULL;
	int			nmembers = 0;
	SfJsonNode *pair = NULL;
	SfJsonNode *profile = NULL;

	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, slot->tts_tupleDescriptor->natts * sizeof(bool));

	converter->request_label = request_label;
	converter->record_number = record_number;
	converter->current_column = NULL;
	converter->current_value = NULL;
	errcallback.callback = converter_error_context;
	errcallback.arg = converter;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	/* count(*) and the like need no tree: the record only has to be valid */
	root = sf_parse_record(record, converter->needs_tree);
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
					SfJsonNode *list = sf_find_list(converter->resource->api, root,
													column->path);

					slot->tts_values[index] = sf_convert_list(converter, column, list);
					slot->tts_isnull[index] = false;
					break;
				}
			case SF_SOURCE_FIELD:
				value = lookup_record_path(members, nmembers, column->path,
										   &column->hint, &column->namelen);
				if (value == NULL && column->fallback_path != NULL)
					value = sf_json_lookup_path(root, column->fallback_path);
				break;
			case SF_SOURCE_ACTIVE_PAIR:
				value = sf_json_lookup_path(pair, column->path);
				break;
			case SF_SOURCE_ACTIVE_PROFILE:
				value = sf_json_lookup_path(profile, column->path);
				break;
		}
		if (value != NULL)
			slot->tts_values[index] = sf_convert_value(converter, column, value,
													   &slot->tts_isnull[index]);

		/*
		 * A domain's constraints hold for NULLs too (NOT NULL, CHECK), which
		 * no input function sees, as postgres_fdw knows; plain columns skip
		 * this.
		 */
		if (column->is_domain)
			domain_check(slot->tts_values[index], slot->tts_isnull[index],
						 column->typid, &column->domain_extra, converter->cxt);
	}

	error_context_stack = errcallback.previous;
	ExecStoreVirtualTuple(slot);
}
