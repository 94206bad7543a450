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
 * in the task is copied into the header before the worker exits; an
 * interrupt of the caller (cancel, terminate) stops the worker too.
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
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
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
};

/* In the worker: the segment being served, for pgm_bgtask_set_detail() */
static PgmBgShared *serving = NULL;

/*
 * Register a worker that runs 'function_name' (exported by the pg_migrate
 * library) on a copy of 'data'.  Returns NULL when no worker slot is free.
 */
PgmBgTask *
pgm_bgtask_start(const char *function_name, const char *type, bool connect,
				 const void *data, Size len)
{
	PgmBgTask  *task = palloc(sizeof(PgmBgTask));
	PgmBgShared *sh;
	BackgroundWorker w;

	task->seg = dsm_create(DATA_OFFSET + len, 0);
	sh = dsm_segment_address(task->seg);
	memset(sh, 0, DATA_OFFSET);
	sh->connect = connect;
	sh->database = MyDatabaseId;
	sh->session_user = GetSessionUserId();
	sh->current_user = GetUserId();
	sh->current_is_superuser = superuser();
	strlcpy(sh->sqlstate, "XX000", sizeof(sh->sqlstate));
	strlcpy(sh->message, "pg_migrate background worker exited before finishing its task",
			RESULT_TEXT_LEN);
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
	if (!RegisterDynamicBackgroundWorker(&w, &task->handle))
	{
		dsm_detach(task->seg);
		pfree(task);
		return NULL;
	}
	return task;
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
	BgwHandleStatus status;
	PgmBgResult res;

	if (terminate)
		TerminateBackgroundWorker(task->handle);
	PG_TRY();
	{
		status = WaitForBackgroundWorkerShutdown(task->handle);
	}
	PG_CATCH();
	{
		TerminateBackgroundWorker(task->handle);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (status == BGWH_POSTMASTER_DIED && !terminate)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster exited while a pg_migrate worker was running")));

	memset(&res, 0, sizeof(res));
	res.ok = sh->ok;
	memcpy(res.sqlstate, sh->sqlstate, sizeof(res.sqlstate));
	res.message = pstrdup(sh->message);
	res.detail = sh->detail[0] ? pstrdup(sh->detail) : NULL;
	res.position = sh->position;
	if (data_out)
		memcpy(data_out, (char *) sh + DATA_OFFSET, Min(len, sh->len));
	dsm_detach(task->seg);
	pfree(task);
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
		FlushErrorState();
		AbortOutOfAnyTransaction();
	}
	PG_END_TRY();

	serving = NULL;
	dsm_detach(seg);
	proc_exit(0);
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
