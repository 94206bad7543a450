/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  pg_migrate.* configuration parameters, all USERSET: a migration role
 *	  sets them per session, per call (SET LOCAL) or per role.
 *
 * The per-run arguments of migrate_apply() and the per-revision columns of
 * migrate_revisions override them, in that order: revision, run, setting.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "nodes/pg_list.h"
#include "utils/guc.h"
#include "utils/varlena.h"

#include "compat.h"
#include "settings.h"

int			pgm_lock_wait_timeout = 0;
int			pgm_lock_timeout = 0;
int			pgm_statement_timeout = 0;
int			pgm_lock_retries = 0;
int			pgm_retry_backoff = 1000;
char	   *pgm_alembic_version_table = NULL;
char	   *pgm_managed_schemas = NULL;
int			pgm_log_fingerprint = PGM_FINGERPRINT_LAST;
int			pgm_rehearse_lock_timeout = 1000;
bool		pgm_allow_ddl = false;
bool		pgm_guard_rewrites = false;
int			pgm_rehearse_statement_timeout = 10000;
int			pgm_hazard_min_table_size = 10 * 1024;	/* kB */
int			pgm_hazard_min_lock_duration = 100;

static const struct config_enum_entry log_fingerprint_options[] = {
	{"last", PGM_FINGERPRINT_LAST, false},
	{"step", PGM_FINGERPRINT_STEP, false},
	{"off", PGM_FINGERPRINT_OFF, false},
	{NULL, 0, false}
};

/* pg_migrate.managed_schemas must parse as identifiers, as search_path does */
static bool
check_managed_schemas(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *names;
	bool		ok = SplitIdentifierString(raw, ',', &names);

	if (!ok)
		GUC_check_errdetail("List syntax is invalid.");
	list_free(names);
	pfree(raw);
	return ok;
}

void
pgm_define_settings(void)
{
	DefineCustomIntVariable("pg_migrate.lock_wait_timeout",
							"Longest wait for pg_migrate's own migration lock.",
							"A second migrator gives up after this long instead of queueing "
							"behind the first. 0 leaves it to lock_timeout.",
							&pgm_lock_wait_timeout, 0, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_migrate.lock_timeout",
							"lock_timeout applied around each migration step's SQL.",
							"0 keeps the session's lock_timeout. A revision's own lock_timeout wins.",
							&pgm_lock_timeout, 0, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_migrate.statement_timeout",
							"statement_timeout applied around each migration step's SQL.",
							"0 keeps the session's statement_timeout. A revision's own statement_timeout wins.",
							&pgm_statement_timeout, 0, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_migrate.lock_retries",
							"How often a step that timed out on a lock is retried.",
							NULL,
							&pgm_lock_retries, 0, 0, 1000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_migrate.retry_backoff",
							"Wait before the first retry of a step; it doubles with each retry.",
							NULL,
							&pgm_retry_backoff, 1000, 0, 3600 * 1000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomStringVariable("pg_migrate.alembic_version_table",
							   "An Alembic version table kept in step with pg_migrate's version state.",
							   "While a project moves from Alembic, alembic current keeps answering. Empty: none.",
							   &pgm_alembic_version_table, "",
							   PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("pg_migrate.managed_schemas",
							   "The schemas pg_migrate manages: its schema model, fingerprint and DDL guard look at these.",
							   "A comma-separated list of schema names. Empty: every user schema.",
							   &pgm_managed_schemas, "",
							   PGC_USERSET, GUC_LIST_INPUT,
							   check_managed_schemas, NULL, NULL);
	DefineCustomEnumVariable("pg_migrate.log_fingerprint",
							 "Which successful steps record the fingerprint of the managed schemas in migrate_log.",
							 "last: the last step of each call; step: every step; off: none.",
							 &pgm_log_fingerprint, PGM_FINGERPRINT_LAST, log_fingerprint_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_migrate.rehearse_lock_timeout",
							"lock_timeout of every statement migrate_rehearse runs on the real database.",
							"Low, so that a rehearsal never queues long behind the application's locks. 0: the session's.",
							&pgm_rehearse_lock_timeout, 1000, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_migrate.rehearse_statement_timeout",
							"statement_timeout of every statement migrate_rehearse runs.",
							"A statement that runs longer is reported as timed out. 0: the session's.",
							&pgm_rehearse_statement_timeout, 10000, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_migrate.hazard_min_table_size",
							"Tables smaller than this raise no hazard in a rehearsal.",
							"Locking, rewriting or scanning a small table is quick enough not to matter.",
							&pgm_hazard_min_table_size, 10 * 1024, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_migrate.hazard_min_lock_duration",
							"A lock that blocks writes is a hazard when the statement holding it runs at least this long.",
							NULL,
							&pgm_hazard_min_lock_duration, 100, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_migrate.allow_ddl",
							 "Lets DDL on the managed schemas through while the DDL guard is on (break glass).",
							 "The guard (migrate_guard) rejects DDL on the managed schemas outside pg_migrate runs.",
							 &pgm_allow_ddl, false,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_migrate.guard_rewrites",
							 "Aborts a step that rewrites a table of at least pg_migrate.hazard_min_table_size, unless its revision allows it.",
							 "A revision allows it when registered with allow_hazards => '{rewrite}'.",
							 &pgm_guard_rewrites, false,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("pg_migrate");
}
