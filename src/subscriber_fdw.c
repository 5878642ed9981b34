/*-------------------------------------------------------------------------
 *
 * subscriber_fdw.c
 *		  Foreign-data wrapper callbacks: planning, execution, EXPLAIN and
 *		  IMPORT FOREIGN SCHEMA.
 *
 * Planning finds the key of a scan (pushdown.c) and offers a plain path when
 * the WHERE clause or the customer_id option gives one, and a parameterized
 * path for every join clause that can, so that a nested loop sends one
 * request per outer row.  A scan without any key is given a prohibitive
 * cost and, if the planner still has to choose it, fails with an error that
 * names the condition to add.  Execution hands everything else to the scan
 * engine (scan.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/explain.h"
#include "executor/executor.h"
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
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include "subscriber_fdw.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(subscriber_fdw_handler);
PG_FUNCTION_INFO_V1(subscriber_fdw_version);

/* Planner cost of one HTTP request, and of turning one record into a row. */
#define REQUEST_COST		100.0
#define RECORD_COST_FACTOR	20.0

/* Cost of a scan that has no key: never chosen while anything else works. */
#define UNKEYED_COST		1.0e10

/* Keys assumed for an array whose length is unknown at planning time. */
#define DEFAULT_ARRAY_KEYS	10

/*
 * The items of a ForeignScan's fdw_private.  fdw_exprs holds the key
 * expression, if the key comes from the query.
 */
enum SfScanPrivateIndex
{
	SfScanPrivateResource,		/* String: the resource's name */
	SfScanPrivateKeyKind,		/* Integer: SfKeyKind, or -1 for the option */
	SfScanPrivateRetrievedAttrs,	/* List of Integer: columns read */
	SfScanPrivateLimit			/* Const int8: records wanted, -1 for all */
};

/* What planning learned about a foreign table, in baserel->fdw_private. */
typedef struct SfRelInfo
{
	SfOptions  *options;
	const SfResource *resource;
	AttrNumber	key_attnum;		/* the key column, or 0 if not in the table */
	RestrictInfo *key_clause;	/* the WHERE clause giving the key, or NULL */
	SfKeyKind	key_kind;
	List	   *non_key_clauses;	/* every other restriction */
	List	   *join_key_clauses;	/* join clauses that can give the key */
	bool		option_key;		/* the customer_id option may give the key */
	double		keys;			/* estimated number of keys */
} SfRelInfo;

/* Execution state of a foreign scan. */
typedef struct SfScanState
{
	MemoryContext scan_cxt;		/* everything of the scan */
	MemoryContext row_cxt;		/* reset for every row */
	SfOptions  *options;
	const SfResource *resource;
	ExprState  *key_state;		/* NULL when the key is the option */
	SfKeyKind	key_kind;
	SfScan	   *scan;
	bool		keys_set;
} SfScanState;

static void subscriberGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
										Oid foreigntableid);
static void subscriberGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
									  Oid foreigntableid);
static ForeignScan *subscriberGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
											 Oid foreigntableid, ForeignPath *best_path,
											 List *tlist, List *scan_clauses,
											 Plan *outer_plan);
static void subscriberBeginForeignScan(ForeignScanState *node, int eflags);
static TupleTableSlot *subscriberIterateForeignScan(ForeignScanState *node);
static void subscriberReScanForeignScan(ForeignScanState *node);
static void subscriberEndForeignScan(ForeignScanState *node);
static void subscriberExplainForeignScan(ForeignScanState *node, ExplainState *es);
static List *subscriberImportForeignSchema(ImportForeignSchemaStmt *stmt,
										   Oid serverOid);

extern PGDLLEXPORT void _PG_init(void);

void
_PG_init(void)
{
	sf_http_global_init();
	sf_shared_state_init();
}

