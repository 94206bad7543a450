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
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/timestamp.h"

#include "entry.h"
#include "run.h"
#include "run_log.h"
#include "alembic.h"
#include "catalog.h"
#include "offline.h"
#include "pg_migrate.h"

PG_FUNCTION_INFO_V1(migrate_upgrade);
PG_FUNCTION_INFO_V1(migrate_downgrade);
PG_FUNCTION_INFO_V1(migrate_stamp);
PG_FUNCTION_INFO_V1(migrate_stamp_1_0);
PG_FUNCTION_INFO_V1(migrate_adopt_alembic);
PG_FUNCTION_INFO_V1(migrate_upgrade_sql);
PG_FUNCTION_INFO_V1(migrate_downgrade_sql);

/* "a1, b2" or "base", for messages */
static char *
describe_heads(PgmGraph *g, PgmIdxList heads)
{
	return heads.n == 0 ? pstrdup("base") : pgm_format_ids(g, heads.items, heads.n);
}

static Datum
migrate(FunctionCallInfo fcinfo, bool upgrade)
{
	const char *what = upgrade ? "migrate_upgrade()" : "migrate_downgrade()";
	char	   *target = pgm_arg_text(fcinfo, 0, "target");
	PgmSrf		out = pgm_srf_begin(fcinfo);
	PgmEntry	e = pgm_enter(what, PGM_ENTER_MIGRATE | PGM_ENTER_STATE);
	PgmGraph   *g = e.g;
	PgmIdxList	heads = e.heads;
	PgmState	st = e.st;
	PgmPlan		plan;

	plan = pgm_plan_to(g, &st, target, heads, upgrade);

	if (plan.steps.n == 0)
		pgm_report_nothing_to_do(g, heads, target, upgrade);
	else
	{
		PgmRun		run;
		PgmStepInfo *infos = pgm_catalog_plan_infos(g, plan.steps, plan.upgrade);

		pgm_check_reversible(g, &plan, infos);
		pgm_check_transactional(g, &plan, infos, what);
		pgm_run_init(&run, PGM_DEFAULT_SCOPE, false, &out);
		pgm_apply_plan(g, &st, &plan, infos, &run);
	}
	pgm_leave();
	return (Datum) 0;
}

Datum
migrate_upgrade(PG_FUNCTION_ARGS)
{
	return migrate(fcinfo, true);
}

Datum
migrate_downgrade(PG_FUNCTION_ARGS)
{
	return migrate(fcinfo, false);
}

/*
 * Replace the rows of migrate_version by 'rows' (a flag per revision); log
 * each row that goes or comes; return the new rows.
 */
static void
write_rows(PgmGraph *g, PgmIdxList heads, const bool *rows, PgmSrf *out)
{
	bool	   *was_head = palloc0(Max(g->nrevs, 1));
	TimestampTz now = GetCurrentTimestamp();
	int64		run_id = pgm_catalog_new_run();

	for (int i = 0; i < heads.n; i++)
		was_head[heads.items[i]] = true;

	for (int i = 0; i < g->nrevs; i++)
	{
		PgmLogRow	row;

		if (rows[i] != was_head[i])
		{
			if (rows[i])
				pgm_catalog_add_head(PGM_DEFAULT_SCOPE, g->revs[i].id);
			else
				pgm_catalog_remove_head(PGM_DEFAULT_SCOPE, g->revs[i].id);
			pgm_log_row_init(&row, run_id, PGM_DEFAULT_SCOPE, g->revs[i].id,
							 rows[i] ? "stamp" : "unstamp");
			row.started = row.finished = now;
			row.with_txid = true;
			pgm_catalog_log(&row);
		}
		if (rows[i])
		{
			Datum		v = CStringGetTextDatum(g->revs[i].id);
			bool		isnull = false;

			tuplestore_putvalues(out->store, out->desc, &v, &isnull);
		}
	}
	pgm_alembic_sync(PGM_DEFAULT_SCOPE);
}

/*
 * The rows of alembic stamp --purge: exactly 'named', less any that another
 * named one descends from through down_revision edges.
 */
