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
 * object, from the snapshots (per-object digests) taken with the
 * fingerprints: an index it forgets to drop is "left behind", a column it
 * drops too many is "missing".  An error ends the check at its step: what
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

/* A schema state: its fingerprint and per-object digests */
typedef struct SchemaState
{
	char		fingerprint[PGM_FINGERPRINT_LEN];
	StringInfoData digests;
} SchemaState;

static void
read_state(const Oid *schemas, int nschemas, SchemaState *s)
{
	if (s->digests.data == NULL)
		initStringInfo(&s->digests);
	pgm_schema_fingerprint(schemas, nschemas, s->fingerprint, &s->digests);
}

static void
copy_state(SchemaState *dst, const SchemaState *src)
{
	memcpy(dst->fingerprint, src->fingerprint, PGM_FINGERPRINT_LEN);
	if (dst->digests.data == NULL)
		initStringInfo(&dst->digests);
	resetStringInfo(&dst->digests);
	appendBinaryStringInfo(&dst->digests, src->digests.data, src->digests.len);
}

static char *
error_detail(ErrorData *e)
{
	return e->detail ? psprintf("%s: %s (%s)", unpack_sql_state(e->sqlerrcode), e->message, e->detail) :
		psprintf("%s: %s", unpack_sql_state(e->sqlerrcode), e->message);
}

/* The objects in which 'after' (the downgrade's) differs from 'before' */
static int
report_not_restored(PgmCheckFindings *f, int step, const char *rev, const SchemaState *after,
					const SchemaState *before)
{
	int			n;
	PgmDigestChange *ch = pgm_schema_digest_diff(after->digests.data, before->digests.data, &n);

	for (int k = 0; k < n; k++)
		pgm_check_add(f, step, rev, "downgrade", "not restored", ch[k].object,
			strcmp(ch[k].change, "added") == 0 ?
			"Left behind: the downgrade does not undo the upgrade that made it." :
			strcmp(ch[k].change, "removed") == 0 ?
			"Missing: the downgrade removes what was there before the upgrade." :
			"Changed: the downgrade leaves it other than it was before the upgrade.");
	return n;
}

/* The steps, inside the trial subtransaction; returns at the first error */
static void
climb(PgmGraph *g, PgmPlan *plan, PgmStepInfo *up, PgmStepInfo *down, PgmCheckFindings *f)
{
	int			nschemas;
	Oid		   *schemas = pgm_schema_oids(NULL, 0, &nschemas);
	SchemaState before = {{0}};
	SchemaState after = {{0}};
	SchemaState undone = {{0}};

	read_state(schemas, nschemas, &before);
	for (int k = 0; k < plan->steps.n; k++)
	{
		int			step = k + 1;
		const char *rev = g->revs[plan->steps.items[k]].id;
		ErrorData  *e;
		int			problems = 0;

		CHECK_FOR_INTERRUPTS();
		if ((e = pgm_step_trial(rev, true, &up[k])) != NULL)
		{
			pgm_check_add(f, step, rev, "upgrade", "failed", NULL, error_detail(e));
			return;
		}
		read_state(schemas, nschemas, &after);

		if (down[k].sql == NULL)
		{
			pgm_check_add(f, step, rev, "downgrade", "irreversible", NULL,
				"The revision has no downgrade SQL: the check goes on from the state its upgrade left.");
			copy_state(&before, &after);
			continue;
		}
		if (strspn(down[k].sql, " \t\r\n;") == strlen(down[k].sql) &&
			strcmp(after.fingerprint, before.fingerprint) != 0)
			pgm_check_add(f, step, rev, "downgrade", "not reversible", NULL,
				"The downgrade SQL is empty but the upgrade changes the schema: register it with downgrade_sql => NULL to mark it irreversible, or write the downgrade.");

		if ((e = pgm_step_trial(rev, false, &down[k])) != NULL)
		{
			pgm_check_add(f, step, rev, "downgrade", "failed", NULL, error_detail(e));
			return;
		}
		read_state(schemas, nschemas, &undone);
		if (strcmp(undone.fingerprint, before.fingerprint) != 0)
			problems = report_not_restored(f, step, rev, &undone, &before);

		if ((e = pgm_step_trial(rev, true, &up[k])) != NULL)
		{
			pgm_check_add(f, step, rev, "upgrade again", "failed", NULL, error_detail(e));
			return;
		}
		/* the same SQL on the same schema: the same result, unless it was not the same */
		if (problems > 0)
			read_state(schemas, nschemas, &before);
		else
			copy_state(&before, &after);
		if (problems == 0)
			pgm_check_add(f, step, rev, "stairway", "ok", NULL,
				"Upgraded, downgraded back to the schema it started from, upgraded again.");
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
	PG_TRY();
	{
		climb(g, plan, up, down, out);
	}
	PG_CATCH();
	{
		/* something of pg_migrate's own failed: undo all, then raise it */
		edata = pgm_subxact_abort(oldcxt, oldowner);
		ReThrowError(edata);
	}
	PG_END_TRY();
	/* always rolled back: the check leaves nothing behind */
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
}
