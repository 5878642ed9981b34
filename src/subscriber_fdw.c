/*-------------------------------------------------------------------------
 *
 * subscriber_fdw.c
 *		  Foreign-data wrapper handler, planning and IMPORT FOREIGN SCHEMA.
 *
 * Planning finds the key of a scan (pushdown.c) and offers a plain path when
 * the WHERE clause or the customer_id option gives one, and a parameterized
 * path for every join clause that can, so that a nested loop sends one
 * request per outer row (batch_join_plan.c offers a join that sends the
 * keys of many outer rows together, from what planning stored here).  A
 * scan without any key is given a prohibitive cost and, if the planner
 * still has to choose it, fails with an error that names the condition to
 * add, unless the query cannot return a row (LIMIT 0): such a scan needs no
 * key and sends nothing.  A count of rows with no condition but the key is
 * offered as a foreign scan of the grouping step that reads only the API's
 * totals, one request of one record per key.  Row estimates use the sizes
 * of keys that earlier scans saw (known_sizes.c).  Execution and EXPLAIN
 * are foreign_scan.c's, which hands everything else to the scan engine
 * (scan.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "subscriber_fdw.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(subscriber_fdw_handler);
PG_FUNCTION_INFO_V1(subscriber_fdw_version);

/* Cost of a scan that has no key: never chosen while anything else works. */
#define UNKEYED_COST		1.0e10

/* Keys assumed for an array whose length is unknown at planning time. */
#define DEFAULT_ARRAY_KEYS	10

/* A count from the totals, in the grouping relation's fdw_private. */
typedef struct SfCountInfo
{
	RelOptInfo *baserel;		/* the foreign table counted */
	List	   *scan_tlist;		/* the key and the counts, as TargetEntries */
	List	   *having;			/* HAVING conditions, checked by the scan */
	bool		grouped;		/* GROUP BY the key */
} SfCountInfo;

static void subscriberGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
										Oid foreigntableid);
static void subscriberGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
									  Oid foreigntableid);
static ForeignScan *subscriberGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
											 Oid foreigntableid, ForeignPath *best_path,
											 List *tlist, List *scan_clauses,
											 Plan *outer_plan);
static void subscriberGetForeignUpperPaths(PlannerInfo *root,
										   UpperRelationKind stage,
										   RelOptInfo *input_rel,
										   RelOptInfo *output_rel, void *extra);
static List *subscriberImportForeignSchema(ImportForeignSchemaStmt *stmt,
										   Oid serverOid);

extern PGDLLEXPORT void _PG_init(void);

/* libcurl's global state is set up once per backend, before any thread. */
void
_PG_init(void)
{
	sf_http_global_init();
	sf_shared_state_init();
	sf_batch_join_init();
}

/* The wrapper is read-only: scans, counts, their EXPLAIN, and schema import. */
Datum
subscriber_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = subscriberGetForeignRelSize;
	routine->GetForeignPaths = subscriberGetForeignPaths;
	routine->GetForeignPlan = subscriberGetForeignPlan;
	routine->GetForeignUpperPaths = subscriberGetForeignUpperPaths;
	routine->BeginForeignScan = sf_foreign_scan_begin;
	routine->IterateForeignScan = sf_foreign_scan_iterate;
	routine->ReScanForeignScan = sf_foreign_scan_rescan;
	routine->EndForeignScan = sf_foreign_scan_end;
	routine->ExplainForeignScan = sf_foreign_scan_explain;
	routine->ImportForeignSchema = subscriberImportForeignSchema;
	PG_RETURN_POINTER(routine);
}

/* The version of the loaded library, which may differ from the SQL objects'. */
Datum
subscriber_fdw_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(SUBSCRIBER_FDW_VERSION));
}

/* The user whose mapping a scan of the relation uses. */
static Oid
planning_user(PlannerInfo *root, RelOptInfo *baserel)
{
#if PG_VERSION_NUM >= 160000
	return OidIsValid(baserel->userid) ? baserel->userid : GetUserId();
#else
	RangeTblEntry *rte = planner_rt_fetch(baserel->relid, root);

	return OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
#endif
}

/*
 * Checks that every column of the table can be produced, and finds the key
 * column.  A column neither in the catalog nor given a json_path is an
 * error here, at planning time, rather than NULLs at execution.
 */
