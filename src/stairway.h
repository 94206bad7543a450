/*-------------------------------------------------------------------------
 *
 * stairway.h
 *	  The stairway check: each step of a plan upgraded, downgraded and
 *	  upgraded again, in a subtransaction that is always rolled back.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_STAIRWAY_H
#define PGM_STAIRWAY_H

#include "catalog.h"
#include "graph.h"
#include "plan.h"

/* One row of migrate_check */
typedef struct PgmCheckFinding
{
	int			step;			/* 1-based in the plan; 0: about the graph */
	const char *revision;		/* NULL: about the graph */
	const char *phase;			/* upgrade, downgrade, upgrade again, graph */
	const char *status;
	char	   *object;			/* the object that differs, or NULL */
	char	   *detail;
} PgmCheckFinding;

typedef struct PgmCheckFindings
{
	int			n;
	int			cap;
	PgmCheckFinding *items;
} PgmCheckFindings;

extern void pgm_check_add(PgmCheckFindings *f, int step, const char *revision, const char *phase,
						  const char *status, const char *object, const char *detail);
extern void pgm_stairway(PgmGraph *g, PgmPlan *plan, PgmStepInfo *up, PgmStepInfo *down,
						 PgmCheckFindings *out);

#endif							/* PGM_STAIRWAY_H */
