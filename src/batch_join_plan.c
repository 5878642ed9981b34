/*-------------------------------------------------------------------------
 *
 * batch_join_plan.c
 *		  Planning joins that fetch the keys of many outer rows together.
 *
 * A nested loop over a parameterized foreign scan sends one request per
 * outer row, one after the other.  The batched join is a custom join path,
 * offered from set_join_pathlist_hook, for inner, left, semi and anti joins
 * whose inner side is a foreign table of subscriber_fdw and whose join
 * clause gives that table's key from the outer row ("inner.key = outer
 * expression").  Its cost counts the round trips of batches of keys sent
 * max_concurrency at a time, and its plan is a CustomScan over the outer
 * plan, whose execution is batch_join.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/sysattr.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
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

static void add_batch_join_path(PlannerInfo *root, RelOptInfo *joinrel,
								RelOptInfo *outerrel, RelOptInfo *innerrel,
								JoinType jointype, JoinPathExtraData *extra);
static Plan *plan_batch_join(PlannerInfo *root, RelOptInfo *rel,
							 CustomPath *best_path, List *tlist,
							 List *clauses, List *custom_plans);

static const CustomPathMethods batch_join_path_methods = {
	.CustomName = "Batched Join",
	.PlanCustomPath = plan_batch_join,
};

static const CustomScanMethods batch_join_scan_methods = {
	.CustomName = "Batched Join",
	.CreateCustomScanState = sf_batch_join_create_state,
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
