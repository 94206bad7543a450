/*-------------------------------------------------------------------------
 *
 * graph_order.h
 *	  The order in which Alembic lists a set of revisions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_GRAPH_ORDER_H
#define PGM_GRAPH_ORDER_H

#include "graph.h"

/*
 * The revisions of 'subset' (every revision when NULL), newest first, in
 * the order of Alembic's RevisionMap._topological_sort walking down from
 * 'heads' (those outside the subset are ignored).  An upgrade runs it
 * reversed; a downgrade and history run it as it is.
 */
extern PgmIdxList pgm_graph_alembic_order(PgmGraph *g, const int *heads, int nheads,
										  const bool *subset);

#endif							/* PGM_GRAPH_ORDER_H */
