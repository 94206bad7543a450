/*-------------------------------------------------------------------------
 *
 * plan.h
 *	  From the applied heads and a target to an ordered list of steps, and
 *	  how each step changes the applied heads.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_PLAN_H
#define PGM_PLAN_H

#include "graph.h"
#include "identifier.h"

/* The version state held in memory while planning and applying */
typedef struct PgmState
{
	bool	   *applied;		/* the heads and all their ancestors */
	bool	   *is_head;		/* the rows of migrate_version */
} PgmState;

typedef struct PgmPlan
{
	bool		upgrade;
	PgmIdxList	steps;
} PgmPlan;

/* What one step does to migrate_version */
typedef struct PgmHeadChange
{
	PgmIdxList	removed;
	PgmIdxList	added;
} PgmHeadChange;

extern PgmState pgm_state_from_heads(PgmGraph *g, PgmIdxList heads);
extern PgmPlan pgm_plan_upgrade(PgmGraph *g, PgmState *st, PgmTarget *target);
extern PgmPlan pgm_plan_downgrade(PgmGraph *g, PgmState *st, PgmTarget *target,
								  const char *ident);
extern PgmPlan pgm_plan_to(PgmGraph *g, PgmState *st, const char *target, PgmIdxList current,
						   bool upgrade);
extern PgmHeadChange pgm_state_step(PgmGraph *g, PgmState *st, int rev, bool upgrade);

#endif							/* PGM_PLAN_H */
