/*-------------------------------------------------------------------------
 *
 * alembic.c
 *	  Alembic's version table: reading it (migrate_adopt_alembic) and
 *	  keeping it in step with migrate_version while
 *	  pg_migrate.alembic_version_table names it.  The only statements
 *	  pg_migrate runs on a table that is not its own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"

#include "alembic.h"
#include "catalog.h"
#include "catalog_int.h"
#include "settings.h"

/* A table's name, schema-qualified and quoted */
char *
pgm_alembic_table_name(Oid table)
{
	char	   *rel = get_rel_name(table);

	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", table)));
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(table)), rel);
}

/* The version_num values of an Alembic version table */
char **
pgm_alembic_versions(Oid table, int *n)
{
	char	   *sql = psprintf("SELECT version_num::pg_catalog.text FROM %s", pgm_alembic_table_name(table));
	char	  **ids;

	pgm_catalog_run(sql, 0, NULL, NULL, NULL, SPI_OK_SELECT);
	*n = (int) SPI_processed;
	ids = palloc(sizeof(char *) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		ids[i] = pgm_catalog_getstr(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		if (ids[i] == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s holds a NULL version", pgm_alembic_table_name(table))));
	}
	return ids;
}

/*
 * With pg_migrate.alembic_version_table set, keep that table holding the
 * same rows as migrate_version, so that alembic current still answers
 * during a gradual move.
 */
void
pgm_alembic_sync(const char *scope)
{
	List	   *names;
	Oid			table;
	char	   *name;
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(scope)};

	if (pgm_alembic_version_table == NULL || pgm_alembic_version_table[0] == '\0')
		return;
	names = stringToQualifiedNameList(pgm_alembic_version_table);
	table = RangeVarGetRelid(makeRangeVarFromNameList(names), RowExclusiveLock, true);
	if (!OidIsValid(table))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s\" named by pg_migrate.alembic_version_table does not exist",
						pgm_alembic_version_table),
				 errhint("Create it, or RESET pg_migrate.alembic_version_table.")));
	name = pgm_alembic_table_name(table);
	pgm_catalog_run(psprintf("DELETE FROM %s", name), 0, NULL, NULL, NULL, SPI_OK_DELETE);
	pgm_catalog_run(psprintf("INSERT INTO %s (version_num) SELECT revision FROM %s.migrate_version"
				 " WHERE scope OPERATOR(pg_catalog.=) $1", name, pgm_catalog_schema()),
		1, types, values, NULL, SPI_OK_INSERT);
}
