/*-------------------------------------------------------------------------
 *
 * run.h
 *	  Running a plan: the checks before the first step, and the loop over
 *	  the steps in one of the four execution modes (run.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_RUN_H
#define PGM_RUN_H

#include "catalog.h"
#include "plan.h"
#include "srf_util.h"
#include "step.h"

extern void pgm_report_nothing_to_do(PgmGraph *g, PgmIdxList heads, const char *target,
									 bool upgrade);
extern void pgm_check_reversible(PgmGraph *g, PgmPlan *plan, PgmStepInfo *infos);
extern void pgm_check_transactional(PgmGraph *g, PgmPlan *plan, PgmStepInfo *infos,
									const char *what);
extern void pgm_run_init(PgmRun *run, const char *scope, bool commit_each, PgmSrf *out);
extern void pgm_apply_plan(PgmGraph *g, PgmState *st, PgmPlan *plan, PgmStepInfo *infos,
						   PgmRun *run);

#endif							/* PGM_RUN_H */
