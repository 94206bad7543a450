/*-------------------------------------------------------------------------
 *
 * fn_rehearse.c
 *	  migrate_rehearse(target): the pending plan run on the real database
 *	  and rolled back (rehearse.c), one row per statement with what it did
 *	  and its hazards (hazards.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "entry.h"
#include "graph.h"
#include "plan.h"
#include "rehearse.h"
#include "run.h"
#include "srf_util.h"

PG_FUNCTION_INFO_V1(migrate_rehearse);

#define NCOLS 15

/* Relations as a JSON array of objects */
static Datum
rels_json(const PgmRelFact *rels, int n, bool with_scan)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < n; i++)
	{
		const PgmRelFact *r = &rels[i];

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"relation\": ");
		escape_json(&buf, r->name);
		appendStringInfo(&buf, ", \"mode\": \"%s\", \"size_bytes\": " INT64_FORMAT ", \"rows_estimate\": %.0f",
						 GetLockmodeName(DEFAULT_LOCKMETHOD, r->mode), r->size_bytes, r->rows_estimate);
		if (with_scan)
			appendStringInfo(&buf, ", \"seq_tup_read\": " INT64_FORMAT, r->seq_tup_read);
		if (r->created)
			appendStringInfoString(&buf, ", \"created\": true");
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

static Datum
names_array(const PgmRelFact *rels, int n)
{
	char	  **names = palloc(sizeof(char *) * Max(n, 1));

	for (int i = 0; i < n; i++)
		names[i] = rels[i].name;
	return pgm_text_array(names, n);
}

static void
put_row(PgmSrf *out, PgmStmtFacts *s)
{
	Datum		v[NCOLS];
	bool		nulls[NCOLS] = {0};
	Interval   *d = palloc0(sizeof(Interval));
	int			c = 0;

	v[c++] = Int32GetDatum(s->step);
	v[c++] = CStringGetTextDatum(s->revision);
	if (s->statement > 0)
		v[c++] = Int32GetDatum(s->statement);
	else
		nulls[c++] = true;
	v[c++] = CStringGetTextDatum(s->sql);
	v[c++] = BoolGetDatum(s->rehearsable);
	d->time = (TimeOffset) (s->duration_ms * 1000.0);
	if (s->rehearsable)
		v[c++] = IntervalPGetDatum(d);
	else
		nulls[c++] = true;
	v[c++] = rels_json(s->locks, s->nlocks, false);
	v[c++] = names_array(s->rewrote, s->nrewrote);
	v[c++] = rels_json(s->scans, s->nscans, true);
	v[c++] = DirectFunctionCall1(jsonb_in, CStringGetDatum(s->blocked));
	if (s->rehearsable && s->sqlstate == NULL)
		v[c++] = Int64GetDatum(s->rows);
	else
		nulls[c++] = true;
	if (s->sqlstate)
	{
		v[c++] = CStringGetTextDatum(s->sqlstate);
		v[c++] = CStringGetTextDatum(s->error);
	}
	else
	{
		nulls[c++] = true;
		nulls[c++] = true;
	}
	v[c++] = pgm_text_array((char **) s->hazards, s->nhazards);
	v[c++] = pgm_text_array((char **) s->suggestions, s->nhazards);
	if (c != out->desc->natts)
		elog(ERROR, "migrate_rehearse: %d result columns declared, %d built", out->desc->natts, c);
	tuplestore_putvalues(out->store, out->desc, v, nulls);
}

/*
 * migrate_rehearse(target) -> one row per statement.  Takes the migration
 * lock like an upgrade (waiting or failing as pg_migrate.lock_wait_timeout
 * says), so that no run changes the schema under the rehearsal.
 */
Datum
migrate_rehearse(PG_FUNCTION_ARGS)
{
	char	   *target = pgm_arg_text(fcinfo, 0, "target");
	PgmSrf		out = pgm_srf_begin(fcinfo);
	PgmEntry	e = pgm_enter("migrate_rehearse()", PGM_ENTER_MIGRATE | PGM_ENTER_STATE);
	PgmPlan		plan = pgm_plan_to(e.g, &e.st, target, e.heads, true);
	PgmRehearsal r = {0, 0, NULL};

	if (plan.steps.n > 0)
	{
		PgmStepInfo *infos = pgm_catalog_plan_infos(e.g, plan.steps, true);

		pgm_rehearse(e.g, &plan, infos, &r);
	}
	for (int i = 0; i < r.n; i++)
		put_row(&out, &r.items[i]);
	pgm_leave();
	return (Datum) 0;
}
