/*-------------------------------------------------------------------------
 *
 * graph_order.c
 *	  Alembic's order of a set of revisions: the walk of
 *	  RevisionMap._topological_sort (alembic/script/revision.py), which
 *	  orders upgrade and downgrade plans, offline scripts and history.
 *
 * Teams that move from Alembic have had their independent branches run in
 * Alembic's order; another valid order is where a dependency nobody
 * declared between two branches turns into a failed deploy.  So the order
 * is Alembic's, step for step, not merely a valid one.
 *
 * Alembic's walk keeps a list of current heads, sorted at first by
 * registration (its file load) order.  It looks at one head, the
 * candidate.  If the candidate is an ancestor of another current head, it
 * moves to the first such head and looks again; otherwise it emits the
 * candidate and puts in its place its down revisions (down_revision in
 * declared order, then the depends_on that no down_revision ancestor
 * declares) that are in the set and not current heads yet: the first
 * takes the candidate's place, the others go to the end of the list.  A
 * candidate with none of them leaves the list, and the walk goes back one
 * place.
 *
 * Alembic answers "an ancestor of another head?" with a set of ancestors
 * per head, which costs the size of the graph per head and per merge.
 * Here the question costs nothing on a plain line: a candidate is an
 * ancestor of another head only if it still has a child that is not
 * emitted yet (a pending count per revision says so).  Only then does a
 * depth-first search go down from the other heads, in list order, to find
 * the first one; it never goes below the candidate's generation (longest
 * path from a base) and never through a revision already emitted, which
 * in a successful walk lies below every current head.
 *
 * The set is walked inside its convex closure (revisions both above and
 * below some member): a path between two members never leaves it.  Where
 * Alembic's own walk would fail (it asserts that every member was
 * emitted, which can fail on a history range that is not convex), the
 * result is checked, and a plain depth-first order, still valid, is used
 * instead.  Plans are convex (what a target needs and is not applied; what
 * is applied above a target), and so is a whole history: for those a walk
 * that emits every member is valid by construction, and is not checked
 * again.
 *
 * Where a revision has several depends_on that no ancestor declares,
 * Alembic keeps them in a tuple made from a set, so its order there
 * follows the string hash (PYTHONHASHSEED); this walk takes them in
 * declared order, which is one of Alembic's orders.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "graph_order.h"

typedef struct Walk
{
	PgmGraph   *g;
	bool	   *inC;			/* convex closure of the set */
	char	   *state;			/* 0 outside the set, 1 to emit, 2 emitted */
	int		   *pending;		/* children in C (through parents or
								 * depends_on) not emitted yet */
	int		   *gen;			/* longest path from a base, inside C */
	int		   *seen;			/* search marks: the search's stamp */
	int			stamp;
	int		   *stack;
	int		   *heads;			/* the current heads */
	int			nheads;
	bool	   *inheads;
	int		   *dropdep;		/* marks for normalized depends_on */
	int			dropstamp;
} Walk;

/* The revision one of r's down edges leads to: parents first, then deps */
static inline int
down_edge(PgmRev *r, int k)
{
	return k < r->nparents ? r->parents[k] : r->deps[k - r->nparents];
}

/* Does a depth-first search from h, downward inside C, reach c? */
static bool
reaches(Walk *w, int h, int c)
{
	int			sp = 0;

	if (w->gen[h] <= w->gen[c] || w->seen[h] == w->stamp)
		return false;
	w->seen[h] = w->stamp;
	w->stack[sp++] = h;
	while (sp > 0)
	{
		PgmRev	   *r = &w->g->revs[w->stack[--sp]];

		for (int k = 0; k < r->nparents + r->ndeps; k++)
		{
			int			y = down_edge(r, k);

			if (y == c)
				return true;
			if (!w->inC[y] || w->state[y] == 2 || w->seen[y] == w->stamp ||
				w->gen[y] <= w->gen[c])
				continue;
			w->seen[y] = w->stamp;
			w->stack[sp++] = y;
		}
	}
	return false;
}

/* The first current head other than the one at idx that c lies below, or -1 */
static int
blocking_head(Walk *w, int idx, int c)
{
	if (w->pending[c] == 0)
		return -1;
	w->stamp++;
	for (int j = 0; j < w->nheads; j++)
		if (j != idx && reaches(w, w->heads[j], c))
			return j;
	return -1;
}

