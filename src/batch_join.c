/*-------------------------------------------------------------------------
 *
 * batch_join.c
 *		  Joins that fetch the keys of many outer rows together.
 *
 * A nested loop over a parameterized foreign scan sends one request per
 * outer row, one after the other.  The batched join is a custom join path,
 * offered from set_join_pathlist_hook, for inner, left, semi and anti joins
 * whose inner side is a foreign table of subscriber_fdw and whose join
 * clause gives that table's key from the outer row ("inner.key = outer
 * expression").  Its node reads join_batch_size outer rows, evaluates their
 * keys, and hands the batch's distinct keys to the scan engine, which fetches
 * them up to max_concurrency at a time.  Each remote row is then joined to
 * the outer rows of its key, found through a hash table of the batch; once
 * the remote rows of a batch are consumed, a left join null-extends the
 * outer rows that found no match and an anti join returns them.  The answer
 * is that of the row-by-row join: the key clause itself, the other join
 * clauses and the inner table's own conditions are all checked on every
 * pair, and the rows of one outer row come from the request for its own key.
 *
 * Memory holds one batch of outer rows, in a context reset before the next
 * batch, and the scan engine's chunks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/sysattr.h"
#include "commands/explain.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#if PG_VERSION_NUM >= 160000
#include "parser/parse_relation.h"
#endif
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/selfuncs.h"

#include "subscriber_fdw.h"

/* subscriber_fdw.enable_batched_join: off plans joins row by row. */
static bool enable_batched_join = true;

static set_join_pathlist_hook_type prev_join_pathlist_hook = NULL;

/*
 * The items of the CustomPath's custom_private: planner nodes that
 * PlanCustomPath turns into the plan.
 */
enum BatchPathPrivateIndex
{
	BatchPathKeyClause,			/* RestrictInfo: inner.key = outer expression */
	BatchPathRestrictList,		/* List of RestrictInfo: every clause of the join */
	BatchPathJoinType,			/* Integer: JOIN_INNER, _LEFT, _SEMI or _ANTI */
	BatchPathInnerRelid			/* Integer: the inner relation's relid */
};

/*
 * The items of the CustomScan's custom_private.  custom_scan_tlist holds the
 * outer plan's columns, then the inner table's columns in the order of the
 * retrieved attributes; custom_exprs holds the key expression, then the key
 * clause, then the other join conditions.
 */
enum BatchScanPrivateIndex
{
	BatchScanJoinType,			/* Integer */
	BatchScanOuterColumns,		/* Integer: outer columns in the scan tuple */
	BatchScanRetrievedAttrs,	/* List of Integer: inner columns read */
	BatchScanResource			/* String: the inner resource's name */
};

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

static void add_batch_join_path(PlannerInfo *root, RelOptInfo *joinrel,
								RelOptInfo *outerrel, RelOptInfo *innerrel,
								JoinType jointype, JoinPathExtraData *extra);
static Plan *plan_batch_join(PlannerInfo *root, RelOptInfo *rel,
							 CustomPath *best_path, List *tlist,
							 List *clauses, List *custom_plans);
