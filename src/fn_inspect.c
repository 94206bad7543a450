/*-------------------------------------------------------------------------
 *
 * fn_inspect.c
 *	  SQL-callable read-only functions: migrate_current, migrate_heads,
 *	  migrate_bases, migrate_branches, migrate_history, migrate_resolve and
 *	  migrate_show.  None takes a lock, so none waits behind a migration.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "catalog.h"
#include "entry.h"
#include "graph_order.h"
#include "identifier.h"
#include "pg_migrate.h"
#include "plan.h"
#include "srf_util.h"

/* How the read-only functions name themselves when called from a migration */
#define READ_ONLY "pg_migrate functions"

PG_FUNCTION_INFO_V1(migrate_current);
PG_FUNCTION_INFO_V1(migrate_current_verbose);
PG_FUNCTION_INFO_V1(migrate_heads);
PG_FUNCTION_INFO_V1(migrate_bases);
PG_FUNCTION_INFO_V1(migrate_branches);
PG_FUNCTION_INFO_V1(migrate_history);
PG_FUNCTION_INFO_V1(migrate_history_1_0);
PG_FUNCTION_INFO_V1(migrate_resolve);
PG_FUNCTION_INFO_V1(migrate_show);
PG_FUNCTION_INFO_V1(migrate_show_1_0);

/* Branch labels that apply to each revision (Alembic's propagation) */
typedef struct LabelIndex
{
	int			nlabels;
	char	  **names;
	bool	  **members;
} LabelIndex;

static LabelIndex
label_index(PgmGraph *g)
{
	LabelIndex	li = {0};
	int			total = 0;

	for (int i = 0; i < g->nrevs; i++)
		total += g->revs[i].nlabels;
	li.names = palloc(sizeof(char *) * Max(total, 1));
	li.members = palloc(sizeof(bool *) * Max(total, 1));
	for (int i = 0; i < g->nrevs; i++)
		for (int l = 0; l < g->revs[i].nlabels; l++)
		{
			li.names[li.nlabels] = g->revs[i].labels[l];
			li.members[li.nlabels++] = pgm_graph_label_members(g, i);
		}
	return li;
}

static Datum
labels_of(LabelIndex *li, int rev)
{
	char	  **out = palloc(sizeof(char *) * Max(li->nlabels, 1));
	int			n = 0;

	for (int l = 0; l < li->nlabels; l++)
		if (li->members[l][rev])
			out[n++] = li->names[l];
	return pgm_text_array(out, n);
}

static Datum
ids_array(PgmGraph *g, const int *idx, int n)
{
	char	  **ids = palloc(sizeof(char *) * Max(n, 1));

	for (int i = 0; i < n; i++)
		ids[i] = g->revs[idx[i]].id;
	return pgm_text_array(ids, n);
}

Datum
migrate_current(PG_FUNCTION_ARGS)
{
	PgmSrf		out = pgm_srf_begin(fcinfo);
	PgmEntry	e = pgm_enter(READ_ONLY, PGM_ENTER_HEADS);
	PgmGraph   *g = e.g;
	PgmIdxList	heads = e.heads;

	for (int i = 0; i < heads.n; i++)
	{
		Datum		v = CStringGetTextDatum(g->revs[heads.items[i]].id);
		bool		isnull = false;

		tuplestore_putvalues(out.store, out.desc, &v, &isnull);
	}
	pgm_leave();
	return (Datum) 0;
}

/*
 * migrate_current(verbose): the applied heads with their branch labels and
 * messages (verbose => false gives the same rows, for symmetry with
 * alembic current; only the columns differ from migrate_current()).
 */
Datum
migrate_current_verbose(PG_FUNCTION_ARGS)
{
	PgmSrf		out = pgm_srf_begin(fcinfo);
	PgmEntry	e;
	PgmGraph   *g;
	PgmIdxList	heads;
	LabelIndex	li;

	(void) pgm_arg_bool(fcinfo, 0, "verbose");
	e = pgm_enter(READ_ONLY, PGM_ENTER_HEADS);
	g = e.g;
	heads = e.heads;
	li = label_index(g);
	for (int i = 0; i < heads.n; i++)
	{
		int			r = heads.items[i];
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(g->revs[r].id);
		values[1] = labels_of(&li, r);
		values[2] = CStringGetTextDatum(g->revs[r].message);
		values[3] = BoolGetDatum(pgm_is_head(g, r));
		tuplestore_putvalues(out.store, out.desc, values, nulls);
	}
	pgm_leave();
	return (Datum) 0;
}

