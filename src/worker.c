/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The dynamic background worker: one task for one calling session, in a
 *	  transaction (or transactions) of its own, while the caller waits.
 *
 * Two tasks need it.  A failed step's log row must survive the rollback of
 * the caller's transaction (function mode), so a worker inserts and commits
 * it: an autonomous transaction.  And a non-transactional revision (CREATE
 * INDEX CONCURRENTLY, VACUUM, ALTER SYSTEM, ...) cannot run inside a
 * function or procedure at all, so a worker runs its statements one by one
 * at top level, each in its own transaction, the way the simple query
 * protocol does (postgres.c, exec_simple_query).
 *
 * The caller passes the task through a DSM segment, and the worker writes
 * the outcome back into it before it exits.  The worker connects as the
 * caller's session user (which can log in) and then takes on the caller's
 * current role, so the task runs with the caller's privileges.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
#include "storage/proc.h"

#include "catalog.h"
#include "run_log.h"
#include "step.h"
#include "worker.h"

#define RESULT_TEXT_LEN 1024

typedef struct PgmWorkerShared
{
	int			task;
	Oid			database;
	Oid			session_user;
	Oid			current_user;
	bool		current_is_superuser;
	/* the outcome, written by the worker */
	bool		ok;
	char		sqlstate[6];
	int			position;
	int			nblockers;
	int			blockers[32];
	char		message[RESULT_TEXT_LEN];
	char		detail[RESULT_TEXT_LEN];
	Size		payload_len;
	char		payload[FLEXIBLE_ARRAY_MEMBER];
} PgmWorkerShared;

static void run_log_row(PgmWorkerShared *sh);
static void run_sql(PgmWorkerShared *sh);

/*
 * Start a worker for 'task', wait for it to exit, and return its outcome.
 * An interrupt of the caller (cancel, terminate) stops the worker too.
 */
PgmWorkerResult
pgm_worker_run(PgmWorkerTask task, const char *payload, Size len)
{
	dsm_segment *seg = dsm_create(offsetof(PgmWorkerShared, payload) + len, 0);
	PgmWorkerShared *sh = dsm_segment_address(seg);
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	PgmWorkerResult res;

	memset(sh, 0, offsetof(PgmWorkerShared, payload));
	sh->task = task;
	sh->database = MyDatabaseId;
	sh->session_user = GetSessionUserId();
	sh->current_user = GetUserId();
	sh->current_is_superuser = superuser();
	strlcpy(sh->sqlstate, "XX000", sizeof(sh->sqlstate));
	strlcpy(sh->message, "pg_migrate background worker exited before finishing its task",
			RESULT_TEXT_LEN);
	sh->payload_len = len;
	memcpy(sh->payload, payload, len);

	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "pg_migrate worker for PID %d", MyProcPid);
	snprintf(w.bgw_type, BGW_MAXLEN, "pg_migrate worker");
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "pg_migrate");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "pgm_worker_main");
	w.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	w.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&w, &handle))
	{
		dsm_detach(seg);
		memset(&res, 0, sizeof(res));
		strlcpy(res.sqlstate, "53400", sizeof(res.sqlstate));
		res.message = pstrdup("could not start a pg_migrate background worker");
		res.detail = pstrdup("All max_worker_processes slots are in use; raise max_worker_processes.");
		return res;
	}

	PG_TRY();
	{
		status = WaitForBackgroundWorkerShutdown(handle);
	}
	PG_CATCH();
	{
		TerminateBackgroundWorker(handle);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (status == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster exited while a pg_migrate worker was running")));

	res.ok = sh->ok;
	memcpy(res.sqlstate, sh->sqlstate, sizeof(res.sqlstate));
	res.message = pstrdup(sh->message);
	res.detail = sh->detail[0] ? pstrdup(sh->detail) : NULL;
	res.position = sh->position;
	res.nblockers = sh->nblockers;
	memcpy(res.blockers, sh->blockers, sizeof(res.blockers));
	dsm_detach(seg);
	return res;
}

/* The SQL task's payload: search_path, timeouts, revision, SQL, NUL-separated */
PgmWorkerResult
pgm_worker_run_sql(const PgmSqlTask *task)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s%c%d%c%d%c%s%c%s", task->search_path, '\0',
					 task->lock_timeout_ms, '\0', task->statement_timeout_ms, '\0',
					 task->revision, '\0', task->sql);
	return pgm_worker_run(PGM_TASK_RUN_SQL, buf.data, buf.len + 1);
}

