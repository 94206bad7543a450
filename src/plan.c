/*-------------------------------------------------------------------------
 *
 * plan.c
 *	  Planning upgrades and downgrades over the revision graph.
 *
 * The version state is a set of heads, as alembic_version holds it; what is
 * applied is those heads and all their ancestors (through down_revision and
 * depends_on).  An upgrade applies what the target needs and is missing; a
 * downgrade removes what is applied above the target.  The rows change as
 * Alembic's HeadMaintainer changes alembic_version: applying a revision
 * replaces the rows of its parents and dependencies; removing one brings
 * back those of them that nothing else applied builds on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "graph_order.h"
#include "plan.h"

/* The state whose rows of migrate_version are 'heads' */
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

/* The rows of migrate_version that a state stands for */
static PgmIdxList
state_heads(PgmGraph *g, PgmState *st)
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
	PgmIdxList	order;

	plan.upgrade = true;
	pgm_graph_ancestors(g, target->revs.items, target->revs.n, need);
	for (int i = 0; i < g->nrevs; i++)
		if (st->applied[i])
			need[i] = false;
	/* Alembic walks down from the targets, newest first: run it reversed */
	order = pgm_graph_alembic_order(g, target->revs.items, target->revs.n, need);
	plan.steps.n = order.n;
	plan.steps.items = palloc(sizeof(int) * Max(order.n, 1));
	for (int i = 0; i < order.n; i++)
		plan.steps.items[i] = order.items[order.n - 1 - i];
	pfree(order.items);
	pfree(need);
	return plan;
}

/*
 * Downgrade, as Alembic's _collect_downgrade_revisions: the roots are the
 * target's children (every base for "base"); with an anchor (a "branch@"
 * prefix, or the head a bare -N walked from) and several roots, only the
 * roots below the anchor count; then every applied revision at or above a
 * root, through down_revision and depends_on, goes, newest first.  A target
 * revision that is not applied is an error: downgrading "to" it would mean
 * applying it.
 */
PgmPlan
pgm_plan_downgrade(PgmGraph *g, PgmState *st, PgmTarget *target, const char *ident)
{
	PgmPlan		plan;
	PgmIdxList	roots;
	bool	   *remove = palloc0(Max(g->nrevs, 1));
	PgmIdxList	current;

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

	roots.n = 0;
	roots.items = palloc(sizeof(int) * Max(g->nrevs, 1));
	if (target->is_base)
		roots = pgm_graph_bases(g);
	else
	{
		bool	   *seen = palloc0(Max(g->nrevs, 1));

		for (int i = 0; i < target->revs.n; i++)
		{
			PgmRev	   *r = &g->revs[target->revs.items[i]];

			for (int c = 0; c < r->nchildren; c++)
				if (!seen[r->children[c]])
				{
					seen[r->children[c]] = true;
					roots.items[roots.n++] = r->children[c];
				}
		}
	}
	if (target->anchor >= 0 && roots.n > 1)
	{
		int			kept = 0;
		bool	   *anc = palloc0(Max(g->nrevs, 1));

		/* the anchor's ancestors through down_revision only, itself included */
		pgm_graph_parents_closure(g, &target->anchor, 1, anc);
		for (int i = 0; i < roots.n; i++)
			if (anc[roots.items[i]])
				roots.items[kept++] = roots.items[i];
		roots.n = kept;
		if (kept == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" is not a valid downgrade target from the current heads", ident),
					 errdetail("Nothing above it lies on the branch of %s.", g->revs[target->anchor].id)));
	}

	pgm_graph_descendants(g, roots.items, roots.n, remove);
	for (int i = 0; i < g->nrevs; i++)
		remove[i] = remove[i] && st->applied[i];

	/* newest first, as Alembic walks down from the version rows */
	current = state_heads(g, st);
	plan.steps = pgm_graph_alembic_order(g, current.items, current.n, remove);

	pfree(remove);
	pfree(current.items);
	return plan;
}

/*
 * Is the k-th depends_on of r already an ancestor of r's other down
 * revisions?  Alembic leaves such a dependency out of the "normalized"
 * down revisions.
 */
