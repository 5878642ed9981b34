/*-------------------------------------------------------------------------
 *
 * shared_state.c
 *		  Per-server limits and statistics, shared by every session of the
 *		  instance when the library is preloaded.
 *
 * The API, not PostgreSQL, is what the sessions of a database share, so the
 * limits of a server (max_requests_per_second, max_server_concurrency and
 * the hold of a Retry-After) and its statistics live in one SfServerState
 * per foreign server and database.  With shared_preload_libraries naming
 * the library, those states are slots in shared memory, SF_MAX_SERVERS of
 * them, each guarded by a spinlock held for a few instructions; without it,
 * or for a server past the last slot, the state lives in the backend and the
 * limits hold per session.  The same code serves both.
 *
 * The rate is a sliding window: a request may start when the request that
 * started window_size requests before it started a whole window ago, so no
 * window of one second sees more than max_requests_per_second starts, bursts
 * included.
 *
 * A request in flight holds a unit of its server's in_flight count.  The
 * HTTP client gives it back when the transfer ends; should that not happen
 * (a FATAL error, an exit, memory not freed), the end of the top-level
 * transaction and the exit of the backend give back whatever the backend
 * still holds.  An epoch tells a late release of the client from one that
 * was already done wholesale.  After a crash of any backend the postmaster
 * reinitialises shared memory, so nothing stays held.
 *
 * Also here: the per-query budget of max_requests_per_query, counted per
 * portal, so that a statement and all the fetches of a cursor are one query.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/pquery.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "subscriber_fdw.h"

PG_FUNCTION_INFO_V1(subscriber_fdw_stats);
PG_FUNCTION_INFO_V1(subscriber_fdw_stats_reset);

/* A server's statistics, as the view shows them. */
typedef struct SfServerStats
{
	int64		requests;
	int64		retries;
	int64		errors;
	int64		throttled;
	int64		bytes_received;
	int64		wait_us;
	TimestampTz stats_reset;
} SfServerStats;

struct SfServerState
{
	slock_t		mutex;			/* guards everything below */
	Oid			dbid;			/* InvalidOid: a free slot */
	Oid			serverid;
	bool		shared;			/* in shared memory */
	bool		used;			/* a request started since the reset */

	/* limits */
	int			in_flight;
	TimestampTz hold_until;		/* a Retry-After holds requests until then */
	int			window_size;	/* starts the window remembers, 0 for none */
	int64		window_us;
	int			oldest;			/* index in starts of the oldest start */

	SfServerStats stats;		/* what the view shows */

	ConditionVariable released; /* broadcast when in_flight goes down */
	TimestampTz starts[SF_MAX_RATE];	/* ring of the latest starts */
};

typedef struct SfSharedState
{
	slock_t		mutex;			/* guards the assignment of slots */
	SfServerState slots[SF_MAX_SERVERS];
} SfSharedState;

/* The shared slots, or NULL when the library was not preloaded. */
static SfSharedState *shared = NULL;

/* The states of this backend: session scope, or past the last slot. */
static List *local_states = NIL;

/* The in_flight units this backend holds, per state. */
typedef struct SfHeld
{
	SfServerState *state;
	int			count;
} SfHeld;

static List *held_list = NIL;
static uint64 held_epoch = 1;
static bool exit_callback_registered = false;

/* The per-query budget of one server in one portal. */
typedef struct SfBudget
{
	dlist_node	node;
	Portal		portal;
	Oid			serverid;
	int64		sent;
	MemoryContextCallback gone;
} SfBudget;

static dlist_head budgets = DLIST_STATIC_INIT(budgets);

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* The shared memory the extension asks for: one SfSharedState. */
static Size
shared_size(void)
{
	return sizeof(SfSharedState);
}

#if PG_VERSION_NUM >= 150000
/* From PostgreSQL 15 on, shared memory is asked for in this hook. */
static void
request_shared_memory(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_size());
}
#endif

/* Sets up a state, in shared memory or in the backend's own. */
static void
init_state(SfServerState *state, bool in_shared)
{
	SpinLockInit(&state->mutex);
	state->dbid = InvalidOid;
	state->shared = in_shared;
	ConditionVariableInit(&state->released);
}

