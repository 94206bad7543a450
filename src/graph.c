/*-------------------------------------------------------------------------
 *
 * graph.c
 *	  The revision graph: built once per call from the catalog rows, then
 *	  walked by the identifier resolver, the planner and the inspectors.
 *
 * Revisions are held in an array in registration order and refer to one
 * another by array index, so every walk is a loop over ints with a bool or
 * char mark array of the graph's size.  Every walk is iterative (a chain of
 * a million revisions must not recurse a million frames deep) and touches
 * each revision and edge at most once, so the cost of any graph call grows
 * linearly with the number of revisions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/memutils.h"

#include "graph.h"

/* id -> index map; ids are short strings, so simplehash over hash_bytes */
typedef struct PgmIdEntry
{
	const char *key;
	int			idx;
	uint32		hash;
	char		status;
} PgmIdEntry;

#define SH_PREFIX pgm_idmap
#define SH_ELEMENT_TYPE PgmIdEntry
#define SH_KEY_TYPE const char *
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k), strlen(k))
#define SH_EQUAL(tb, a, b) (strcmp((a), (b)) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

static int	resolve_edge(PgmGraph *g, const char *from, const char *to, const char *what);
static PgmIdxList filter_revs(PgmGraph *g, bool heads);
static void check_acyclic(PgmGraph *g);

/*
 * Build the graph from catalog rows (ascending seq).  Errors here mean the
 * catalog itself is inconsistent (edited by hand, or restored partially):
 * registration never lets such a row in.
 */
PgmGraph *
pgm_graph_build(PgmRevInput *input, int n)
{
	PgmGraph   *g = palloc0(sizeof(PgmGraph));
	int		   *nchildren;
	int		   *ndependents;
	int64		nparents;
	int64		ndeps;
	int		   *parent_edges;
	int		   *dep_edges;
	int		   *child_edges;
	int		   *dependent_edges;

	g->nrevs = n;
	g->revs = palloc0(sizeof(PgmRev) * Max(n, 1));
	g->idmap = pgm_idmap_create(CurrentMemoryContext, Max(n, 16), NULL);
	g->labelmap = pgm_idmap_create(CurrentMemoryContext, 16, NULL);

	for (int i = 0; i < n; i++)
	{
		PgmRev	   *r = &g->revs[i];
		bool		found;
		PgmIdEntry *e;

		r->id = input[i].id;
		r->message = input[i].message;
		r->seq = input[i].seq;
		r->nlabels = input[i].nlabels;
		r->labels = input[i].labels;
		e = pgm_idmap_insert(g->idmap, r->id, &found);
		if (found)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("revision \"%s\" appears twice in the catalog", r->id)));
		e->idx = i;
		for (int l = 0; l < r->nlabels; l++)
		{
			e = pgm_idmap_insert(g->labelmap, r->labels[l], &found);
			if (found)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("branch label \"%s\" is declared by two revisions", r->labels[l])));
			e->idx = i;
		}
	}

	/*
	 * Resolve edges, counting children and dependents on the way.  Each
	 * kind of edge lives in one array for the whole graph, every revision's
	 * list a slice of it: four allocations instead of four per revision.
	 */
	nparents = 0;
	ndeps = 0;
	for (int i = 0; i < n; i++)
	{
		nparents += input[i].nparents;
		ndeps += input[i].ndeps;
	}
	parent_edges = palloc(sizeof(int) * Max(nparents, 1));
	dep_edges = palloc(sizeof(int) * Max(ndeps, 1));
	child_edges = palloc(sizeof(int) * Max(nparents, 1));
	dependent_edges = palloc(sizeof(int) * Max(ndeps, 1));
	nchildren = palloc0(sizeof(int) * Max(n, 1));
	ndependents = palloc0(sizeof(int) * Max(n, 1));
	nparents = 0;
	ndeps = 0;
	for (int i = 0; i < n; i++)
	{
		PgmRev	   *r = &g->revs[i];

		r->nparents = input[i].nparents;
		r->parents = parent_edges + nparents;
		nparents += r->nparents;
		for (int p = 0; p < r->nparents; p++)
		{
			r->parents[p] = resolve_edge(g, r->id, input[i].parents[p], "down_revision");
			nchildren[r->parents[p]]++;
		}
		r->ndeps = input[i].ndeps;
		r->deps = dep_edges + ndeps;
		ndeps += r->ndeps;
		for (int d = 0; d < r->ndeps; d++)
		{
			r->deps[d] = resolve_edge(g, r->id, input[i].deps[d], "depends_on");
			ndependents[r->deps[d]]++;
		}
	}
	nparents = 0;
	ndeps = 0;
	for (int i = 0; i < n; i++)
	{
		g->revs[i].children = child_edges + nparents;
		nparents += nchildren[i];
		g->revs[i].dependents = dependent_edges + ndeps;
		ndeps += ndependents[i];
	}
	/* children in registration order, because i ascends */
	for (int i = 0; i < n; i++)
	{
		PgmRev	   *r = &g->revs[i];

		for (int p = 0; p < r->nparents; p++)
		{
			PgmRev	   *parent = &g->revs[r->parents[p]];

			parent->children[parent->nchildren++] = i;
		}
		for (int d = 0; d < r->ndeps; d++)
		{
			PgmRev	   *dep = &g->revs[r->deps[d]];

			dep->dependents[dep->ndependents++] = i;
		}
	}
	pfree(nchildren);
	pfree(ndependents);

	check_acyclic(g);
	g->heads = filter_revs(g, true);
	g->bases = filter_revs(g, false);
	return g;
}