static AttrNumber
check_columns(Oid foreigntableid, const SfResource *resource)
{
	Relation	rel = table_open(foreigntableid, NoLock);
	TupleDesc	tupdesc = RelationGetDescr(rel);
	AttrNumber	key_attnum = InvalidAttrNumber;

	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupdesc, i);
		const SfColumnDef *def;
		char	   *json_path;

		if (attr->attisdropped)
			continue;
		json_path = sf_get_column_json_path(foreigntableid, attr->attnum);
		def = sf_resource_column(resource, NameStr(attr->attname));
		if (def == NULL && json_path == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
					 errmsg("column \"%s\" of foreign table \"%s\" has no source",
							NameStr(attr->attname), RelationGetRelationName(rel)),
					 errdetail("Resource \"%s\" has no column of that name.",
							   resource->name),
					 errhint("Give the column a JSON path, as in ALTER FOREIGN TABLE %s ALTER COLUMN %s OPTIONS (ADD json_path 'lastConnectedNetwork.mcc').",
							 quote_identifier(RelationGetRelationName(rel)),
							 quote_identifier(NameStr(attr->attname)))));
		if (def != NULL && def->source == SF_SOURCE_KEY && json_path == NULL)
			key_attnum = attr->attnum;
	}
	table_close(rel, NoLock);
	return key_attnum;
}

/* Whether a join clause of the relation reads the given column. */
static bool
joins_on_column(RelOptInfo *baserel, AttrNumber attnum)
{
	ListCell   *lc;

	if (attnum == InvalidAttrNumber)
		return false;
	foreach(lc, baserel->joininfo)
	{
		Bitmapset  *attrs = NULL;

		pull_varattnos((Node *) ((RestrictInfo *) lfirst(lc))->clause,
					   baserel->relid, &attrs);
		if (bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber, attrs))
			return true;
	}
	return false;
}

/* Estimates how many keys a key expression yields. */
static double
estimate_keys(Expr *key_expr, SfKeyKind kind)
{
	if (kind == SF_KEY_SCALAR)
		return 1;
	if (IsA(key_expr, ArrayExpr))
		return Max(1, list_length(((ArrayExpr *) key_expr)->elements));
	if (IsA(key_expr, Const) && !((Const *) key_expr)->constisnull)
	{
		ArrayType  *array = DatumGetArrayTypeP(((Const *) key_expr)->constvalue);

		return Max(1, ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array)));
	}
	return DEFAULT_ARRAY_KEYS;
}

/*
 * The records a scan is expected to read: the remembered size of each key
 * known at planning time, and rows_per_key for every other key.  Sets the
 * estimated number of keys too.
 */
static double
estimate_records(RelOptInfo *baserel, SfRelInfo *info, Expr *key_expr)
{
	const SfResource *resource = info->resource;
	List	   *keys;
	double		records = 0;
	ListCell   *lc;

	if (info->key_clause != NULL)
	{
		info->keys = estimate_keys(key_expr, info->key_kind);
		if (!sf_planning_key_values(key_expr, info->key_kind, &keys))
			return info->keys * resource->rows_per_key;
		info->keys = Max(1, list_length(keys));
	}
	else if (info->option_key)
		keys = list_make1(info->options->customer_id);
	else
		return resource->rows_per_key;

	foreach(lc, keys)
	{
		int64		known;

		if (sf_known_size_lookup(baserel->serverid, resource, lfirst(lc), &known))
			records += known;
		else
			records += resource->rows_per_key;
	}
	return records;
}

/*
 * Finds the key condition once per relation, so that paths, costs and the
 * plan agree on it, and estimates rows from the keys: the API answers per
 * key, and a key's size is known from an earlier answer or guessed from the
 * catalog.
 */
