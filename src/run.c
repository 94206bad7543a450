/*-------------------------------------------------------------------------
 *
 * run.c
 *	  Runs a plan: the checks before anything runs, and the loop over the
 *	  steps (step.c runs each one).
 *
 * Four execution modes
 * --------------------
 * Which mode a run is in is decided here, from how it was called
 * (PgmRun.commit_each) and whether a locked step may be retried
 * (pg_migrate.lock_retries or the call's lock_retries):
 *
 * 1. Function mode, one subtransaction (SELECT migrate_upgrade(...),
 *	  migrate_downgrade(...), or CALL migrate_apply(..., single_transaction
 *	  => true), without retries).  All steps run in a single internal
 *	  subtransaction opened below, with no catch per step: one per step
 *	  would cost every later step a walk over all the locks and relations
 *	  the earlier ones touched.  step.c records in run->cur (PgmStepAttempt)
 *	  which step is running, its statement timer and its lock watchdog; when
 *	  a step fails, the catch below stops the timer, rolls the subtransaction
 *	  back and calls pgm_step_failed_in_run() with that.
 *
 * 2. Function mode with retries.  Each attempt of each step runs in its own
 *	  subtransaction (step.c, attempt_in_subxact), so that an attempt that
 *	  timed out on a lock can be rolled back alone, logged and tried again
 *	  after a backoff.
 *
 *	  In both function modes the run commits or aborts with the caller's
 *	  transaction: migrate_version is written once, at the end
 *	  (write_net_change), and the success rows of migrate_log go in with the
 *	  steps.  A failed or retried attempt's row must outlive the caller's
 *	  rollback, so a background worker writes and commits it
 *	  (run_log.c, pgm_log_write_autonomous; with no worker slot free, the
 *	  row goes to the server log as a WARNING).
 *
 * 3. CALL mode (CALL migrate_apply(...), the default).  SPI is non-atomic
 *	  and the run commits after every step, with that step's head change and
 *	  log row, so a failure at step 7 keeps steps 1 to 6.  Each attempt runs
 *	  in a subtransaction; a "started" row is committed before the attempt,
 *	  and a failed attempt's row is committed after the rollback (step.c,
 *	  keep_row).  pg_migrate's migration lock is held at session level
 *	  across the commits (fn_apply.c).
 *
 * 4. Non-transactional steps (registered with transactional => false), in
 *	  CALL mode only (the checks below refuse them in a single transaction).
 *	  The session commits, then a background worker runs the statements
 *	  one by one at top level (nontx.c) while this session waits holding no
 *	  snapshot and no lock but pg_migrate's own; the outcome is recorded in
 *	  a fresh transaction, and a failure's row is committed as in mode 3.
 *
 * Memory: each step allocates in a context of its own, reset after it
 * (run_steps), so a run of 100,000 steps stays flat.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "alembic.h"
#include "catalog.h"
#include "identifier.h"
#include "run.h"
#include "settings.h"
#include "step.h"
#include "subxact.h"

/* The NOTICE of an upgrade or downgrade whose plan has no step */
void
pgm_report_nothing_to_do(PgmGraph *g, PgmIdxList heads, const char *target, bool upgrade)
{
	const char *at = heads.n ? pgm_format_ids(g, heads.items, heads.n) : "base";

	ereport(NOTICE,
			(upgrade ?
			 errmsg("nothing to upgrade: the database is already at %s", at) :
			 errmsg("nothing to downgrade: the database is already at %s", at),
			 errdetail("Target \"%s\" needs no step.", target)));
}

/*
 * A downgrade through an irreversible revision (no downgrade SQL: infos
 * from pgm_catalog_plan_infos) fails before anything runs, at the first
 * such step in plan order.
 */
void
pgm_check_reversible(PgmGraph *g, PgmPlan *plan, PgmStepInfo *infos)
{
	if (plan->upgrade)
		return;
	for (int i = 0; i < plan->steps.n; i++)
		if (infos[i].sql == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot downgrade through irreversible revision \"%s\"",
							g->revs[plan->steps.items[i]].id),
					 errdetail("The revision was registered without downgrade SQL.  Nothing was changed."),
					 errhint("Choose a downgrade target above it, or use migrate_stamp() after reverting by hand.")));
}