/* Sets every slot of the zeroed segment free, once per postmaster life. */
static void
attach_shared_memory(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("subscriber_fdw", shared_size(), &found);
	if (!found)
	{
		memset(shared, 0, shared_size());
		SpinLockInit(&shared->mutex);
		for (int i = 0; i < SF_MAX_SERVERS; i++)
			init_state(&shared->slots[i], true);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Gives back every unit the backend holds; see the file's header comment. */
static void
release_all_held(void)
{
	ListCell   *lc;
	bool		any = false;

	foreach(lc, held_list)
	{
		SfHeld	   *held = (SfHeld *) lfirst(lc);

		if (held->count == 0)
			continue;
		SpinLockAcquire(&held->state->mutex);
		held->state->in_flight = Max(0, held->state->in_flight - held->count);
		SpinLockRelease(&held->state->mutex);
		if (held->state->shared)
			ConditionVariableBroadcast(&held->state->released);
		held->count = 0;
		any = true;
	}
	if (any)
		held_epoch++;
}

/* At the end of every top-level transaction no request may be in flight. */
static void
release_at_transaction_end(ResourceReleasePhase phase, bool isCommit,
						   bool isTopLevel, void *arg)
{
	if (phase == RESOURCE_RELEASE_AFTER_LOCKS && isTopLevel)
		release_all_held();
}

/* Gives back what the backend holds, so that an exit cannot leak slots. */
static void
release_at_exit(int code, Datum arg)
{
	release_all_held();
}

/*
 * Called from _PG_init.  Shared memory can only be asked for while the
 * postmaster loads shared_preload_libraries; otherwise every state is local.
 */
void
sf_shared_state_init(void)
{
	if (process_shared_preload_libraries_in_progress)
	{
#if PG_VERSION_NUM >= 150000
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = request_shared_memory;
#else
		RequestAddinShmemSpace(shared_size());
#endif
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = attach_shared_memory;
	}
	RegisterResourceReleaseCallback(release_at_transaction_end, NULL);
}

/* The backend's own state of a server in the current database, or NULL. */
static SfServerState *
find_local_state(Oid serverid)
{
	ListCell   *lc;

	foreach(lc, local_states)
	{
		SfServerState *state = (SfServerState *) lfirst(lc);

		if (state->dbid == MyDatabaseId && state->serverid == serverid)
			return state;
	}
	return NULL;
}

/* Zeroes statistics, counting from "now" on. */
static void
reset_stats(SfServerStats *stats, TimestampTz now)
{
	memset(stats, 0, sizeof(SfServerStats));
	stats->stats_reset = now;
}

/* Takes a slot for a server, zeroing what a former server left. */
static void
claim_state(SfServerState *state, Oid serverid)
{
	state->dbid = MyDatabaseId;
	state->serverid = serverid;
	state->used = false;
	state->in_flight = 0;
	state->hold_until = 0;
	state->window_size = 0;
	reset_stats(&state->stats, GetCurrentTimestamp());
}

/*
 * Frees the shared slots whose server is gone: its database was dropped, or
 * it was a server of the current database that was dropped.  (The servers
 * of other databases cannot be looked up from here.)  The catalogs are read
 * outside the locks, and a slot is freed only if it still names the same
 * server and nothing is in flight.
 */
static void
reclaim_slots(void)
{
	for (int i = 0; i < SF_MAX_SERVERS; i++)
	{
		SfServerState *slot = &shared->slots[i];
		Oid			dbid;
		Oid			serverid;
		bool		gone;

		SpinLockAcquire(&slot->mutex);
		dbid = slot->dbid;
		serverid = slot->serverid;
		SpinLockRelease(&slot->mutex);
		if (!OidIsValid(dbid))
			continue;
		if (dbid == MyDatabaseId)
			gone = GetForeignServerExtended(serverid, FSV_MISSING_OK) == NULL;
		else
			gone = !SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(dbid));
		if (!gone)
			continue;
		SpinLockAcquire(&shared->mutex);
		SpinLockAcquire(&slot->mutex);
		if (slot->dbid == dbid && slot->serverid == serverid && slot->in_flight == 0)
			slot->dbid = InvalidOid;
		SpinLockRelease(&slot->mutex);
		SpinLockRelease(&shared->mutex);
	}
}

/* The server's shared slot, taking a free one if it has none; or NULL. */
static SfServerState *
find_shared_state(Oid serverid)
{
	SfServerState *state = NULL;
	SfServerState *free_slot = NULL;

	SpinLockAcquire(&shared->mutex);
	for (int i = 0; i < SF_MAX_SERVERS && state == NULL; i++)
	{
		SfServerState *slot = &shared->slots[i];

		if (slot->dbid == MyDatabaseId && slot->serverid == serverid)
			state = slot;
		else if (slot->dbid == InvalidOid && free_slot == NULL)
			free_slot = slot;
	}
	if (state == NULL && free_slot != NULL)
	{
		SpinLockAcquire(&free_slot->mutex);
		claim_state(free_slot, serverid);
		SpinLockRelease(&free_slot->mutex);
		state = free_slot;
	}
	SpinLockRelease(&shared->mutex);
	return state;
}

/*
 * The state of a server of the current database: its shared slot, taken
 * on first use, or a state of this session.  When every slot is taken by a
 * server that still exists, the session warns once per server and keeps
 * the server's state to itself.
 */
SfServerState *
sf_server_state(Oid serverid)
{
	SfServerState *state = find_local_state(serverid);
	MemoryContext old;

	if (state != NULL)
		return state;
	if (shared != NULL)
	{
		state = find_shared_state(serverid);
		if (state == NULL)
		{
			reclaim_slots();
			state = find_shared_state(serverid);
		}
		if (state != NULL)
			return state;
	}

	old = MemoryContextSwitchTo(TopMemoryContext);
	state = palloc0(sizeof(SfServerState));
	init_state(state, false);
	claim_state(state, serverid);
	local_states = lappend(local_states, state);
	MemoryContextSwitchTo(old);
	if (shared != NULL)
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("the limits of server \"%s\" hold in this session only",
						GetForeignServer(serverid)->servername),
				 errdetail("The shared memory of subscriber_fdw holds the state of %d servers, and all are taken.",
						   SF_MAX_SERVERS),
				 errhint("The slots of servers dropped in other databases are freed by subscriber_fdw_stats_reset() there.")));
	return state;
}

