/*-------------------------------------------------------------------------
 *
 * http_wait.c
 *		  Waiting for the HTTP transfers: the latch, their sockets, a timer.
 *
 * The backend waits on one WaitEventSet: its latch, the postmaster, and the
 * sockets that curl's socket callback names, with curl's timer as the
 * timeout.  A waiting backend uses no CPU, shows wait event type Extension,
 * and wakes at once for a cancel, statement_timeout, or a release of a
 * server's request slot by another session.
 *
 * http_client.c tells this file what curl asks for in plain terms, which
 * sockets to watch for which WL_SOCKET_* events and when curl's timer is
 * due, and is told back which sockets are ready.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "subscriber_fdw.h"

/* Socket events taken from one wait. */
#define MAX_EVENTS			64

/* A socket that curl wants watched, and for what (WL_SOCKET_* events). */
typedef struct SfSocket
{
	pgsocket	fd;
	uint32		events;
} SfSocket;

/*
 * curl's sockets, kept by sf_wait_watch_socket; malloc'd, as curl's
 * callbacks, which keep the table, may not raise.
 */
static SfSocket *sockets = NULL;
static int	nsockets = 0;
static int	sockets_capacity = 0;
static bool sockets_changed = true;

/* The wait set for the latch and curl's sockets, rebuilt when they change. */
static WaitEventSet *wait_set = NULL;

/* curl's timer: when it wants curl_multi_socket_action(TIMEOUT) called. */
static bool timer_armed = false;
static TimestampTz timer_deadline = 0;

#if PG_VERSION_NUM >= 170000
static uint32 wait_event_api = 0;
#endif

/*
 * Watches a socket for the given events (0: none for now).  Runs inside
 * curl's socket callback, so it only records: false when the table cannot
 * grow, which fails the transfers, and the error is raised afterwards.
 */
bool
sf_wait_watch_socket(pgsocket fd, uint32 events)
{
	int			i;

	for (i = 0; i < nsockets; i++)
	{
		if (sockets[i].fd == fd)
			break;
	}
	if (i == nsockets)
	{
		if (nsockets == sockets_capacity)
		{
			int			capacity = Max(8, sockets_capacity * 2);
			SfSocket   *grown = realloc(sockets, capacity * sizeof(SfSocket));

			if (grown == NULL)
				return false;
			sockets = grown;
			sockets_capacity = capacity;
		}
		sockets[nsockets].fd = fd;
		sockets[nsockets].events = 0;
		nsockets++;
	}
	if (sockets[i].events != events)
	{
		sockets[i].events = events;
		sockets_changed = true;
	}
	return true;
}

/* Stops watching a socket that curl is done with; runs inside curl too. */
void
sf_wait_forget_socket(pgsocket fd)
{
	for (int i = 0; i < nsockets; i++)
	{
		if (sockets[i].fd == fd)
		{
			sockets[i] = sockets[--nsockets];
			sockets_changed = true;
			return;
		}
	}
}

/* Records when curl's timer is due, from now; -1 disarms it. */
void
sf_wait_set_timer(long timeout_ms)
{
	timer_armed = timeout_ms >= 0;
	if (timer_armed)
		timer_deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
}

/* Whether curl's timer is due; it is disarmed when it is. */
bool
sf_wait_timer_due(void)
{
	if (timer_armed && timer_deadline <= GetCurrentTimestamp())
	{
		timer_armed = false;
		return true;
	}
	return false;
}

/* Milliseconds from now until a time, at least 0. */
long
sf_wait_ms_until(TimestampTz when)
{
	TimestampTz now = GetCurrentTimestamp();

	return when <= now ? 0 : (long) ((when - now + 999) / 1000);
}

/*
 * Rebuilds the wait set from curl's sockets.  The set is remembered before
 * events are added, so that an error while adding leaves nothing leaked:
 * the next call frees it.
 */
static void
rebuild_wait_set(void)
{
	if (wait_set != NULL)
		FreeWaitEventSet(wait_set);
	wait_set = NULL;
	wait_set = CreateWaitEventSet(TopMemoryContext, nsockets + 2);
	AddWaitEventToSet(wait_set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	if (IsUnderPostmaster)
		AddWaitEventToSet(wait_set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int i = 0; i < nsockets; i++)
	{
		if (sockets[i].events != 0)
			AddWaitEventToSet(wait_set, sockets[i].events, sockets[i].fd, NULL, NULL);
	}
	sockets_changed = false;
}

/* The wait event that pg_stat_activity shows while waiting on the API. */
static uint32
api_wait_event(void)
{
#if PG_VERSION_NUM >= 170000
	if (wait_event_api == 0)
		wait_event_api = WaitEventExtensionNew("SubscriberFdwApi");
	return wait_event_api;
#else
	return PG_WAIT_EXTENSION;
#endif
}

/*
 * Waits up to timeout_ms (0: not at all, -1: as long as curl's timer
 * allows) for curl's sockets, its timer, or the latch, and tells ready of
 * every socket that an event came for.  Returns whether the latch was set:
 * it is reset here, and the caller checks for interrupts once it has handed
 * curl what happened.
 */
bool
sf_wait_for_events(long timeout_ms, SfSocketReady ready)
{
	WaitEvent	events[MAX_EVENTS];
	int			nevents = 0;
	bool		latch_set = false;

	if (sockets_changed || wait_set == NULL)
		rebuild_wait_set();
	if (timer_armed)
	{
		long		to_timer = sf_wait_ms_until(timer_deadline);

		timeout_ms = timeout_ms < 0 ? to_timer : Min(timeout_ms, to_timer);
	}

	nevents = WaitEventSetWait(wait_set, timeout_ms, events, MAX_EVENTS,
							   api_wait_event());
	for (int i = 0; i < nevents; i++)
	{
		if (events[i].events & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			latch_set = true;
		}
		else if (events[i].events & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE))
			ready(events[i].fd, events[i].events);
	}
	return latch_set;
}
