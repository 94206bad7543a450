/*-------------------------------------------------------------------------
 *
 * step.c
 *	  One step of a plan: run its SQL with its timeouts, record it in the
 *	  version state and the log, retry it when it timed out on a lock, and
 *	  make sure a failed attempt leaves a log row that outlives the rollback.
 *
 * Each attempt runs in a subtransaction, so that a failure can be caught,
 * rolled back, logged and retried (the PL/Python pattern of
 * src/pl/plpython/plpy_spi.c).  The caller's transaction sees either the
 * whole step (SQL, version state, success row) or nothing of it.  The
 * revision's timeouts are set inside the subtransaction, so they apply to
 * its SQL only and vanish with it.
 *
 * A non-transactional revision (transactional => false) cannot run in a
 * subtransaction, nor in a procedure at all: its SQL goes to a background
 * worker (nontx.c) that runs each statement at top level, while this
 * session waits having committed, holding no snapshot and no lock but
 * pg_migrate's own.  The top of run.c describes the four execution modes
 * and where the rows of failed attempts go.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "alembic.h"
#include "catalog.h"
#include "nontx.h"
#include "pg_migrate.h"
#include "run_log.h"
#include "schema_model.h"
#include "settings.h"
#include "step.h"
#include "subxact.h"
#include "watchdog.h"

/* True while a migration's SQL runs in this backend */
static bool applying = false;

/* ... for a trial that is rolled back (rehearsal, check), not a real run */
static bool trial = false;

/* ... and whether the running revision may rewrite tables (allow_hazards) */
static bool allows_rewrite = false;

typedef struct StepErrorContext
{
	const char *revision;
	bool		upgrade;
	int			nblockers;
	int			blockers[PGM_MAX_BLOCKERS];
} StepErrorContext;

/*
 * Is a migration's SQL running in this backend?  pg_migrate refuses to be
 * called from it (entry.c): it would plan from a state its caller is in the
 * middle of changing, and reuse the caller's per-call state.
 */
bool
pgm_step_in_migration(void)
{
	return applying;
}

/*
 * Is a real run's step (not a rehearsal or check) running SQL here, and may
 * it rewrite a table?  For the rewrite guard (fn_guard.c).
 */
bool
pgm_step_guarded(bool *may_rewrite)
{
	*may_rewrite = allows_rewrite;
	return applying && !trial;
}

/* The context line of any error a step's SQL raises */
static void
step_error_callback(void *arg)
{
	StepErrorContext *ctx = (StepErrorContext *) arg;

	errcontext("pg_migrate %s of revision \"%s\"",
			   ctx->upgrade ? "upgrade" : "downgrade", ctx->revision);
}

/* The timeout that applies: the revision's, else the run's, else the setting */
static int
effective(int revision_ms, int run_ms, int setting_ms)
{
	if (revision_ms >= 0)
		return revision_ms;
	if (run_ms >= 0)
		return run_ms;
	return setting_ms;
}

/*
 * lock_timeout is read whenever a lock wait begins, so setting it inside
 * the step's subtransaction is enough (the subtransaction's end restores it).
 */