static void
subscriberGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
							Oid foreigntableid)
{
	SfRelInfo  *info = palloc0(sizeof(SfRelInfo));
	ListCell   *lc;
	Expr	   *key_expr = NULL;

	info->options = sf_get_options(foreigntableid, planning_user(root, baserel));
	info->resource = sf_resource_lookup(info->options->resource);
	info->key_attnum = check_columns(foreigntableid, info->resource);
	info->keys = 1;

	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *rinfo = (RestrictInfo *) lfirst(lc);
		Expr	   *candidate;
		SfKeyKind	kind;

		/* the first scalar key wins over any array key */
		if ((info->key_clause == NULL || info->key_kind == SF_KEY_ARRAY) &&
			sf_match_key_clause(root, baserel, info->key_attnum, rinfo->clause,
								&candidate, &kind) &&
			(info->key_clause == NULL || kind == SF_KEY_SCALAR))
		{
			if (info->key_clause != NULL)
				info->non_key_clauses = lappend(info->non_key_clauses, info->key_clause);
			info->key_clause = rinfo;
			info->key_kind = kind;
			key_expr = candidate;
		}
		else
			info->non_key_clauses = lappend(info->non_key_clauses, rinfo);
	}
	/*
	 * The customer_id option is a fallback for queries that name no
	 * customer.  A query that joins on the key names its customers through
	 * the join, and answering it from the default customer alone would
	 * silently drop rows.
	 */
	info->join_key_clauses = sf_parameterized_key_clauses(root, baserel, info->key_attnum);
	info->option_key = info->resource->key_from_customer_option &&
		info->options->customer_id != NULL &&
		info->join_key_clauses == NIL &&
		!joins_on_column(baserel, info->key_attnum);
	info->no_rows = sf_query_needs_no_rows(root);

	baserel->fdw_private = info;
	baserel->rows = clamp_row_est(estimate_records(baserel, info, key_expr) *
								  clauselist_selectivity(root, info->non_key_clauses,
														 baserel->relid, JOIN_INNER,
														 NULL));
}

/*
 * The planning facts of a base relation that is a foreign table of
 * subscriber_fdw, or NULL for any other relation; batch_join_plan.c asks it
 * of the inner side of every join.
 */
SfRelInfo *
sf_rel_info(RelOptInfo *rel)
{
	if (rel->reloptkind != RELOPT_BASEREL || rel->rtekind != RTE_RELATION ||
		rel->fdwroutine == NULL ||
		rel->fdwroutine->GetForeignRelSize != subscriberGetForeignRelSize)
		return NULL;
	return (SfRelInfo *) rel->fdw_private;
}

/*
 * A foreign path whose cost is one request per key and a share per record;
 * a scan without a key starts at a higher cost.
 */
static ForeignPath *
make_path(PlannerInfo *root, RelOptInfo *baserel, double rows, double keys,
		  Relids required_outer, List *fdw_private, bool keyed)
{
	Cost		startup = keyed ? SF_REQUEST_COST : UNKEYED_COST;
	Cost		total = startup + keys * SF_REQUEST_COST +
		rows * cpu_tuple_cost * SF_RECORD_COST_FACTOR;

#if PG_VERSION_NUM >= 170000
	return create_foreignscan_path(root, baserel, NULL, rows, startup, total,
								   NIL, required_outer, NULL, NIL, fdw_private);
#else
	return create_foreignscan_path(root, baserel, NULL, rows, startup, total,
								   NIL, required_outer, NULL, fdw_private);
#endif
}

/*
 * Offers the plain path and one parameterized path per join clause that can
 * give the key.  A parameterized path's fdw_private names its key clause.
 */
static void
subscriberGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
						  Oid foreigntableid)
{
	SfRelInfo  *info = (SfRelInfo *) baserel->fdw_private;
	bool		keyed = info->key_clause != NULL || info->option_key || info->no_rows;
	ListCell   *lc;

	add_path(baserel, (Path *) make_path(root, baserel, baserel->rows, info->keys,
										 NULL, NIL, keyed));

	foreach(lc, info->join_key_clauses)
	{
		RestrictInfo *rinfo = (RestrictInfo *) lfirst(lc);
		Relids		required_outer = bms_union(bms_difference(rinfo->clause_relids,
															  baserel->relids),
											   baserel->lateral_relids);
		ParamPathInfo *param_info;

		if (bms_is_empty(required_outer))
			continue;
		param_info = get_baserel_parampathinfo(root, baserel, required_outer);
		add_path(baserel, (Path *) make_path(root, baserel, param_info->ppi_rows, 1,
											 required_outer, list_make1(rinfo), true));
	}
}

/*
 * Offers a count from the API's totals for the grouping step of a query on
 * one customer table whose only condition is on the key: one request per
 * key asking for a single record, far cheaper than reading the records.
 */
