/*-------------------------------------------------------------------------
 *
 * count.c
 *		  count(*) from the API's totals, at execution.
 *
 * A count that planning pushed down (subscriber_fdw.c, GetForeignUpperPaths)
 * is a foreign scan of the grouping step whose tuples are the key and the
 * counts.  Its counter asks the scan engine for one pass that reads only
 * each key's total (one request per key, a single record asked for), then
 * returns the sum over the keys, or a row per key that has records, as
 * GROUP BY the key would.  A key whose answer carries no total is counted
 * from its records, so the count stays exact whatever the API sends; every
 * count is remembered as the key's known size.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/tuptable.h"
#include "nodes/nodeFuncs.h"
#include "nodes/primnodes.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "subscriber_fdw.h"

struct SfCounter
{
	SfScan	   *scan;
	const SfResource *resource;
	Oid			serverid;		/* whose known sizes the counts go to */
	bool		per_key;		/* a row per key, else one row for all */
	TupleTableSlot *record_slot;	/* records of a key read for want of a total */
	MemoryContext row_cxt;		/* reset for every record read that way */
	bool	   *is_key_column;	/* per column of the scan tuple: key or count */
	FmgrInfo	key_input;		/* makes the key column's value */
	Oid			key_ioparam;
	int32		key_typmod;
	MemoryContext count_cxt;	/* the counts of one pass */
	char	  **keys;
	int64	   *counts;
	int			ncounts;
	int			next;			/* the next count to return */
};

/*
 * Sets up a counter in the current memory context: which columns of the
 * scan tuple (fdw_scan_tlist) are the key, how the key's text becomes the
 * key column's value, and a slot for records of the foreign table.
 */
SfCounter *
sf_counter_create(SfScan *scan, const SfResource *resource, Oid serverid,
				  bool per_key, TupleDesc record_desc, List *scan_tlist)
{
	SfCounter  *counter = palloc0(sizeof(SfCounter));
	ListCell   *lc;
	int			i = 0;

	counter->scan = scan;
	counter->resource = resource;
	counter->serverid = serverid;
	counter->per_key = per_key;
	counter->record_slot = MakeSingleTupleTableSlot(record_desc, &TTSOpsVirtual);
	counter->is_key_column = palloc0(Max(1, list_length(scan_tlist)) * sizeof(bool));
	foreach(lc, scan_tlist)
	{
		Expr	   *expr = ((TargetEntry *) lfirst(lc))->expr;

		if (!IsA(expr, Aggref))
		{
			Oid			input;

			counter->is_key_column[i] = true;
			getTypeInputInfo(exprType((Node *) expr), &input, &counter->key_ioparam);
			fmgr_info(input, &counter->key_input);
			counter->key_typmod = exprTypmod((Node *) expr);
		}
		i++;
	}
	counter->count_cxt = AllocSetContextCreate(CurrentMemoryContext,
											   "subscriber_fdw counts",
											   ALLOCSET_SMALL_SIZES);
	counter->row_cxt = AllocSetContextCreate(CurrentMemoryContext,
											 "subscriber_fdw count row",
											 SF_ROW_CONTEXT_SIZES);
	return counter;
}

/*
 * Counts the records of one key by reading them, for an answer that gave
 * no total.
 */
static int64
count_records(SfCounter *counter, char *key)
{
	SfScan	   *scan = counter->scan;
	int64		count = 0;
	MemoryContext old;

	sf_scan_restart(scan);
	old = MemoryContextSwitchTo(counter->row_cxt);
	sf_scan_set_keys(scan, list_make1(key));
	MemoryContextSwitchTo(old);
	for (;;)
	{
		bool		more;

		MemoryContextReset(counter->row_cxt);
		old = MemoryContextSwitchTo(counter->row_cxt);
		more = sf_scan_next(scan, counter->record_slot);
		MemoryContextSwitchTo(old);
		if (!more)
			break;
		count++;
	}
	return count;
}

/*
 * Counts the rows of each key of this pass from the totals of one request
 * per key; keys are those the scan would read, NULLs and duplicates gone.
 */
void
sf_counter_count(SfCounter *counter, List *keys)
{
	SfScan	   *scan = counter->scan;
	const char *key;
	int64		total;
	int			n = 0;
	MemoryContext old;

	sf_scan_set_totals_only(scan, true);
	sf_scan_set_keys(scan, keys);
	/* a pass of totals returns no row: this waits for all of its answers */
	old = MemoryContextSwitchTo(counter->row_cxt);
	(void) sf_scan_next(scan, counter->record_slot);
	MemoryContextSwitchTo(old);

	while (sf_scan_key_total(scan, n, &key, &total))
		n++;
	counter->keys = MemoryContextAlloc(counter->count_cxt, Max(1, n) * sizeof(char *));
	counter->counts = MemoryContextAlloc(counter->count_cxt, Max(1, n) * sizeof(int64));
	for (int i = 0; i < n; i++)
	{
		sf_scan_key_total(scan, i, &key, &total);
		counter->keys[i] = MemoryContextStrdup(counter->count_cxt, key);
		counter->counts[i] = total;
	}

	sf_scan_set_totals_only(scan, false);
	for (int i = 0; i < n; i++)
	{
		if (counter->counts[i] >= 0)
			continue;
		counter->counts[i] = count_records(counter, counter->keys[i]);
		sf_known_size_remember(counter->serverid, counter->resource,
							   counter->keys[i], counter->counts[i]);
	}
	counter->ncounts = n;
	counter->next = 0;
}

/*
 * The next tuple of a count: the sum over all keys once, or a row per key
 * that has records (as GROUP BY gives no group for a key without rows); an
 * empty slot at the end.
 */
TupleTableSlot *
sf_counter_next(SfCounter *counter, TupleTableSlot *slot)
{
	int			natts = slot->tts_tupleDescriptor->natts;
	int64		count = 0;
	const char *key = NULL;

	ExecClearTuple(slot);
	if (!counter->per_key)
	{
		if (counter->next++ > 0)
			return slot;
		for (int i = 0; i < counter->ncounts; i++)
			count += counter->counts[i];
	}
	else
	{
		while (counter->next < counter->ncounts && counter->counts[counter->next] == 0)
			counter->next++;
		if (counter->next >= counter->ncounts)
			return slot;
		key = counter->keys[counter->next];
		count = counter->counts[counter->next++];
	}

	for (int i = 0; i < natts; i++)
	{
		slot->tts_isnull[i] = false;
		if (counter->is_key_column[i])
			slot->tts_values[i] = InputFunctionCall(&counter->key_input, (char *) key,
													counter->key_ioparam,
													counter->key_typmod);
		else
			slot->tts_values[i] = Int64GetDatum(count);
	}
	return ExecStoreVirtualTuple(slot);
}

/* Forgets the counts of the last pass: a rescan counts again. */
void
sf_counter_restart(SfCounter *counter)
{
	MemoryContextReset(counter->count_cxt);
	counter->keys = NULL;
	counter->counts = NULL;
	counter->ncounts = 0;
	counter->next = 0;
}

/* Drops the counter's slot; its memory goes with the scan's context. */
void
sf_counter_release(SfCounter *counter)
{
	ExecDropSingleTupleTableSlot(counter->record_slot);
	counter->record_slot = NULL;
}