/* heads or bases: (revision, branch_labels, message) */
static Datum
list_revisions(FunctionCallInfo fcinfo, bool heads)
{
	PgmSrf		out = pgm_srf_begin(fcinfo);
	PgmGraph   *g = pgm_enter(READ_ONLY, PGM_ENTER_GRAPH).g;
	PgmIdxList	l;
	LabelIndex	li;

	l = heads ? pgm_graph_heads(g) : pgm_graph_bases(g);
	li = label_index(g);
	for (int i = 0; i < l.n; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(g->revs[l.items[i]].id);
		values[1] = labels_of(&li, l.items[i]);
		values[2] = CStringGetTextDatum(g->revs[l.items[i]].message);
		tuplestore_putvalues(out.store, out.desc, values, nulls);
	}
	pgm_leave();
	return (Datum) 0;
}

Datum
migrate_heads(PG_FUNCTION_ARGS)
{
	return list_revisions(fcinfo, true);
}

Datum
migrate_bases(PG_FUNCTION_ARGS)
{
	return list_revisions(fcinfo, false);
}

Datum
migrate_branches(PG_FUNCTION_ARGS)
{
	PgmSrf		out = pgm_srf_begin(fcinfo);
	PgmGraph   *g = pgm_enter(READ_ONLY, PGM_ENTER_GRAPH).g;

	for (int i = 0; i < g->nrevs; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		if (!pgm_is_branch_point(g, i))
			continue;
		values[0] = CStringGetTextDatum(g->revs[i].id);
		values[1] = ids_array(g, g->revs[i].children, g->revs[i].nchildren);
		values[2] = CStringGetTextDatum(g->revs[i].message);
		tuplestore_putvalues(out.store, out.desc, values, nulls);
	}
	pgm_leave();
	return (Datum) 0;
}

/*
 * migrate_history(range): Alembic's "lower:upper", both ends optional and
 * inclusive; each end is any identifier ("current", "-3", "label@head").
 * Newest first.  branch_labels are the labels each revision carries
 * (Alembic's propagation, as alembic history prints them),
 * declared_branch_labels those it was registered with; 1.0's shape has no
 * declared_branch_labels column.
 */
static Datum
history(FunctionCallInfo fcinfo, bool shape_1_0)
{
	char	   *range = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	PgmSrf		out = pgm_srf_begin(fcinfo);
	PgmEntry	e = pgm_enter(READ_ONLY, PGM_ENTER_STATE);
	PgmGraph   *g = e.g;
	PgmIdxList	current = e.heads;
	PgmState	st = e.st;
	bool	   *in_range;
	PgmIdxList	order;
	PgmIdxList	top;
	LabelIndex	li;

	in_range = pgm_resolve_range(g, range, current, &top);

	/* Alembic's order, walking down from the upper end's revisions */
	order = pgm_graph_alembic_order(g, top.items, top.n, in_range);
	li = label_index(g);
	for (int k = 0; k < order.n; k++)
	{
		int			i = order.items[k];
		Datum		values[10];
		bool		nulls[10] = {0};
		int			c = 0;

		values[c++] = CStringGetTextDatum(g->revs[i].id);
		values[c++] = ids_array(g, g->revs[i].parents, g->revs[i].nparents);
		values[c++] = labels_of(&li, i);
		if (!shape_1_0)
			values[c++] = pgm_text_array(g->revs[i].labels, g->revs[i].nlabels);
		values[c++] = CStringGetTextDatum(g->revs[i].message);
		values[c++] = BoolGetDatum(pgm_is_head(g, i));
		values[c++] = BoolGetDatum(pgm_is_base(g, i));
		values[c++] = BoolGetDatum(pgm_is_branch_point(g, i));
		values[c++] = BoolGetDatum(pgm_is_merge(g, i));
		values[c++] = BoolGetDatum(st.applied[i]);
		if (c != out.desc->natts)
			elog(ERROR, "migrate_history: %d result columns declared, %d built", out.desc->natts, c);
		tuplestore_putvalues(out.store, out.desc, values, nulls);
	}
	pgm_leave();
	return (Datum) 0;
}