/* Counts a unit the backend now holds, for release_all_held. */
static void
note_held(SfServerState *state)
{
	ListCell   *lc;
	SfHeld	   *held;
	MemoryContext old;

	foreach(lc, held_list)
	{
		held = (SfHeld *) lfirst(lc);
		if (held->state == state)
		{
			held->count++;
			return;
		}
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	held = palloc(sizeof(SfHeld));
	held->state = state;
	held->count = 1;
	held_list = lappend(held_list, held);
	MemoryContextSwitchTo(old);
	if (!exit_callback_registered)
	{
		before_shmem_exit(release_at_exit, (Datum) 0);
		exit_callback_registered = true;
	}
}

/* Sets the window for a rate; below one request a second, it is longer. */
static void
set_window(SfServerState *state, double rate)
{
	int			size = rate >= 1.0 ? (int) Min(floor(rate), SF_MAX_RATE) : 1;
	int64		window_us = rate >= 1.0 ? USECS_PER_SEC : (int64) (USECS_PER_SEC / rate);

	if (state->window_size == size && state->window_us == window_us)
		return;
	state->window_size = size;
	state->window_us = window_us;
	state->oldest = 0;
	memset(state->starts, 0, sizeof(TimestampTz) * size);
}

/*
 * Lets a request start, or says what it waits for.  A Retry-After hold
 * comes first, then max_server_concurrency, then the rate, so that a request
 * that cannot start takes nothing.  When the request waits for a release
 * of the shared state, the process is registered on the state's condition
 * variable before the second look, so that no release can be missed; the
 * caller ends the registration with sf_server_end_wait after its wait.
 */
static SfAdmission
try_admit(SfServerState *state, const SfOptions *options, TimestampTz now,
		  TimestampTz *until)
{
	SfAdmission result = SF_ADMITTED;

	SpinLockAcquire(&state->mutex);
	if (options->max_requests_per_second > 0)
		set_window(state, options->max_requests_per_second);
	else
		state->window_size = 0;
	if (state->hold_until > now)
	{
		*until = state->hold_until;
		result = SF_WAIT_UNTIL;
	}
	else if (options->max_server_concurrency > 0 &&
			 state->in_flight >= options->max_server_concurrency)
		result = SF_WAIT_RELEASE;
	else if (state->window_size > 0 &&
			 state->starts[state->oldest] + state->window_us > now)
	{
		*until = state->starts[state->oldest] + state->window_us;
		result = SF_WAIT_UNTIL;
	}
	else
	{
		if (state->window_size > 0)
		{
			state->starts[state->oldest] = now;
			state->oldest = (state->oldest + 1) % state->window_size;
		}
		state->in_flight++;
	}
	SpinLockRelease(&state->mutex);
	return result;
}

/*
 * Asks for a slot; while a shared state is full, it prepares to sleep on
 * its condition variable before trying again, so no release is missed.
 */
SfAdmission
sf_server_admit(SfServerState *state, const SfOptions *options,
				TimestampTz now, TimestampTz *until, uint64 *epoch)
{
	SfAdmission result = try_admit(state, options, now, until);

	if (result == SF_WAIT_RELEASE && state->shared)
	{
		ConditionVariablePrepareToSleep(&state->released);
		result = try_admit(state, options, now, until);
		if (result != SF_WAIT_RELEASE)
			ConditionVariableCancelSleep();
	}
	if (result == SF_ADMITTED)
	{
		note_held(state);
		*epoch = held_epoch;
	}
	return result;
}

/* Ends the registration that sf_server_admit may have left. */
void
sf_server_end_wait(void)
{
	ConditionVariableCancelSleep();
}

/*
 * Gives back the unit of a request that ended.  One of an older epoch was
 * given back already, by release_all_held.
 */
void
sf_server_release(SfServerState *state, uint64 epoch)
{
	ListCell   *lc;

	if (epoch != held_epoch)
		return;
	foreach(lc, held_list)
	{
		SfHeld	   *held = (SfHeld *) lfirst(lc);

		if (held->state == state && held->count > 0)
		{
			held->count--;
			SpinLockAcquire(&state->mutex);
			state->in_flight--;
			SpinLockRelease(&state->mutex);
			if (state->shared)
				ConditionVariableBroadcast(&state->released);
			return;
		}
	}
}

/* Holds every session's next requests to the server until a time. */
void
sf_server_hold(SfServerState *state, TimestampTz until)
{
	SpinLockAcquire(&state->mutex);
	state->hold_until = Max(state->hold_until, until);
	SpinLockRelease(&state->mutex);
}

/* Counts a request that starts, under the state's lock. */
void
sf_server_count_start(SfServerState *state, bool is_retry, int64 wait_us)
{
	SpinLockAcquire(&state->mutex);
	state->used = true;
	state->stats.requests++;
	if (is_retry)
		state->stats.retries++;
	state->stats.wait_us += wait_us;
	SpinLockRelease(&state->mutex);
}

/* 429 and 503 are throttling; no answer or another 4xx/5xx, an error. */
void
sf_server_count_finish(SfServerState *state, long status, bool failed,
					   size_t bytes)
{
	SpinLockAcquire(&state->mutex);
	state->stats.bytes_received += bytes;
	if (status == 429 || status == 503)
		state->stats.throttled++;
	else if (failed || status >= 400)
		state->stats.errors++;
	SpinLockRelease(&state->mutex);
}

/* Forgets the budget of a portal that went away. */
static void
budget_gone(void *arg)
{
	dlist_delete(&((SfBudget *) arg)->node);
}

/*
 * Counts one more request of the active query to a server, failing before
 * it when max_requests_per_query is reached.  A query is a portal: a
 * statement, with whatever functions it calls, or a cursor and all its
 * fetches.  The count lives in the portal's memory and goes with it.
 */
void
sf_query_budget_take(const SfOptions *options)
{
	Portal		portal = ActivePortal;
	SfBudget   *budget = NULL;
	dlist_iter	iter;

	if (options->max_requests_per_query <= 0)
		return;
	dlist_foreach(iter, &budgets)
	{
		SfBudget   *candidate = dlist_container(SfBudget, node, iter.cur);

		if (candidate->portal == portal && candidate->serverid == options->serverid)
		{
			budget = candidate;
			break;
		}
	}
	if (budget == NULL)
	{
		MemoryContext cxt = portal != NULL ? portal->portalContext : TopTransactionContext;

		budget = MemoryContextAllocZero(cxt, sizeof(SfBudget));
		budget->portal = portal;
		budget->serverid = options->serverid;
		budget->gone.func = budget_gone;
		budget->gone.arg = budget;
		MemoryContextRegisterResetCallback(cxt, &budget->gone);
		dlist_push_head(&budgets, &budget->node);
	}
	if (budget->sent >= options->max_requests_per_query)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the query would send more than max_requests_per_query (%d) requests to server \"%s\"",
						options->max_requests_per_query,
						GetForeignServer(options->serverid)->servername),
				 errdetail("It sent " INT64_FORMAT " requests to the server.", budget->sent),
				 errhint("Raise option \"max_requests_per_query\" of the server or the foreign table, or ask for fewer keys.")));
	budget->sent++;
}

