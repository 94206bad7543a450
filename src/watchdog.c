/*-------------------------------------------------------------------------
 *
 * watchdog.c
 *	  While a step runs with a lock_timeout, a small background worker
 *	  samples pg_blocking_pids() of the migrating backend, so that a step
 *	  that times out on a lock can say which sessions blocked it.
 *
 * The backend cannot find out for itself: by the time the lock timeout's
 * error is raised, the server has already taken the backend off the lock's
 * wait queue (ProcessInterrupts calls LockErrorCleanup first), and during
 * the wait it runs no code of ours.  So another process looks, every few
 * milliseconds, and keeps the last non-empty answer.  The watchdog needs no
 * database connection: pg_blocking_pids reads only the lock manager.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/array.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "bgtask.h"
#include "pg_migrate.h"
#include "watchdog.h"

/* The task's data, shared with the watchdog */
typedef struct PgmWatchShared
{
	int			leader_pid;
	int			interval_ms;
	int			nblockers;
	int			blockers[PGM_MAX_BLOCKERS];
} PgmWatchShared;

struct PgmWatchdog
{
	PgmBgTask  *task;
};

/*
 * Start watching this backend.  Returns NULL when no worker slot is free:
 * the step then runs unwatched, and a lock timeout names no blockers.
 */
PgmWatchdog *
pgm_watchdog_start(int interval_ms)
{
	PgmWatchShared sh;
	PgmBgTask  *task;
	PgmWatchdog *wd;

	memset(&sh, 0, sizeof(sh));
	sh.leader_pid = MyProcPid;
	sh.interval_ms = Max(interval_ms, 1);
	task = pgm_bgtask_start("pgm_watchdog_main", "pg_migrate lock watchdog", false,
							&sh, sizeof(sh));
	if (task == NULL)
		return NULL;
	wd = palloc(sizeof(PgmWatchdog));
	wd->task = task;
	return wd;
}

/* Stop watching; returns the blockers last seen (none if never blocked) */
int
pgm_watchdog_stop(PgmWatchdog *wd, int *pids, int max)
{
	PgmWatchShared sh;
	int			n;

	if (wd == NULL)
		return 0;
	memset(&sh, 0, sizeof(sh));
	(void) pgm_bgtask_finish(wd->task, true, &sh, sizeof(sh));
	n = Min(sh.nblockers, max);
	memcpy(pids, sh.blockers, sizeof(int) * n);
	pfree(wd);
	return n;
}

/* The watchdog's loop, until the leader terminates it */
static void
watch(void *data, Size len)
{
	PgmWatchShared *sh = data;
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "pg_migrate watchdog",
											  ALLOCSET_SMALL_SIZES);

	for (;;)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);
		ArrayType  *arr = DatumGetArrayTypeP(DirectFunctionCall1(pg_blocking_pids,
																 Int32GetDatum(sh->leader_pid)));
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(arr, INT4OID, sizeof(int32), true, TYPALIGN_INT, &elems, &nulls, &n);
		if (n > 0)
		{
			n = Min(n, PGM_MAX_BLOCKERS);
			for (int i = 0; i < n; i++)
				sh->blockers[i] = DatumGetInt32(elems[i]);
			sh->nblockers = n;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(cxt);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sh->interval_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* The worker's entry point (bgw_function_name) */
void
pgm_watchdog_main(Datum arg)
{
	pgm_bgtask_serve(arg, watch);
}