Datum
subscriber_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = subscriberGetForeignRelSize;
	routine->GetForeignPaths = subscriberGetForeignPaths;
	routine->GetForeignPlan = subscriberGetForeignPlan;
	routine->BeginForeignScan = subscriberBeginForeignScan;
	routine->IterateForeignScan = subscriberIterateForeignScan;
	routine->ReScanForeignScan = subscriberReScanForeignScan;
	routine->EndForeignScan = subscriberEndForeignScan;
	routine->ExplainForeignScan = subscriberExplainForeignScan;
	routine->ImportForeignSchema = subscriberImportForeignSchema;
	PG_RETURN_POINTER(routine);
}

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
	if (info->key_clause != NULL)
		info->keys = estimate_keys(key_expr, info->key_kind);

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

	baserel->fdw_private = info;
	baserel->rows = clamp_row_est(info->keys * info->resource->rows_per_key *
								  clauselist_selectivity(root, info->non_key_clauses,
														 baserel->relid, JOIN_INNER,
														 NULL));
}


static ForeignPath *
make_path(PlannerInfo *root, RelOptInfo *baserel, double rows, double keys,
		  Relids required_outer, List *fdw_private, bool keyed)
{
	Cost		startup = keyed ? REQUEST_COST : UNKEYED_COST;
	Cost		total = startup + keys * REQUEST_COST +
		rows * cpu_tuple_cost * RECORD_COST_FACTOR;

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
	bool		keyed = info->key_clause != NULL || info->option_key;
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

static ForeignScan *
subscriberGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
						 Oid foreigntableid, ForeignPath *best_path,
						 List *tlist, List *scan_clauses, Plan *outer_plan)
{
	SfRelInfo  *info = (SfRelInfo *) baserel->fdw_private;
	RestrictInfo *key_clause = info->key_clause;
	List	   *fdw_exprs = NIL;
	int			key_kind = -1;
	int64		limit = -1;
	List	   *local_quals;
	List	   *fdw_private;

	if (best_path->fdw_private != NIL)
		key_clause = (RestrictInfo *) linitial(best_path->fdw_private);

	if (key_clause != NULL)
	{
		Expr	   *key_expr;
		SfKeyKind	kind;

		if (!sf_match_key_clause(root, baserel, info->key_attnum, key_clause->clause,
								 &key_expr, &kind))
			elog(ERROR, "key clause no longer matches");
		fdw_exprs = list_make1(key_expr);
		key_kind = kind;
	}
	else if (!info->option_key)
		report_missing_key(foreigntableid, info);

	/* every condition is also checked locally: results are always exact */
	local_quals = extract_actual_clauses(scan_clauses, false);

	if (best_path->fdw_private == NIL)
		limit = sf_pushable_limit(root, baserel, info->non_key_clauses);

	fdw_private = list_make4(makeString(pstrdup(info->resource->name)),
							 makeInteger(key_kind),
							 retrieved_attributes(baserel, foreigntableid, local_quals),
							 makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
									   Int64GetDatum(limit), false, FLOAT8PASSBYVAL));

	return make_foreignscan(tlist, local_quals, baserel->relid, fdw_exprs,
							fdw_private, NIL, NIL, outer_plan);
}

/* The record limit a plan was made with, -1 for none. */
static int64
plan_limit(ForeignScan *plan)
{
	return DatumGetInt64(((Const *) list_nth(plan->fdw_private,
											 SfScanPrivateLimit))->constvalue);
}

static void
subscriberBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	Relation	rel = node->ss.ss_currentRelation;
	SfScanState *state;
	Oid			userid;
	int			key_kind;
	List	   *retrieved;
	int64		limit;
	SfRecordConverter *converter;
	MemoryContext old;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

#if PG_VERSION_NUM >= 160000
	userid = OidIsValid(plan->checkAsUser) ? plan->checkAsUser : GetUserId();
#else
	{
		RangeTblEntry *rte = exec_rt_fetch(plan->scan.scanrelid, estate);

		userid = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
	}
