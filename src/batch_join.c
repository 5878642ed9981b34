/*-------------------------------------------------------------------------
 *
 * batch_join.c
 *		  Executing joins that fetch the keys of many outer rows together.
 *
 * The node of a batched join (planned in batch_join_plan.c) reads
 * join_batch_size outer rows, evaluates their keys, and hands the batch's
 * distinct keys to the scan engine, which fetches them up to
 * max_concurrency at a time.  Each remote row is then joined to the outer
 * rows of its key, found through a hash table of the batch; once the remote
 * rows of a batch are consumed, a left join null-extends the outer rows
 * that found no match and an anti join returns them.  The answer is that of
 * the row-by-row join: the key clause itself, the other join clauses and
 * the inner table's own conditions are all checked on every pair, and the
 * rows of one outer row come from the request for its own key.
 *
 * Memory holds one batch of outer rows, in a context reset before the next
 * batch, and the scan engine's chunks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/explain.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#if PG_VERSION_NUM >= 160000
#include "parser/parse_relation.h"
#endif
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include "subscriber_fdw.h"

/* One outer row of the batch. */
typedef struct BatchRow
{
	MinimalTuple tuple;
	int			next;			/* the next row of the same key, or -1 */
	bool		matched;		/* a remote row satisfied the join conditions */
} BatchRow;

/* A distinct key of the batch: the chain of its outer rows. */
typedef struct BatchKey
{
	const char *key;
	int			first;
	int			last;
	char		status;			/* for simplehash */
} BatchKey;

#define SH_PREFIX		batchkeys
#define SH_ELEMENT_TYPE	BatchKey
#define SH_KEY_TYPE		const char *
#define SH_KEY			key
#define SH_HASH_KEY(tb, key)	hash_bytes((const unsigned char *) (key), strlen(key))
#define SH_EQUAL(tb, a, b)		(strcmp(a, b) == 0)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef enum BatchPhase
{
	BATCH_LOAD,					/* read the next batch of outer rows */
	BATCH_MATCH,				/* join the remote rows to their outer rows */
	BATCH_UNMATCHED,			/* left and anti joins: outer rows without match */
	BATCH_DONE
} BatchPhase;

/* Execution state of a batched join. */
typedef struct BatchJoinState
{
	CustomScanState css;
	JoinType	jointype;
	int			nouter;			/* outer columns in the scan tuple */
	AttrNumber *inner_attnums;	/* inner columns after them */
	int			ninner;
	int			batch_size;
	SfOptions  *options;
	const SfResource *resource;
	ExprState  *key_state;		/* the key from the outer row */
	ExprState  *join_qual;		/* every condition a pair must meet */
	MemoryContext join_cxt;		/* everything of the join, the scan engine's too */
	MemoryContext batch_cxt;	/* outer rows and keys of one batch */
	MemoryContext row_cxt;		/* the current remote row */
	SfScan	   *scan;			/* NULL under EXPLAIN without ANALYZE */
	TupleTableSlot *outer_slot; /* holds a stored outer row */
	TupleTableSlot *inner_slot; /* the remote row, in the table's shape */
	BatchRow   *rows;
	int			nrows;
	batchkeys_hash *keys;
	BatchPhase	phase;
	bool		outer_done;
	int			chain;			/* next outer row for the remote row, or -1 */
	int			unmatched_pos;	/* next row of the unmatched pass */
	const char *last_key;		/* key of the previous remote row */
	BatchKey   *last_entry;
	int64		batches;
} BatchJoinState;

