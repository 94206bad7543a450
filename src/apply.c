/*-------------------------------------------------------------------------
 *
 * apply.c
 *	  Runs a plan: locking, the checks before anything runs, and the loop
 *	  over the steps (step.c runs each one), committing after each step in
 *	  CALL migrate_apply.
 *
 * One migrator at a time: upgrade, downgrade and stamp take a transaction-
 * level advisory lock (PGM_LOCK_CLASS, PGM_LOCK_MIGRATE), migrate_apply a
 * session-level one on the same key (it commits between steps), and only
 * then read the version state.  In READ COMMITTED every SPI statement takes
 * a fresh snapshot, so a migrator that waited plans from what the one
 * before it committed.  Under REPEATABLE READ or SERIALIZABLE the snapshot
 * was taken before the lock, so the state read would be stale: refused.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "apply.h"
#include "catalog.h"
#include "pg_migrate.h"
#include "settings.h"
#include "step.h"
#include "subxact.h"

/* True while a migration's SQL may run in this backend */
static bool applying = false;

void
pgm_set_applying(bool on)
{
	applying = on;
}

/*
 * A migration that calls pg_migrate would plan from a state that its caller
 * is in the middle of changing, and reuse the caller's per-call state.
 */
void
pgm_refuse_reentry(const char *what)
{
	if (applying)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot be called from inside a migration", what),
				 errdetail("pg_migrate is applying a revision in this session."),
				 errhint("Migration SQL must not call pg_migrate, not even its read-only functions.")));
}

/*
 * Every caller of pg_migrate's locks reads the catalog after taking the
 * lock, and must see what the previous holder committed.  Under REPEATABLE
 * READ or SERIALIZABLE the snapshot was taken when the calling statement
 * began, before the lock, so those reads could be stale: refused.
 */
void
pgm_require_read_committed(const char *what)
{
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("%s must run at the READ COMMITTED isolation level", what),
				 errdetail("Under REPEATABLE READ or SERIALIZABLE the transaction's snapshot predates pg_migrate's lock, so the catalog it reads could be stale."),
				 errhint("Run it in a READ COMMITTED transaction.")));
}

static void
acquire(bool session)
{
	if (session)
		DirectFunctionCall2(pg_advisory_lock_int4,
							Int32GetDatum(PGM_LOCK_CLASS), Int32GetDatum(PGM_LOCK_MIGRATE));
	else
		DirectFunctionCall2(pg_advisory_xact_lock_int4,
							Int32GetDatum(PGM_LOCK_CLASS), Int32GetDatum(PGM_LOCK_MIGRATE));
}

/*
 * Take pg_migrate's migration lock.  With wait_ms > 0 the wait is bounded
 * (by lock_timeout, set for the acquisition only, inside a subtransaction so
 * that its expiry can be told apart); then the call fails with 55P03, or,
 * with skip_if_locked, returns false after a NOTICE.  With wait_ms <= 0 it
 * waits as the session's lock_timeout says.
 */
bool
pgm_lock_migrations(const char *what, bool session, int wait_ms, bool skip_if_locked)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;
	volatile int wait = wait_ms;

	if (wait_ms <= 0 && !skip_if_locked)
	{
		acquire(session);
		return true;
	}
	if (wait_ms <= 0)
	{
		Datum		got = session ?
			DirectFunctionCall2(pg_try_advisory_lock_int4,
								Int32GetDatum(PGM_LOCK_CLASS), Int32GetDatum(PGM_LOCK_MIGRATE)) :
			DirectFunctionCall2(pg_try_advisory_xact_lock_int4,
								Int32GetDatum(PGM_LOCK_CLASS), Int32GetDatum(PGM_LOCK_MIGRATE));

		if (!DatumGetBool(got))
			ereport(NOTICE,
					(errmsg("another migration is running; %s skipped", what)));
		return DatumGetBool(got);
	}

	if (LockTimeout > 0 && LockTimeout < wait)
		wait = LockTimeout;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		int			nest = NewGUCNestLevel();

		(void) set_config_option("lock_timeout", psprintf("%dms", wait), PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		acquire(session);
		AtEOXact_GUC(true, nest);
		pgm_subxact_release(oldcxt, oldowner);
	}
	PG_CATCH();
	{
		edata = pgm_subxact_abort(oldcxt, oldowner);
	}
	PG_END_TRY();

	if (edata == NULL)
		return true;
	if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
		ReThrowError(edata);
	if (skip_if_locked)
	{
		ereport(NOTICE,
				(errmsg("another migration is running; %s skipped", what),
				 errdetail("pg_migrate's migration lock was not free within %d ms.", wait)));
		return false;
	}
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("could not obtain pg_migrate's migration lock within %d ms", wait),
			 errdetail("Another migration is running in this database; migrate_status() shows where."),
			 errhint("Try again when it has finished, or raise pg_migrate.lock_wait_timeout.")));
	return false;				/* keep compiler quiet */
}