static int
resolve_edge(PgmGraph *g, const char *from, const char *to, const char *what)
{
	int			idx = pgm_graph_lookup(g, to);

	if (idx < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("revision \"%s\" names unknown revision \"%s\" in its %s", from, to, what),
				 errdetail("Revisions may be registered in any order within a transaction, but each revision they name must be registered by the time the graph is read or the transaction commits.")));
	return idx;
}

/*
 * A cycle can only close through a revision that named one registered
 * after it (registration accepts that within a transaction), or in a
 * catalog edited by hand.  Kahn's algorithm over both edge kinds.
 */
static void
check_acyclic(PgmGraph *g)
{
	int			n = g->nrevs;
	int		   *indeg = palloc0(sizeof(int) * Max(n, 1));
	int		   *queue = palloc(sizeof(int) * Max(n, 1));
	int			head = 0,
				tail = 0;

	for (int i = 0; i < n; i++)
	{
		indeg[i] = g->revs[i].nparents + g->revs[i].ndeps;
		if (indeg[i] == 0)
			queue[tail++] = i;
	}
	while (head < tail)
	{
		PgmRev	   *r = &g->revs[queue[head++]];

		for (int c = 0; c < r->nchildren; c++)
			if (--indeg[r->children[c]] == 0)
				queue[tail++] = r->children[c];
		for (int c = 0; c < r->ndependents; c++)
			if (--indeg[r->dependents[c]] == 0)
				queue[tail++] = r->dependents[c];
	}
	if (tail < n)
	{
		for (int i = 0; i < n; i++)
			if (indeg[i] > 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_RECURSION),
						 errmsg("the revision graph has a cycle through revision \"%s\"",
								g->revs[i].id),
						 errhint("Check the down_revision and depends_on of the revisions registered in this transaction.")));
	}
	pfree(indeg);
	pfree(queue);
}

int
pgm_graph_lookup(PgmGraph *g, const char *id)
{
	PgmIdEntry *e = pgm_idmap_lookup(g->idmap, id);

	return e ? e->idx : -1;
}

/*
 * The revision registered with 'seq', or -1.  Rows read in bulk mostly come
 * in registration order, so the caller passes the index after the last one
 * found and the common case is one comparison; otherwise a binary search
 * (revs is in ascending seq).
 */