static void begin_batch_join(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *exec_batch_join(CustomScanState *node);
static void end_batch_join(CustomScanState *node);
static void rescan_batch_join(CustomScanState *node);
static void explain_batch_join(CustomScanState *node, List *ancestors,
							   ExplainState *es);

static const CustomExecMethods batch_join_exec_methods = {
	.CustomName = "Batched Join",
	.BeginCustomScan = begin_batch_join,
	.ExecCustomScan = exec_batch_join,
	.EndCustomScan = end_batch_join,
	.ReScanCustomScan = rescan_batch_join,
	.ExplainCustomScan = explain_batch_join,
};

/* The executor's state node for a plan node; begin_batch_join fills it in. */
Node *
sf_batch_join_create_state(CustomScan *cscan)
{
	BatchJoinState *state = palloc0(sizeof(BatchJoinState));

	NodeSetTag(state, T_CustomScanState);
	state->css.methods = &batch_join_exec_methods;
	return (Node *) &state->css;
}

/*
 * The range-table index of the inner table: the varno of its columns in the
 * scan tuple, which set_plan_refs made final.
 */
static Index
inner_rtindex(CustomScan *cscan, int nouter)
{
	TargetEntry *tle = list_nth(cscan->custom_scan_tlist, nouter);

	return castNode(Var, tle->expr)->varno;
}

/* The user whose mapping the inner table's requests use. */
static Oid
inner_user(EState *estate, Index rti)
{
	RangeTblEntry *rte = exec_rt_fetch(rti, estate);
#if PG_VERSION_NUM >= 160000
	RTEPermissionInfo *perminfo = getRTEPermissionInfo(estate->es_rteperminfos, rte);
	Oid			checkAsUser = perminfo->checkAsUser;
#else
	Oid			checkAsUser = rte->checkAsUser;
#endif

	return OidIsValid(checkAsUser) ? checkAsUser : GetUserId();
}

/*
 * Reads the plan's private lists into the state.  Under EXPLAIN without
 * ANALYZE it stops before the memory and the scan engine, which stay NULL.
 */
static void
begin_batch_join(CustomScanState *node, EState *estate, int eflags)
{
	BatchJoinState *state = (BatchJoinState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *retrieved = list_nth(cscan->custom_private, SfBatchScanRetrievedAttrs);
	PlanState  *outer;
	Index		rti;
	Relation	rel;
	MemoryContext old;
	int			i = 0;
	ListCell   *lc;

	state->jointype = intVal(list_nth(cscan->custom_private, SfBatchScanJoinType));
	state->nouter = intVal(list_nth(cscan->custom_private, SfBatchScanOuterColumns));
	state->ninner = list_length(retrieved);
	state->inner_attnums = palloc(state->ninner * sizeof(AttrNumber));
	foreach(lc, retrieved)
		state->inner_attnums[i++] = lfirst_int(lc);
	state->resource = sf_resource_lookup(strVal(list_nth(cscan->custom_private,
														 SfBatchScanResource)));

	/* no backward scans: the planner puts a Material node above this one */
	outer = ExecInitNode(linitial(cscan->custom_plans), estate,
						 eflags & ~(EXEC_FLAG_BACKWARD | EXEC_FLAG_MARK));
	node->custom_ps = list_make1(outer);

	state->key_state = ExecInitExpr(linitial(cscan->custom_exprs), &node->ss.ps);
	state->join_qual = ExecInitQual(list_copy_tail(cscan->custom_exprs, 1),
									&node->ss.ps);

	rti = inner_rtindex(cscan, state->nouter);
	rel = ExecGetRangeTableRelation(estate, rti);
	state->options = sf_get_options(RelationGetRelid(rel), inner_user(estate, rti));
	state->batch_size = state->options->join_batch_size;
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	state->outer_slot = ExecInitExtraTupleSlot(estate, ExecGetResultType(outer),
											   &TTSOpsMinimalTuple);
	state->inner_slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel),
											   &TTSOpsVirtual);
	state->join_cxt = AllocSetContextCreate(estate->es_query_cxt,
											"subscriber_fdw join",
											ALLOCSET_DEFAULT_SIZES);
	state->batch_cxt = AllocSetContextCreate(state->join_cxt,
											 "subscriber_fdw join batch",
											 ALLOCSET_DEFAULT_SIZES);
	state->row_cxt = AllocSetContextCreate(state->join_cxt, "subscriber_fdw join row",
										   SF_ROW_CONTEXT_SIZES);
	old = MemoryContextSwitchTo(state->join_cxt);
	state->rows = palloc(state->batch_size * sizeof(BatchRow));
	state->scan = sf_scan_create(state->join_cxt, state->resource, state->options,
								 sf_converter_create(state->resource, rel, retrieved,
													 state->options),
								 -1);
	MemoryContextSwitchTo(old);
	state->phase = BATCH_LOAD;
}

/*
 * Puts an outer row into the scan tuple, with the current remote row's
 * columns or NULLs, and makes it the tuple that expressions read.
 */
static void
form_pair(BatchJoinState *state, TupleTableSlot *outer, bool with_inner)
{
	TupleTableSlot *scan = state->css.ss.ss_ScanTupleSlot;

	ExecClearTuple(scan);
	slot_getallattrs(outer);
	memcpy(scan->tts_values, outer->tts_values, state->nouter * sizeof(Datum));
	memcpy(scan->tts_isnull, outer->tts_isnull, state->nouter * sizeof(bool));
	for (int i = 0; i < state->ninner; i++)
	{
		int			index = state->inner_attnums[i] - 1;

		scan->tts_values[state->nouter + i] =
			with_inner ? state->inner_slot->tts_values[index] : (Datum) 0;
		scan->tts_isnull[state->nouter + i] =
			with_inner ? state->inner_slot->tts_isnull[index] : true;
	}
	ExecStoreVirtualTuple(scan);
	state->css.ss.ps.ps_ExprContext->ecxt_scantuple = scan;
}

