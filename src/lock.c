/*-------------------------------------------------------------------------
 *
 * lock.c
 *	  pg_migrate's advisory locks, and the checks every caller of them
 *	  makes first.
 *
 * One migrator at a time: upgrade, downgrade and stamp take a transaction-
 * level advisory lock (PGM_LOCK_CLASS, PGM_LOCK_MIGRATE), migrate_apply a
 * session-level one on the same key (it commits between steps), and only
 * then read the version state.  In READ COMMITTED every SPI statement takes
 * a fresh snapshot, so a migrator that waited plans from what the one
 * before it committed.  Under REPEATABLE READ or SERIALIZABLE the snapshot
 * was taken before the lock, so the state read would be stale: refused.
 * Registrations are serialised by a lock of their own (PGM_LOCK_REGISTER),
 * which a running migration does not hold.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "lock.h"
#include "pg_migrate.h"
#include "subxact.h"

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

/* Wait for the migration lock, at session or transaction level */
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
	pgm_subxact_begin(oldcxt);
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

/* Release the session-level migration lock (CALL migrate_apply) */
void
pgm_unlock_migrations(void)
{
	DirectFunctionCall2(pg_advisory_unlock_int4,
						Int32GetDatum(PGM_LOCK_CLASS), Int32GetDatum(PGM_LOCK_MIGRATE));
}

/* What changes the catalog cannot run in a read-only transaction */
void
pgm_require_read_write(const char *what)
{
	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("%s cannot run in a read-only transaction", what)));
}

/* Serialise registrations until the end of the transaction */
void
pgm_lock_registrations(void)
{
	DirectFunctionCall2(pg_advisory_xact_lock_int4,
						Int32GetDatum(PGM_LOCK_CLASS), Int32GetDatum(PGM_LOCK_REGISTER));
}