static void
subscriberGetForeignUpperPaths(PlannerInfo *root, UpperRelationKind stage,
							   RelOptInfo *input_rel, RelOptInfo *output_rel,
							   void *extra)
{
	SfRelInfo  *info = (SfRelInfo *) input_rel->fdw_private;
	SfCountInfo *count;
	List	   *scan_tlist;
	List	   *having;
	bool		grouped;
	Path	   *path;

	if (stage != UPPERREL_GROUP_AGG || input_rel->reloptkind != RELOPT_BASEREL ||
		info == NULL || output_rel->fdw_private != NULL ||
		((GroupPathExtraData *) extra)->patype != PARTITIONWISE_AGGREGATE_NONE)
		return;
	if (!info->options->count_pushdown ||
		info->resource->total_records_path == NULL ||
		info->non_key_clauses != NIL ||
		(info->key_clause == NULL && !info->option_key) ||
		!sf_count_pushable(root, input_rel, info->key_attnum, output_rel->reltarget,
						   &scan_tlist, &having, &grouped))
		return;

	count = palloc0(sizeof(SfCountInfo));
	count->baserel = input_rel;
	count->scan_tlist = scan_tlist;
	count->having = having;
	count->grouped = grouped;
	output_rel->fdw_private = count;

#if PG_VERSION_NUM >= 170000
	path = (Path *) create_foreign_upper_path(root, output_rel, output_rel->reltarget,
											  grouped ? info->keys : 1,
											  SF_REQUEST_COST, info->keys * SF_REQUEST_COST,
											  NIL, NULL, NIL, NIL);
#else
	path = (Path *) create_foreign_upper_path(root, output_rel, output_rel->reltarget,
											  grouped ? info->keys : 1,
											  SF_REQUEST_COST, info->keys * SF_REQUEST_COST,
											  NIL, NULL, NIL);
#endif
	add_path(output_rel, path);
}

/*
 * The error of a query that gives no key, naming the condition to add.  A
 * join on the key gives it only through a nested loop, which the planner
 * may have been kept from choosing.
 */
static void
report_missing_key(Oid foreigntableid, const SfRelInfo *info)
{
	const SfResource *resource = info->resource;
	char	   *table = get_rel_name(foreigntableid);
	bool		joined = info->join_key_clauses != NIL;

	ereport(ERROR,
			(errcode(ERRCODE_FDW_UNABLE_TO_CREATE_EXECUTION),
			 errmsg("a query on foreign table \"%s\" needs a %s to ask the API for",
					table, resource->key_label),
			 joined ?
			 errdetail("A join on %s gives the key only as the inner side of a nested loop%s.",
					   resource->key_column,
					   resource->key_from_customer_option ?
					   ", and option \"customer_id\" is not used in a query that joins on it" : "") : 0,
			 resource->key_from_customer_option ?
			 errhint("Add WHERE %s = '...' or %s IN (...), join on %s, or set option \"customer_id\" on the table or its server.",
					 resource->key_column, resource->key_column, resource->key_column) :
			 errhint("Add WHERE %s = '...' or %s IN (...), or join on %s.",
					 resource->key_column, resource->key_column, resource->key_column)));
}

/* The columns the query reads, as a list of attribute numbers. */
static List *
retrieved_attributes(RelOptInfo *baserel, Oid foreigntableid, List *local_quals)
{
	Bitmapset  *attrs = NULL;
	List	   *retrieved = NIL;
	Relation	rel;
	TupleDesc	tupdesc;
	bool		whole_row;

	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &attrs);
	pull_varattnos((Node *) local_quals, baserel->relid, &attrs);
	whole_row = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs);

	rel = table_open(foreigntableid, NoLock);
	tupdesc = RelationGetDescr(rel);
	for (int i = 1; i <= tupdesc->natts; i++)
	{
		if (TupleDescAttr(tupdesc, i - 1)->attisdropped)
			continue;
		if (whole_row || bms_is_member(i - FirstLowInvalidHeapAttributeNumber, attrs))
			retrieved = lappend_int(retrieved, i);
	}
	table_close(rel, NoLock);
	return retrieved;
}

/*
 * The key of a plan: the key expression of a clause into fdw_exprs, or the
 * customer_id option, or none for a query that returns no rows; a query
 * with none of these fails here.
 */
static int
plan_key(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
		 SfRelInfo *info, RestrictInfo *key_clause, List **fdw_exprs)
{
	Expr	   *key_expr;
	SfKeyKind	kind;

	*fdw_exprs = NIL;
	if (key_clause == NULL)
	{
		if (info->option_key)
			return SF_KEY_FROM_OPTION;
		if (info->no_rows)
			return SF_KEY_NONE;
		report_missing_key(foreigntableid, info);
	}
	if (!sf_match_key_clause(root, baserel, info->key_attnum, key_clause->clause,
							 &key_expr, &kind))
		elog(ERROR, "key clause no longer matches");
	*fdw_exprs = list_make1(key_expr);
	return kind;
}

