/*-------------------------------------------------------------------------
 *
 * pg_migrate.c
 *	  Module entry: the magic block and the reserved GUC prefix.
 *
 * Where things are:
 *	  fn_register.c		migrate_revision, migrate_new, migrate_merge
 *	  fn_migrate.c		migrate_upgrade, migrate_downgrade, migrate_stamp, offline SQL
 *	  fn_inspect.c		migrate_current, heads, bases, branches, history, resolve, show
 *	  graph.c			the revision DAG in memory
 *	  identifier.c		id rules and the identifier grammar (head-2, label@head, ...)
 *	  plan.c			upgrade and downgrade plans, version-state transitions
 *	  apply.c			running a plan: locking, SQL steps, version state, log
 *	  offline.c			a plan rendered as a psql script
 *	  catalog.c			all SPI against the extension's tables
 *	  fn_apply.c		CALL migrate_apply: per-step commits, retries, durable log
 *	  step.c			one step's attempts: timeouts, subtransaction, lock retries
 *	  run_log.c			migrate_log rows, and the worker that writes them autonomously
 *	  worker.c			the dynamic background worker (autonomous log rows,
 *						non-transactional steps)
 *	  settings.c		pg_migrate.* configuration parameters
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "compat.h"
#include "settings.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	/* settings under pg_migrate.* belong to us; warn about misspelled ones */
	pgm_define_settings();
}
