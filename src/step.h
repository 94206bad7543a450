/*-------------------------------------------------------------------------
 *
 * step.h
 *	  One step of a plan: its attempts, timeouts, retries and log rows; and
 *	  the run the steps belong to.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_STEP_H
#define PGM_STEP_H

#include "datatype/timestamp.h"

#include "catalog.h"
#include "plan.h"
#include "srf_util.h"
#include "watchdog.h"

/*
 * The step running in a run that holds one subtransaction for all its
 * steps (run.c explains the modes): no catch around the step itself, so
 * what the run's catch needs to stop and log is kept here.
 */
typedef struct PgmStepAttempt
{
	int			rev;			/* -1: between steps */
	bool		upgrade;
	TimestampTz started;
	int			stmt_ms;		/* the step's statement_timeout */
	TimestampTz outer_timer;	/* the caller's statement timer, to restore */
	PgmWatchdog *watchdog;		/* or NULL */
} PgmStepAttempt;

/* One call of upgrade, downgrade or apply */
typedef struct PgmRun
{
	int64		run_id;
	const char *scope;
	bool		commit_each;	/* CALL mode: commit after every step */
	int			lock_timeout_ms;	/* the run's; -1: pg_migrate.lock_timeout */
	int			statement_timeout_ms;
	int			lock_retries;	/* -1: pg_migrate.lock_retries */
	PgmSrf	   *out;			/* rows to return, or NULL */
	bool	   *rows_before;	/* function mode: the heads at the start */
	bool		one_subxact;	/* function mode without retries */
	PgmStepAttempt cur;			/* with one_subxact */
	int			step_no;		/* 1-based, for progress reports */
	int			nsteps;
} PgmRun;

extern bool pgm_step_in_migration(void);
extern bool pgm_step_guarded(bool *may_rewrite);
extern void pgm_step_run(PgmGraph *g, PgmState *st, int rev, bool upgrade, PgmRun *run,
						 PgmStepInfo *info);
extern uint64 pgm_step_exec_statement(const char *revision, const char *sql, int stmt_ms);
extern bool pgm_step_cancelled(ErrorData *e, TimestampTz started, int stmt_ms);
extern ErrorData *pgm_step_trial(const char *revision, bool upgrade, PgmStepInfo *info);
extern void pgm_step_failed_in_run(PgmGraph *g, PgmRun *run, ErrorData *edata);
extern void pgm_statement_timer_end(int ms, TimestampTz outer);

#endif							/* PGM_STEP_H */
