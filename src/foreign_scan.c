/*-------------------------------------------------------------------------
 *
 * foreign_scan.c
 *		  The foreign scan at execution: its callbacks and EXPLAIN.
 *
 * A plan (subscriber_fdw.c) holds the resource, where the key comes from
 * and the key expression, the columns to convert and a pushed-down limit.
 * The scan evaluates its keys at the first row of every pass, since they
 * may depend on parameters, and hands them to the scan engine (scan.c), or
 * to a counter (count.c) when it counts from the API's totals.  A row's
 * memory is freed before the next row is made.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/explain.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include "subscriber_fdw.h"

/* Execution state of a foreign scan. */
typedef struct SfScanState
{
	MemoryContext scan_cxt;		/* everything of the scan */
	MemoryContext row_cxt;		/* reset for every row */
	SfOptions  *options;
	const SfResource *resource;
	Oid			serverid;		/* whose known sizes the totals go to */
	ExprState  *key_state;		/* NULL when the key is the option */
	int			key_kind;		/* SfKeyKind, SF_KEY_FROM_OPTION or
								 * SF_KEY_NONE */
	SfScan	   *scan;
	bool		keys_set;

	/* a count from the totals */
	SfCountMode count_mode;
	SfCounter  *counter;		/* NULL when the scan returns records */
} SfScanState;

/* The record limit a plan was made with, -1 for none. */
static int64
plan_limit(ForeignScan *plan)
{
	return DatumGetInt64(((Const *) list_nth(plan->fdw_private,
											 SfScanPrivateLimit))->constvalue);
}

/*
 * The range-table index of the foreign table a plan reads; a count from the
 * totals has no scanrelid but the table as its only base relation.
 */
static Index
plan_relation(ForeignScan *plan)
{
	if (plan->scan.scanrelid > 0)
		return plan->scan.scanrelid;
#if PG_VERSION_NUM >= 160000
	return bms_next_member(plan->fs_base_relids, -1);
#else
	return bms_next_member(plan->fs_relids, -1);
#endif
}

/* Remembers the total that a scan saw for a key, for later estimates. */
static void
remember_total(void *arg, const char *key, int64 total)
{
	SfScanState *state = (SfScanState *) arg;

	sf_known_size_remember(state->serverid, state->resource, key, total);
}

/*
 * Sets up the scan's memory (one context for the scan, one reset per row),
 * the converter and the scan engine.  Nothing is sent yet: the key values
 * may depend on parameters that are only known at the first row.
 */
void
sf_foreign_scan_begin(ForeignScanState *node, int eflags)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	Index		rti = plan_relation(plan);
	Relation	rel;
	SfScanState *state;
	Oid			userid;
	List	   *retrieved;
	SfRecordConverter *converter;
	MemoryContext old;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	/* a count has no scan relation of its own; the table is in the range table */
	rel = plan->scan.scanrelid > 0 ? node->ss.ss_currentRelation :
		ExecOpenScanRelation(estate, rti, eflags);

#if PG_VERSION_NUM >= 160000
	userid = OidIsValid(plan->checkAsUser) ? plan->checkAsUser : GetUserId();
#else
	{
		RangeTblEntry *rte = exec_rt_fetch(rti, estate);

		userid = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
	}
#endif

	state = palloc0(sizeof(SfScanState));
	node->fdw_state = state;
	state->scan_cxt = AllocSetContextCreate(estate->es_query_cxt,
											"subscriber_fdw scan",
											ALLOCSET_DEFAULT_SIZES);
	state->row_cxt = AllocSetContextCreate(state->scan_cxt, "subscriber_fdw row",
										   SF_ROW_CONTEXT_SIZES);

	old = MemoryContextSwitchTo(state->scan_cxt);
	state->options = sf_get_options(RelationGetRelid(rel), userid);
	state->serverid = GetForeignTable(RelationGetRelid(rel))->serverid;
	state->resource = sf_resource_lookup(strVal(list_nth(plan->fdw_private,
														 SfScanPrivateResource)));
	state->key_kind = intVal(list_nth(plan->fdw_private, SfScanPrivateKeyKind));
	state->count_mode = (SfCountMode) intVal(list_nth(plan->fdw_private,
													  SfScanPrivateCount));
	retrieved = list_nth(plan->fdw_private, SfScanPrivateRetrievedAttrs);
	converter = sf_converter_create(state->resource, rel, retrieved, state->options);
	state->scan = sf_scan_create(state->scan_cxt, state->resource, state->options,
								 converter, plan_limit(plan));
	sf_scan_set_total_hook(state->scan, remember_total, state);
	if (state->count_mode != SF_COUNT_NONE)
		state->counter = sf_counter_create(state->scan, state->resource, state->serverid,
										   state->count_mode == SF_COUNT_PER_KEY,
										   RelationGetDescr(rel), plan->fdw_scan_tlist);
	MemoryContextSwitchTo(old);

	if (state->key_kind >= 0)
		state->key_state = ExecInitExpr(linitial(plan->fdw_exprs), (PlanState *) node);
}

/*
 * The keys of this pass, in the row context; parameters may have changed
 * since the last pass.
 */
