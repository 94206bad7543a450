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

#include "datatype/timestamp.h"

#include "catalog.h"
#include "plan.h"
#include "srf_util.h"

/* One call of upgrade, downgrade or apply */
typedef struct PgmRun
{
	int64		run_id;
	const char *scope;
	bool		commit_each;	/* CALL mode: commit after every step */
	int			lock_timeout_ms;	/* this run's, or -1: pg_migrate.lock_timeout */
	int			statement_timeout_ms;
	int			lock_retries;	/* -1: pg_migrate.lock_retries */
	PgmSrf	   *out;			/* rows to return, or NULL */
	bool	   *rows_before;	/* function mode: migrate_version when the run began */

	/*
	 * Function mode without retries runs all steps in one subtransaction
	 * (one per step would cost every later step a walk over all locks and
	 * relations the earlier ones touched).  A failure is then caught for
	 * the whole run, and these say which step was running.
	 */
	bool		one_subxact;
	int			cur_rev;		/* -1: between steps */
	bool		cur_upgrade;
	TimestampTz cur_started;
	int			cur_stmt_ms;
	TimestampTz cur_outer_timer;
	void	   *cur_watchdog;
	int			step_no;		/* 1-based, for progress reports */
	int			nsteps;
} PgmRun;

extern void pgm_refuse_reentry(const char *what);
extern void pgm_require_read_committed(const char *what);
extern void pgm_begin_migration(const char *what);
extern bool pgm_lock_migrations(const char *what, bool session, int wait_ms, bool skip_if_locked);
extern void pgm_unlock_migrations(void);
extern void pgm_check_reversible(PgmGraph *g, PgmPlan *plan, PgmStepInfo *infos);
extern void pgm_check_transactional(PgmGraph *g, PgmPlan *plan, PgmStepInfo *infos,
									const char *what);
extern void pgm_run_init(PgmRun *run, const char *scope, bool commit_each, PgmSrf *out);
extern void pgm_commit(void);
extern void pgm_apply_plan(PgmGraph *g, PgmState *st, PgmPlan *plan, PgmStepInfo *infos,
						   PgmRun *run);
extern void pgm_write_head_change(PgmGraph *g, PgmHeadChange *ch, const char *scope);
extern void pgm_set_applying(bool on);

#endif							/* PGM_APPLY_H */
