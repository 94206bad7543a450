/*-------------------------------------------------------------------------
 *
 * step.h
 *	  One step of a plan: its attempts, timeouts, retries and log rows.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_STEP_H
#define PGM_STEP_H

#include "datatype/timestamp.h"

#include "apply.h"
#include "catalog.h"

extern void pgm_step_run(PgmGraph *g, PgmState *st, int rev, bool upgrade, PgmRun *run,
						 PgmStepInfo *info);
extern void pgm_step_failed_in_run(PgmGraph *g, PgmRun *run, ErrorData *edata);
extern TimestampTz pgm_statement_timer_start(int ms);
extern void pgm_statement_timer_end(int ms, TimestampTz outer);

#endif							/* PGM_STEP_H */