Datum
migrate_history(PG_FUNCTION_ARGS)
{
	return history(fcinfo, false);
}

/* 1.0's migrate_history (pgm_history, src/fn_1_0.c) */
Datum
migrate_history_1_0(PG_FUNCTION_ARGS)
{
	return history(fcinfo, true);
}

/* migrate_resolve(identifier) -> text[]; '{}' for base */
Datum
migrate_resolve(PG_FUNCTION_ARGS)
{
	char	   *ident = pgm_arg_text(fcinfo, 0, "identifier");
	MemoryContext outer = CurrentMemoryContext;
	PgmEntry	e = pgm_enter(READ_ONLY, PGM_ENTER_HEADS);
	PgmGraph   *g = e.g;
	PgmTarget	t;
	Datum		result;

	t = pgm_resolve(g, ident, e.heads);
	MemoryContextSwitchTo(outer);
	result = ids_array(g, t.revs.items, t.revs.n);
	pgm_leave();
	PG_RETURN_DATUM(result);
}

/*
 * migrate_show(identifier): one revision as registered, with the branch
 * labels it carries (Alembic's propagation, as alembic show prints them)
 * and those it declares.  1.0's shape has no declared_branch_labels column
 * and gave the declared labels as branch_labels.
 */
static Datum
show(FunctionCallInfo fcinfo, bool shape_1_0)
{
	char	   *ident = pgm_arg_text(fcinfo, 0, "identifier");
	PgmSrf		out = pgm_srf_begin(fcinfo);
	PgmEntry	e = pgm_enter(READ_ONLY, PGM_ENTER_STATE);
	PgmGraph   *g = e.g;
	PgmIdxList	current = e.heads;
	PgmState	st = e.st;
	PgmRevisionRow row;
	int			r;
	Datum		values[14];
	bool		nulls[14] = {0};
	int			c = 0;

	r = pgm_resolve_single(g, ident, current);
	if (!pgm_catalog_fetch_revision(g->revs[r].id, &row))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("revision \"%s\" disappeared from the catalog", g->revs[r].id)));

	values[c++] = CStringGetTextDatum(row.revision);
	values[c++] = pgm_text_array(row.parents, row.nparents);
	values[c++] = pgm_text_array(row.deps, row.ndeps);
	if (shape_1_0)
		values[c++] = pgm_text_array(row.labels, row.nlabels);
	else
	{
		LabelIndex	li = label_index(g);

		values[c++] = labels_of(&li, r);
		values[c++] = pgm_text_array(row.labels, row.nlabels);
	}
	values[c++] = CStringGetTextDatum(row.message);
	values[c++] = CStringGetTextDatum(row.upgrade_sql);
	if (row.downgrade_sql)
		values[c++] = CStringGetTextDatum(row.downgrade_sql);
	else
		nulls[c++] = true;
	values[c++] = CStringGetTextDatum(row.checksum);
	values[c++] = row.registered_by;
	values[c++] = row.registered_at;
	values[c++] = BoolGetDatum(pgm_is_head(g, r));
	values[c++] = BoolGetDatum(st.applied[r]);
	values[c++] = ids_array(g, g->revs[r].children, g->revs[r].nchildren);
	if (c != out.desc->natts)
		elog(ERROR, "migrate_show: %d result columns declared, %d built", out.desc->natts, c);
	tuplestore_putvalues(out.store, out.desc, values, nulls);
	pgm_leave();
	return (Datum) 0;
}

Datum
migrate_show(PG_FUNCTION_ARGS)
{
	return show(fcinfo, false);
}

/* 1.0's migrate_show (pgm_show, src/fn_1_0.c) */
Datum
migrate_show_1_0(PG_FUNCTION_ARGS)
{
	return show(fcinfo, true);
}