static void
set_lock_timeout(int ms)
{
	if (ms > 0)
		(void) set_config_option("lock_timeout", psprintf("%dms", ms), PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
}

/*
 * statement_timeout is armed only when a top-level statement starts, so a
 * step's timeout arms the statement timer itself, never later than the
 * timer of the statement that called us; pgm_statement_timer_end() puts
 * that one back.  Returns the outer timer's end, or 0 if none was running.
 */
static TimestampTz
statement_timer_start(int ms)
{
	TimestampTz outer = get_timeout_active(STATEMENT_TIMEOUT) ?
		get_timeout_finish_time(STATEMENT_TIMEOUT) : 0;
	TimestampTz fin;

	if (ms <= 0)
		return outer;
	fin = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
	if (outer != 0 && outer < fin)
		fin = outer;
	enable_timeout_at(STATEMENT_TIMEOUT, fin);
	return outer;
}

/* Stop a step's statement timer and re-arm the caller's, if any */
void
pgm_statement_timer_end(int ms, TimestampTz outer)
{
	if (ms <= 0)
		return;
	disable_timeout(STATEMENT_TIMEOUT, false);
	if (outer != 0)
		enable_timeout_at(STATEMENT_TIMEOUT, outer);
}

/* Say which step runs: pg_stat_activity and a NOTICE */
static void
report_progress(PgmGraph *g, int rev, bool upgrade, PgmRun *run, int attempt)
{
	const char *msg = g->revs[rev].message;
	char		activity[512];

	snprintf(activity, sizeof(activity), "pg_migrate: %s %s (step %d of %d%s)%s%.300s",
			 upgrade ? "upgrade to" : "downgrade of", g->revs[rev].id, run->step_no, run->nsteps,
			 attempt > 1 ? psprintf(", attempt %d", attempt) : "", msg[0] ? ": " : "", msg);
	pgstat_report_activity(STATE_RUNNING, activity);
	ereport(NOTICE,
			(upgrade ?
			 errmsg("upgrading to %s%s%s", g->revs[rev].id, msg[0] ? ": " : "", msg) :
			 errmsg("downgrading %s%s%s", g->revs[rev].id, msg[0] ? ": " : "", msg),
			 attempt > 1 ? errdetail("Attempt %d.", attempt) : 0));
}

/* The row a step adds to what migrate_upgrade / migrate_downgrade return */
static void
return_row(PgmGraph *g, int rev, bool upgrade, PgmRun *run, TimestampTz started, TimestampTz finished)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (run->out == NULL)
		return;
	values[0] = CStringGetTextDatum(g->revs[rev].id);
	values[1] = CStringGetTextDatum(upgrade ? "upgrade" : "downgrade");
	values[2] = CStringGetTextDatum(g->revs[rev].message);
	values[3] = DirectFunctionCall2(timestamp_mi, TimestampTzGetDatum(finished),
									TimestampTzGetDatum(started));
	tuplestore_putvalues(run->out->store, run->out->desc, values, nulls);
}

/*
 * The fingerprint of the managed schemas as the step left them, for its
 * success row: drift is what changed since the last one.  By default only
 * the last step of a call records it: reading the model costs about as
 * much as the schema is big (80 ms at 1,000 tables), which a chain of
 * thousands of steps would pay thousands of times.
 */
static char *
step_fingerprint(void)
{
	int			nschemas;
	Oid		   *schemas = pgm_schema_oids(NULL, 0, &nschemas);
	char	   *fp = palloc(PGM_FINGERPRINT_LEN);
	StringInfoData digests;

	initStringInfo(&digests);
	pgm_schema_fingerprint(schemas, nschemas, fp, &digests);
	pgm_catalog_save_snapshot(fp, digests.data);
	pfree(digests.data);
	pfree(schemas);
	return fp;
}

/*
 * Record a successful step: version state and the success row.  In
 * function mode the rows of migrate_version are written once, at the end
 * of the run (run.c): the run commits or aborts as a whole, and writing
 * them per step would leave one dead row version per step in a table that
 * every step reads.
 */
static void
record_success(PgmGraph *g, PgmState *st, int rev, bool upgrade, PgmRun *run, PgmLogRow *row)
{
	PgmHeadChange ch = pgm_state_step(g, st, rev, upgrade);

	if (run->commit_each)
	{
		pgm_catalog_write_heads(g, &ch, run->scope);
		pgm_alembic_sync(run->scope);
	}
	row->outcome = "success";
	row->with_txid = true;
	if (pgm_log_fingerprint == PGM_FINGERPRINT_STEP ||
		(pgm_log_fingerprint == PGM_FINGERPRINT_LAST && run->step_no == run->nsteps))
		row->fingerprint = step_fingerprint();
	pgm_catalog_log(row);
}

/*
 * Run a step's SQL through SPI with the step's error context, marking the
 * backend as applying (pg_migrate refuses to be called from it meanwhile).
 */