void
pgm_unlock_migrations(void)
{
	DirectFunctionCall2(pg_advisory_unlock_int4,
						Int32GetDatum(PGM_LOCK_CLASS), Int32GetDatum(PGM_LOCK_MIGRATE));
}

/*
 * Everything an upgrade, downgrade or stamp checks before it reads the
 * version state, then the lock.
 */
void
pgm_begin_migration(const char *what)
{
	pgm_refuse_reentry(what);
	pgm_require_read_committed(what);
	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("%s cannot run in a read-only transaction", what)));
	(void) pgm_lock_migrations(what, false, pgm_lock_wait_timeout, false);
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
					 errdetail("The revision was registered without downgrade SQL. Nothing was changed."),
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
					 errdetail("It was registered with transactional => false: its statements must run outside any transaction block. Nothing was changed."),
					 errhint("Apply it with CALL migrate_apply(...) outside a transaction block.")));
}

void
pgm_write_head_change(PgmGraph *g, PgmHeadChange *ch, const char *scope)
{
	for (int i = 0; i < ch->removed.n; i++)
		pgm_catalog_remove_head(scope, g->revs[ch->removed.items[i]].id);
	for (int i = 0; i < ch->added.n; i++)
		pgm_catalog_add_head(scope, g->revs[ch->added.items[i]].id);
	pgm_catalog_sync_alembic(scope);
}

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

/* Commit in a procedure: SPI_commit starts the next transaction from 15 on */
void
pgm_commit(void)
{
	SPI_commit();
#if PG_VERSION_NUM < 150000
	SPI_start_transaction();
#endif
	pgm_catalog_after_commit();
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
	pgm_write_head_change(g, &ch, run->scope);
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
		pgm_step_run(g, st, plan->steps.items[i], plan->upgrade, run, &infos[i]);
		if (run->commit_each)
			pgm_commit();
		MemoryContextSwitchTo(run_cxt);
		MemoryContextReset(step_cxt);
	}
	if (!run->commit_each)
		write_net_change(g, st, run);
}

/*
 * Run every step of the plan, whose SQL and settings 'infos' holds (from
 * pgm_catalog_plan_infos, read once before the checks above).  In function
 * mode without retries, all steps share one subtransaction, caught once for the run (see PgmRun).  The
 * 'applying' flag is cleared on the way out whether the steps succeed or
 * not (the error itself propagates).
 */
void
pgm_apply_plan(PgmGraph *g, PgmState *st, PgmPlan *plan, PgmStepInfo *infos, PgmRun *run)
{
	int			retries = run->lock_retries >= 0 ? run->lock_retries : pgm_lock_retries;
	MemoryContext step_cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_migrate step",
												   ALLOCSET_DEFAULT_SIZES);

	run->nsteps = plan->steps.n;
	run->cur_rev = -1;
	if (!run->commit_each)
	{
		run->rows_before = palloc(Max(g->nrevs, 1));
		memcpy(run->rows_before, st->is_head, g->nrevs);
	}
	run->one_subxact = !run->commit_each && retries == 0;

	PG_TRY();
	{
		if (run->one_subxact)
		{
			MemoryContext oldcxt = CurrentMemoryContext;
			ResourceOwner oldowner = CurrentResourceOwner;
			ErrorData  *volatile edata = NULL;

			BeginInternalSubTransaction(NULL);
			MemoryContextSwitchTo(oldcxt);
			PG_TRY();
			{
				run_steps(g, st, plan, run, infos, step_cxt);
				pgm_subxact_release(oldcxt, oldowner);
			}
			PG_CATCH();
			{
				applying = false;
				if (run->cur_rev >= 0)
					pgm_statement_timer_end(run->cur_stmt_ms, run->cur_outer_timer);
				edata = pgm_subxact_abort(oldcxt, oldowner);
			}
			PG_END_TRY();
			if (edata)
				pgm_step_failed_in_run(g, run, edata);
		}
		else
			run_steps(g, st, plan, run, infos, step_cxt);
	}
	PG_FINALLY();
	{
		applying = false;
	}
	PG_END_TRY();
	MemoryContextDelete(step_cxt);
}
