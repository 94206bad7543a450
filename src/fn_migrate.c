/*-------------------------------------------------------------------------
 *
 * fn_migrate.c
 *	  SQL-callable functions that move the version state: upgrade,
 *	  downgrade, stamp, and their offline (script) forms.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "apply.h"
#include "catalog.h"
#include "offline.h"
#include "pg_migrate.h"

PG_FUNCTION_INFO_V1(pgm_upgrade);
PG_FUNCTION_INFO_V1(pgm_downgrade);
PG_FUNCTION_INFO_V1(pgm_stamp);
PG_FUNCTION_INFO_V1(pgm_upgrade_sql);
PG_FUNCTION_INFO_V1(pgm_downgrade_sql);

/* "a1, b2" or "base", for messages */
static char *
describe_heads(PgmGraph *g, PgmIdxList heads)
{
	return heads.n == 0 ? pstrdup("base") : pgm_format_ids(g, heads.items, heads.n);
}

static PgmPlan
make_plan(PgmGraph *g, PgmState *st, const char *target, PgmIdxList current, bool upgrade)
{
	PgmTarget	t;

	pgm_check_direction(target, upgrade);
	t = pgm_resolve(g, target, current);
	return upgrade ? pgm_plan_upgrade(g, st, &t) : pgm_plan_downgrade(g, st, &t, target);
}

static Datum
migrate(FunctionCallInfo fcinfo, bool upgrade)
{
	const char *what = upgrade ? "migrate_upgrade()" : "migrate_downgrade()";
	char	   *target = pgm_arg_text(fcinfo, 0, "target");
	PgmSrf		out = pgm_srf_begin(fcinfo);
	PgmGraph   *g;
	PgmIdxList	heads;
	PgmState	st;
	PgmPlan		plan;

	pgm_begin_migration(what);
	pgm_catalog_connect(false);
	g = pgm_catalog_load_graph();
	heads = pgm_catalog_load_heads(g, PGM_DEFAULT_SCOPE);
	st = pgm_state_from_heads(g, heads);
	plan = make_plan(g, &st, target, heads, upgrade);

	if (plan.steps.n == 0)
		ereport(NOTICE,
				(errmsg("nothing to %s: the database is already at %s",
						upgrade ? "upgrade" : "downgrade", describe_heads(g, heads)),
				 errdetail("Target \"%s\" needs no step.", target)));
	else
	{
		PgmRun		run;

		pgm_check_reversible(g, &plan);
		pgm_check_transactional(g, &plan, what);
		pgm_run_init(&run, PGM_DEFAULT_SCOPE, false, &out);
		pgm_apply_plan(g, &st, &plan, &run);
	}
	pgm_catalog_finish();
	return (Datum) 0;
}

Datum
pgm_upgrade(PG_FUNCTION_ARGS)
{
	return migrate(fcinfo, true);
}

Datum
pgm_downgrade(PG_FUNCTION_ARGS)
{
	return migrate(fcinfo, false);
}

/*
 * Set the version state to exactly what the target names, running no SQL
 * (alembic stamp --purge).  Returns the new heads.
 */
