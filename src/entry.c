/*-------------------------------------------------------------------------
 *
 * entry.c
 *	  The prologue of every SQL-callable function (fn_*.c): the checks made
 *	  before anything is read, the lock, the SPI session, and the revision
 *	  graph, applied heads and version state the function works on.
 *
 * The order is the same for all: refuse to run inside a migration, check
 * the isolation level (a lock taken after the snapshot would be useless),
 * take the lock, connect, read.  In READ COMMITTED each statement takes a
 * fresh snapshot, so what is read after the lock is what the previous
 * holder committed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"

#include "alembic.h"
#include "bgtask.h"
#include "catalog.h"
#include "entry.h"
#include "lock.h"
#include "pg_migrate.h"
#include "settings.h"
#include "step.h"

/*
 * A migration that calls pg_migrate would plan from a state that its caller
 * is in the middle of changing, and reuse the caller's per-call state (the
 * catalog layer's SPI session above all).
 */
void
pgm_refuse_reentry(const char *what)
{
	if (pgm_step_in_migration() || pgm_bgtask_serving())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot be called from inside a migration", what),
				 pgm_bgtask_serving() ?
				 errdetail("This background worker runs a non-transactional revision's SQL for a session that is applying it.") :
				 errdetail("pg_migrate is applying a revision in this session."),
				 errhint("Migration SQL must not call pg_migrate, not even its read-only functions.")));
}

/*
 * The transaction nest level at which this session's running pg_migrate
 * call began; 0 when none runs.  User code that a call runs outside
 * migration SQL (a trigger on the Alembic version table, a view that
 * migrate_adopt_alembic reads) may call pg_migrate again: that nested call
 * would share the catalog layer's per-call state and the cached graph with
 * the outer one, so it is refused.  A call that ends in an error never
 * reaches pgm_leave(): the abort of the (sub)transaction it began in ends
 * it.  CALL migrate_apply commits as it goes; a commit does not end it.
 */
static int	call_level = 0;
static bool callbacks_registered = false;

static void
end_call_on_abort(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		call_level = 0;
}

static void
end_call_on_subabort(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid,
					 void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && call_level > 0 &&
		GetCurrentTransactionNestLevel() <= call_level)
		call_level = 0;
}

static void
refuse_nested_call(const char *what)
{
	if (call_level > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot be called while another pg_migrate call runs in this session", what),
				 errdetail("A trigger, rule, view or function that the running call reached called pg_migrate again."),
				 errhint("Code that pg_migrate runs, such as triggers on the Alembic version table, must not call pg_migrate.")));
	if (!callbacks_registered)
	{
		RegisterXactCallback(end_call_on_abort, NULL);
		RegisterSubXactCallback(end_call_on_subabort, NULL);
		callbacks_registered = true;
	}
}

/*
 * Begin a call of the function 'what' ("migrate_upgrade()"; the read-only
 * ones say "pg_migrate functions"), as 'flags' (entry.h) say.  Leaves the
 * catalog layer connected: end with pgm_leave().
 */
PgmEntry
pgm_enter(const char *what, int flags)
{
	PgmEntry	e = {0};
	bool		writes = (flags & (PGM_ENTER_WRITE | PGM_ENTER_READ_WRITE | PGM_ENTER_MIGRATE |
								   PGM_ENTER_REGISTER | PGM_ENTER_NONATOMIC)) != 0;

	pgm_refuse_reentry(what);
	refuse_nested_call(what);
	call_level = GetCurrentTransactionNestLevel();
	if (writes)
		pgm_require_read_committed(what);
	if (flags & (PGM_ENTER_READ_WRITE | PGM_ENTER_MIGRATE))
		pgm_require_read_write(what);
	if (flags & PGM_ENTER_MIGRATE)
	{
		/* every call that changes the version state may rewrite this table */
		(void) pgm_alembic_check_table();
		(void) pgm_lock_migrations(what, false, pgm_lock_wait_timeout, false);
	}
	if (flags & PGM_ENTER_NONATOMIC)
		pgm_catalog_connect_nonatomic();
	else
		pgm_catalog_connect(!writes);
	if (flags & PGM_ENTER_REGISTER)
		pgm_lock_registrations();
	pgm_enter_load(&e, flags);
	return e;
}

/* Load what 'flags' ask for that is not loaded yet */
void
pgm_enter_load(PgmEntry *e, int flags)
{
	if ((flags & (PGM_ENTER_GRAPH | PGM_ENTER_HEADS | PGM_ENTER_STATE)) && e->g == NULL)
		e->g = pgm_catalog_load_graph();
	if ((flags & (PGM_ENTER_HEADS | PGM_ENTER_STATE)) && e->heads.items == NULL)
		e->heads = pgm_catalog_load_heads(e->g, PGM_DEFAULT_SCOPE);
	if ((flags & PGM_ENTER_STATE) && e->st.applied == NULL)
		e->st = pgm_state_from_heads(e->g, e->heads);
}

/* The end of a call that began with pgm_enter() */
void
pgm_leave(void)
{
	pgm_catalog_finish();
	call_level = 0;
}
