/*-------------------------------------------------------------------------
 *
 * pg_migrate.c
 *	  Module entry: the magic block and the reserved GUC prefix.
 *
 * Where things are (the one file map; README.md links here).  A file calls
 * only files in lower layers, its layer being the longest chain of calls
 * below it; test/check_layering.py, run by test/run, fails on any cycle.
 *
 *	  pg_migrate.h		constants: scope, lock keys, catalog schema, caps
 *	  compat.h			every #if PG_VERSION_NUM (PostgreSQL 13 to 17)
 *	  subxact.h			internal subtransactions, the PL/Python pattern
 *	  codec.h			the NUL-separated records handed to a worker
 *  0 graph.c			the revision DAG in memory, closures, topological order
 *	  settings.c		pg_migrate.* configuration parameters
 *	  srf_util.c		set-returning functions, arrays, arguments
 *	  sql_check.c		migration SQL looked at when it is registered
 *	  lock.c			migration and registration locks, isolation checks
 *	  bgtask.c			a dynamic background worker doing one task (any task)
 *  1 managed_schemas.c	which schemas pg_migrate manages (model, fingerprint, guard)
 *	  identifier.c		id rules and the identifier grammar (head-2, label@head)
 *	  graph_order.c		Alembic's order of a set of revisions (its walk)
 *	  catalog.c			the SPI session, and single-row statements on the
 *						extension's tables (helpers in catalog_int.h)
 *	  nontx.c			non-transactional SQL, run at top level by a worker
 *	  watchdog.c		a worker noting who blocks a step's lock
 *	  pg_migrate.c		this file: the magic block and _PG_init
 *  2 schema_model.c	the managed schemas as a normalized model, its fingerprint
 *	  plan.c			upgrade and downgrade plans, version-state transitions
 *	  catalog_graph.c	the graph read from the catalog, cached per epoch
 *	  alembic.c			Alembic's alembic_version table: read and kept in step
 *	  run_log.c			migrate_log rows, written autonomously by a worker
 *  3 catalog_plan.c	a plan's SQL and settings, checksum-verified, memoised
 *	  offline.c			a plan rendered as a psql script
 *	  step.c			one step's attempts: timeouts, subtransaction, retries
 *	  fn_schema.c		migrate_schema_objects, migrate_fingerprint
 *	  catalog_verify.c	what migrate_verify reads: checksums applied with, last fingerprint
 *	  hazards.c		the hazards of a rehearsed statement, from what it did
 *  4 run.c				running a plan: the four execution modes (its header)
 *	  entry.c			the prologue of every SQL-callable function
 *	  stairway.c		migrate_check's engine: up, down, up, rolled back
 *	  rehearse.c		migrate_rehearse's engine: statement by statement, rolled back
 *  5 fn_graph_check.c	the deferred trigger that checks a graph registered
 *						in any order, once it is complete
 *	  fn_migrate.c		migrate_upgrade, downgrade, stamp, adopt, offline SQL
 *	  fn_apply.c		CALL migrate_apply: per-step commits, session lock
 *	  fn_inspect.c		migrate_current, heads, bases, branches, history,
 *						resolve, show
 *	  fn_graph.c		migrate_graph: the graph as Graphviz DOT or Mermaid
 *	  fn_verify.c		migrate_verify, migrate_repair
 *	  fn_check.c		migrate_check
 *	  fn_rehearse.c		migrate_rehearse
 *	  fn_guard.c		migrate_guard and the DDL guard's event triggers
 *  6 fn_register.c		migrate_revision, migrate_new, migrate_merge
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