static bool
dependency_implied(PgmGraph *g, PgmRev *r, int k)
{
	bool	   *anc = palloc0(Max(g->nrevs, 1));
	int		   *others = palloc(sizeof(int) * (r->nparents + r->ndeps + 1));
	int			n = 0;
	bool		implied;

	for (int i = 0; i < r->nparents; i++)
		others[n++] = r->parents[i];
	for (int i = 0; i < r->ndeps; i++)
		if (i != k)
			others[n++] = r->deps[i];
	pgm_graph_ancestors(g, others, n, anc);
	implied = anc[r->deps[k]];
	pfree(anc);
	pfree(others);
	return implied;
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
	ch.removed.items = palloc(sizeof(int) * (r->nparents + r->ndeps + 1));
	ch.added.items = palloc(sizeof(int) * (r->nparents + r->ndeps + 1));

	if (upgrade)
	{
		/* rows := rows - (parents and depends_on of rev) + rev, as Alembic */
		for (int k = 0; k < r->nparents + r->ndeps; k++)
		{
			int			down = k < r->nparents ? r->parents[k] : r->deps[k - r->nparents];

			if (st->is_head[down])
			{
				st->is_head[down] = false;
				ch.removed.items[ch.removed.n++] = down;
			}
		}
		st->applied[rev] = true;
		st->is_head[rev] = true;
		ch.added.items[ch.added.n++] = rev;
	}
	else
	{
		int		   *to = palloc(sizeof(int) * (r->nparents + r->ndeps + 1));
		int			nto = 0;
		bool	   *others = NULL;

		st->applied[rev] = false;
		if (st->is_head[rev])
		{
			st->is_head[rev] = false;
			ch.removed.items[ch.removed.n++] = rev;
		}

		/*
		 * Its parents and dependencies (Alembic's normalized down
		 * revisions) become rows again unless they are ancestors of the
		 * other rows (_unmerge_to_revisions) or of one another.  Alembic
		 * looks only at the rows already there, so where a parent is a
		 * dependency of another parent it writes both back, and then
		 * refuses its own next "upgrade heads" ("overlaps with other
		 * requested revisions"); the rows here stay minimal.  Most have no
		 * applied child or dependent left and are plainly not covered;
		 * only for the others is the closure computed: the rows and the
		 * strict ancestors of every revision coming back.
		 */
		for (int k = 0; k < r->nparents; k++)
			to[nto++] = r->parents[k];
		for (int k = 0; k < r->ndeps; k++)
			if (!dependency_implied(g, r, k))
				to[nto++] = r->deps[k];
		for (int k = 0; k < nto; k++)
		{
			PgmRev	   *d = &g->revs[to[k]];
			bool		covered = false;

			for (int c = 0; c < d->nchildren + d->ndependents && !covered; c++)
			{
				int			up = c < d->nchildren ? d->children[c] : d->dependents[c - d->nchildren];

				covered = st->applied[up];
			}
			if (covered)
			{
				if (others == NULL)
				{
					PgmIdxList	rows = state_heads(g, st);
					int		   *start = palloc(sizeof(int) * (rows.n + g->nrevs + 1));
					int			nstart = 0;
					bool	   *queued = palloc0(Max(g->nrevs, 1));

					for (int i = 0; i < rows.n; i++)
						start[nstart++] = rows.items[i];
					for (int i = 0; i < nto; i++)
					{
						PgmRev	   *b = &g->revs[to[i]];

						for (int e = 0; e < b->nparents + b->ndeps; e++)
						{
							int			y = e < b->nparents ? b->parents[e] : b->deps[e - b->nparents];

							if (!queued[y] && !st->is_head[y])
							{
								queued[y] = true;
								start[nstart++] = y;
							}
						}
					}
					others = palloc0(Max(g->nrevs, 1));
					pgm_graph_ancestors(g, start, nstart, others);
					pfree(start);
					pfree(queued);
					pfree(rows.items);
				}
				covered = others[to[k]];
			}
			if (!covered && !st->is_head[to[k]])
			{
				st->is_head[to[k]] = true;
				ch.added.items[ch.added.n++] = to[k];
			}
		}
		if (others)
			pfree(others);

		pfree(to);
	}
	return ch;
}

/*
 * The plan that moves the state to what 'target' (an identifier, resolved
 * against the applied heads 'current') names, upward or downward.
 */
PgmPlan
pgm_plan_to(PgmGraph *g, PgmState *st, const char *target, PgmIdxList current, bool upgrade)
{
	PgmTarget	t;

	pgm_check_direction(target, upgrade);
	t = pgm_resolve(g, target, current);
	return upgrade ? pgm_plan_upgrade(g, st, &t) : pgm_plan_downgrade(g, st, &t, target);
}
