/*-------------------------------------------------------------------------
 *
 * apply.c
 *	  Runs a plan: each step's SQL through SPI in the caller's transaction,
 *	  then that step's migrate_version rows and its migrate_log row.
 *
 * One migrator at a time: upgrade, downgrade and stamp first take a
 * transaction-level advisory lock (PGM_LOCK_CLASS, PGM_LOCK_MIGRATE), and
 * only then read the version state.  In READ COMMITTED every SPI statement
 * takes a fresh snapshot, so a migrator that waited plans from what the one
 * before it committed.  Under REPEATABLE READ or SERIALIZABLE the snapshot
 * was taken before the lock, so the state read would be stale: refused.
 *
 * A step that fails takes the whole call with it (no subtransactions here):
 * the caller's transaction aborts, with the original SQLSTATE, message and
 * position, and a CONTEXT line naming the revision.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"

#include "apply.h"
#include "catalog.h"
#include "pg_migrate.h"

/* True while a migration's SQL runs in this backend */
static bool applying = false;

typedef struct StepErrorContext
{
	const char *revision;
	bool		upgrade;
} StepErrorContext;

static void
step_error_callback(void *arg)
{
	StepErrorContext *ctx = (StepErrorContext *) arg;

	errcontext("pg_migrate %s of revision \"%s\"",
			   ctx->upgrade ? "upgrade" : "downgrade", ctx->revision);
}

/*
 * A migration that calls pg_migrate to change state would plan from a state
 * that its caller is in the middle of changing.
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

/*
 * Everything an upgrade, downgrade or stamp checks before it reads the
 * version state, then the lock.  lock_timeout bounds the wait.
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
	DirectFunctionCall2(pg_advisory_xact_lock_int4,
						Int32GetDatum(PGM_LOCK_CLASS), Int32GetDatum(PGM_LOCK_MIGRATE));
}

/* A downgrade through an irreversible revision fails before anything runs */
void
pgm_check_reversible(PgmGraph *g, PgmPlan *plan)
{
	const char *id;

	if (plan->upgrade)
		return;
	id = pgm_catalog_first_irreversible(g, plan->steps);
	if (id)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot downgrade through irreversible revision \"%s\"", id),
				 errdetail("The revision was registered without downgrade SQL. Nothing was changed."),
				 errhint("Choose a downgrade target above it, or use migrate_stamp() after reverting by hand.")));
}

void
pgm_write_head_change(PgmGraph *g, PgmHeadChange *ch, const char *scope)
{
	for (int i = 0; i < ch->removed.n; i++)
		pgm_catalog_remove_head(scope, g->revs[ch->removed.items[i]].id);
	for (int i = 0; i < ch->added.n; i++)
		pgm_catalog_add_head(scope, g->revs[ch->added.items[i]].id);
}

static void
run_step(PgmGraph *g, PgmState *st, int rev, bool upgrade, const char *scope, PgmSrf *out)
{
	const char *id = g->revs[rev].id;
	char	   *sql = pgm_catalog_step_sql(id, upgrade);
	ErrorContextCallback errcb;
	StepErrorContext ctx = {id, upgrade};
	TimestampTz started;
	TimestampTz finished;
	PgmHeadChange ch;
	int			rc;

	ereport(NOTICE,
			(errmsg("%s %s%s%s", upgrade ? "upgrading to" : "downgrading", id,
					g->revs[rev].message[0] ? ": " : "", g->revs[rev].message)));

	started = GetCurrentTimestamp();
	errcb.callback = step_error_callback;
	errcb.arg = &ctx;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	rc = SPI_execute(sql, false, 0);
	if (rc == SPI_ERROR_TRANSACTION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("revision \"%s\" contains a transaction control statement", id),
				 errdetail("Migration SQL runs inside the caller's transaction, so it cannot use BEGIN, COMMIT, ROLLBACK or SAVEPOINT.")));
	if (rc < 0)
		elog(ERROR, "SPI_execute failed for revision \"%s\": %s", id, SPI_result_code_string(rc));
	error_context_stack = errcb.previous;
	SPI_freetuptable(SPI_tuptable);
	finished = GetCurrentTimestamp();

	ch = pgm_state_step(g, st, rev, upgrade);
	pgm_write_head_change(g, &ch, scope);
	pgm_catalog_log(scope, id, upgrade ? "upgrade" : "downgrade", started, finished);

	if (out)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(id);
		values[1] = CStringGetTextDatum(upgrade ? "upgrade" : "downgrade");
		values[2] = CStringGetTextDatum(g->revs[rev].message);
		values[3] = DirectFunctionCall2(timestamp_mi, TimestampTzGetDatum(finished),
										TimestampTzGetDatum(started));
		tuplestore_putvalues(out->store, out->desc, values, nulls);
	}
}

/*
 * Run every step of the plan.  The 'applying' flag is cleared on the way
 * out whether the steps succeed or not (the error itself propagates).
 */
void
pgm_apply_plan(PgmGraph *g, PgmState *st, PgmPlan *plan, const char *scope, PgmSrf *out)
{
	applying = true;
	PG_TRY();
	{
		for (int i = 0; i < plan->steps.n; i++)
			run_step(g, st, plan->steps.items[i], plan->upgrade, scope, out);
	}
	PG_FINALLY();
	{
		applying = false;
	}
	PG_END_TRY();
}
