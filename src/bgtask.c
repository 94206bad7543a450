/*-------------------------------------------------------------------------
 *
 * bgtask.c
 *	  A dynamic background worker that does one task for the calling
 *	  session while it waits (or, for the lock watchdog, until it is told
 *	  to stop), and the copy of the task's outcome back to the caller.
 *
 * The caller passes its data through a DSM segment: a header that says
 * who the caller is and where the outcome goes, then the task's own bytes,
 * which the worker may write back.  The worker connects (if asked) as the
 * caller's session user, which can log in, and then takes on the caller's
 * current role, so the task runs with the caller's privileges.  An error
 * in the task is copied into the header before the worker exits.
 *
 * A worker never outlives its caller, and the caller never waits for it
 * blindly:
 *   - an interrupt of the caller (cancel, statement_timeout) stops the
 *     worker, and the wait for it to exit ends before the error goes on;
 *   - a caller that exits (pg_terminate_backend, FATAL) stops its workers
 *     and waits for them in a before_shmem_exit callback, which runs before
 *     the session's locks are released: pg_migrate's migration lock is free
 *     only once no worker of the run is left, so the next run cannot start
 *     a step that an earlier run's worker is still executing;
 *   - a worker that waits for a lock the caller holds (a deadlock that the
 *     deadlock detector cannot see: the caller waits on no lock) is stopped
 *     and reported as a deadlock;
 *   - a worker that exits without recording an outcome (terminated, FATAL)
 *     is reported as terminated (57P01), not as an internal error.
 *
 * This file knows no task: the caller names the worker's entry point
 * (bgw_function_name, exported from the task's own file, which calls
 * pgm_bgtask_serve()).  Its users: run_log.c (a log row written in a
 * transaction of its own), nontx.c (non-transactional SQL) and watchdog.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "bgtask.h"

#define RESULT_TEXT_LEN 1024

typedef struct PgmBgShared
{
	bool		connect;
	Oid			database;
	Oid			session_user;
	Oid			current_user;
	bool		current_is_superuser;
	/* the outcome, written by the worker */
	bool		done;			/* false: it exited without recording one */
	bool		ok;
	char		sqlstate[6];
	int			position;
	char		message[RESULT_TEXT_LEN];
	char		detail[RESULT_TEXT_LEN];
	Size		len;
	char		data[FLEXIBLE_ARRAY_MEMBER];	/* the task's, MAXALIGNed */
} PgmBgShared;

#define DATA_OFFSET MAXALIGN(offsetof(PgmBgShared, data))

struct PgmBgTask
{
	dsm_segment *seg;
	BackgroundWorkerHandle *handle;
	int			slot;			/* in running[] */
};

/*
 * In the caller: the workers it has started and not yet seen exit, for the
 * exit callback.  A session runs one task at a time (the watchdog beside a
 * step's worker makes two); the handles live in TopMemoryContext.
 */
#define MAX_RUNNING 4
static BackgroundWorkerHandle *running[MAX_RUNNING];
static bool exit_callback_registered = false;

/* How often a waiting caller looks at its worker, in milliseconds */
#define POLL_MS 100

/* Longest wait for a worker told to stop, in milliseconds */
#define STOP_WAIT_MS 30000

/* In the worker: the segment being served, for pgm_bgtask_set_detail() */
static PgmBgShared *serving = NULL;

/* Register in TopMemoryContext, where the exit callback can still reach it */
static bool
register_worker(BackgroundWorker *w, BackgroundWorkerHandle **handle)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	bool		ok = RegisterDynamicBackgroundWorker(w, handle);

	MemoryContextSwitchTo(old);
	return ok;
}

/*
 * Wait up to 'timeout_ms' for a worker to exit, without taking interrupts:
 * the caller is stopping it after an error, or exiting.
 */