static uint64
run_migration_sql(const char *sql, StepErrorContext *ctx)
{
	uint64		processed;
	ErrorContextCallback errcb;
	MemoryContext cxt = CurrentMemoryContext;
	int			rc;

	errcb.callback = step_error_callback;
	errcb.arg = ctx;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	applying = true;
	PG_TRY();
	{
		rc = SPI_execute(sql, false, 0);
	}
	PG_FINALLY();
	{
		applying = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt); /* SPI leaves its procedure context current */
	if (rc == SPI_ERROR_TRANSACTION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("revision \"%s\" contains a transaction control statement", ctx->revision),
				 errdetail("Migration SQL runs inside a transaction, so it cannot use BEGIN, COMMIT, ROLLBACK or SAVEPOINT.")));
	if (rc == SPI_ERROR_COPY)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("revision \"%s\" contains COPY to or from the client", ctx->revision),
				 errdetail("Migration SQL runs inside the server, where no client is connected to send or receive the data."),
				 errhint("Register a new revision that loads the data with INSERT, or with COPY from a file on the server.")));
	if (rc < 0)
		elog(ERROR, "SPI_execute failed for revision \"%s\": %s", ctx->revision,
			 SPI_result_code_string(rc));
	error_context_stack = errcb.previous;
	processed = SPI_processed;
	SPI_freetuptable(SPI_tuptable);
	return processed;
}

/*
 * One statement of a revision's upgrade SQL for a rehearsal
 * (rehearse.c), run as a step's SQL runs (error context, the backend marked
 * as applying) under a statement timeout of stmt_ms (0: none).  The
 * caller holds the subtransaction and catches the error.  Returns the rows
 * it processed.
 */
uint64
pgm_step_exec_statement(const char *revision, const char *sql, int stmt_ms)
{
	StepErrorContext ctx = {revision, true, 0, {0}};
	TimestampTz outer_timer = statement_timer_start(stmt_ms);
	volatile uint64 processed = 0;

	trial = true;
	PG_TRY();
	{
		processed = run_migration_sql(sql, &ctx);
	}
	PG_FINALLY();
	{
		trial = false;
		pgm_statement_timer_end(stmt_ms, outer_timer);
	}
	PG_END_TRY();
	return processed;
}

/*
 * A step's SQL for a trial that is rolled back as a whole (migrate_check):
 * in a subtransaction of its own, with the step's timeouts (the
 * revision's, else the settings'), its error context, and the backend
 * marked as applying; no log row, no version state.  On success the
 * subtransaction's work is kept (released into the trial's); on error it
 * is rolled back and the error returned, in the caller's memory context.
 */
/*
 * Is this error a cancel to pass on, rather than a trial's own statement
 * timeout?  Both are 57014, but a trial's timeout cannot fire before its
 * time: what comes earlier is the user's cancel, or the caller's own
 * statement_timeout, and must end the call, not become a finding.
 */
bool
pgm_step_cancelled(ErrorData *e, TimestampTz started, int stmt_ms)
{
	if (e->sqlerrcode != ERRCODE_QUERY_CANCELED)
		return false;
	return stmt_ms <= 0 ||
		!TimestampDifferenceExceeds(started, GetCurrentTimestamp(), Max(stmt_ms - 1, 0));
}

ErrorData *
pgm_step_trial(const char *revision, bool upgrade, PgmStepInfo *info)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;
	StepErrorContext ctx = {revision, upgrade, 0, {0}};
	int			stmt_ms = effective(info->statement_timeout_ms, -1, pgm_statement_timeout);
	int			lock_ms = effective(info->lock_timeout_ms, -1, pgm_lock_timeout);
	TimestampTz outer_timer;
	TimestampTz started = GetCurrentTimestamp();

	pgm_subxact_begin(oldcxt);
	outer_timer = statement_timer_start(stmt_ms);
	trial = true;
	PG_TRY();
	{
		set_lock_timeout(lock_ms);
		run_migration_sql(info->sql, &ctx);
		pgm_statement_timer_end(stmt_ms, outer_timer);
		pgm_subxact_release(oldcxt, oldowner);
	}
	PG_CATCH();
	{
		pgm_statement_timer_end(stmt_ms, outer_timer);
		edata = pgm_subxact_abort(oldcxt, oldowner);
	}
	PG_END_TRY();
	trial = false;
	if (edata && pgm_step_cancelled(edata, started, stmt_ms))
		ReThrowError(edata);
	return edata;
}