/* Puts a row of the batch into the scan tuple. */
static void
form_batch_pair(BatchJoinState *state, BatchRow *row, bool with_inner)
{
	ExecStoreMinimalTuple(row->tuple, state->outer_slot, false);
	form_pair(state, state->outer_slot, with_inner);
}

/*
 * Reads the next batch of outer rows, chains the rows of each distinct key,
 * and gives the keys to the scan engine.  A NULL or empty key asks for
 * nothing and matches nothing, as in a parameterized scan.
 */
static void
load_batch(BatchJoinState *state)
{
	PlanState  *outer = linitial(state->css.custom_ps);
	ExprContext *econtext = state->css.ss.ps.ps_ExprContext;
	List	   *keys = NIL;
	MemoryContext old;

	MemoryContextReset(state->batch_cxt);
	state->nrows = 0;
	state->last_key = NULL;
	state->last_entry = NULL;
	state->keys = batchkeys_create(state->batch_cxt, state->batch_size, NULL);

	while (state->nrows < state->batch_size)
	{
		TupleTableSlot *slot = ExecProcNode(outer);
		BatchRow   *row;
		List	   *key;

		if (TupIsNull(slot))
		{
			state->outer_done = true;
			break;
		}
		ResetExprContext(econtext);
		form_pair(state, slot, false);

		old = MemoryContextSwitchTo(state->batch_cxt);
		key = sf_key_values(state->key_state, SF_KEY_SCALAR, econtext);
		row = &state->rows[state->nrows];
		row->tuple = ExecCopySlotMinimalTuple(slot);
		row->next = -1;
		row->matched = false;
		if (key != NIL)
		{
			bool		found;
			BatchKey   *entry = batchkeys_insert(state->keys, linitial(key), &found);

			if (found)
				state->rows[entry->last].next = state->nrows;
			else
			{
				entry->first = state->nrows;
				keys = lappend(keys, linitial(key));
			}
			entry->last = state->nrows;
		}
		MemoryContextSwitchTo(old);
		state->nrows++;
	}

	if (state->nrows == 0)
	{
		state->phase = BATCH_DONE;
		return;
	}
	state->batches++;
	sf_scan_restart(state->scan);
	sf_scan_set_keys(state->scan, keys);
	state->chain = -1;
	state->unmatched_pos = 0;
	state->phase = BATCH_MATCH;
}

/*
 * Fetches the next remote row of the batch and finds the outer rows of its
 * key; false when the batch has no more.
 */
static bool
next_remote_row(BatchJoinState *state)
{
	MemoryContext old;
	bool		found;
	const char *key;

	MemoryContextReset(state->row_cxt);
	old = MemoryContextSwitchTo(state->row_cxt);
	found = sf_scan_next(state->scan, state->inner_slot);
	MemoryContextSwitchTo(old);
	if (!found)
		return false;

	/* the rows of one key arrive together: look the key up once */
	key = sf_scan_current_key(state->scan);
	if (key != state->last_key)
	{
		state->last_key = key;
		state->last_entry = batchkeys_lookup(state->keys, key);
	}
	state->chain = state->last_entry != NULL ? state->last_entry->first : -1;
	return true;
}

/* The projected result of the pair in the scan tuple. */
static TupleTableSlot *
project(BatchJoinState *state)
{
	ProjectionInfo *projection = state->css.ss.ps.ps_ProjInfo;

	if (projection == NULL)
		return state->css.ss.ss_ScanTupleSlot;
	return ExecProject(projection);
}

/*
 * Returns the next joined row.  Per outer row this does what a nested loop
 * does: a pair that meets the join conditions marks the row as matched and
 * is returned if it also meets the filter; a semi join stops at the first
 * match, an anti join returns only rows without one, and a left join
 * null-extends them.
 */
