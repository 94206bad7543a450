/*-------------------------------------------------------------------------
 *
 * managed_schemas.c
 *	  Which schemas pg_migrate manages.
 *
 * pg_migrate.managed_schemas names them, as a comma-separated list of
 * schema names (quoted where needed, as in search_path).  Left empty, the
 * default, every user schema is managed: every schema but pg_catalog,
 * information_schema, the toast and temporary schemas, pg_migrate's own
 * schema and the schemas an extension created (pg_cron's "cron").  A name
 * in the list that names no schema (yet) is no error: it matches nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/varlena.h"

#include "managed_schemas.h"
#include "pg_migrate.h"
#include "settings.h"

/*
 * A schema of the user's: not a system, toast or temporary schema, not
 * pg_migrate's own, not one an extension created.
 */
bool
pgm_schema_is_user_schema(Oid nspid)
{
	char	   *name;

	if (IsCatalogNamespace(nspid) || IsToastNamespace(nspid) || isAnyTempNamespace(nspid))
		return false;
	name = get_namespace_name(nspid);
	if (name == NULL ||
		strcmp(name, "information_schema") == 0 ||
		strcmp(name, PGM_CATALOG_SCHEMA) == 0)
		return false;
	return !OidIsValid(getExtensionOfObject(NamespaceRelationId, nspid));
}

/* Is the schema in the managed set (pg_migrate.managed_schemas)? */
bool
pgm_schema_is_managed(Oid nspid)
{
	char	   *raw;
	char	   *name;
	List	   *names;
	ListCell   *lc;
	bool		found = false;

	if (pgm_managed_schemas == NULL || pgm_managed_schemas[0] == '\0')
		return pgm_schema_is_user_schema(nspid);

	name = get_namespace_name(nspid);
	if (name == NULL)
		return false;
	raw = pstrdup(pgm_managed_schemas);
	if (!SplitIdentifierString(raw, ',', &names))
		elog(ERROR, "pg_migrate.managed_schemas is invalid despite its check hook");
	foreach(lc, names)
	{
		if (strcmp((char *) lfirst(lc), name) == 0)
		{
			found = true;
			break;
		}
	}
	list_free(names);
	pfree(raw);
	return found;
}