/*
 * One attempt of a transactional step, in a subtransaction.  Returns NULL on
 * success, or the error; *in_sql says whether the migration's own SQL
 * raised it (only then is a retry safe: nothing else was touched).
 */
static ErrorData *
attempt_in_subxact(PgmGraph *g, PgmState *st, int rev, bool upgrade, PgmRun *run,
				   PgmStepInfo *info, PgmLogRow *row, StepErrorContext *ctx, bool *in_sql)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;
	volatile bool sql_running = false;

	int			stmt_ms = effective(info->statement_timeout_ms, run->statement_timeout_ms,
									pgm_statement_timeout);
	int			lock_ms = effective(info->lock_timeout_ms, run->lock_timeout_ms, pgm_lock_timeout);
	TimestampTz outer_timer;
	PgmWatchdog *volatile wd = NULL;

	/* with a lock_timeout, have someone note who blocks us (watchdog.c) */
	if (lock_ms > 0)
		wd = pgm_watchdog_start(Min(50, Max(1, lock_ms / 4)));

	pgm_subxact_begin(oldcxt);
	outer_timer = statement_timer_start(stmt_ms);
	PG_TRY();
	{
		set_lock_timeout(lock_ms);
		sql_running = true;
		allows_rewrite = info->allow_rewrite;
		run_migration_sql(info->sql, ctx);
		sql_running = false;
		pgm_statement_timer_end(stmt_ms, outer_timer);

		row->finished = GetCurrentTimestamp();
		record_success(g, st, rev, upgrade, run, row);
		pgm_subxact_release(oldcxt, oldowner);
	}
	PG_CATCH();
	{
		pgm_statement_timer_end(stmt_ms, outer_timer);
		edata = pgm_subxact_abort(oldcxt, oldowner);
	}
	PG_END_TRY();
	ctx->nblockers = pgm_watchdog_stop(wd, ctx->blockers, PGM_MAX_BLOCKERS);
	*in_sql = sql_running;
	return edata;
}

/*
 * A step of a run that holds one subtransaction for all its steps: no
 * subtransaction and no catch here; the run's catch (run.c) calls
 * pgm_step_failed_in_run() with what run->cur says about this step.
 */
static void
attempt_direct(PgmGraph *g, PgmState *st, int rev, bool upgrade, PgmRun *run,
			   PgmStepInfo *info, PgmLogRow *row, StepErrorContext *ctx)
{
	int			lock_ms = effective(info->lock_timeout_ms, run->lock_timeout_ms, pgm_lock_timeout);
	int			nest;

	PgmStepAttempt *cur = &run->cur;

	cur->rev = rev;
	cur->upgrade = upgrade;
	cur->started = row->started;
	cur->stmt_ms = effective(info->statement_timeout_ms, run->statement_timeout_ms,
							 pgm_statement_timeout);
	cur->watchdog = lock_ms > 0 ? pgm_watchdog_start(Min(50, Max(1, lock_ms / 4))) : NULL;
	cur->outer_timer = statement_timer_start(cur->stmt_ms);
	nest = NewGUCNestLevel();
	set_lock_timeout(lock_ms);

	allows_rewrite = info->allow_rewrite;
	run_migration_sql(info->sql, ctx);
	pgm_statement_timer_end(cur->stmt_ms, cur->outer_timer);
	AtEOXact_GUC(true, nest);
	{
		int			ignored[PGM_MAX_BLOCKERS];

		(void) pgm_watchdog_stop(cur->watchdog, ignored, PGM_MAX_BLOCKERS);
		cur->watchdog = NULL;
	}
	row->finished = GetCurrentTimestamp();
	record_success(g, st, rev, upgrade, run, row);
	cur->rev = -1;
}

