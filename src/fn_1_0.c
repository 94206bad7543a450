/*-------------------------------------------------------------------------
 *
 * fn_1_0.c
 *	  The C symbols that pg_migrate--1.0.sql names, as aliases of the entry
 *	  points that now carry their SQL names (migrate_upgrade, ...).
 *
 * A database created at 1.0 goes on calling these names until ALTER
 * EXTENSION pg_migrate UPDATE re-points its functions (pg_migrate--1.0--1.1.sql),
 * and a released install script is never edited, so the library must keep
 * serving them.  Nothing else calls them.  Where 1.1 changed what a
 * function takes or returns (migrate_stamp's purge, the
 * declared_branch_labels column of migrate_show and migrate_history), the
 * alias points at an entry point that keeps 1.0's behaviour and result
 * columns (migrate_stamp_1_0, ...).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

/* 'old' (1.0's name) does what 'new' (the SQL name) does */
#define ALIAS_1_0(old, new) \
	extern PGDLLEXPORT Datum new(PG_FUNCTION_ARGS); \
	PG_FUNCTION_INFO_V1(old); \
	Datum \
	old(PG_FUNCTION_ARGS) \
	{ \
		return new(fcinfo); \
	}

ALIAS_1_0(pgm_adopt_alembic, migrate_adopt_alembic)
ALIAS_1_0(pgm_apply, migrate_apply)
ALIAS_1_0(pgm_bases, migrate_bases)
ALIAS_1_0(pgm_branches, migrate_branches)
ALIAS_1_0(pgm_current, migrate_current)
ALIAS_1_0(pgm_current_verbose, migrate_current_verbose)
ALIAS_1_0(pgm_downgrade, migrate_downgrade)
ALIAS_1_0(pgm_downgrade_sql, migrate_downgrade_sql)
ALIAS_1_0(pgm_heads, migrate_heads)
ALIAS_1_0(pgm_history, migrate_history_1_0)
ALIAS_1_0(pgm_merge, migrate_merge)
ALIAS_1_0(pgm_merge_single, migrate_merge_single)
ALIAS_1_0(pgm_new, migrate_new)
ALIAS_1_0(pgm_resolve_identifier, migrate_resolve)
ALIAS_1_0(pgm_revision, migrate_revision)
ALIAS_1_0(pgm_revision_single, migrate_revision_single)
ALIAS_1_0(pgm_show, migrate_show_1_0)
ALIAS_1_0(pgm_stamp, migrate_stamp_1_0)
ALIAS_1_0(pgm_upgrade, migrate_upgrade)
ALIAS_1_0(pgm_upgrade_sql, migrate_upgrade_sql)