static List *
key_values(ForeignScanState *node, SfScanState *state)
{
	MemoryContext old = MemoryContextSwitchTo(state->row_cxt);
	List	   *keys;

	if (state->key_kind >= 0)
		keys = sf_key_values(state->key_state, (SfKeyKind) state->key_kind,
							 node->ss.ps.ps_ExprContext);
	else if (state->key_kind == SF_KEY_FROM_OPTION)
		keys = list_make1(state->options->customer_id);
	else
		keys = NIL;
	MemoryContextSwitchTo(old);
	return keys;
}

/* Hands the keys of this pass to the scan engine, which copies them. */
static void
set_keys(ForeignScanState *node, SfScanState *state)
{
	sf_scan_set_keys(state->scan, key_values(node, state));
	MemoryContextReset(state->row_cxt);
	state->keys_set = true;
}

/*
 * Returns the next row; the previous row's memory is freed first, so a scan
 * holds one row's conversions at a time whatever the number of rows.
 */
TupleTableSlot *
sf_foreign_scan_iterate(ForeignScanState *node)
{
	SfScanState *state = (SfScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	MemoryContext old;

	if (state->counter != NULL)
	{
		if (!state->keys_set)
		{
			sf_counter_count(state->counter, key_values(node, state));
			MemoryContextReset(state->row_cxt);
			state->keys_set = true;
		}
		return sf_counter_next(state->counter, slot);
	}

	if (!state->keys_set)
		set_keys(node, state);

	MemoryContextReset(state->row_cxt);
	old = MemoryContextSwitchTo(state->row_cxt);
	if (!sf_scan_next(state->scan, slot))
		ExecClearTuple(slot);
	MemoryContextSwitchTo(old);
	return slot;
}

/*
 * Forgets the requests of the previous pass.  The keys are evaluated again
 * at the next row, because a nested loop rescans with new parameter values.
 */
void
sf_foreign_scan_rescan(ForeignScanState *node)
{
	SfScanState *state = (SfScanState *) node->fdw_state;

	sf_scan_restart(state->scan);
	state->keys_set = false;
	if (state->counter != NULL)
		sf_counter_restart(state->counter);
}

/*
 * Releases the transfers still in flight and the scan's memory; an error
 * path gets the same through the memory contexts' reset callbacks.
 */
void
sf_foreign_scan_end(ForeignScanState *node)
{
	SfScanState *state = (SfScanState *) node->fdw_state;

	if (state == NULL)
		return;
	sf_scan_release(state->scan);
	if (state->counter != NULL)
		sf_counter_release(state->counter);
	MemoryContextDelete(state->scan_cxt);
	node->fdw_state = NULL;
}

/* The endpoint as "METHOD /path/{key_column}/...". */
char *
sf_endpoint_text(const SfResource *resource)
{
	return psprintf("%s %s", sf_http_method_name(resource->method),
					sf_resource_path(resource, psprintf("{%s}", resource->key_column)));
}

/*
 * Shows what the scan asks the API for: the endpoint, the key condition and
 * a pushed-down limit; with ANALYZE, what it cost in requests and bytes.
 */
void
sf_foreign_scan_explain(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	const SfResource *resource =
		sf_resource_lookup(strVal(list_nth(plan->fdw_private, SfScanPrivateResource)));
	int			key_kind = intVal(list_nth(plan->fdw_private, SfScanPrivateKeyKind));
	SfCountMode count_mode = (SfCountMode) intVal(list_nth(plan->fdw_private,
														   SfScanPrivateCount));
	int64		limit = plan_limit(plan);
	SfScanState *state = (SfScanState *) node->fdw_state;

	if (count_mode != SF_COUNT_NONE)
	{
		Oid			relid = rt_fetch(plan_relation(plan), es->rtable)->relid;

		ExplainPropertyText("Relations",
							psprintf("Aggregate on (%s)",
									 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
																get_rel_name(relid))),
							es);
	}
	ExplainPropertyText("Endpoint", sf_endpoint_text(resource), es);
	if (key_kind >= 0)
	{
		List	   *context = set_deparse_context_plan(es->deparse_cxt,
													   node->ss.ps.plan, NIL);
		char	   *expr = deparse_expression(linitial(plan->fdw_exprs), context,
											  false, false);

		ExplainPropertyText("Key",
							key_kind == SF_KEY_SCALAR ?
							psprintf("%s = %s", resource->key_column, expr) :
							psprintf("%s = ANY (%s)", resource->key_column, expr),
							es);
	}
	else if (key_kind == SF_KEY_FROM_OPTION)
		ExplainPropertyText("Key", psprintf("%s from option \"customer_id\"",
											resource->key_column), es);
	else
		ExplainPropertyText("Key", "none, the query returns no rows", es);
	if (count_mode == SF_COUNT_TOTAL)
		ExplainPropertyText("Count", "from the API's totals", es);
	else if (count_mode == SF_COUNT_PER_KEY)
		ExplainPropertyText("Count", psprintf("from the API's totals, per %s",
											  resource->key_column), es);
	if (limit >= 0)
		ExplainPropertyInteger("Remote Limit", NULL, limit, es);
	if (es->analyze && state != NULL)
	{
		const SfScanStats *stats = sf_scan_stats(state->scan);

		ExplainPropertyInteger("Requests", NULL, stats->requests, es);
		ExplainPropertyInteger("Retries", NULL, stats->retries, es);
		ExplainPropertyInteger("Bytes Received", "bytes", stats->bytes, es);
	}
}