/*
 * Run the worker and wait for it inside a subtransaction, so that an
 * interrupt of the wait (a cancel, statement_timeout) comes back as an
 * error to log instead of cutting the attempt short without its failed
 * row.  bgtask.c has stopped the worker, and waited for it, by then.
 * False, with *edata set, when the wait was interrupted.
 */
static bool
run_worker_catching(const PgmSqlTask *task, PgmBgResult *res, ErrorData **edata)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = true;

	pgm_subxact_begin(oldcxt);
	PG_TRY();
	{
		*res = pgm_nontx_run(task);
		pgm_subxact_release(oldcxt, oldowner);
	}
	PG_CATCH();
	{
		*edata = pgm_subxact_abort(oldcxt, oldowner);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/*
 * Record a non-transactional step the worker has run, in a subtransaction:
 * recording can fail too (the Alembic version table's sync, a cancel), and
 * the attempt must then keep its failed row.  The step's effect is
 * committed already; the failed row says its recording was not.
 */
static ErrorData *
record_success_catching(PgmGraph *g, PgmState *st, int rev, bool upgrade, PgmRun *run,
						PgmLogRow *row)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	pgm_subxact_begin(oldcxt);
	PG_TRY();
	{
		record_success(g, st, rev, upgrade, run, row);
		pgm_subxact_release(oldcxt, oldowner);
	}
	PG_CATCH();
	{
		edata = pgm_subxact_abort(oldcxt, oldowner);
	}
	PG_END_TRY();
	return edata;
}

/*
 * One attempt of a non-transactional step: let the worker run the SQL, then
 * record the outcome.  This transaction holds nothing a concurrent index
 * build would wait for: non-transactional steps run only in CALL mode,
 * where every attempt begins by committing its started row.  Interrupts
 * and failures after that point come back as the attempt's error, so its
 * failed row is written.
 */
static ErrorData *
attempt_in_worker(PgmGraph *g, PgmState *st, int rev, bool upgrade, PgmRun *run,
				  PgmStepInfo *info, PgmLogRow *row, StepErrorContext *ctx)
{
	PgmSqlTask	task;
	PgmBgResult res;
	ErrorData  *edata;

	task.sql = info->sql;
	task.search_path = GetConfigOptionByName("search_path", NULL, false);
	task.lock_timeout_ms = effective(info->lock_timeout_ms, run->lock_timeout_ms, pgm_lock_timeout);
	task.statement_timeout_ms = effective(info->statement_timeout_ms, run->statement_timeout_ms,
										  pgm_statement_timeout);
	task.revision = ctx->revision;

	Assert(run->commit_each);
	if (!run_worker_catching(&task, &res, &edata))
	{
		/* interrupted while waiting: the worker has stopped; log, go on */
		row->finished = GetCurrentTimestamp();
		edata->context = psprintf("pg_migrate %s of revision \"%s\" (non-transactional, in a background worker)",
								  upgrade ? "upgrade" : "downgrade", ctx->revision);
		return edata;
	}
	row->finished = GetCurrentTimestamp();
	if (res.ok)
		return record_success_catching(g, st, rev, upgrade, run, row);

	edata = palloc0(sizeof(ErrorData));
	edata->elevel = ERROR;
	edata->output_to_server = true;
	edata->output_to_client = true;
	edata->sqlerrcode = MAKE_SQLSTATE(res.sqlstate[0], res.sqlstate[1], res.sqlstate[2],
									  res.sqlstate[3], res.sqlstate[4]);
	edata->message = res.message;
	edata->detail = res.detail;
	edata->hint = res.hint;
	edata->internalpos = res.position;
	edata->context = psprintf("pg_migrate %s of revision \"%s\" (non-transactional, in a background worker)",
							  upgrade ? "upgrade" : "downgrade", ctx->revision);
	return edata;
}

