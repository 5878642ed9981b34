/*-------------------------------------------------------------------------
 *
 * pushdown.c
 *		  Keys taken from WHERE clauses and joins, LIMIT pushdown, and counts
 *		  that the API's totals answer.
 *
 * The API can only be asked for the records of a key (a customer or an
 * MSISDN), so a scan is possible only with one.  A key comes from
 * "key = expression", "key = ANY(array expression)", "key IN (...)" or an OR
 * of equalities, where
 * the expression does not depend on the table itself: a constant, a
 * parameter, an initplan's result, or a column of another table through a
 * parameterized path.  The expression is evaluated at execution time, so the
 * same plan serves every value of a parameter.
 *
 * A count of rows grouped by nothing but the key, over a table with no
 * condition but the key, is the sum (or, per key, the value) of the totals
 * the API reports, so such an aggregate needs no record.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_aggregate.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "subscriber_fdw.h"

/* Tells whether a node is the key column of the scanned relation. */
static bool
is_key_var(Node *node, RelOptInfo *baserel, AttrNumber key_attnum)
{
	while (node != NULL && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	return node != NULL && IsA(node, Var) &&
		((Var *) node)->varno == (int) baserel->relid &&
		((Var *) node)->varattno == key_attnum &&
		((Var *) node)->varlevelsup == 0;
}

/*
 * Whether an expression can give key values: it must not read the scanned
 * table, must not change between evaluations, and must not need a subplan
 * of its own.  (pull_varnos takes the PlannerInfo from PostgreSQL 14 on.)
 */
static bool
is_key_source(PlannerInfo *root, Node *node, RelOptInfo *baserel)
{
#if PG_VERSION_NUM >= 140000
	Relids		varnos = pull_varnos(root, node);
#else
	Relids		varnos = pull_varnos(node);
#endif

	return !bms_is_member(baserel->relid, varnos) &&
		!contain_volatile_functions(node) &&
		!contain_subplans(node);
}

/* Whether an operator is the equality of the key's type. */
static bool
is_key_equality(Oid opno, Node *key)
{
	TypeCacheEntry *entry = lookup_type_cache(exprType(key), TYPECACHE_EQ_OPR);

	return OidIsValid(entry->eq_opr) && entry->eq_opr == opno;
}

/*
 * Tells whether a clause fixes the key; if so, returns the expression that
 * gives the key values and whether it yields one value or an array.
 */
bool
sf_match_key_clause(PlannerInfo *root, RelOptInfo *baserel,
					AttrNumber key_attnum, Expr *clause,
					Expr **key_expr, SfKeyKind *kind)
{
	if (key_attnum == InvalidAttrNumber)
		return false;

	if (IsA(clause, OpExpr))
	{
		OpExpr	   *op = (OpExpr *) clause;
		Node	   *left,
				   *right;

		if (list_length(op->args) != 2)
			return false;
		left = linitial(op->args);
		right = lsecond(op->args);
		if (!is_key_var(left, baserel, key_attnum))
		{
			Node	   *swap = left;

			left = right;
			right = swap;
		}
		if (is_key_var(left, baserel, key_attnum) &&
			is_key_equality(op->opno, left) &&
			exprType(left) == exprType(right) &&
			is_key_source(root, right, baserel))
		{
			*key_expr = (Expr *) right;
			*kind = SF_KEY_SCALAR;
			return true;
		}
	}
	else if (is_orclause(clause))
	{
		/* key = a OR key = b ...: the same as key IN (a, b, ...) */
		List	   *elements = NIL;
		Oid			key_type = InvalidOid;
		ListCell   *lc;

		foreach(lc, ((BoolExpr *) clause)->args)
		{
			Expr	   *element;
			SfKeyKind	element_kind;

			if (!sf_match_key_clause(root, baserel, key_attnum, lfirst(lc),
									 &element, &element_kind) ||
				element_kind != SF_KEY_SCALAR ||
				(key_type != InvalidOid && exprType((Node *) element) != key_type))
				return false;
			key_type = exprType((Node *) element);
			elements = lappend(elements, element);
		}
		if (!OidIsValid(get_array_type(key_type)))
			return false;
		{
			ArrayExpr  *array = makeNode(ArrayExpr);

			array->array_typeid = get_array_type(key_type);
			array->element_typeid = key_type;
			array->elements = elements;
			array->multidims = false;
			array->location = -1;
			*key_expr = (Expr *) array;
		}
		*kind = SF_KEY_ARRAY;
		return true;
	}
	else if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;
		Node	   *left = linitial(saop->args);
		Node	   *right = lsecond(saop->args);

		if (saop->useOr &&
			is_key_var(left, baserel, key_attnum) &&
			is_key_equality(saop->opno, left) &&
			get_element_type(exprType(right)) == exprType(left) &&
			is_key_source(root, right, baserel))
		{
			*key_expr = (Expr *) right;
			*kind = SF_KEY_ARRAY;
			return true;
		}
	}
	return false;
}

