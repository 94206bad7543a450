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
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/wait_event.h"

#include "watchdog.h"

#define MAX_WATCHED_BLOCKERS 32

typedef struct PgmWatchShared
{
	int			leader_pid;
	int			interval_ms;
	int			nblockers;
	int			blockers[MAX_WATCHED_BLOCKERS];
} PgmWatchShared;

struct PgmWatchdog
{
	dsm_segment *seg;
	BackgroundWorkerHandle *handle;
};

/*
 * Start watching this backend.  Returns NULL when no worker slot is free:
 * the step then runs unwatched, and a lock timeout names no blockers.
 */
PgmWatchdog *
pgm_watchdog_start(int interval_ms)
{
	PgmWatchdog *wd = palloc(sizeof(PgmWatchdog));
	PgmWatchShared *sh;
	BackgroundWorker w;

	wd->seg = dsm_create(sizeof(PgmWatchShared), 0);
	sh = dsm_segment_address(wd->seg);
	memset(sh, 0, sizeof(*sh));
	sh->leader_pid = MyProcPid;
	sh->interval_ms = Max(interval_ms, 1);

	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "pg_migrate lock watchdog for PID %d", MyProcPid);
	snprintf(w.bgw_type, BGW_MAXLEN, "pg_migrate lock watchdog");
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "pg_migrate");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "pgm_watchdog_main");
	w.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(wd->seg));
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &wd->handle))
	{
		dsm_detach(wd->seg);
		pfree(wd);
		return NULL;
	}
	return wd;
}

/* Stop watching; returns the blockers last seen (none if never blocked) */
int
pgm_watchdog_stop(PgmWatchdog *wd, int *pids, int max)
{
	PgmWatchShared *sh;
	int			n;

	if (wd == NULL)
		return 0;
	TerminateBackgroundWorker(wd->handle);
	(void) WaitForBackgroundWorkerShutdown(wd->handle);
	sh = dsm_segment_address(wd->seg);
	n = sh->nblockers < max ? sh->nblockers : max;
	memcpy(pids, sh->blockers, sizeof(int) * n);
	dsm_detach(wd->seg);
	pfree(wd);
	return n;
}

void
pgm_watchdog_main(Datum arg)
{
	dsm_segment *seg;
	PgmWatchShared *sh;
	MemoryContext cxt;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "pg_migrate lock watchdog");
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		proc_exit(0);			/* the step ended before we started */
	sh = dsm_segment_address(seg);
	cxt = AllocSetContextCreate(TopMemoryContext, "pg_migrate watchdog", ALLOCSET_SMALL_SIZES);

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
			n = Min(n, (int) MAX_WATCHED_BLOCKERS);
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
