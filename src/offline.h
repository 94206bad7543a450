/*-------------------------------------------------------------------------
 *
 * offline.h
 *	  Offline mode: the SQL script a plan would run, as `alembic --sql`.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_OFFLINE_H
#define PGM_OFFLINE_H

#include "catalog.h"
#include "plan.h"
#include "utils/palloc.h"

extern text *pgm_render_plan(PgmGraph *g, PgmState *st, PgmPlan *plan, PgmStepInfo *infos,
							 const char *scope, const char *from, const char *target,
							 MemoryContext result_cxt);

#endif							/* PGM_OFFLINE_H */
