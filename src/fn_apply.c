/*-------------------------------------------------------------------------
 *
 * fn_apply.c
 *	  CALL migrate_apply(target, ...): the production entry point, for
 *	  deploy jobs, pg_cron and psql.
 *
 * It commits after each step, with that step's version-state change and
 * log row, so a failure at step 7 keeps steps 1 to 6 and the next run
 * resumes at 7; the failed attempt's row is committed after the step is
 * rolled back.  single_transaction => true runs the whole plan in one
 * transaction instead (then a failed attempt's row is written by a
 * background worker).  pg_migrate's migration lock is held at session level
 * for the whole call, so no other migrator slips in between two steps; it
 * is released at the end, and by a transaction callback if the call fails.
 * (run.c describes the execution modes.)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"

#include "alembic.h"
#include "entry.h"
#include "lock.h"
#include "run.h"
#include "catalog.h"
#include "identifier.h"
#include "pg_migrate.h"
#include "settings.h"

PG_FUNCTION_INFO_V1(migrate_apply);

/* Does this session hold the migration lock at session level? */
static bool session_lock_held = false;

/*
 * A failed CALL leaves its session-level lock behind; release it once the
 * transaction has aborted (LWLocks are released by then, so taking the lock
 * manager's partition lock is safe).
 */
static void
release_on_abort(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT && session_lock_held)
	{
		session_lock_held = false;
		pgm_unlock_migrations();
	}
}

static bool
called_atomically(FunctionCallInfo fcinfo)
{
	return !(fcinfo->context && IsA(fcinfo->context, CallContext) &&
			 !castNode(CallContext, fcinfo->context)->atomic);
}

Datum
migrate_apply(PG_FUNCTION_ARGS)
{
	static bool callback_registered = false;
	char	   *target = pgm_arg_text(fcinfo, 0, "target");
	bool		downgrade = pgm_arg_bool(fcinfo, 1, "downgrade");
	bool		single = pgm_arg_bool(fcinfo, 2, "single_transaction");
	bool		skip = pgm_arg_bool(fcinfo, 3, "skip_if_locked");
	int			lock_wait = pgm_arg_interval_ms(fcinfo, 4, "lock_wait_timeout");
	bool		atomic = called_atomically(fcinfo);
	PgmRun		run;
	PgmEntry	e;
	PgmGraph   *g;
	PgmIdxList	heads;
	PgmState	st;
	PgmPlan		plan;
	PgmStepInfo *infos;

	pgm_refuse_reentry("migrate_apply()");
	if (atomic && !single)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("migrate_apply() cannot commit inside a transaction block"),
				 errdetail("It commits after each step, which is impossible inside BEGIN ... COMMIT or when it is called from a function."),
				 errhint("CALL it outside a transaction block, pass single_transaction => true, or use SELECT migrate_upgrade(...) inside your transaction.")));
	if (!callback_registered)
	{
		RegisterXactCallback(release_on_abort, NULL);
		callback_registered = true;
	}
	e = pgm_enter("migrate_apply()", PGM_ENTER_READ_WRITE | (atomic ? 0 : PGM_ENTER_NONATOMIC));
	(void) pgm_alembic_check_table();	/* every step may rewrite it */

	/* session-level when committing between steps, else the transaction's */
	if (!pgm_lock_migrations("migrate_apply()", !single,
							 lock_wait >= 0 ? lock_wait : pgm_lock_wait_timeout, skip))
	{
		pgm_leave();
		PG_RETURN_VOID();
	}
	session_lock_held = !single;

	pgm_enter_load(&e, PGM_ENTER_STATE);
	g = e.g;
	heads = e.heads;
	st = e.st;
	plan = pgm_plan_to(g, &st, target, heads, !downgrade);

	if (plan.steps.n == 0)
		pgm_report_nothing_to_do(g, heads, target, !downgrade);
	else
	{
		infos = pgm_catalog_plan_infos(g, plan.steps, plan.upgrade);
		pgm_check_reversible(g, &plan, infos);
		if (single)
			pgm_check_transactional(g, &plan, infos, "a single transaction");
		pgm_run_init(&run, PGM_DEFAULT_SCOPE, !single, NULL);
		run.lock_timeout_ms = pgm_arg_interval_ms(fcinfo, 5, "lock_timeout");
		run.statement_timeout_ms = pgm_arg_interval_ms(fcinfo, 6, "statement_timeout");
		run.lock_retries = PG_ARGISNULL(7) ? -1 : PG_GETARG_INT32(7);
		if (run.lock_retries < -1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("lock_retries must not be negative")));
		pgm_apply_plan(g, &st, &plan, infos, &run);
		ereport(NOTICE,
				(downgrade ?
				 errmsg_plural("downgraded %d revision", "downgraded %d revisions",
							   plan.steps.n, plan.steps.n) :
				 errmsg_plural("applied %d revision", "applied %d revisions",
							   plan.steps.n, plan.steps.n)));
	}

	if (session_lock_held)
	{
		session_lock_held = false;
		pgm_unlock_migrations();
	}
	pgstat_report_activity(STATE_RUNNING, "CALL migrate_apply(...)");
	pgm_leave();
	PG_RETURN_VOID();
}
