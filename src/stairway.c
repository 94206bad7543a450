/*-------------------------------------------------------------------------
 *
 * stairway.c
 *	  The stairway check (migrate_check): for each step of a plan, upgrade,
 *	  read the schema's fingerprint, downgrade, which must give back the
 *	  fingerprint from before the upgrade, and upgrade again; all in a
 *	  subtransaction that is always rolled back, so that nothing persists
 *	  (sequences excepted: nextval is never rolled back).
 *
 * A downgrade that does not restore the schema is reported object by
 * object, from snapshots (per-object digests) taken when the fingerprints
 * differ: an index it forgets to drop is "left behind", a column it drops
 * too many is "missing".  An error ends the check at its step: what
 * comes after would run on a state no real run reaches.
 *
 * Two fingerprints per step, not three: the schema before step k is the
 * one its predecessor's second upgrade left, which is the one its first
 * upgrade left whenever the predecessor's downgrade restored the schema
 * (the same SQL on the same schema); only after a downgrade that did not
 * is the state after the second upgrade read again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "managed_schemas.h"
#include "schema_model.h"
#include "stairway.h"
#include "step.h"
#include "subxact.h"

void
pgm_check_add(PgmCheckFindings *f, int step, const char *revision, const char *phase, const char *status,
	const char *object, const char *detail)
{
	if (f->n == f->cap)
	{
		f->cap = f->cap ? f->cap * 2 : 16;
		f->items = f->items ? repalloc(f->items, sizeof(PgmCheckFinding) * f->cap) :
			palloc(sizeof(PgmCheckFinding) * f->cap);
	}
	f->items[f->n].step = step;
	f->items[f->n].revision = revision;
	f->items[f->n].phase = phase;
	f->items[f->n].status = status;
	f->items[f->n].object = object ? pstrdup(object) : NULL;
	f->items[f->n].detail = detail ? pstrdup(detail) : NULL;
	f->n++;
}

static char *
error_detail(ErrorData *e)
{
	return e->detail ? psprintf("%s: %s (%s)", unpack_sql_state(e->sqlerrcode), e->message, e->detail) :
		psprintf("%s: %s", unpack_sql_state(e->sqlerrcode), e->message);
}

/* The fingerprint of the managed schemas, with their snapshot if asked */
static void
fingerprint(const Oid *schemas, int nschemas, char *fp, StringInfo digests)
{
	pgm_schema_fingerprint(schemas, nschemas, fp, digests);
}

/*
 * A downgrade did not restore the schema: name what differs.  Only now are
 * the snapshots taken (a fingerprint alone is cheaper, and this is the rare
 * path): the state the downgrade left, then, after rolling the step's
 * subtransaction back, the state before the upgrade.  The step's upgrade
 * and downgrade then run again, so that the check goes on from where the
 * faulty downgrade leaves the schema, as a real run would.  Returns false
 * if one of them now fails (the error is a finding).  oldcxt and oldowner
 * are the memory context and resource owner from before the step's
 * subtransaction began.
 */
static bool
report_not_restored(PgmCheckFindings *f, int step, const char *rev, PgmStepInfo *up,
					PgmStepInfo *down, const Oid *schemas, int nschemas,
					MemoryContext oldcxt, ResourceOwner oldowner)
{
	char		fp[PGM_FINGERPRINT_LEN];
	StringInfoData after;
	StringInfoData before;
	PgmDigestChange *ch;
	ErrorData  *e;
	int			n;

	initStringInfo(&after);
	initStringInfo(&before);
	fingerprint(schemas, nschemas, fp, &after);
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	fingerprint(schemas, nschemas, fp, &before);

	ch = pgm_schema_digest_diff(after.data, before.data, &n);
	for (int k = 0; k < n; k++)
		pgm_check_add(f, step, rev, "downgrade", "not restored", ch[k].object,
					  strcmp(ch[k].change, "added") == 0 ?
					  "Left behind: the downgrade does not undo the upgrade that made it." :
					  strcmp(ch[k].change, "removed") == 0 ?
					  "Missing: the downgrade removes what was there before the upgrade." :
					  "Changed: the downgrade leaves it other than it was before the upgrade.");

	/* back to where the downgrade left the schema, in the step's subtransaction again */
	pgm_subxact_begin(oldcxt);
	if ((e = pgm_step_trial(rev, true, up)) != NULL ||
		(e = pgm_step_trial(rev, false, down)) != NULL)
	{
		pgm_check_add(f, step, rev, "downgrade", "failed", NULL, error_detail(e));
		return false;
	}
	return true;
}