/*
 * Commit a successful attempt in CALL mode, with its version-state change
 * and log row.  The commit can fail on its own (a deferred constraint or
 * constraint trigger fires at COMMIT); SPI has rolled the attempt back and
 * started the next transaction by then (as for PL/Python's plpy.commit(),
 * the error is caught only after that), so the caller can log the failure.
 * NULL when the commit succeeded.
 */
static ErrorData *
commit_attempt(const char *revision, bool upgrade)
{
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *volatile edata = NULL;

	PG_TRY();
	{
		pgm_catalog_commit();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		edata->context = psprintf("pg_migrate %s of revision \"%s\", at COMMIT",
								  upgrade ? "upgrade" : "downgrade", revision);
	}
	PG_END_TRY();
	if (edata)
		pgm_catalog_after_failed_commit();
	return edata;
}

/*
 * One attempt in CALL mode, which commits it.  Its started row is on record
 * already, so an error must not escape without its failed row: the attempt
 * functions return theirs, and one that escapes them anyway (a cancel that
 * lands between two of their steps, with statement_timeout = 1 say) is
 * caught here, after which the transaction is rolled back as PostgreSQL's
 * main loop would roll it back.  Nothing goes on after that but logging
 * the failure and raising the error again (pgm_step_run).
 */
static ErrorData *
attempt_committed(PgmGraph *g, PgmState *st, int rev, bool upgrade, PgmRun *run,
				  PgmStepInfo *info, PgmLogRow *row, StepErrorContext *ctx, bool *in_sql)
{
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *volatile edata = NULL;
	volatile bool sql = true;

	PG_TRY();
	{
		bool		in = true;

		if (info->transactional)
			edata = attempt_in_subxact(g, st, rev, upgrade, run, info, row, ctx, &in);
		else
			edata = attempt_in_worker(g, st, rev, upgrade, run, info, row, ctx);
		sql = in;
		if (edata == NULL)
		{
			edata = commit_attempt(ctx->revision, upgrade);
			sql = false;		/* not a lock wait of the SQL: no retry */
		}
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		sql = false;
		pgm_catalog_rollback();
	}
	PG_END_TRY();
	*in_sql = sql;
	return edata;
}

/*
 * Keep the row of a failed or retried attempt: commit it in CALL mode, where
 * the step's transaction holds nothing else; elsewhere let a worker write it
 * in a transaction of its own.
 */
static void
keep_row(PgmRun *run, PgmLogRow *row)
{
	/*
	 * A cancel must not cut this short: the statement_timeout that stopped
	 * the step fires again as soon as the step's own timer gives the
	 * caller's back (its end has passed).  A held cancel is forgotten with
	 * the error that follows.
	 */
	HOLD_CANCEL_INTERRUPTS();
	if (run->commit_each)
	{
		pgm_catalog_log(row);
		pgm_catalog_commit();
	}
	else
		pgm_log_write_autonomous(row);
	RESUME_CANCEL_INTERRUPTS();
}

static char *
pids_text(const int *pids, int n)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; i < n; i++)
		appendStringInfo(&s, "%s%d", i ? ", " : "", pids[i]);
	return s.data;
}