#endif

	state = palloc0(sizeof(SfScanState));
	node->fdw_state = state;
	state->scan_cxt = AllocSetContextCreate(estate->es_query_cxt,
											"subscriber_fdw scan",
											ALLOCSET_DEFAULT_SIZES);
	/* a first block that holds a whole record's tree survives every reset */
	state->row_cxt = AllocSetContextCreate(state->scan_cxt,
										   "subscriber_fdw row",
										   0, 64 * 1024, ALLOCSET_DEFAULT_MAXSIZE);

	old = MemoryContextSwitchTo(state->scan_cxt);
	state->options = sf_get_options(RelationGetRelid(rel), userid);
	state->resource = sf_resource_lookup(strVal(list_nth(plan->fdw_private,
														 SfScanPrivateResource)));
	key_kind = intVal(list_nth(plan->fdw_private, SfScanPrivateKeyKind));
	retrieved = list_nth(plan->fdw_private, SfScanPrivateRetrievedAttrs);
	limit = plan_limit(plan);
	converter = sf_converter_create(state->resource, rel, retrieved, state->options);
	state->scan = sf_scan_create(state->scan_cxt, state->resource, state->options,
								 converter, limit);
	MemoryContextSwitchTo(old);

	if (key_kind >= 0)
	{
		state->key_kind = (SfKeyKind) key_kind;
		state->key_state = ExecInitExpr(linitial(plan->fdw_exprs), (PlanState *) node);
	}
}

/* Evaluates the keys of this pass; parameters may have changed since. */
static void
set_keys(ForeignScanState *node, SfScanState *state)
{
	MemoryContext old = MemoryContextSwitchTo(state->row_cxt);
	List	   *keys;

	if (state->key_state != NULL)
		keys = sf_key_values(state->key_state, state->key_kind,
							 node->ss.ps.ps_ExprContext);
	else
		keys = list_make1(state->options->customer_id);
	sf_scan_set_keys(state->scan, keys);
	MemoryContextSwitchTo(old);
	MemoryContextReset(state->row_cxt);
	state->keys_set = true;
}

static TupleTableSlot *
subscriberIterateForeignScan(ForeignScanState *node)
{
	SfScanState *state = (SfScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	MemoryContext old;

	if (!state->keys_set)
		set_keys(node, state);

	MemoryContextReset(state->row_cxt);
	old = MemoryContextSwitchTo(state->row_cxt);
	if (!sf_scan_next(state->scan, slot))
		ExecClearTuple(slot);
	MemoryContextSwitchTo(old);
	return slot;
}

static void
subscriberReScanForeignScan(ForeignScanState *node)
{
	SfScanState *state = (SfScanState *) node->fdw_state;

	sf_scan_restart(state->scan);
	state->keys_set = false;
}

static void
subscriberEndForeignScan(ForeignScanState *node)
{
	SfScanState *state = (SfScanState *) node->fdw_state;

	if (state == NULL)
		return;
	sf_scan_release(state->scan);
	MemoryContextDelete(state->scan_cxt);
	node->fdw_state = NULL;
}

/* The endpoint as "METHOD /path/{key_column}/...". */
static char *
endpoint_text(const SfResource *resource)
{
	return psprintf("%s %s", sf_http_method_name(resource->method),
					sf_resource_path(resource, psprintf("{%s}", resource->key_column)));
}

static void
subscriberExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	const SfResource *resource =
		sf_resource_lookup(strVal(list_nth(plan->fdw_private, SfScanPrivateResource)));
	int			key_kind = intVal(list_nth(plan->fdw_private, SfScanPrivateKeyKind));
	int64		limit = plan_limit(plan);
	SfScanState *state = (SfScanState *) node->fdw_state;

	ExplainPropertyText("Endpoint", endpoint_text(resource), es);
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
	else
		ExplainPropertyText("Key", psprintf("%s from option \"customer_id\"",
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
