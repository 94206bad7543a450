/*-------------------------------------------------------------------------
 *
 * graph.h
 *	  The revision graph in memory: a DAG of revisions joined by parent
 *	  (down_revision) edges and depends_on edges.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_GRAPH_H
#define PGM_GRAPH_H

#include "postgres.h"

typedef struct PgmRev
{
	char	   *id;
	char	   *message;
	int64		seq;			/* registration order: the tie-break */
	int			nparents;
	int		   *parents;		/* down_revisions, in declared order */
	int			ndeps;
	int		   *deps;			/* depends_on */
	int			nchildren;
	int		   *children;		/* revisions naming this one as parent */
	int			ndependents;
	int		   *dependents;		/* revisions naming this one in depends_on */
	int			nlabels;
	char	  **labels;			/* branch labels declared on this revision */
} PgmRev;

/* Lists of graph indexes */
typedef struct PgmIdxList
{
	int			n;
	int		   *items;
} PgmIdxList;

struct pgm_idmap_hash;

typedef struct PgmGraph
{
	int			nrevs;
	PgmRev	   *revs;			/* ascending seq */
	struct pgm_idmap_hash *idmap;	/* id -> index */
	struct pgm_idmap_hash *labelmap;	/* label -> declaring index */
	PgmIdxList	heads;			/* no children, in registration order */
	PgmIdxList	bases;			/* no parents, in registration order */
} PgmGraph;

/* How one revision arrives from the catalog, before edges are resolved */
typedef struct PgmRevInput
{
	char	   *id;
	char	   *message;
	int64		seq;
	int			nparents;
	char	  **parents;
	int			ndeps;
	char	  **deps;
	int			nlabels;
	char	  **labels;
} PgmRevInput;

extern PgmGraph *pgm_graph_build(PgmRevInput *input, int n);
extern int	pgm_graph_lookup(PgmGraph *g, const char *id);
extern int	pgm_graph_lookup_label(PgmGraph *g, const char *label);
extern int	pgm_graph_index_of_seq(PgmGraph *g, int64 seq, int hint);

#define pgm_is_head(g, i)			((g)->revs[i].nchildren == 0)
#define pgm_is_base(g, i)			((g)->revs[i].nparents == 0)
#define pgm_is_branch_point(g, i)	((g)->revs[i].nchildren > 1)
#define pgm_is_merge(g, i)			((g)->revs[i].nparents > 1)

extern PgmIdxList pgm_graph_heads(PgmGraph *g);
extern PgmIdxList pgm_graph_bases(PgmGraph *g);

/*
 * Closures.  Marks in 'mark' (length nrevs, caller-zeroed or accumulated)
 * every revision reachable from 'start': downward through parents and
 * depends_on (ancestors), or upward through children and dependents
 * (descendants).  The start revisions are marked too.
 */
extern void pgm_graph_ancestors(PgmGraph *g, const int *start, int nstart, bool *mark);
extern void pgm_graph_descendants(PgmGraph *g, const int *start, int nstart, bool *mark);

/*
 * Topological order, ancestors first, of the revisions in 'subset' (all when
 * NULL): a depth-first post-order from 'start' that follows depends_on, then
 * parents in their declared order, so that each branch runs contiguously.
 */
extern PgmIdxList pgm_graph_topo(PgmGraph *g, const int *start, int nstart, const bool *subset);

extern void pgm_graph_children_closure(PgmGraph *g, const int *start, int nstart, bool *mark);
extern void pgm_graph_parents_closure(PgmGraph *g, const int *start, int nstart, bool *mark);

/* Revisions above or below one revision through down_revision edges */
extern bool *pgm_graph_lineage(PgmGraph *g, int rev);

/* Revisions carrying a branch label, with Alembic's propagation rules */
extern bool *pgm_graph_label_members(PgmGraph *g, int declaring);

#endif							/* PGM_GRAPH_H */