/*
 * The steps, inside the trial subtransaction; returns at the first error.
 * Each step also runs in a subtransaction of its own, kept when it passes,
 * so that a downgrade that does not restore the schema can be rolled back
 * to read the state from before the upgrade (report_not_restored).
 */
static void
climb(PgmGraph *g, PgmPlan *plan, PgmStepInfo *up, PgmStepInfo *down, PgmCheckFindings *f)
{
	int			nschemas;
	Oid		   *schemas = pgm_schema_oids(NULL, 0, &nschemas);
	char		before[PGM_FINGERPRINT_LEN];
	char		after[PGM_FINGERPRINT_LEN];
	char		undone[PGM_FINGERPRINT_LEN];

	fingerprint(schemas, nschemas, before, NULL);
	for (int k = 0; k < plan->steps.n; k++)
	{
		MemoryContext oldcxt = CurrentMemoryContext;
		ResourceOwner oldowner = CurrentResourceOwner;
		int			step = k + 1;
		const char *rev = g->revs[plan->steps.items[k]].id;
		ErrorData  *e;
		bool		restored = true;

		CHECK_FOR_INTERRUPTS();
		pgm_subxact_begin(oldcxt);
		if ((e = pgm_step_trial(rev, true, &up[k])) != NULL)
		{
			pgm_check_add(f, step, rev, "upgrade", "failed", NULL, error_detail(e));
			pgm_subxact_release(oldcxt, oldowner);
			return;
		}
		fingerprint(schemas, nschemas, after, NULL);

		if (down[k].sql == NULL)
		{
			pgm_check_add(f, step, rev, "downgrade", "irreversible", NULL,
						  "The revision has no downgrade SQL: the check goes on from the state its upgrade left.");
			pgm_subxact_release(oldcxt, oldowner);
			memcpy(before, after, PGM_FINGERPRINT_LEN);
			continue;
		}
		if (strspn(down[k].sql, " \t\r\n;") == strlen(down[k].sql) && strcmp(after, before) != 0)
			pgm_check_add(f, step, rev, "downgrade", "not reversible", NULL,
						  "The downgrade SQL is empty but the upgrade changes the schema: register it with downgrade_sql => NULL to mark it irreversible, or write the downgrade.");

		if ((e = pgm_step_trial(rev, false, &down[k])) != NULL)
		{
			pgm_check_add(f, step, rev, "downgrade", "failed", NULL, error_detail(e));
			pgm_subxact_release(oldcxt, oldowner);
			return;
		}
		fingerprint(schemas, nschemas, undone, NULL);
		if (strcmp(undone, before) != 0)
		{
			restored = false;
			if (!report_not_restored(f, step, rev, &up[k], &down[k], schemas, nschemas,
									 oldcxt, oldowner))
			{
				pgm_subxact_release(oldcxt, oldowner);
				return;
			}
		}

		if ((e = pgm_step_trial(rev, true, &up[k])) != NULL)
		{
			pgm_check_add(f, step, rev, "upgrade again", "failed", NULL, error_detail(e));
			pgm_subxact_release(oldcxt, oldowner);
			return;
		}
		pgm_subxact_release(oldcxt, oldowner);
		/* the same SQL on the same schema gives the same schema: read it only if not */
		if (restored)
		{
			memcpy(before, after, PGM_FINGERPRINT_LEN);
			pgm_check_add(f, step, rev, "stairway", "ok", NULL,
						  "Upgraded, downgraded back to the schema it started from, upgraded again.");
		}
		else
			fingerprint(schemas, nschemas, before, NULL);
	}
}

/*
 * Check the plan's steps (up[k] and down[k]: their SQL and settings) and
 * append the findings; the database is left as it was.
 */
void
pgm_stairway(PgmGraph *g, PgmPlan *plan, PgmStepInfo *up, PgmStepInfo *down,
			 PgmCheckFindings *out)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *edata;

	pgm_subxact_begin(oldcxt);
	pgm_schema_model_hold();	/* two reads per step of a schema that changes little */
	PG_TRY();
	{
		climb(g, plan, up, down, out);
	}
	PG_CATCH();
	{
		/* something of pg_migrate's own failed: undo all, then raise it */
		pgm_schema_model_release();
		edata = pgm_subxact_abort(oldcxt, oldowner);
		ReThrowError(edata);
	}
	PG_END_TRY();
	pgm_schema_model_release();
	/* always rolled back: the check leaves nothing behind */
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
}
