/*-------------------------------------------------------------------------
 *
 * fn_graph_check.c
 *	  The deferred constraint trigger pgmigrate.migrate_check_graph().
 *
 * Alembic loads every file of a project before it builds the graph, so a
 * revision may name a parent or a depends_on target that sorts after it.
 * Registration therefore accepts an edge to a revision that is not
 * registered yet, and the graph is validated once it is complete: by the
 * first call that reads it (the graph loader checks unknown revisions,
 * cycles and labels, naming the revision), or at commit by this trigger.
 *
 * Only a registration with such a forward edge asks for a check: the
 * trigger's WHEN (migrate_graph_check_pending()) is evaluated as the row
 * is inserted, so in the common case (parents first, 100,000 files loaded
 * one per transaction) no event is even queued, the graph is never loaded
 * for it, and the table has no pending trigger events that would block an
 * ALTER TABLE or DROP later in the transaction.  A cycle can only come
 * through a forward edge: a revision whose edges all name revisions
 * registered before it cannot close one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/trigger.h"
#include "fmgr.h"

#include "entry.h"
#include "fn_graph_check.h"

PG_FUNCTION_INFO_V1(migrate_check_graph);
PG_FUNCTION_INFO_V1(migrate_graph_check_pending);

/* Set by a registration with a forward edge, until its transaction ends */
static bool check_pending = false;
static bool callback_registered = false;

static void
forget_check(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			check_pending = false;
			break;
		default:
			break;
	}
}

void
pgm_graph_check_later(void)
{
	if (!callback_registered)
	{
		RegisterXactCallback(forget_check, NULL);
		callback_registered = true;
	}
	check_pending = true;
}

/* The trigger's WHEN: does this transaction owe the graph a check? */
Datum
migrate_graph_check_pending(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(check_pending);
}

/*
 * AFTER INSERT ON pgmigrate.migrate_revisions, DEFERRABLE INITIALLY
 * DEFERRED, FOR EACH ROW.  The first event with a check pending loads the
 * graph, which raises the error if it is incomplete or cyclic; the events
 * after it find nothing pending.
 */
Datum
migrate_check_graph(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("migrate_check_graph() must be called as a trigger")));
	if (check_pending)
	{
		(void) pgm_enter("the revision graph check", PGM_ENTER_READ | PGM_ENTER_GRAPH);
		pgm_leave();
		check_pending = false;
	}
	return PointerGetDatum(NULL);
}
