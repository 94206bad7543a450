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

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "parser/parse_coerce.h"
#include "utils/acl.h"
#include "utils/rel.h"
#include "utils/syscache.h"
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
 * The table pg_migrate.alembic_version_table names, checked to be one that
 * can be Alembic's version table, before a call does any work: pg_migrate
 * empties it and fills it with the applied heads on every change of state,
 * so a setting that named some other table by mistake (a catalog, a table
 * of releases that happens to have a version_num column) would lose its
 * rows.  InvalidOid when the setting is empty.  The table is looked up under
 * the caller's search_path and locked ROW EXCLUSIVE, as the sync will.
 */
Oid
pgm_alembic_check_table(void)
{
	const char *name = pgm_alembic_version_table;
	Oid			table;
	HeapTuple	tup;
	Form_pg_class cls;
	TupleDesc	desc;
	Relation	rel;
	int			ncols = 0;
	bool		shape_ok = true;

	if (name == NULL || name[0] == '\0')
		return InvalidOid;
	table = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(name)),
							 RowExclusiveLock, true);
	if (!OidIsValid(table))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s\" named by pg_migrate.alembic_version_table does not exist", name),
				 errhint("Create it, or RESET pg_migrate.alembic_version_table.")));

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(table));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", table);
	cls = (Form_pg_class) GETSTRUCT(tup);
	if (IsSystemClass(table, cls) ||
		(cls->relkind != RELKIND_RELATION && cls->relkind != RELKIND_PARTITIONED_TABLE))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" named by pg_migrate.alembic_version_table is not a user table", name),
				 errdetail("pg_migrate empties the Alembic version table and writes the applied heads into it."),
				 errhint("Name the table Alembic keeps its version in, or RESET pg_migrate.alembic_version_table.")));
	if (cls->relhasrules)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table \"%s\" named by pg_migrate.alembic_version_table has rules", name),
				 errdetail("A rule could rewrite the DELETE and INSERT that keep it in step with pg_migrate's version state.")));
	ReleaseSysCache(tup);

	/* Alembic's shape: one column, version_num, a string */
	rel = table_open(table, NoLock);
	desc = RelationGetDescr(rel);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		ncols++;
		if (strcmp(NameStr(att->attname), "version_num") != 0 ||
			TypeCategory(getBaseType(att->atttypid)) != TYPCATEGORY_STRING)
			shape_ok = false;
	}
	table_close(rel, NoLock);
	if (!shape_ok || ncols != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("table \"%s\" named by pg_migrate.alembic_version_table is not an Alembic version table", name),
				 errdetail("An Alembic version table has one column, version_num, of a string type."),
				 errhint("Name the table Alembic keeps its version in, or RESET pg_migrate.alembic_version_table.")));

	if (pg_class_aclmask(table, GetUserId(), ACL_SELECT | ACL_INSERT | ACL_DELETE, ACLMASK_ALL) !=
		(ACL_SELECT | ACL_INSERT | ACL_DELETE))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table \"%s\" named by pg_migrate.alembic_version_table", name),
				 errdetail("Keeping it in step needs SELECT, INSERT and DELETE on it.")));
	return table;
}

/*
 * With pg_migrate.alembic_version_table set, keep that table holding the
 * same rows as migrate_version, so that alembic current still answers
 * during a gradual move.
 */
void
pgm_alembic_sync(const char *scope)
{
	Oid			table = pgm_alembic_check_table();
	char	   *name;
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(scope)};

	if (!OidIsValid(table))
		return;
	name = pgm_alembic_table_name(table);
	pgm_catalog_run(psprintf("DELETE FROM %s", name), 0, NULL, NULL, NULL, SPI_OK_DELETE);
	pgm_catalog_run(psprintf("INSERT INTO %s (version_num) SELECT revision FROM %s.migrate_version"
				 " WHERE scope OPERATOR(pg_catalog.=) $1", name, pgm_catalog_schema()),
		1, types, values, NULL, SPI_OK_INSERT);
}