static Node *create_batch_join_state(CustomScan *cscan);
static void begin_batch_join(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *exec_batch_join(CustomScanState *node);
static void end_batch_join(CustomScanState *node);
static void rescan_batch_join(CustomScanState *node);
static void explain_batch_join(CustomScanState *node, List *ancestors,
							   ExplainState *es);

static const CustomPathMethods batch_join_path_methods = {
	.CustomName = "Batched Join",
	.PlanCustomPath = plan_batch_join,
};

static const CustomScanMethods batch_join_scan_methods = {
	.CustomName = "Batched Join",
	.CreateCustomScanState = create_batch_join_state,
};

static const CustomExecMethods batch_join_exec_methods = {
	.CustomName = "Batched Join",
	.BeginCustomScan = begin_batch_join,
	.ExecCustomScan = exec_batch_join,
	.EndCustomScan = end_batch_join,
	.ReScanCustomScan = rescan_batch_join,
	.ExplainCustomScan = explain_batch_join,
};

/*
 * Called from _PG_init: the planner hook, the plan node's methods (looked
 * up by name when a plan is read back, as in parallel workers) and the
 * switch that lets a query be planned row by row.
 */
void
sf_batch_join_init(void)
{
	DefineCustomBoolVariable("subscriber_fdw.enable_batched_join",
							 "Lets joins on the key of a subscriber_fdw table fetch many keys together.",
							 "Off, such joins run as nested loops with one request per outer row.",
							 &enable_batched_join,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("subscriber_fdw");
#else
	EmitWarningsOnPlaceholders("subscriber_fdw");
#endif
	RegisterCustomScanMethods(&batch_join_scan_methods);
	prev_join_pathlist_hook = set_join_pathlist_hook;
	set_join_pathlist_hook = add_batch_join_path;
}

/*
 * The inner table's columns that the join reads: those needed above it and
 * those its own conditions test.  False when one cannot be taken from a
 * remote row by attribute number (a whole-row reference, a system column,
 * an expression computed at the inner scan).
 */
static bool
inner_attributes(RelOptInfo *innerrel, List *restrictlist, List **attnums)
{
	Bitmapset  *attrs = NULL;
	ListCell   *lc;
	int			attr;

	foreach(lc, innerrel->reltarget->exprs)
	{
		if (!IsA(lfirst(lc), Var))
			return false;
	}
	pull_varattnos((Node *) innerrel->reltarget->exprs, innerrel->relid, &attrs);
	foreach(lc, innerrel->baserestrictinfo)
		pull_varattnos((Node *) ((RestrictInfo *) lfirst(lc))->clause,
					   innerrel->relid, &attrs);
	foreach(lc, restrictlist)
		pull_varattnos((Node *) ((RestrictInfo *) lfirst(lc))->clause,
					   innerrel->relid, &attrs);

	*attnums = NIL;
	attr = -1;
	while ((attr = bms_next_member(attrs, attr)) >= 0)
	{
		AttrNumber	attnum = attr + FirstLowInvalidHeapAttributeNumber;

		if (attnum <= 0)
			return false;
		*attnums = lappend_int(*attnums, attnum);
	}
	return true;
}

/*
 * The join clause that gives the inner table's key from the outer side
 * alone, with that outer expression; NULL if none does.  For a left or anti
 * join the clause must decide which rows match, not filter the result (as
 * in a nested loop, every clause of a semi join decides the match).
 */
static RestrictInfo *
find_key_clause(PlannerInfo *root, RelOptInfo *joinrel, RelOptInfo *outerrel,
				RelOptInfo *innerrel, const SfRelInfo *info, JoinType jointype,
				List *restrictlist, Expr **key_expr)
{
	ListCell   *lc;

	foreach(lc, restrictlist)
	{
		RestrictInfo *rinfo = (RestrictInfo *) lfirst(lc);
		SfKeyKind	kind;

		if (rinfo->pseudoconstant ||
			(IS_OUTER_JOIN(jointype) && RINFO_IS_PUSHED_DOWN(rinfo, joinrel->relids)))
			continue;
		if (sf_match_key_clause(root, innerrel, info->key_attnum, rinfo->clause,
								key_expr, &kind) &&
			kind == SF_KEY_SCALAR &&
			bms_is_subset(pull_varnos(root, (Node *) *key_expr), outerrel->relids))
			return rinfo;
	}
	return NULL;
}

/*
 * Remote rows per key, estimated as for the parameterized scan that a
 * nested loop would use, so that the two paths are compared on the same
 * rows and differ in their round trips only.
 */
static double
param_rows_per_key(PlannerInfo *root, RelOptInfo *innerrel, RestrictInfo *key_clause)
{
	Relids		required_outer = bms_difference(key_clause->clause_relids,
												innerrel->relids);

	return get_baserel_parampathinfo(root, innerrel, required_outer)->ppi_rows;
}

/*
 * The cost of the batched join, in round trips: every batch sends its
 * distinct keys max_concurrency at a time, so a batch of K keys costs about
 * K / max_concurrency requests' time, where a nested loop pays for each of
 * them in turn.  The rest is counted as the foreign scan counts it, a price
 * per record, but without its fixed start: for one outer row both plans
 * send one request, and a tie goes to the batched join, which is never
 * slower and is much faster where the outer side was underestimated (the
 * usual case of a filtered foreign table, estimated without statistics).
 */
static void
cost_batch_join(PlannerInfo *root, CustomPath *path, Path *outer_path,
				RelOptInfo *innerrel, const SfRelInfo *info,
				RestrictInfo *key_clause, Expr *key_expr, List *quals)
{
	double		outer_rows = Max(outer_path->rows, 1);
	double		batch_size = info->options->join_batch_size;
	double		concurrency = info->options->max_concurrency;
	double		distinct = estimate_num_groups(root, list_make1(key_expr), outer_rows,
											   NULL, NULL);
	double		batches = ceil(outer_rows / batch_size);
	double		keys_per_batch = Min(distinct, outer_rows / batches);
	double		rounds_per_batch = ceil(keys_per_batch / concurrency);
	double		rows_per_key = param_rows_per_key(root, innerrel, key_clause);
	double		inner_rows = batches * keys_per_batch * rows_per_key;
	double		pairs = inner_rows * (outer_rows / Max(distinct, 1));
	QualCost	qual_cost;
	Cost		first_batch;

	cost_qual_eval(&qual_cost, quals, root);
	first_batch = (outer_path->total_cost - outer_path->startup_cost) / batches;

	path->path.startup_cost = outer_path->startup_cost + first_batch +
		SF_REQUEST_COST * rounds_per_batch;
	path->path.total_cost = outer_path->total_cost +
		SF_REQUEST_COST * batches * rounds_per_batch +
		inner_rows * cpu_tuple_cost * SF_RECORD_COST_FACTOR +
		outer_rows * (cpu_tuple_cost + cpu_operator_cost) +
		pairs * (qual_cost.per_tuple + cpu_tuple_cost) +
		qual_cost.startup;
}

/*
 * set_join_pathlist_hook: offers a batched join when the inner side is a
 * subscriber_fdw table whose key the join clause gives from the outer side.
 * An IN (SELECT ...) over the outer side arrives as JOIN_UNIQUE_OUTER: the
 * outer side made distinct, then joined as an inner join.
 */
static void
add_batch_join_path(PlannerInfo *root, RelOptInfo *joinrel,
					RelOptInfo *outerrel, RelOptInfo *innerrel,
					JoinType jointype, JoinPathExtraData *extra)
{
	SfRelInfo  *info;
	RestrictInfo *key_clause;
	Expr	   *key_expr;
	Path	   *outer_path;
	List	   *attnums;
	CustomPath *path;
	List	   *quals = NIL;
	ListCell   *lc;

	if (prev_join_pathlist_hook)
		prev_join_pathlist_hook(root, joinrel, outerrel, innerrel, jointype, extra);

	if (!enable_batched_join || root->rowMarks != NIL)
		return;
	if (jointype != JOIN_INNER && jointype != JOIN_LEFT &&
		jointype != JOIN_SEMI && jointype != JOIN_ANTI &&
		jointype != JOIN_UNIQUE_OUTER)
		return;
	info = sf_rel_info(innerrel);
	if (info == NULL || info->key_attnum == InvalidAttrNumber ||
		!bms_is_empty(innerrel->lateral_relids))
		return;

	outer_path = outerrel->cheapest_total_path;
	if (outer_path == NULL || PATH_REQ_OUTER(outer_path) != NULL)
		return;
	if (jointype == JOIN_UNIQUE_OUTER)
	{
		outer_path = (Path *) create_unique_path(root, outerrel, outer_path,
												 extra->sjinfo);
		if (outer_path == NULL)
			return;
		jointype = JOIN_INNER;
	}

	key_clause = find_key_clause(root, joinrel, outerrel, innerrel, info, jointype,
								 extra->restrictlist, &key_expr);
	if (key_clause == NULL ||
		!inner_attributes(innerrel, extra->restrictlist, &attnums))
		return;

	foreach(lc, extra->restrictlist)
		quals = lappend(quals, ((RestrictInfo *) lfirst(lc))->clause);
	foreach(lc, innerrel->baserestrictinfo)
		quals = lappend(quals, ((RestrictInfo *) lfirst(lc))->clause);

	path = makeNode(CustomPath);
	path->path.pathtype = T_CustomScan;
	path->path.parent = joinrel;
	path->path.pathtarget = joinrel->reltarget;
	path->path.param_info = NULL;
	path->path.parallel_aware = false;
	path->path.parallel_safe = false;
	path->path.parallel_workers = 0;
	path->path.rows = joinrel->rows;
	path->path.pathkeys = NIL;
#ifdef CUSTOMPATH_SUPPORT_PROJECTION
	path->flags = CUSTOMPATH_SUPPORT_PROJECTION;
#endif
	path->custom_paths = list_make1(outer_path);
	path->custom_private = list_make4(key_clause, extra->restrictlist,
									  makeInteger(jointype),
									  makeInteger(innerrel->relid));
	path->methods = &batch_join_path_methods;
	cost_batch_join(root, path, outer_path, innerrel, info, key_clause, key_expr, quals);
	add_path(joinrel, (Path *) path);
}

/*
 * The key clause written "inner.key = outer expression", whichever way the
 * query or an equivalence class wrote it, so that EXPLAIN reads the same for
 * every join.  The operator is the key type's equality, its own commutator.
 */
static Expr *
key_first(RestrictInfo *key_clause, Expr *key_expr)
{
	OpExpr	   *op = (OpExpr *) copyObject(key_clause->clause);

	if (linitial(((OpExpr *) key_clause->clause)->args) == key_expr)
		op->args = list_make2(lsecond(op->args), linitial(op->args));
	return (Expr *) op;
}

/*
 * Turns the path into a CustomScan over the outer plan.  The scan tuple is
 * the outer plan's columns followed by the inner table's, so that the
 * target list, the key expression and every condition are evaluated on it.
 */
static Plan *
plan_batch_join(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
				List *tlist, List *clauses, List *custom_plans)
{
	RestrictInfo *key_clause = list_nth(best_path->custom_private, BatchPathKeyClause);
	List	   *restrictlist = list_nth(best_path->custom_private, BatchPathRestrictList);
	JoinType	jointype = intVal(list_nth(best_path->custom_private, BatchPathJoinType));
	Index		inner_relid = intVal(list_nth(best_path->custom_private, BatchPathInnerRelid));
	RelOptInfo *innerrel = find_base_rel(root, inner_relid);
	SfRelInfo  *info = sf_rel_info(innerrel);
	Plan	   *outer_plan = linitial(custom_plans);
	Oid			relid = planner_rt_fetch(inner_relid, root)->relid;
	CustomScan *cscan = makeNode(CustomScan);
	List	   *scan_tlist = NIL;
	List	   *join_quals = NIL;
	List	   *other_quals = extract_actual_clauses(clauses, false);
	List	   *attnums;
	Expr	   *key_expr;
	SfKeyKind	kind;
	ListCell   *lc;

	if (!sf_match_key_clause(root, innerrel, info->key_attnum, key_clause->clause,
							 &key_expr, &kind) ||
		!inner_attributes(innerrel, restrictlist, &attnums))
		elog(ERROR, "batched join no longer matches its key clause");

	foreach(lc, restrictlist)
	{
		RestrictInfo *rinfo = (RestrictInfo *) lfirst(lc);

		if (rinfo == key_clause)
			continue;
		if (IS_OUTER_JOIN(jointype) && RINFO_IS_PUSHED_DOWN(rinfo, rel->relids))
			other_quals = lappend(other_quals, rinfo->clause);
		else
			join_quals = lappend(join_quals, rinfo->clause);
	}
	/* the inner table's own conditions decide which remote rows exist */
	foreach(lc, innerrel->baserestrictinfo)
		join_quals = lappend(join_quals, ((RestrictInfo *) lfirst(lc))->clause);

	foreach(lc, outer_plan->targetlist)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);

		scan_tlist = lappend(scan_tlist,
							 makeTargetEntry(copyObject(tle->expr),
											 list_length(scan_tlist) + 1, NULL, false));
	}
	foreach(lc, attnums)
	{
		AttrNumber	attnum = lfirst_int(lc);
		Oid			type;
		int32		typmod;
		Oid			collation;

		get_atttypetypmodcoll(relid, attnum, &type, &typmod, &collation);
		scan_tlist = lappend(scan_tlist,
							 makeTargetEntry((Expr *) makeVar(inner_relid, attnum, type,
															  typmod, collation, 0),
											 list_length(scan_tlist) + 1, NULL, false));
	}

	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = other_quals;
	cscan->scan.scanrelid = 0;
	cscan->flags = best_path->flags;
	cscan->custom_plans = custom_plans;
	cscan->custom_exprs = lcons(key_expr, lcons(key_first(key_clause, key_expr), join_quals));
	cscan->custom_private = list_make4(makeInteger(jointype),
									   makeInteger(list_length(outer_plan->targetlist)),
									   attnums,
									   makeString(pstrdup(info->resource->name)));
	cscan->custom_scan_tlist = scan_tlist;
	cscan->methods = &batch_join_scan_methods;
	return &cscan->scan.plan;
}

/* The executor's state node for a plan node; begin_batch_join fills it in. */
static Node *
create_batch_join_state(CustomScan *cscan)
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
	List	   *retrieved = list_nth(cscan->custom_private, BatchScanRetrievedAttrs);
	PlanState  *outer;
	Index		rti;
	Relation	rel;
	MemoryContext old;
	int			i = 0;
	ListCell   *lc;

	state->jointype = intVal(list_nth(cscan->custom_private, BatchScanJoinType));
	state->nouter = intVal(list_nth(cscan->custom_private, BatchScanOuterColumns));
	state->ninner = list_length(retrieved);
	state->inner_attnums = palloc(state->ninner * sizeof(AttrNumber));
	foreach(lc, retrieved)
		state->inner_attnums[i++] = lfirst_int(lc);
	state->resource = sf_resource_lookup(strVal(list_nth(cscan->custom_private,
														 BatchScanResource)));

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
