/*-------------------------------------------------------------------------
 *
 * fn_check.c
 *	  migrate_check(target): the stairway test of the pending plan
 *	  (stairway.c), and what the graph itself says (several heads).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "catalog.h"
#include "entry.h"
#include "graph.h"
#include "plan.h"
#include "run.h"
#include "srf_util.h"
#include "stairway.h"

PG_FUNCTION_INFO_V1(migrate_check);

/*
 * migrate_check(target) -> (step, revision, phase, status, object, detail).
 * Takes the migration lock like an upgrade, so that no run changes the
 * schema under the check; non-transactional revisions cannot be checked
 * (they cannot run in the trial's subtransaction).
 */
Datum
migrate_check(PG_FUNCTION_ARGS)
{
	char	   *target = pgm_arg_text(fcinfo, 0, "target");
	PgmSrf		out = pgm_srf_begin(fcinfo);
	PgmEntry	e = pgm_enter("migrate_check()", PGM_ENTER_MIGRATE | PGM_ENTER_STATE);
	PgmCheckFindings f = {0, 0, NULL};
	PgmIdxList	heads = pgm_graph_heads(e.g);
	PgmPlan		plan = pgm_plan_to(e.g, &e.st, target, e.heads, true);

	if (heads.n > 1)
		pgm_check_add(&f, 0, NULL, "graph", "several heads", pgm_format_ids(e.g, heads.items, heads.n),
					  "The graph has more than one head: an upgrade to \"head\" fails until they are merged (migrate_merge), or name the head to go to.");
	if (plan.steps.n == 0)
		pgm_check_add(&f, 0, NULL, "plan", "ok", NULL,
					  psprintf("Nothing to check: no step leads from the current state to \"%s\".", target));
	else
	{
		PgmStepInfo *up = pgm_catalog_plan_infos(e.g, plan.steps, true);
		PgmStepInfo *down = pgm_catalog_plan_infos(e.g, plan.steps, false);

		pgm_check_transactional(e.g, &plan, up, "migrate_check()");
		pgm_stairway(e.g, &plan, up, down, &f);
	}

	for (int i = 0; i < f.n; i++)
	{
		PgmCheckFinding *x = &f.items[i];
		Datum		values[6];
		bool		nulls[6] = {0};

		values[0] = Int32GetDatum(x->step);
		if (x->revision)
			values[1] = CStringGetTextDatum(x->revision);
		else
			nulls[1] = true;
		values[2] = CStringGetTextDatum(x->phase);
		values[3] = CStringGetTextDatum(x->status);
		if (x->object)
			values[4] = CStringGetTextDatum(x->object);
		else
			nulls[4] = true;
		values[5] = CStringGetTextDatum(x->detail);
		tuplestore_putvalues(out.store, out.desc, values, nulls);
	}
	pgm_leave();
	return (Datum) 0;
}