/* The fdw_private of a plan, read back by position (SfScanPrivateIndex). */
static List *
make_fdw_private(const SfResource *resource, int key_kind, List *retrieved,
				 int64 limit, SfCountMode count_mode)
{
	return list_make5(makeString(pstrdup(resource->name)),
					  makeInteger(key_kind),
					  retrieved,
					  makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
								Int64GetDatum(limit), false, FLOAT8PASSBYVAL),
					  makeInteger(count_mode));
}

/*
 * The plan of a count from the totals: a foreign scan of the grouping step
 * (scanrelid 0) whose tuples are the key and the counts.
 */
static ForeignScan *
make_count_plan(PlannerInfo *root, RelOptInfo *upperrel, List *tlist,
				Plan *outer_plan)
{
	SfCountInfo *count = (SfCountInfo *) upperrel->fdw_private;
	RelOptInfo *baserel = count->baserel;
	SfRelInfo  *info = (SfRelInfo *) baserel->fdw_private;
	Oid			relid = planner_rt_fetch(baserel->relid, root)->relid;
	List	   *fdw_exprs;
	int			key_kind;

	key_kind = plan_key(root, baserel, relid, info, info->key_clause, &fdw_exprs);
	return make_foreignscan(tlist, count->having, 0, fdw_exprs,
							make_fdw_private(info->resource, key_kind, NIL, -1,
											 count->grouped ? SF_COUNT_PER_KEY : SF_COUNT_TOTAL),
							count->scan_tlist, NIL, outer_plan);
}

/*
 * Puts into the plan what execution needs and cannot recompute: the key
 * expression (in fdw_exprs, so that parameters and subplans are set up by
 * the executor), its kind, the columns to convert and the pushed-down
 * limit.  Every condition stays a local qual as well, so results are exact
 * whatever the API does with the key.
 */
static ForeignScan *
subscriberGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
						 Oid foreigntableid, ForeignPath *best_path,
						 List *tlist, List *scan_clauses, Plan *outer_plan)
{
	SfRelInfo  *info = (SfRelInfo *) baserel->fdw_private;
	RestrictInfo *key_clause = info->key_clause;
	List	   *fdw_exprs;
	int			key_kind;
	int64		limit = -1;
	List	   *local_quals;

	if (IS_UPPER_REL(baserel))
		return make_count_plan(root, baserel, tlist, outer_plan);

	if (best_path->fdw_private != NIL)
		key_clause = (RestrictInfo *) linitial(best_path->fdw_private);
	key_kind = plan_key(root, baserel, foreigntableid, info, key_clause, &fdw_exprs);

	/* every condition is also checked locally: results are always exact */
	local_quals = extract_actual_clauses(scan_clauses, false);

	if (info->no_rows)
		limit = 0;
	else if (best_path->fdw_private == NIL)
		limit = sf_pushable_limit(root, baserel, info->non_key_clauses);

	return make_foreignscan(tlist, local_quals, baserel->relid, fdw_exprs,
							make_fdw_private(info->resource, key_kind,
											 retrieved_attributes(baserel, foreigntableid,
																  local_quals),
											 limit, SF_COUNT_NONE),
							NIL, NIL, outer_plan);
}

/*
 * Creates the tables of the remote schema "api" from the catalog.  LIMIT TO
 * and EXCEPT are applied here and again by PostgreSQL.
 */
static List *
subscriberImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ForeignServer *server = GetForeignServer(serverOid);
	List	   *commands = NIL;

	if (strcmp(stmt->remote_schema, "api") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("remote schema \"%s\" does not exist", stmt->remote_schema),
				 errhint("subscriber_fdw offers one remote schema, \"api\".")));
	if (stmt->options != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid option \"%s\"",
						((DefElem *) linitial(stmt->options))->defname),
				 errhint("IMPORT FOREIGN SCHEMA takes no options with subscriber_fdw.")));

	for (int i = 0; i < sf_resource_count(); i++)
	{
		const SfResource *resource = sf_resource_at(i);
		StringInfoData buf;

		if (!IsImportableForeignTable(resource->name, stmt))
			continue;
		initStringInfo(&buf);
		appendStringInfo(&buf, "CREATE FOREIGN TABLE %s (",
						 quote_identifier(resource->name));
		for (int c = 0; c < resource->ncolumns; c++)
			appendStringInfo(&buf, "%s%s %s", c > 0 ? ", " : "",
							 quote_identifier(resource->columns[c].name),
							 resource->columns[c].type_name);
		appendStringInfo(&buf, ") SERVER %s OPTIONS (resource %s)",
						 quote_identifier(server->servername),
						 quote_literal_cstr(resource->name));
		commands = lappend(commands, buf.data);
	}
	return commands;
}
