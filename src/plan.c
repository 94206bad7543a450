/*-------------------------------------------------------------------------
 *
 * plan.c
 *	  Planning upgrades and downgrades over the revision graph.
 *
 * The version state is a set of heads, as alembic_version holds it; what is
 * applied is those heads and all their ancestors (through down_revision and
 * depends_on).  An upgrade applies what the target needs and is missing; a
 * downgrade removes what is applied above the target.  After each step the
 * heads are again the applied revisions that have no applied child through
 * a down_revision edge: a revision that another one only depends_on stays a
 * head of its own, as in Alembic.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "plan.h"

PgmState
pgm_state_from_heads(PgmGraph *g, PgmIdxList heads)
{
	PgmState	st;

	st.applied = palloc0(Max(g->nrevs, 1));
	st.is_head = palloc0(Max(g->nrevs, 1));
	pgm_graph_ancestors(g, heads.items, heads.n, st.applied);
	for (int i = 0; i < heads.n; i++)
		st.is_head[heads.items[i]] = true;
	return st;
}

PgmIdxList
pgm_state_heads(PgmGraph *g, PgmState *st)
{
	PgmIdxList	l;

	l.n = 0;
	l.items = palloc(sizeof(int) * Max(g->nrevs, 1));
	for (int i = 0; i < g->nrevs; i++)
		if (st->is_head[i])
			l.items[l.n++] = i;
	return l;
}

/*
 * Upgrade: every ancestor of the targets that is not applied, ancestors
 * first.  Targets that are already applied add nothing.
 */
PgmPlan
pgm_plan_upgrade(PgmGraph *g, PgmState *st, PgmTarget *target)
{
	PgmPlan		plan;
	bool	   *need = palloc0(Max(g->nrevs, 1));

	plan.upgrade = true;
	pgm_graph_ancestors(g, target->revs.items, target->revs.n, need);
	for (int i = 0; i < g->nrevs; i++)
		if (st->applied[i])
			need[i] = false;
	plan.steps = pgm_graph_topo(g, target->revs.items, target->revs.n, need);
	pfree(need);
	return plan;
}

/*
 * Downgrade: the applied revisions strictly above the target revisions, and
 * at or above the 'below' revisions (all of them for "base"), newest first.
 * A target revision that is not applied is an error: downgrading "to" it
 * would mean applying it.
 */
PgmPlan
pgm_plan_downgrade(PgmGraph *g, PgmState *st, PgmTarget *target, const char *ident)
{
	PgmPlan		plan;
	bool	   *remove = palloc0(Max(g->nrevs, 1));
	bool	   *keep = palloc0(Max(g->nrevs, 1));
	int		   *start;
	int			nstart = 0;
	PgmIdxList	order;

	plan.upgrade = false;
	for (int i = 0; i < target->revs.n; i++)
	{
		int			r = target->revs.items[i];

		if (!st->applied[r])
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("revision \"%s\" is not applied, so it cannot be a downgrade target",
							g->revs[r].id),
					 errdetail("Identifier \"%s\" resolved to it.", ident),
					 errhint("Use migrate_upgrade() to move forward.")));
	}

	if (target->is_base)
		memcpy(remove, st->applied, g->nrevs);
	else
	{
		pgm_graph_descendants(g, target->revs.items, target->revs.n, remove);
		pgm_graph_descendants(g, target->below.items, target->below.n, remove);
		for (int i = 0; i < target->revs.n; i++)
			keep[target->revs.items[i]] = true;
		for (int i = 0; i < g->nrevs; i++)
			remove[i] = remove[i] && st->applied[i] && !keep[i];
	}

	/* newest first: reverse of an ancestors-first order, started at heads */
	start = palloc(sizeof(int) * Max(g->nrevs, 1));
	for (int i = 0; i < g->nrevs; i++)
		if (remove[i])
			start[nstart++] = i;
	order = pgm_graph_topo(g, start, nstart, remove);
	plan.steps.n = order.n;
	plan.steps.items = palloc(sizeof(int) * Max(order.n, 1));
	for (int i = 0; i < order.n; i++)
		plan.steps.items[i] = order.items[order.n - 1 - i];

	pfree(remove);
	pfree(keep);
	pfree(start);
	return plan;
}

/*
 * Apply one step to the in-memory state and say which migrate_version rows
 * go and come.
 */
PgmHeadChange
pgm_state_step(PgmGraph *g, PgmState *st, int rev, bool upgrade)
{
	PgmRev	   *r = &g->revs[rev];
	PgmHeadChange ch;

	ch.removed.n = ch.added.n = 0;
	ch.removed.items = palloc(sizeof(int) * (r->nparents + 1));
	ch.added.items = palloc(sizeof(int) * (r->nparents + 1));

	if (upgrade)
	{
		for (int p = 0; p < r->nparents; p++)
			if (st->is_head[r->parents[p]])
			{
				st->is_head[r->parents[p]] = false;
				ch.removed.items[ch.removed.n++] = r->parents[p];
			}
		st->applied[rev] = true;
		st->is_head[rev] = true;
		ch.added.items[ch.added.n++] = rev;
	}
	else
	{
		st->applied[rev] = false;
		if (st->is_head[rev])
		{
			st->is_head[rev] = false;
			ch.removed.items[ch.removed.n++] = rev;
		}
		for (int p = 0; p < r->nparents; p++)
		{
			PgmRev	   *parent = &g->revs[r->parents[p]];
			bool		still_covered = false;

			for (int c = 0; c < parent->nchildren && !still_covered; c++)
				still_covered = st->applied[parent->children[c]];
			if (!still_covered && !st->is_head[r->parents[p]])
			{
				st->is_head[r->parents[p]] = true;
				ch.added.items[ch.added.n++] = r->parents[p];
			}
		}
	}
	return ch;
}
