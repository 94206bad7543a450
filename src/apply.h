/*-------------------------------------------------------------------------
 *
 * apply.h
 *	  The apply engine: runs a plan's SQL and keeps the version state and
 *	  the log in step with it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_APPLY_H
#define PGM_APPLY_H

#include "plan.h"
#include "srf_util.h"

extern void pgm_begin_migration(const char *what);
extern void pgm_refuse_reentry(const char *what);
extern void pgm_require_read_committed(const char *what);
extern void pgm_check_reversible(PgmGraph *g, PgmPlan *plan);
extern void pgm_apply_plan(PgmGraph *g, PgmState *st, PgmPlan *plan, const char *scope,
						   PgmSrf *out);
extern void pgm_write_head_change(PgmGraph *g, PgmHeadChange *ch, const char *scope);

#endif							/* PGM_APPLY_H */
