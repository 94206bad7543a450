/*-------------------------------------------------------------------------
 *
 * offline.h
 *	  Offline mode: the SQL script a plan would run, as `alembic --sql`.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_OFFLINE_H
#define PGM_OFFLINE_H

#include "plan.h"

extern char *pgm_render_plan(PgmGraph *g, PgmState *st, PgmPlan *plan, const char *scope,
							 const char *from, const char *target);

#endif							/* PGM_OFFLINE_H */