Datum
pgm_stamp(PG_FUNCTION_ARGS)
{
	char	   *target = pgm_arg_text(fcinfo, 0, "target");
	PgmSrf		out = pgm_srf_begin(fcinfo);
	PgmGraph   *g;
	PgmIdxList	heads;
	PgmTarget	t;
	bool	   *want;
	bool	   *named;
	bool	   *was_head;
	TimestampTz now;
	int64		run_id;

	pgm_begin_migration("migrate_stamp()");
	pgm_catalog_connect(false);
	g = pgm_catalog_load_graph();
	heads = pgm_catalog_load_heads(g, PGM_DEFAULT_SCOPE);
	t = pgm_resolve(g, target, heads);
	if (t.is_base && t.anchor >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot stamp \"%s\"", target),
				 errdetail("It names the base of one branch; stamp names the whole state."),
				 errhint("Stamp revisions, \"heads\" or \"base\".")));

	/*
	 * The new rows are the named revisions themselves (alembic stamp
	 * --purge), less any that another named one descends from through
	 * down_revision edges.
	 */
	named = palloc0(Max(g->nrevs, 1));
	for (int i = 0; i < t.revs.n; i++)
		named[t.revs.items[i]] = true;
	want = palloc0(Max(g->nrevs, 1));
	for (int i = 0; i < t.revs.n; i++)
	{
		bool	   *below = palloc0(Max(g->nrevs, 1));
		PgmRev	   *r = &g->revs[t.revs.items[i]];

		pgm_graph_parents_closure(g, r->parents, r->nparents, below);
		for (int j = 0; j < g->nrevs; j++)
			if (below[j])
				named[j] = false;
		pfree(below);
	}
	for (int i = 0; i < t.revs.n; i++)
		want[t.revs.items[i]] = named[t.revs.items[i]];
	was_head = palloc0(Max(g->nrevs, 1));
	for (int i = 0; i < heads.n; i++)
		was_head[heads.items[i]] = true;

	now = GetCurrentTimestamp();
	run_id = pgm_catalog_new_run();
	for (int i = 0; i < g->nrevs; i++)
	{
		bool		head = want[i];
		PgmLogRow	row;

		if (head != was_head[i])
		{
			if (head)
				pgm_catalog_add_head(PGM_DEFAULT_SCOPE, g->revs[i].id);
			else
				pgm_catalog_remove_head(PGM_DEFAULT_SCOPE, g->revs[i].id);
			pgm_log_row_init(&row, run_id, PGM_DEFAULT_SCOPE, g->revs[i].id,
							 head ? "stamp" : "unstamp");
			row.started = row.finished = now;
			row.with_txid = true;
			pgm_catalog_log(&row);
		}
		if (head)
		{
			Datum		v = CStringGetTextDatum(g->revs[i].id);
			bool		isnull = false;

			tuplestore_putvalues(out.store, out.desc, &v, &isnull);
		}
	}
	pgm_catalog_finish();
	return (Datum) 0;
}

/*
 * Offline scripts.  from_revision NULL means the database's current state;
 * otherwise it is an identifier whose revisions (and their ancestors) count
 * as applied, "base" for nothing.
 */
static Datum
offline(FunctionCallInfo fcinfo, bool upgrade)
{
	char	   *target = pgm_arg_text(fcinfo, 0, "target");
	char	   *from = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	MemoryContext outer = CurrentMemoryContext;
	PgmGraph   *g;
	PgmIdxList	heads;
	PgmState	st;
	PgmPlan		plan;
	char	   *script;
	text	   *result;

	pgm_catalog_connect(true);
	g = pgm_catalog_load_graph();
	heads = pgm_catalog_load_heads(g, PGM_DEFAULT_SCOPE);
	if (from)
	{
		PgmTarget	f = pgm_resolve(g, from, heads);

		if (f.is_base && f.anchor >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot start an offline script from \"%s\"", from),
					 errhint("Start from revisions, \"heads\" or \"base\".")));
		heads = f.revs;
	}
	st = pgm_state_from_heads(g, heads);
	plan = make_plan(g, &st, target, heads, upgrade);
	if (!upgrade)
	{
		pgm_check_reversible(g, &plan);
		if (from == NULL)
			from = describe_heads(g, heads);
	}
	else if (from == NULL)
		from = describe_heads(g, heads);
	script = pgm_render_plan(g, &st, &plan, PGM_DEFAULT_SCOPE, from, target);
	MemoryContextSwitchTo(outer);
	result = cstring_to_text(script);
	pgm_catalog_finish();
	PG_RETURN_TEXT_P(result);
}

Datum
pgm_upgrade_sql(PG_FUNCTION_ARGS)
{
	return offline(fcinfo, true);
}

Datum
pgm_downgrade_sql(PG_FUNCTION_ARGS)
{
	return offline(fcinfo, false);
}