static TupleTableSlot *
exec_batch_join(CustomScanState *node)
{
	BatchJoinState *state = (BatchJoinState *) node;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	bool		null_extends = state->jointype == JOIN_LEFT ||
		state->jointype == JOIN_ANTI;
	bool		single_match = state->jointype == JOIN_SEMI ||
		state->jointype == JOIN_ANTI;

	for (;;)
	{
		BatchRow   *row;

		CHECK_FOR_INTERRUPTS();
		switch (state->phase)
		{
			case BATCH_LOAD:
				if (state->outer_done)
					state->phase = BATCH_DONE;
				else
					load_batch(state);
				continue;

			case BATCH_MATCH:
				if (state->chain < 0)
				{
					if (!next_remote_row(state))
						state->phase = null_extends ? BATCH_UNMATCHED : BATCH_LOAD;
					continue;
				}
				row = &state->rows[state->chain];
				state->chain = row->next;
				if (row->matched && single_match)
					continue;
				ResetExprContext(econtext);
				form_batch_pair(state, row, true);
				if (!ExecQual(state->join_qual, econtext))
					continue;
				row->matched = true;
				if (state->jointype == JOIN_ANTI)
					continue;
				if (!ExecQual(node->ss.ps.qual, econtext))
				{
					InstrCountFiltered1(node, 1);
					continue;
				}
				return project(state);

			case BATCH_UNMATCHED:
				if (state->unmatched_pos >= state->nrows)
				{
					state->phase = BATCH_LOAD;
					continue;
				}
				row = &state->rows[state->unmatched_pos++];
				if (row->matched)
					continue;
				ResetExprContext(econtext);
				form_batch_pair(state, row, false);
				if (!ExecQual(node->ss.ps.qual, econtext))
				{
					InstrCountFiltered1(node, 1);
					continue;
				}
				return project(state);

			case BATCH_DONE:
				return NULL;
		}
	}
}

/*
 * Starts over: the requests in flight are dropped, the batch forgotten, and
 * the outer side rescanned, with the parameters that changed above.
 */
static void
rescan_batch_join(CustomScanState *node)
{
	BatchJoinState *state = (BatchJoinState *) node;
	PlanState  *outer = linitial(node->custom_ps);

	sf_scan_restart(state->scan);
	MemoryContextReset(state->batch_cxt);
	state->nrows = 0;
	state->keys = NULL;
	state->outer_done = false;
	state->phase = BATCH_LOAD;

	if (node->ss.ps.chgParam != NULL)
		UpdateChangedParamSet(outer, node->ss.ps.chgParam);
	if (outer->chgParam == NULL)
		ExecReScan(outer);
}

/* Frees the scan engine's requests and the join's memory, if begun. */
static void
end_batch_join(CustomScanState *node)
{
	BatchJoinState *state = (BatchJoinState *) node;

	if (state->scan != NULL)
	{
		sf_scan_release(state->scan);
		MemoryContextDelete(state->join_cxt);
	}
	ExecEndNode(linitial(node->custom_ps));
}

/* EXPLAIN's name of the join type; only these four are ever planned. */
static const char *
join_type_name(JoinType jointype)
{
	switch (jointype)
	{
		case JOIN_LEFT:
			return "Left";
		case JOIN_SEMI:
			return "Semi";
		case JOIN_ANTI:
			return "Anti";
		default:
			return "Inner";
	}
}

/*
 * EXPLAIN: the join type, the key condition, the other join conditions, the
 * batch size and the endpoint; with ANALYZE the batches and the requests.
 */
static void
explain_batch_join(CustomScanState *node, List *ancestors, ExplainState *es)
{
	BatchJoinState *state = (BatchJoinState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *context = set_deparse_context_plan(es->deparse_cxt, &cscan->scan.plan,
												   ancestors);
	List	   *others = list_copy_tail(cscan->custom_exprs, 2);

	ExplainPropertyText("Join Type", join_type_name(state->jointype), es);
	ExplainPropertyText("Key Cond",
						deparse_expression(lsecond(cscan->custom_exprs), context,
										   true, false),
						es);
	if (others != NIL)
		ExplainPropertyText("Join Filter",
							deparse_expression((Node *) make_ands_explicit(others),
											   context, true, false),
							es);
	ExplainPropertyInteger("Batch Size", NULL, state->batch_size, es);
	ExplainPropertyText("Endpoint", sf_endpoint_text(state->resource), es);
	if (es->analyze && state->scan != NULL)
	{
		const SfScanStats *stats = sf_scan_stats(state->scan);

		ExplainPropertyInteger("Batches", NULL, state->batches, es);
		ExplainPropertyInteger("Requests", NULL, stats->requests, es);
		ExplainPropertyInteger("Retries", NULL, stats->retries, es);
		ExplainPropertyInteger("Bytes Received", "bytes", stats->bytes, es);
	}
}