/* Accepts the equivalence-class members that are the key column. */
static bool
ec_member_is_key(PlannerInfo *root, RelOptInfo *rel, EquivalenceClass *ec,
				 EquivalenceMember *em, void *arg)
{
	return is_key_var((Node *) em->em_expr, rel, *(AttrNumber *) arg);
}

/*
 * The join clauses that could give the key from another relation, for
 * parameterized paths: "key = other.column" written in the query, and the
 * equalities that equivalence classes imply.
 */
List *
sf_parameterized_key_clauses(PlannerInfo *root, RelOptInfo *baserel,
							 AttrNumber key_attnum)
{
	List	   *clauses = NIL;
	ListCell   *lc;

	if (key_attnum == InvalidAttrNumber)
		return NIL;

	foreach(lc, baserel->joininfo)
	{
		RestrictInfo *rinfo = (RestrictInfo *) lfirst(lc);
		Expr	   *key_expr;
		SfKeyKind	kind;

		if (join_clause_is_movable_to(rinfo, baserel) &&
			sf_match_key_clause(root, baserel, key_attnum, rinfo->clause,
								&key_expr, &kind))
			clauses = lappend(clauses, rinfo);
	}

	if (baserel->has_eclass_joins)
	{
		List	   *implied = generate_implied_equalities_for_column(root, baserel,
																	 ec_member_is_key,
																	 &key_attnum,
																	 baserel->lateral_referencers);

		foreach(lc, implied)
		{
			RestrictInfo *rinfo = (RestrictInfo *) lfirst(lc);
			Expr	   *key_expr;
			SfKeyKind	kind;

			if (sf_match_key_clause(root, baserel, key_attnum, rinfo->clause,
									&key_expr, &kind))
				clauses = lappend(clauses, rinfo);
		}
	}
	return clauses;
}

/*
 * The number of records a scan needs at most when the query is a plain
 * "SELECT ... FROM table WHERE <key condition> LIMIT n [OFFSET m]", or -1.
 * Anything between the scan and the LIMIT that could drop, reorder or
 * combine rows (another table, a filter, grouping, sorting, DISTINCT,
 * window functions, set-returning functions) makes the bound unsafe.
 */
int64
sf_pushable_limit(PlannerInfo *root, RelOptInfo *baserel, List *non_key_clauses)
{
	Query	   *parse = root->parse;
	Const	   *count;
	int64		offset = 0;

	if (parse->limitCount == NULL || !IsA(parse->limitCount, Const) ||
		parse->limitOption != LIMIT_OPTION_COUNT)
		return -1;
	if (non_key_clauses != NIL ||
		parse->commandType != CMD_SELECT ||
		parse->groupClause || parse->groupingSets || parse->hasAggs ||
		parse->havingQual || parse->hasWindowFuncs || parse->distinctClause ||
		parse->sortClause || parse->hasTargetSRFs || parse->setOperations ||
		parse->rowMarks || parse->hasSubLinks ||
		list_length(parse->jointree->fromlist) != 1 ||
		!IsA(linitial(parse->jointree->fromlist), RangeTblRef) ||
		((RangeTblRef *) linitial(parse->jointree->fromlist))->rtindex != (int) baserel->relid)
		return -1;

	count = (Const *) parse->limitCount;
	if (count->constisnull)
		return -1;
	if (parse->limitOffset != NULL)
	{
		Const	   *off = (Const *) parse->limitOffset;

		if (!IsA(off, Const))
			return -1;
		if (!off->constisnull)
			offset = Max(0, DatumGetInt64(off->constvalue));
	}
	if (DatumGetInt64(count->constvalue) < 0 ||
		DatumGetInt64(count->constvalue) > PG_INT64_MAX - offset)
		return -1;
	return DatumGetInt64(count->constvalue) + offset;
}