static bool *
purge_rows(PgmGraph *g, PgmIdxList named_list)
{
	bool	   *named = palloc0(Max(g->nrevs, 1));

	for (int i = 0; i < named_list.n; i++)
		named[named_list.items[i]] = true;
	for (int i = 0; i < named_list.n; i++)
	{
		bool	   *below = palloc0(Max(g->nrevs, 1));
		PgmRev	   *r = &g->revs[named_list.items[i]];

		pgm_graph_parents_closure(g, r->parents, r->nparents, below);
		for (int j = 0; j < g->nrevs; j++)
			if (below[j])
				named[j] = false;
		pfree(below);
	}
	return named;
}

/*
 * Mark in 'mark' the revisions in line with any of 'start': themselves,
 * their ancestors and their descendants through down_revision and
 * depends_on edges.
 */
static void
mark_in_line(PgmGraph *g, const int *start, int nstart, bool *mark)
{
	bool	   *above = palloc0(Max(g->nrevs, 1));

	/* a closure stops at what is marked: the two walks need two arrays */
	pgm_graph_ancestors(g, start, nstart, mark);
	pgm_graph_descendants(g, start, nstart, above);
	for (int i = 0; i < g->nrevs; i++)
		mark[i] = mark[i] || above[i];
	pfree(above);
}

/*
 * The rows of alembic stamp without --purge (ScriptDirectory._stamp_revs
 * and HeadMaintainer): only the rows in line with the target move.
 *
 * A row is in line with the target when one of the revisions the target
 * names, or the revision its "branch@" prefix stands for (t->branch), is
 * the row or among its ancestors or descendants through down_revision and
 * depends_on edges (Alembic's filter_for_lineage with its dependencies);
 * "base" without a branch puts every row in line.  Then "base" drops the
 * rows in line; otherwise each named revision that is not a row already
 * replaces the rows in line with it that are its ancestors (a stamp up, a
 * merge when there are several) or its descendants (a stamp down), or,
 * when there is none, is added as the row of a branch of its own.  Every
 * other row stays.
 *
 * Alembic hands all the rows in line with the target to each step,
 * whatever their relation to that step's revision, and then drops a row
 * that is in line only with the branch or is itself a later named revision,
 * or fails (an assertion, a KeyError): here each named revision replaces
 * only the rows it is itself in line with (docs/alembic-differences.md).
 *
 * Cost: two walks of the graph, and one per named revision while rows in
 * line are left to replace.
 */
static bool *
branch_rows(PgmGraph *g, PgmIdxList heads, PgmTarget *t)
{
	int			n = Max(g->nrevs, 1);
	bool	   *rows = palloc0(n);
	bool	   *in_line = palloc0(n);
	bool	   *near = palloc0(n);
	int		   *shares = palloc(sizeof(int) * (t->revs.n + 1));
	int			nshares = 0;
	int			left = 0;		/* rows in line not replaced yet */

	for (int i = 0; i < t->revs.n; i++)
		shares[nshares++] = t->revs.items[i];
	if (t->branch >= 0)
		shares[nshares++] = t->branch;
	if (nshares > 0)
		mark_in_line(g, shares, nshares, near);

	for (int i = 0; i < heads.n; i++)
	{
		int			h = heads.items[i];

		rows[h] = true;
		in_line[h] = nshares == 0 || near[h];
		if (in_line[h])
			left++;
	}

	if (t->is_base)
	{
		for (int i = 0; i < g->nrevs; i++)
			if (in_line[i])
				rows[i] = false;
		return rows;
	}

	for (int i = 0; i < t->revs.n; i++)
	{
		int			d = t->revs.items[i];

		if (in_line[d])
			continue;			/* already a row */
		if (left > 0)
		{
			memset(near, false, n);
			mark_in_line(g, &d, 1, near);
			for (int j = 0; j < g->nrevs; j++)
				if (rows[j] && in_line[j] && near[j])
				{
					rows[j] = false;
					left--;
				}
		}
		rows[d] = true;
	}
	return rows;
}

/*
 * migrate_stamp(target, purge): set the version state to the target,
 * running no SQL.  Without purge it moves only the branches the target is
 * in line with (alembic stamp); with purge the rows become exactly what the
 * target names (alembic stamp --purge).  Returns the new rows.
 */