/* A copy of a state's figures, taken under its lock. */
typedef struct SfStatsRow
{
	Oid			serverid;
	bool		shared;
	SfServerStats stats;		/* what the view shows */
	int			in_flight;
} SfStatsRow;

/* Copies a state of the current database that has been used. */
static bool
copy_state(SfServerState *state, SfStatsRow *row)
{
	bool		wanted;

	SpinLockAcquire(&state->mutex);
	wanted = state->dbid == MyDatabaseId && (state->used || state->in_flight > 0);
	row->serverid = state->serverid;
	row->shared = state->shared;
	row->stats = state->stats;
	row->in_flight = state->in_flight;
	SpinLockRelease(&state->mutex);
	return wanted;
}

/* Adds one state's figures as a row of the result. */
static void
put_row(ReturnSetInfo *rsinfo, const SfStatsRow *row)
{
	ForeignServer *server = GetForeignServerExtended(row->serverid, FSV_MISSING_OK);
	Datum		values[10];
	bool		nulls[10] = {0};

	if (server == NULL)
		return;					/* dropped since */
	values[0] = CStringGetTextDatum(server->servername);
	values[1] = CStringGetTextDatum(row->shared ? "instance" : "session");
	values[2] = Int64GetDatum(row->stats.requests);
	values[3] = Int64GetDatum(row->stats.retries);
	values[4] = Int64GetDatum(row->stats.errors);
	values[5] = Int64GetDatum(row->stats.throttled);
	values[6] = Int64GetDatum(row->stats.bytes_received);
	values[7] = Float8GetDatum(row->stats.wait_us / 1000.0);
	values[8] = Int32GetDatum(row->in_flight);
	values[9] = TimestampTzGetDatum(row->stats.stats_reset);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * The rows of the view subscriber_fdw_stats: the servers of the current
 * database used since the last reset, from shared memory and from this
 * session.
 */
Datum
subscriber_fdw_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SfStatsRow	row;
	ListCell   *lc;

#if PG_VERSION_NUM >= 150000
	InitMaterializedSRF(fcinfo, 0);
#else
	{
		MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
		TupleDesc	tupdesc;

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		rsinfo->returnMode = SFRM_Materialize;
		rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
		rsinfo->setDesc = tupdesc;
		MemoryContextSwitchTo(old);
	}
#endif
	for (int i = 0; shared != NULL && i < SF_MAX_SERVERS; i++)
	{
		if (copy_state(&shared->slots[i], &row))
			put_row(rsinfo, &row);
	}
	foreach(lc, local_states)
	{
		if (copy_state((SfServerState *) lfirst(lc), &row))
			put_row(rsinfo, &row);
	}
	return (Datum) 0;
}

/* Zeroes a state's statistics; in_flight and the limits go on. */
static void
reset_state(SfServerState *state, TimestampTz now)
{
	SpinLockAcquire(&state->mutex);
	state->used = false;
	reset_stats(&state->stats, now);
	SpinLockRelease(&state->mutex);
}

/*
 * Resets the statistics of the current database's servers, and frees the
 * shared slots of servers that are gone (see reclaim_slots).
 */
Datum
subscriber_fdw_stats_reset(PG_FUNCTION_ARGS)
{
	TimestampTz now = GetCurrentTimestamp();
	ListCell   *lc;

	if (shared != NULL)
		reclaim_slots();
	for (int i = 0; shared != NULL && i < SF_MAX_SERVERS; i++)
	{
		SfServerState *slot = &shared->slots[i];
		bool		ours;

		SpinLockAcquire(&slot->mutex);
		ours = slot->dbid == MyDatabaseId;
		SpinLockRelease(&slot->mutex);
		if (ours)
			reset_state(slot, now);
	}
	foreach(lc, local_states)
	{
		SfServerState *state = (SfServerState *) lfirst(lc);

		if (state->dbid == MyDatabaseId)
			reset_state(state, now);
	}
	PG_RETURN_VOID();
}