static bool
wait_stopped(BackgroundWorkerHandle *handle, int timeout_ms)
{
	pid_t		pid;

	HOLD_INTERRUPTS();
	for (int waited = 0; GetBackgroundWorkerPid(handle, &pid) != BGWH_STOPPED; waited += 10)
	{
		if (waited >= timeout_ms || !PostmasterIsAlive())
		{
			RESUME_INTERRUPTS();
			return false;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	RESUME_INTERRUPTS();
	return true;
}

/* Stop a worker and wait until it has exited */
static void
stop_worker(BackgroundWorkerHandle *handle)
{
	TerminateBackgroundWorker(handle);
	if (!wait_stopped(handle, STOP_WAIT_MS))
		ereport(WARNING,
				(errmsg("pg_migrate background worker did not stop within %d ms", STOP_WAIT_MS)));
}

/*
 * before_shmem_exit: a session that exits (terminated, FATAL) stops its
 * workers first.  This runs before the session's locks are released (the
 * callback is registered after InitPostgres's), so the migration lock
 * covers a worker until it is gone.
 */
static void
stop_workers_at_exit(int code, Datum arg)
{
	for (int i = 0; i < MAX_RUNNING; i++)
		if (running[i] != NULL)
		{
			TerminateBackgroundWorker(running[i]);
			(void) wait_stopped(running[i], STOP_WAIT_MS);
			running[i] = NULL;
		}
}

/* Whether the worker with PID 'pid' waits for a lock this session holds */
static bool
blocked_by_me(pid_t pid)
{
	ArrayType  *pids = DatumGetArrayTypeP(DirectFunctionCall1(pg_blocking_pids, Int32GetDatum(pid)));
	Datum	   *items;
	int			n;

	deconstruct_array(pids, INT4OID, sizeof(int32), true, TYPALIGN_INT, &items, NULL, &n);
	for (int i = 0; i < n; i++)
		if (DatumGetInt32(items[i]) == MyProcPid)
			return true;
	return false;
}

/*
 * Wait for a worker to exit, looking at it every POLL_MS: one that waits
 * for a lock this session holds would wait forever, and is stopped.
 * Interrupts are taken; an error while waiting stops the worker, and waits
 * for it to exit, before it goes on.  Returns false for a deadlock.
 */
static bool
wait_for_worker(BackgroundWorkerHandle *handle)
{
	bool		deadlock = false;

	PG_TRY();
	{
		pid_t		pid;
		BgwHandleStatus status;

		while ((status = GetBackgroundWorkerPid(handle, &pid)) != BGWH_STOPPED)
		{
			CHECK_FOR_INTERRUPTS();
			if (status == BGWH_STARTED && blocked_by_me(pid))
			{
				deadlock = true;
				stop_worker(handle);
				break;
			}
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, POLL_MS,
							 PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
	PG_CATCH();
	{
		stop_worker(handle);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return !deadlock;
}

/*
 * Register a worker that runs 'function_name' (exported by the pg_migrate
 * library) on a copy of 'data'.  Returns NULL when no worker slot is free.
 */
PgmBgTask *
pgm_bgtask_start(const char *function_name, const char *type, bool connect,
				 const void *data, Size len)
{
	PgmBgTask  *task;
	PgmBgShared *sh;
	BackgroundWorker w;
	int			slot = -1;

	for (int i = 0; i < MAX_RUNNING && slot < 0; i++)
		if (running[i] == NULL)
			slot = i;
	if (slot < 0)
		elog(ERROR, "too many pg_migrate background workers in one session");
	task = MemoryContextAlloc(TopMemoryContext, sizeof(PgmBgTask));
	task->slot = slot;

	/*
	 * The task outlives the resource owner and memory context it starts in:
	 * a run in one subtransaction starts the lock watchdog inside it and
	 * stops it after rolling it back.  So the mapping is pinned (not
	 * released with the resource owner) and detached by hand.
	 */
	task->seg = dsm_create(DATA_OFFSET + len, 0);
	dsm_pin_mapping(task->seg);
	sh = dsm_segment_address(task->seg);
	memset(sh, 0, DATA_OFFSET);
	sh->connect = connect;
	sh->database = MyDatabaseId;
	sh->session_user = GetSessionUserId();
	sh->current_user = GetUserId();
	sh->current_is_superuser = superuser();
	sh->len = len;
	memcpy((char *) sh + DATA_OFFSET, data, len);

	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "%s for PID %d", type, MyProcPid);
	snprintf(w.bgw_type, BGW_MAXLEN, "%s", type);
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | (connect ? BGWORKER_BACKEND_DATABASE_CONNECTION : 0);
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "pg_migrate");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "%s", function_name);
	w.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(task->seg));
	w.bgw_notify_pid = MyProcPid;
	if (!exit_callback_registered)
	{
		before_shmem_exit(stop_workers_at_exit, (Datum) 0);
		exit_callback_registered = true;
	}
	if (!register_worker(&w, &task->handle))
	{
		dsm_detach(task->seg);
		pfree(task);
		return NULL;
	}
	running[task->slot] = task->handle;
	return task;
}

/* Forget a task whose worker has exited */
static void
release(PgmBgTask *task)
{
	running[task->slot] = NULL;
	pfree(task->handle);
	dsm_detach(task->seg);
	pfree(task);
}

/*
 * Wait for the worker to exit (after telling it to, with 'terminate'),
 * copy the task's data back into 'data_out' (if not NULL) and return the
 * outcome.  An error while waiting (an interrupt) terminates the worker.
 * The postmaster's death while a task is waited for is fatal.
 */
PgmBgResult
pgm_bgtask_finish(PgmBgTask *task, bool terminate, void *data_out, Size len)
{
	PgmBgShared *sh = dsm_segment_address(task->seg);
	PgmBgResult res;
	bool		deadlock = false;

	PG_TRY();
	{
		if (terminate)
			stop_worker(task->handle);
		else
			deadlock = !wait_for_worker(task->handle);
	}
	PG_CATCH();
	{
		/* interrupted: wait_for_worker() has stopped the worker */
		release(task);
		PG_RE_THROW();
	}
	PG_END_TRY();

	memset(&res, 0, sizeof(res));
	res.ok = sh->ok && !deadlock;
	memcpy(res.sqlstate, sh->sqlstate, sizeof(res.sqlstate));
	res.message = pstrdup(sh->message);
	res.detail = sh->detail[0] ? pstrdup(sh->detail) : NULL;
	res.position = sh->position;
	if (deadlock)
	{
		strlcpy(res.sqlstate, "40P01", sizeof(res.sqlstate));
		res.message = pstrdup("pg_migrate background worker waited for a lock held by the session it works for");
		res.detail = pstrdup("The session waits for the worker, so neither could go on; the worker was stopped.");
		res.hint = pstrdup("Do not hold locks on pg_migrate's catalog, or on what the step needs, while pg_migrate runs.");
	}
	else if (!sh->done)
	{
		/* terminated (pg_terminate_backend, shutdown) or a FATAL in it */
		res.ok = false;
		strlcpy(res.sqlstate, "57P01", sizeof(res.sqlstate));
		res.message = pstrdup("pg_migrate background worker was terminated before it finished");
		res.detail = pstrdup("It exited without recording an outcome, as when pg_terminate_backend() or a server shutdown stops it.");
	}
	if (data_out)
		memcpy(data_out, (char *) sh + DATA_OFFSET, Min(len, sh->len));
	release(task);
	return res;
}

/*
 * Run a task to its end and return its outcome; with no worker slot free,
 * an outcome of 53400 that says so.
 */
PgmBgResult
pgm_bgtask_run(const char *function_name, const char *type, const void *data, Size len)
{
	PgmBgTask  *task = pgm_bgtask_start(function_name, type, true, data, len);
	PgmBgResult res;

	if (task != NULL)
		return pgm_bgtask_finish(task, false, NULL, 0);
	memset(&res, 0, sizeof(res));
	strlcpy(res.sqlstate, "53400", sizeof(res.sqlstate));
	res.message = pstrdup("could not start a pg_migrate background worker");
	res.detail = pstrdup("All max_worker_processes slots are in use.");
	res.hint = pstrdup("You may need to increase max_worker_processes.");
	return res;
}

/*
 * The worker's side, called from the task's exported entry point: attach
 * to the caller's segment, connect as the caller, run 'fn' on the task's
 * data, and record how it ended.  Never returns.
 */
void
pgm_bgtask_serve(Datum arg, PgmBgTaskFn fn)
{
	dsm_segment *seg;
	PgmBgShared *sh;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "pg_migrate worker");
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		proc_exit(0);			/* the caller gave up before we started */
	sh = dsm_segment_address(seg);
	serving = sh;

	if (sh->connect)
	{
		BackgroundWorkerInitializeConnectionByOid(sh->database, sh->session_user, 0);
		if (sh->current_user != sh->session_user)
			SetCurrentRoleId(sh->current_user, sh->current_is_superuser);
	}

	PG_TRY();
	{
		fn((char *) sh + DATA_OFFSET, sh->len);
		sh->ok = true;
		sh->done = true;
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(TopMemoryContext);
		e = CopyErrorData();
		sh->ok = false;
		strlcpy(sh->sqlstate, unpack_sql_state(e->sqlerrcode), sizeof(sh->sqlstate));
		strlcpy(sh->message, e->message ? e->message : "", RESULT_TEXT_LEN);
		if (sh->detail[0] == '\0' && e->detail)
			strlcpy(sh->detail, e->detail, RESULT_TEXT_LEN);
		sh->position = e->cursorpos > 0 ? e->cursorpos : e->internalpos;
		sh->done = true;
		FlushErrorState();
		AbortOutOfAnyTransaction();
	}
	PG_END_TRY();

	serving = NULL;
	dsm_detach(seg);
	proc_exit(0);
}

/*
 * Whether this process is a worker serving a task: a task's SQL that calls
 * pg_migrate is refused (entry.c) as migration SQL in the session is.
 */
bool
pgm_bgtask_serving(void)
{
	return serving != NULL;
}

/*
 * In the worker: the detail of the error the task is about to raise, when
 * the error itself cannot carry it (it is the statement's own error).
 */
void
pgm_bgtask_set_detail(const char *detail)
{
	if (serving)
		strlcpy(serving->detail, detail, RESULT_TEXT_LEN);
}