/*
 * Whether the query at this level cannot return a row whatever its scans
 * return: a constant LIMIT 0.  The Limit node sits above every scan, join
 * and aggregate of its level and, with a count of 0, never asks its input
 * for a row, so no scan of the level needs a key or sends a request.
 * Sub-queries and CTEs are planned with their own level.
 */
bool
sf_query_needs_no_rows(PlannerInfo *root)
{
	Query	   *parse = root->parse;
	Const	   *count = (Const *) parse->limitCount;

	return parse->commandType == CMD_SELECT &&
		count != NULL && IsA(count, Const) && !count->constisnull &&
		parse->limitOption == LIMIT_OPTION_COUNT &&
		DatumGetInt64(count->constvalue) == 0;
}

/*
 * Whether an aggregate counts the rows of the key: count(*), count of a
 * constant that is not NULL, or count of the key column, which is never
 * NULL.  DISTINCT, ORDER BY and FILTER need the records.
 */
static bool
is_row_count(Aggref *agg, RelOptInfo *baserel, AttrNumber key_attnum)
{
	Node	   *arg;

	if ((agg->aggfnoid != F_COUNT_ && agg->aggfnoid != F_COUNT_ANY) ||
		agg->aggdistinct != NIL || agg->aggorder != NIL ||
		agg->aggfilter != NULL || agg->aggkind != AGGKIND_NORMAL ||
		agg->agglevelsup != 0 || agg->aggsplit != AGGSPLIT_SIMPLE)
		return false;
	if (agg->aggstar)
		return true;
	if (list_length(agg->args) != 1)
		return false;
	arg = (Node *) ((TargetEntry *) linitial(agg->args))->expr;
	return (IsA(arg, Const) && !((Const *) arg)->constisnull) ||
		is_key_var(arg, baserel, key_attnum);
}

/*
 * Adds to a target list the aggregates and columns of an expression over
 * the grouping step's output; false unless each is a row count, or the key
 * when the query groups by it.
 */
static bool
add_count_atoms(Node *expr, RelOptInfo *baserel, AttrNumber key_attnum,
				bool grouped, List **tlist)
{
	List	   *atoms = pull_var_clause(expr, PVC_INCLUDE_AGGREGATES |
										PVC_RECURSE_PLACEHOLDERS);
	ListCell   *lc;

	foreach(lc, atoms)
	{
		Node	   *atom = lfirst(lc);

		if (IsA(atom, Aggref) ?
			!is_row_count((Aggref *) atom, baserel, key_attnum) :
			!(grouped && is_key_var(atom, baserel, key_attnum)))
			return false;
	}
	*tlist = add_to_flat_tlist(*tlist, atoms);
	return true;
}

/*
 * Whether the grouping step of a query on one foreign table can be answered
 * from the API's totals: every aggregate is a row count, the query groups
 * by nothing or by the key alone, has no grouping sets, and its HAVING
 * reads nothing but row counts and the key.  The caller checks that the
 * table has no condition but the key.  Returns in scan_tlist what the
 * foreign scan produces (the key and the counts), in having the HAVING
 * conditions for the scan to check, and in grouped whether there is a row
 * per key.
 */