/*
 * Mark in dropdep (with the current dropstamp) the depends_on of c that
 * some ancestor of c through down_revision alone declares too: Alembic's
 * _normalize_depends_on leaves those out of c's down revisions.
 */
static void
mark_inherited_deps(Walk *w, int c)
{
	PgmGraph   *g = w->g;
	PgmRev	   *r = &g->revs[c];
	int			left = r->ndeps;
	int			sp = 0;
	int			visit = ++w->stamp;

	w->dropstamp++;
	for (int k = 0; k < r->nparents; k++)
		if (w->seen[r->parents[k]] != visit)
		{
			w->seen[r->parents[k]] = visit;
			w->stack[sp++] = r->parents[k];
		}
	while (sp > 0 && left > 0)
	{
		PgmRev	   *a = &g->revs[w->stack[--sp]];

		for (int d = 0; d < a->ndeps; d++)
			for (int k = 0; k < r->ndeps; k++)
				if (r->deps[k] == a->deps[d] && w->dropdep[k] != w->dropstamp)
				{
					w->dropdep[k] = w->dropstamp;
					left--;
				}
		for (int k = 0; k < a->nparents; k++)
			if (w->seen[a->parents[k]] != visit)
			{
				w->seen[a->parents[k]] = visit;
				w->stack[sp++] = a->parents[k];
			}
	}
}

/* Emit the head at idx; returns the index the walk looks at next */
static int
emit(Walk *w, int idx, PgmIdxList *out)
{
	PgmRev	   *r = &w->g->revs[w->heads[idx]];
	int			c = w->heads[idx];
	bool		replaced = false;

	w->state[c] = 2;
	w->inheads[c] = false;
	out->items[out->n++] = c;
	for (int k = 0; k < r->nparents + r->ndeps; k++)
	{
		int			y = down_edge(r, k);

		if (w->inC[y])
			w->pending[y]--;
	}

	if (r->ndeps > 0)
		mark_inherited_deps(w, c);
	for (int k = 0; k < r->nparents + r->ndeps; k++)
	{
		int			y = down_edge(r, k);

		if (k >= r->nparents && w->dropdep[k - r->nparents] == w->dropstamp)
			continue;
		if (w->state[y] != 1 || w->inheads[y])
			continue;
		w->inheads[y] = true;
		if (!replaced)
		{
			w->heads[idx] = y;
			replaced = true;
		}
		else
			w->heads[w->nheads++] = y;
	}
	if (replaced)
		return idx;
	memmove(&w->heads[idx], &w->heads[idx + 1], sizeof(int) * (w->nheads - idx - 1));
	w->nheads--;
	return Max(idx - 1, 0);
}

/*
 * Is 'order' (newest first) every member of the set, each before all of
 * its ancestors in the set?  'topo' is C ancestors first.
 */
static bool
order_is_valid(Walk *w, PgmIdxList order, PgmIdxList topo, int nmembers)
{
	PgmGraph   *g = w->g;
	int		   *pos;
	int		   *latest;			/* latest position of a member above */
	bool		ok = true;

	if (order.n != nmembers)
		return false;
	pos = palloc(sizeof(int) * Max(g->nrevs, 1));
	latest = palloc(sizeof(int) * Max(g->nrevs, 1));
	for (int i = 0; i < topo.n; i++)
		latest[topo.items[i]] = -1;
	for (int i = 0; i < order.n; i++)
		pos[order.items[i]] = i;
	for (int i = topo.n - 1; i >= 0 && ok; i--)
	{
		int			x = topo.items[i];
		PgmRev	   *r = &g->revs[x];
		int			above = latest[x];

		if (w->state[x] != 0)
		{
			if (pos[x] <= above)
				ok = false;
			above = Max(above, pos[x]);
		}
		for (int k = 0; k < r->nparents + r->ndeps; k++)
		{
			int			y = down_edge(r, k);

			if (w->inC[y])
				latest[y] = Max(latest[y], above);
		}
	}
	pfree(pos);
	pfree(latest);
	return ok;
}