/* A plan run inside one transaction cannot hold a non-transactional step */
void
pgm_check_transactional(PgmGraph *g, PgmPlan *plan, PgmStepInfo *infos, const char *what)
{
	for (int i = 0; i < plan->steps.n; i++)
		if (!infos[i].transactional)
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("revision \"%s\" is non-transactional and cannot run in %s",
							g->revs[plan->steps.items[i]].id, what),
					 errdetail("It was registered with transactional => false: its statements must run outside any transaction block.  Nothing was changed."),
					 errhint("Apply it with CALL migrate_apply(...) outside a transaction block.")));
}

/* A run's state before its first step; the run id is a new one */
void
pgm_run_init(PgmRun *run, const char *scope, bool commit_each, PgmSrf *out)
{
	memset(run, 0, sizeof(*run));
	run->run_id = pgm_catalog_new_run();
	run->scope = scope;
	run->commit_each = commit_each;
	run->lock_timeout_ms = -1;
	run->statement_timeout_ms = -1;
	run->lock_retries = -1;
	run->out = out;
}

/* The net change of a function-mode run to migrate_version, written once */
static void
write_net_change(PgmGraph *g, PgmState *st, PgmRun *run)
{
	PgmHeadChange ch;

	ch.removed.n = ch.added.n = 0;
	ch.removed.items = palloc(sizeof(int) * Max(g->nrevs, 1));
	ch.added.items = palloc(sizeof(int) * Max(g->nrevs, 1));
	for (int r = 0; r < g->nrevs; r++)
	{
		if (run->rows_before[r] && !st->is_head[r])
			ch.removed.items[ch.removed.n++] = r;
		else if (!run->rows_before[r] && st->is_head[r])
			ch.added.items[ch.added.n++] = r;
	}
	pgm_catalog_write_heads(g, &ch, run->scope);
	pgm_alembic_sync(run->scope);
}

/*
 * The loop over the steps.  Each step allocates in 'step_cxt', reset after
 * it: what a step leaves behind (its log row, SQL text, head change,
 * progress strings) is written out or copied (the SRF's tuplestore has its
 * own context) before the step ends, so a long run stays flat.  The context
 * is a child of SPI's procedure context, which lives in PortalContext when
 * SPI is non-atomic, so it survives the commits of CALL mode.
 */
static void
run_steps(PgmGraph *g, PgmState *st, PgmPlan *plan, PgmRun *run, PgmStepInfo *infos,
		  MemoryContext step_cxt)
{
	MemoryContext run_cxt = CurrentMemoryContext;

	for (int i = 0; i < plan->steps.n; i++)
	{
		run->step_no = i + 1;
		MemoryContextSwitchTo(step_cxt);
		/* in CALL mode the step commits itself (step.c) */
		pgm_step_run(g, st, plan->steps.items[i], plan->upgrade, run, &infos[i]);
		MemoryContextSwitchTo(run_cxt);
		MemoryContextReset(step_cxt);
	}
	if (!run->commit_each)
		write_net_change(g, st, run);
}

/*
 * Run every step of the plan, whose SQL and settings 'infos' holds (from
 * pgm_catalog_plan_infos, read once before the checks above), in the mode
 * the run says (see the top of this file).
 */
void
pgm_apply_plan(PgmGraph *g, PgmState *st, PgmPlan *plan, PgmStepInfo *infos, PgmRun *run)
{
	int			retries = run->lock_retries >= 0 ? run->lock_retries : pgm_lock_retries;
	MemoryContext step_cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_migrate step",
												   ALLOCSET_DEFAULT_SIZES);

	run->nsteps = plan->steps.n;
	run->cur.rev = -1;
	if (!run->commit_each)
	{
		run->rows_before = palloc(Max(g->nrevs, 1));
		memcpy(run->rows_before, st->is_head, g->nrevs);
	}
	run->one_subxact = !run->commit_each && retries == 0;

	if (run->one_subxact)
	{
		MemoryContext oldcxt = CurrentMemoryContext;
		ResourceOwner oldowner = CurrentResourceOwner;
		ErrorData  *volatile edata = NULL;

		pgm_subxact_begin(oldcxt);
		PG_TRY();
		{
			run_steps(g, st, plan, run, infos, step_cxt);
			pgm_subxact_release(oldcxt, oldowner);
		}
		PG_CATCH();
		{
			if (run->cur.rev >= 0)
				pgm_statement_timer_end(run->cur.stmt_ms, run->cur.outer_timer);
			edata = pgm_subxact_abort(oldcxt, oldowner);
		}
		PG_END_TRY();
		if (edata)
			pgm_step_failed_in_run(g, run, edata);
	}
	else
		run_steps(g, st, plan, run, infos, step_cxt);
	MemoryContextDelete(step_cxt);
}