void
pgm_worker_main(Datum arg)
{
	dsm_segment *seg;
	PgmWorkerShared *sh;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	CurrentResourceOwner = ResourceOwnerCreate(NULL, "pg_migrate worker");
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not map the pg_migrate worker's shared memory")));
	sh = dsm_segment_address(seg);

	BackgroundWorkerInitializeConnectionByOid(sh->database, sh->session_user, 0);
	if (sh->current_user != sh->session_user)
		SetCurrentRoleId(sh->current_user, sh->current_is_superuser);

	PG_TRY();
	{
		if (sh->task == PGM_TASK_LOG_ROW)
			run_log_row(sh);
		else
			run_sql(sh);
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

	dsm_detach(seg);
	proc_exit(0);
}

static void
run_log_row(PgmWorkerShared *sh)
{
	PgmLogRow	row;

	pgm_log_deserialize(sh->payload, &row);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_migrate: writing a log row");
	pgm_catalog_connect(false);
	pgm_catalog_log(&row);
	pgm_catalog_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* The current namespace and name of an index about to be built, or NULL */
static Oid
index_namespace(IndexStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);

	return OidIsValid(relid) ? get_rel_namespace(relid) : InvalidOid;
}

/* Does the named index exist and is it invalid (a failed concurrent build)? */
static Oid
invalid_index(Oid nsp, const char *name)
{
	Oid			indexoid;
	HeapTuple	tup;
	bool		invalid = false;

	if (!OidIsValid(nsp) || name == NULL)
		return InvalidOid;
	indexoid = get_relname_relid(name, nsp);
	if (!OidIsValid(indexoid))
		return InvalidOid;
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	if (HeapTupleIsValid(tup))
	{
		invalid = !((Form_pg_index) GETSTRUCT(tup))->indisvalid;
		ReleaseSysCache(tup);
	}
	return invalid ? indexoid : InvalidOid;
}

/*
 * Run one statement at top level in its own transaction, as the simple
 * query protocol would.
 */
static void
run_toplevel(RawStmt *parsetree, const char *sql)
{
	List	   *querytrees;
	List	   *plantrees;
	Portal		portal;
	DestReceiver *receiver;
	QueryCompletion qc;
	bool		snapshot_set = false;
	int16		format = 0;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (analyze_requires_snapshot(parsetree))
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		snapshot_set = true;
	}
#if PG_VERSION_NUM >= 150000
	querytrees = pg_analyze_and_rewrite_fixedparams(parsetree, sql, NULL, 0, NULL);
#else
	querytrees = pg_analyze_and_rewrite(parsetree, sql, NULL, 0, NULL);
#endif
	plantrees = pg_plan_queries(querytrees, sql, CURSOR_OPT_PARALLEL_OK, NULL);
	if (snapshot_set)
		PopActiveSnapshot();

	portal = CreatePortal("", true, true);
	portal->visible = false;
	PortalDefineQuery(portal, NULL, sql, CreateCommandTag(parsetree->stmt), plantrees, NULL);
	PortalStart(portal, NULL, 0, InvalidSnapshot);
	PortalSetResultFormat(portal, 1, &format);
	receiver = CreateDestReceiver(DestNone);
	/* armed per statement, as start_xact_command() does for clients */
	if (StatementTimeout > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
	(void) PortalRun(portal, FETCH_ALL, true, true, receiver, receiver, &qc);
	disable_timeout(STATEMENT_TIMEOUT, false);
	receiver->rDestroy(receiver);
	PortalDrop(portal, false);
	CommitTransactionCommand();
}

static void
set_setting(const char *name, const char *value)
{
	SetConfigOption(name, value, PGC_USERSET, PGC_S_SESSION);
}

/*
 * Run a non-transactional revision's SQL.  A CREATE INDEX CONCURRENTLY
 * whose index is already there but invalid (an earlier attempt failed
 * half-way) drops that index first, so that a retry never records an
 * invalid index as success; if the build fails now, the error says which
 * invalid index it left behind.
 */
static void
run_sql(PgmWorkerShared *sh)
{
	const char *search_path = sh->payload;
	const char *lock_timeout = search_path + strlen(search_path) + 1;
	const char *statement_timeout = lock_timeout + strlen(lock_timeout) + 1;
	const char *revision = statement_timeout + strlen(statement_timeout) + 1;
	const char *sql = revision + strlen(revision) + 1;
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "pg_migrate worker statements",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	List	   *parsetrees;
	ListCell   *lc;
	char		activity[256];

	StartTransactionCommand();
	set_setting("search_path", search_path);
	if (atoi(lock_timeout) > 0)
		set_setting("lock_timeout", psprintf("%sms", lock_timeout));
	if (atoi(statement_timeout) > 0)
		set_setting("statement_timeout", psprintf("%sms", statement_timeout));
	CommitTransactionCommand();

	snprintf(activity, sizeof(activity), "pg_migrate: non-transactional step of revision %s", revision);
	pgstat_report_activity(STATE_RUNNING, activity);

	old = MemoryContextSwitchTo(cxt);
	parsetrees = pg_parse_query(sql);
	MemoryContextSwitchTo(old);

	foreach(lc, parsetrees)
	{
		RawStmt    *parsetree = lfirst_node(RawStmt, lc);
		IndexStmt  *volatile cic = NULL;
		char	   *volatile idxname = NULL;
		volatile Oid nsp = InvalidOid;

		if (IsA(parsetree->stmt, IndexStmt) && ((IndexStmt *) parsetree->stmt)->concurrent &&
			((IndexStmt *) parsetree->stmt)->idxname)
		{
			cic = (IndexStmt *) parsetree->stmt;
			idxname = MemoryContextStrdup(cxt, cic->idxname);
			StartTransactionCommand();
			nsp = index_namespace(cic);
			if (OidIsValid(invalid_index(nsp, idxname)))
			{
				char	   *qualified = quote_qualified_identifier(get_namespace_name(nsp), idxname);
				char	   *drop = MemoryContextStrdup(cxt, psprintf("DROP INDEX CONCURRENTLY %s", qualified));

				CommitTransactionCommand();
				ereport(LOG,
						(errmsg("pg_migrate: dropping invalid index %s left by an earlier attempt of revision %s",
								drop + strlen("DROP INDEX CONCURRENTLY "), revision)));
				old = MemoryContextSwitchTo(cxt);
				run_toplevel(linitial_node(RawStmt, pg_parse_query(drop)), drop);
				MemoryContextSwitchTo(old);
			}
			else
				CommitTransactionCommand();
		}

		PG_TRY();
		{
			run_toplevel(parsetree, sql);
		}
		PG_CATCH();
		{
			ErrorData  *e;

			MemoryContextSwitchTo(cxt);
			e = CopyErrorData();
			FlushErrorState();
			AbortCurrentTransaction();
			if (cic)
			{
				bool		left_invalid;

				StartTransactionCommand();
				left_invalid = OidIsValid(invalid_index(nsp, idxname));
				CommitTransactionCommand();
				if (left_invalid)
					snprintf(sh->detail, RESULT_TEXT_LEN,
							 "CREATE INDEX CONCURRENTLY left the invalid index \"%s\" behind; "
							 "the next attempt of this revision drops it first.", idxname);
			}
			ReThrowError(e);
		}
		PG_END_TRY();
	}
	pgstat_report_activity(STATE_IDLE, NULL);
}