int
pgm_graph_index_of_seq(PgmGraph *g, int64 seq, int hint)
{
	int			lo = 0,
				hi = g->nrevs - 1;

	if (hint >= 0 && hint < g->nrevs && g->revs[hint].seq == seq)
		return hint;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (g->revs[mid].seq == seq)
			return mid;
		if (g->revs[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

int
pgm_graph_lookup_label(PgmGraph *g, const char *label)
{
	PgmIdEntry *e = pgm_idmap_lookup(g->labelmap, label);

	return e ? e->idx : -1;
}

/* Heads or bases, listed once when the graph is built */
static PgmIdxList
filter_revs(PgmGraph *g, bool heads)
{
	PgmIdxList	l;
	int			n = 0;

	for (int i = 0; i < g->nrevs; i++)
		if (heads ? pgm_is_head(g, i) : pgm_is_base(g, i))
			n++;
	l.n = 0;
	l.items = palloc(sizeof(int) * Max(n, 1));
	for (int i = 0; i < g->nrevs; i++)
		if (heads ? pgm_is_head(g, i) : pgm_is_base(g, i))
			l.items[l.n++] = i;
	return l;
}

/* A copy, which the caller may change: the graph itself may be the cached one */
static PgmIdxList
copy_list(PgmIdxList l)
{
	PgmIdxList	c;

	c.n = l.n;
	c.items = palloc(sizeof(int) * Max(l.n, 1));
	memcpy(c.items, l.items, sizeof(int) * l.n);
	return c;
}

PgmIdxList
pgm_graph_heads(PgmGraph *g)
{
	return copy_list(g->heads);
}

PgmIdxList
pgm_graph_bases(PgmGraph *g)
{
	return copy_list(g->bases);
}

/*
 * Flood fill from 'start', marking every revision reached; 'down' walks
 * toward the bases (parents, deps), else toward the heads (children,
 * dependents); without 'with_deps' only down_revision edges are followed.
 */
static void
closure(PgmGraph *g, const int *start, int nstart, bool *mark, bool down, bool with_deps)
{
	int		   *stack = palloc(sizeof(int) * Max(g->nrevs, 1));
	int			sp = 0;

	for (int s = 0; s < nstart; s++)
		if (!mark[start[s]])
		{
			mark[start[s]] = true;
			stack[sp++] = start[s];
		}
	while (sp > 0)
	{
		PgmRev	   *r = &g->revs[stack[--sp]];
		int			n1 = down ? r->nparents : r->nchildren;
		int		   *e1 = down ? r->parents : r->children;
		int			n2 = !with_deps ? 0 : down ? r->ndeps : r->ndependents;
		int		   *e2 = down ? r->deps : r->dependents;

		for (int k = 0; k < n1 + n2; k++)
		{
			int			next = k < n1 ? e1[k] : e2[k - n1];

			if (!mark[next])
			{
				mark[next] = true;
				stack[sp++] = next;
			}
		}
	}
	pfree(stack);
}

void
pgm_graph_ancestors(PgmGraph *g, const int *start, int nstart, bool *mark)
{
	closure(g, start, nstart, mark, true, true);
}

void
pgm_graph_descendants(PgmGraph *g, const int *start, int nstart, bool *mark)
{
	closure(g, start, nstart, mark, false, true);
}

/*
 * Depth-first post-order from each start revision, down through depends_on
 * and then parents (declared order), staying inside 'subset'.  A revision
 * is emitted after all its ancestors in the subset, a branch's revisions
 * come out together, and a revision's parent comes right before it where
 * possible, so a plan reads like the history it applies.
 */
PgmIdxList
pgm_graph_topo(PgmGraph *g, const int *start, int nstart, const bool *subset)
{
	int			n = g->nrevs;
	char	   *state = palloc0(Max(n, 1));	/* 0 new, 1 on stack, 2 emitted */
	int		   *stack = palloc(sizeof(int) * Max(n, 1));
	int		   *edge = palloc(sizeof(int) * Max(n, 1));
	PgmIdxList	out;

	out.n = 0;
	out.items = palloc(sizeof(int) * Max(n, 1));
	for (int s = 0; s < nstart; s++)
	{
		int			sp = 0;

		if (state[start[s]] != 0 || (subset && !subset[start[s]]))
			continue;
		state[start[s]] = 1;
		stack[sp] = start[s];
		edge[sp++] = 0;
		while (sp > 0)
		{
			PgmRev	   *r = &g->revs[stack[sp - 1]];
			int			k = edge[sp - 1];

			if (k < r->nparents + r->ndeps)
			{
				int			next = k < r->ndeps ? r->deps[k] : r->parents[k - r->ndeps];

				edge[sp - 1]++;
				if (state[next] == 0 && (subset == NULL || subset[next]))
				{
					state[next] = 1;
					stack[sp] = next;
					edge[sp++] = 0;
				}
			}
			else
			{
				state[stack[sp - 1]] = 2;
				out.items[out.n++] = stack[--sp];
			}
		}
	}
	pfree(state);
	pfree(stack);
	pfree(edge);
	return out;
}

void
pgm_graph_children_closure(PgmGraph *g, const int *start, int nstart, bool *mark)
{
	closure(g, start, nstart, mark, false, false);
}

void
pgm_graph_parents_closure(PgmGraph *g, const int *start, int nstart, bool *mark)
{
	closure(g, start, nstart, mark, true, false);
}

/*
 * Alembic's "shares lineage" test, as a set: the revisions above or below
 * 'rev' through down_revision edges only (depends_on does not count).
 */
bool *
pgm_graph_lineage(PgmGraph *g, int rev)
{
	bool	   *mark = palloc0(Max(g->nrevs, 1));
	PgmRev	   *r = &g->revs[rev];

	/* ancestors and descendants of a revision never overlap in a DAG */
	closure(g, r->parents, r->nparents, mark, true, false);
	closure(g, r->children, r->nchildren, mark, false, false);
	mark[rev] = true;
	return mark;
}

/*
 * Alembic's propagation of a branch label (revision.py, _add_branches): the
 * declaring revision and all its descendants through parent edges; then
 * Alembic walks down from the last descendant it visited and labels every
 * revision on the way until a branch point (counting depends_on) or a merge.
 * That walk gets below the declaring revision only when its descendants
 * form one line that nothing else builds on, and then labels its ancestors
 * down to, not including, the nearest branch point or merge.
 */
bool *
pgm_graph_label_members(PgmGraph *g, int declaring)
{
	bool	   *mark = palloc0(Max(g->nrevs, 1));
	int		   *stack = palloc(sizeof(int) * Max(g->nrevs, 1));
	int			sp = 0;
	bool		line = true;

	mark[declaring] = true;
	stack[sp++] = declaring;
	while (sp > 0)
	{
		PgmRev	   *r = &g->revs[stack[--sp]];

		if (r->nchildren + r->ndependents > 1 || r->nparents > 1)
			line = false;
		for (int c = 0; c < r->nchildren; c++)
			if (!mark[r->children[c]])
			{
				mark[r->children[c]] = true;
				stack[sp++] = r->children[c];
			}
	}
	pfree(stack);

	if (line && !pgm_is_base(g, declaring))
	{
		for (int p = g->revs[declaring].parents[0];;)
		{
			PgmRev	   *r = &g->revs[p];

			if (r->nchildren + r->ndependents > 1 || r->nparents > 1)
				break;
			mark[p] = true;
			if (r->nparents == 0)
				break;
			p = r->parents[0];
		}
	}
	return mark;
}