bool
sf_count_pushable(PlannerInfo *root, RelOptInfo *baserel, AttrNumber key_attnum,
				  PathTarget *grouping_target, List **scan_tlist,
				  List **having, bool *grouped)
{
	Query	   *parse = root->parse;
	List	   *tlist = NIL;
	ListCell   *lc;

	if (key_attnum == InvalidAttrNumber || !parse->hasAggs ||
		parse->groupingSets != NIL || parse->hasTargetSRFs)
		return false;
	foreach(lc, parse->groupClause)
	{
		Node	   *expr = get_sortgroupclause_expr(lfirst(lc), parse->targetList);

		if (!is_key_var(expr, baserel, key_attnum))
			return false;
	}

	foreach(lc, grouping_target->exprs)
	{
		if (!add_count_atoms(lfirst(lc), baserel, key_attnum,
							 parse->groupClause != NIL, &tlist))
			return false;
	}
	/* by now an implicitly ANDed list of conditions that read aggregates */
	if (parse->havingQual != NULL &&
		(contain_volatile_functions(parse->havingQual) ||
		 !add_count_atoms(parse->havingQual, baserel, key_attnum,
						  parse->groupClause != NIL, &tlist)))
		return false;
	*scan_tlist = tlist;
	*having = (List *) parse->havingQual;
	*grouped = parse->groupClause != NIL;
	return true;
}

/*
 * The key values of a key expression that is known at planning time (a
 * constant or a list of constants), as the scan would ask for them; false
 * when they are known only at execution.
 */
bool
sf_planning_key_values(Expr *key_expr, SfKeyKind kind, List **keys)
{
	ExprContext *econtext;

	if (IsA(key_expr, ArrayExpr))
	{
		ListCell   *lc;

		foreach(lc, ((ArrayExpr *) key_expr)->elements)
		{
			if (!IsA(lfirst(lc), Const))
				return false;
		}
	}
	else if (!IsA(key_expr, Const))
		return false;

	econtext = CreateStandaloneExprContext();
	*keys = sf_key_values(ExecInitExpr(key_expr, NULL), kind, econtext);
	FreeExprContext(econtext, true);
	return true;
}

/* qsort's comparison of key strings, for a stable order of keys. */
static int
compare_keys(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Appends the text form of a key value; empty keys match nothing. */
static List *
append_key(List *keys, Datum value, Oid typid)
{
	Oid			output;
	bool		varlena;
	char	   *text;

	getTypeOutputInfo(typid, &output, &varlena);
	text = OidOutputFunctionCall(output, value);
	return text[0] != '\0' ? lappend(keys, text) : keys;
}

/*
 * Evaluates the key expression: the distinct, non-NULL key values, in a
 * stable order.  A NULL key matches nothing, so it sends nothing; a key
 * given twice must not return its rows twice.
 */
List *
sf_key_values(ExprState *key_state, SfKeyKind kind, ExprContext *econtext)
{
	Oid			typid = exprType((Node *) key_state->expr);
	List	   *keys = NIL;
	bool		isnull;
	Datum		value = ExecEvalExpr(key_state, econtext, &isnull);
	char	  **sorted;
	List	   *distinct = NIL;
	int			n;

	if (isnull)
		return NIL;
	if (kind == SF_KEY_SCALAR)
		return append_key(NIL, value, typid);

	{
		ArrayType  *array = DatumGetArrayTypeP(value);
		Oid			elemtype = ARR_ELEMTYPE(array);
		int16		typlen;
		bool		typbyval;
		char		typalign;
		Datum	   *elems;
		bool	   *nulls;
		int			nelems;

		get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
		deconstruct_array(array, elemtype, typlen, typbyval, typalign,
						  &elems, &nulls, &nelems);
		for (int i = 0; i < nelems; i++)
		{
			if (!nulls[i])
				keys = append_key(keys, elems[i], elemtype);
		}
	}

	n = list_length(keys);
	if (n <= 1)
		return keys;
	sorted = palloc(n * sizeof(char *));
	for (int i = 0; i < n; i++)
		sorted[i] = list_nth(keys, i);
	qsort(sorted, n, sizeof(char *), compare_keys);
	for (int i = 0; i < n; i++)
	{
		if (i == 0 || strcmp(sorted[i], sorted[i - 1]) != 0)
			distinct = lappend(distinct, sorted[i]);
	}
	return distinct;
}