static Datum
stamp(FunctionCallInfo fcinfo, const char *target, bool purge)
{
	PgmSrf		out = pgm_srf_begin(fcinfo);
	PgmEntry	e = pgm_enter("migrate_stamp()", PGM_ENTER_MIGRATE | PGM_ENTER_HEADS);
	PgmGraph   *g = e.g;
	PgmIdxList	heads = e.heads;
	PgmTarget	t;
	bool	   *rows;

	t = pgm_resolve(g, target, heads);
	if (purge)
	{
		if (t.is_base && t.branch >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot stamp \"%s\" with purge", target),
					 errdetail("It names the base of one branch; a stamp with purge names the whole state."),
					 errhint("Stamp revisions, \"heads\" or \"base\", or stamp \"%s\" without purge to drop that branch's rows.",
							 target)));
		rows = purge_rows(g, t.revs);
	}
	else
		rows = branch_rows(g, heads, &t);
	write_rows(g, heads, rows, &out);
	pgm_leave();
	return (Datum) 0;
}

Datum
migrate_stamp(PG_FUNCTION_ARGS)
{
	char	   *target = pgm_arg_text(fcinfo, 0, "target");

	return stamp(fcinfo, target, pgm_arg_bool(fcinfo, 1, "purge"));
}

/* 1.0's migrate_stamp(target) (pgm_stamp, src/fn_1_0.c) always purged */
Datum
migrate_stamp_1_0(PG_FUNCTION_ARGS)
{
	return stamp(fcinfo, pgm_arg_text(fcinfo, 0, "target"), true);
}

/*
 * migrate_adopt_alembic(version_table): take over a database that Alembic
 * manages: stamp exactly the versions its alembic_version table holds.  A
 * version that is not registered is an error: import the project first.
 */
Datum
migrate_adopt_alembic(PG_FUNCTION_ARGS)
{
	Oid			table;
	PgmSrf		out;
	PgmEntry	e;
	PgmGraph   *g;
	PgmIdxList	heads;
	PgmIdxList	versions;
	char	  **ids;
	int			n;

	/* a name, resolved with the caller's search_path like regclass input */
	table = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(
												pgm_arg_text(fcinfo, 0, "version_table"))),
							 AccessShareLock, false);
	out = pgm_srf_begin(fcinfo);
	e = pgm_enter("migrate_adopt_alembic()", PGM_ENTER_MIGRATE | PGM_ENTER_HEADS);
	g = e.g;
	heads = e.heads;
	ids = pgm_alembic_versions(table, &n);
	versions.n = 0;
	versions.items = palloc(sizeof(int) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		int			idx = pgm_graph_lookup(g, ids[i]);

		if (idx < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("version \"%s\" in %s is not a registered revision", ids[i],
							pgm_alembic_table_name(table)),
					 errdetail("migrate_adopt_alembic() stamps the versions Alembic applied, so each must be registered."),
					 errhint("Register the project's revisions first (pg_migrate_import_alembic), then adopt.")));
		versions.items[versions.n++] = idx;
	}
	write_rows(g, heads, purge_rows(g, versions), &out);
	pgm_leave();
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
	PgmEntry	e = pgm_enter("pg_migrate functions", PGM_ENTER_HEADS);
	PgmGraph   *g = e.g;
	PgmIdxList	heads = e.heads;
	PgmState	st;
	PgmPlan		plan;
	PgmStepInfo *infos;
	text	   *result;

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
	plan = pgm_plan_to(g, &st, target, heads, upgrade);
	infos = pgm_catalog_plan_infos(g, plan.steps, plan.upgrade);
	pgm_check_reversible(g, &plan, infos);
	if (from == NULL)
		from = describe_heads(g, heads);
	result = pgm_render_plan(g, &st, &plan, infos, PGM_DEFAULT_SCOPE, from, target, outer);
	MemoryContextSwitchTo(outer);
	pgm_leave();
	PG_RETURN_TEXT_P(result);
}

Datum
migrate_upgrade_sql(PG_FUNCTION_ARGS)
{
	return offline(fcinfo, true);
}

Datum
migrate_downgrade_sql(PG_FUNCTION_ARGS)
{
	return offline(fcinfo, false);
}