static void
sleep_ms(int ms)
{
	if (ms <= 0)
		return;
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

/* Keep the failed attempt's row, make the error say what helps, rethrow it */
static void
fail_step(PgmRun *run, PgmLogRow *row, ErrorData *edata, const int *blockers, int nblockers)
{
	row->outcome = "failed";
	keep_row(run, row);
	if (edata->sqlerrcode == ERRCODE_OUT_OF_MEMORY && !run->commit_each &&
		edata->message && strstr(edata->message, "shared memory"))
	{
		/* every table a long plan touches stays locked until its end */
		edata->hint = psprintf("%s%sA plan run in one transaction holds the locks of all its steps until it ends: "
							   "raise max_locks_per_transaction, or use CALL migrate_apply(), which commits after each step.",
							   edata->hint ? edata->hint : "", edata->hint ? "\n" : "");
	}
	if (nblockers > 0)
	{
		/* say who blocked us: keep the original error, add a detail */
		char	   *who = psprintf("Blocked by PID %s; migrate_log.blockers has the details.",
								   pids_text(blockers, nblockers));

		edata->detail = edata->detail ? psprintf("%s\n%s", edata->detail, who) : who;
	}
	ReThrowError(edata);
}

void
pgm_step_run(PgmGraph *g, PgmState *st, int rev, bool upgrade, PgmRun *run, PgmStepInfo *step_info)
{
	const char *id = g->revs[rev].id;
	int			retries = run->lock_retries >= 0 ? run->lock_retries : pgm_lock_retries;
	int			backoff = pgm_retry_backoff;

	for (int attempt = 1;; attempt++)
	{
		PgmStepInfo info = *step_info;
		StepErrorContext ctx = {id, upgrade, 0, {0}};
		PgmLogRow	row;
		ErrorData  *edata;
		bool		in_sql = true;

		pgm_log_row_init(&row, run->run_id, run->scope, id, upgrade ? "upgrade" : "downgrade");
		row.attempt = attempt;
		report_progress(g, rev, upgrade, run, attempt);
		row.started = GetCurrentTimestamp();
		if (run->commit_each)
		{
			/* on record before it runs, in case the attempt is cut short */
			row.outcome = "started";
			row.finished = row.started;
			pgm_catalog_log(&row);
			pgm_catalog_commit();
		}

		if (run->one_subxact)
		{
			attempt_direct(g, st, rev, upgrade, run, &info, &row, &ctx);
			edata = NULL;
		}
		else if (run->commit_each)
			edata = attempt_committed(g, st, rev, upgrade, run, &info, &row, &ctx, &in_sql);
		else
			edata = attempt_in_subxact(g, st, rev, upgrade, run, &info, &row, &ctx, &in_sql);

		if (edata == NULL)
		{
			return_row(g, rev, upgrade, run, row.started, row.finished);
			pgstat_report_activity(STATE_RUNNING, "pg_migrate: between steps");
			return;
		}

		row.finished = GetCurrentTimestamp();
		pgm_log_row_set_error(&row, edata);
		if (ctx.nblockers > 0)
			row.blockers = pgm_log_describe_sessions(ctx.blockers, ctx.nblockers);

		if (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE && in_sql && attempt <= retries)
		{
			row.outcome = "retry";
			keep_row(run, &row);
			ereport(NOTICE,
					(errmsg("revision \"%s\" timed out waiting for a lock; retrying in %d ms (%d of %d)",
							id, backoff, attempt, retries),
					 ctx.nblockers > 0 ?
					 errdetail("Blocked by PID %s; migrate_log.blockers has the details.",
							   pids_text(ctx.blockers, ctx.nblockers)) : 0));
			sleep_ms(backoff);
			backoff = backoff > INT_MAX / 2 ? INT_MAX : backoff * 2;
			continue;
		}

		fail_step(run, &row, edata, ctx.blockers, ctx.nblockers);
	}
}

/*
 * A run that holds one subtransaction for all its steps failed (run.c has
 * rolled it back): log the step that was running, then rethrow.
 */
void
pgm_step_failed_in_run(PgmGraph *g, PgmRun *run, ErrorData *edata)
{
	int			blockers[PGM_MAX_BLOCKERS];
	int			nblockers = pgm_watchdog_stop(run->cur.watchdog, blockers, PGM_MAX_BLOCKERS);
	PgmLogRow	row;

	run->cur.watchdog = NULL;
	if (run->cur.rev < 0)
		ReThrowError(edata);	/* not in a step: nothing of a step to log */
	pgm_log_row_init(&row, run->run_id, run->scope, g->revs[run->cur.rev].id,
					 run->cur.upgrade ? "upgrade" : "downgrade");
	row.started = run->cur.started;
	row.finished = GetCurrentTimestamp();
	pgm_log_row_set_error(&row, edata);
	if (nblockers > 0)
		row.blockers = pgm_log_describe_sessions(blockers, nblockers);
	fail_step(run, &row, edata, blockers, nblockers);
}