PgmIdxList
pgm_graph_alembic_order(PgmGraph *g, const int *heads, int nheads, const bool *subset)
{
	int			n = g->nrevs;
	Walk		w = {0};
	int		   *members = palloc(sizeof(int) * Max(n, 1));
	int			nmembers = 0;
	int			maxdeps = 1;
	PgmIdxList	topo;
	PgmIdxList	out;
	int			idx = 0;

	w.g = g;
	w.state = palloc0(Max(n, 1));
	for (int i = 0; i < n; i++)
		if (subset == NULL || subset[i])
		{
			w.state[i] = 1;
			members[nmembers++] = i;
		}

	/*
	 * C: above and below some member.  The revisions above the members
	 * first, then a walk down from the members inside them, so that a small
	 * set near the heads costs what lies above it, not the whole graph.
	 */
	w.inC = palloc0(Max(n, 1));
	if (subset == NULL)
		memset(w.inC, true, n);
	else
	{
		bool	   *above = palloc0(Max(n, 1));
		int		   *stack = palloc(sizeof(int) * Max(n, 1));
		int			sp = 0;

		pgm_graph_descendants(g, members, nmembers, above);
		for (int i = 0; i < nmembers; i++)
		{
			w.inC[members[i]] = true;
			stack[sp++] = members[i];
		}
		while (sp > 0)
		{
			PgmRev	   *r = &g->revs[stack[--sp]];

			for (int k = 0; k < r->nparents + r->ndeps; k++)
			{
				int			y = down_edge(r, k);

				if (above[y] && !w.inC[y])
				{
					w.inC[y] = true;
					stack[sp++] = y;
				}
			}
		}
		pfree(above);
		pfree(stack);
	}

	/* generations and pending children, inside C */
	{
		int		   *cnodes = palloc(sizeof(int) * Max(n, 1));
		int			nc = 0;

		for (int i = 0; i < n; i++)
			if (w.inC[i])
				cnodes[nc++] = i;
		topo = pgm_graph_topo(g, cnodes, nc, w.inC);
		pfree(cnodes);
	}
	w.gen = palloc0(sizeof(int) * Max(n, 1));
	w.pending = palloc0(sizeof(int) * Max(n, 1));
	for (int t = 0; t < topo.n; t++)
	{
		int			x = topo.items[t];
		PgmRev	   *r = &g->revs[x];

		maxdeps = Max(maxdeps, r->ndeps);
		for (int k = 0; k < r->nparents + r->ndeps; k++)
		{
			int			y = down_edge(r, k);

			if (!w.inC[y])
				continue;
			w.pending[y]++;
			w.gen[x] = Max(w.gen[x], w.gen[y] + 1);
		}
	}

	w.seen = palloc0(sizeof(int) * Max(n, 1));
	w.stack = palloc(sizeof(int) * Max(n, 1));
	w.heads = palloc(sizeof(int) * Max(n, 1));
	w.inheads = palloc0(Max(n, 1));
	w.dropdep = palloc0(sizeof(int) * maxdeps);

	/* the given heads in the set, in registration order */
	for (int i = 0; i < nheads; i++)
		if (w.state[heads[i]] == 1)
			w.inheads[heads[i]] = true;
	for (int i = 0; i < n; i++)
		if (w.inheads[i])
			w.heads[w.nheads++] = i;

	out.n = 0;
	out.items = palloc(sizeof(int) * Max(nmembers, 1));
	while (w.nheads > 0)
	{
		int			j = blocking_head(&w, idx, w.heads[idx]);

		if (j >= 0)
			idx = j;
		else
			idx = emit(&w, idx, &out);
	}

	/*
	 * In a convex set every step above is exact, so a walk that emitted
	 * every member is valid; only a set with revisions between its members
	 * left out (a history range) needs the check.
	 */
	if (out.n != nmembers || (topo.n != nmembers && !order_is_valid(&w, out, topo, nmembers)))
	{
		/* only where Alembic's own walk fails: a valid order all the same */
		PgmIdxList	dfs = pgm_graph_topo(g, members, nmembers, subset);

		elog(DEBUG1, "pg_migrate: Alembic's walk does not order this set; a depth-first order is used");
		out.n = dfs.n;
		for (int i = 0; i < dfs.n; i++)
			out.items[i] = dfs.items[dfs.n - 1 - i];
		pfree(dfs.items);
	}

	pfree(members);
	pfree(w.state);
	pfree(w.inC);
	pfree(w.gen);
	pfree(w.pending);
	pfree(w.seen);
	pfree(w.stack);
	pfree(w.heads);
	pfree(w.inheads);
	pfree(w.dropdep);
	pfree(topo.items);
	return out;
}
