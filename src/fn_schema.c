/*-------------------------------------------------------------------------
 *
 * fn_schema.c
 *	  migrate_schema_objects and migrate_fingerprint: the schema model of
 *	  the managed schemas (schema_model.c), as rows and as one hash.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "schema_model.h"
#include "srf_util.h"

PG_FUNCTION_INFO_V1(migrate_schema_objects);
PG_FUNCTION_INFO_V1(migrate_fingerprint);

/* The schemas argument: NULL is the managed set (pg_migrate.managed_schemas) */
static Oid *
schemas_arg(FunctionCallInfo fcinfo, int argno, int *n)
{
	char	  **names = NULL;
	int			nnames = 0;

	if (!PG_ARGISNULL(argno))
		names = pgm_arg_text_array(fcinfo, argno, "schemas", &nnames);
	return pgm_schema_oids(names, nnames, n);
}

/* migrate_schema_objects(schemas) -> (kind, identity, definition) */
Datum
migrate_schema_objects(PG_FUNCTION_ARGS)
{
	int			nschemas;
	Oid		   *schemas = schemas_arg(fcinfo, 0, &nschemas);
	PgmSrf		out = pgm_srf_begin(fcinfo);
	PgmSchemaModel m = pgm_schema_model_read(schemas, nschemas);

	for (int i = 0; i < m.n; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {0};

		values[0] = CStringGetTextDatum(m.objects[i].kind);
		values[1] = CStringGetTextDatum(m.objects[i].identity);
		values[2] = CStringGetTextDatum(m.objects[i].definition);
		tuplestore_putvalues(out.store, out.desc, values, nulls);
	}
	return (Datum) 0;
}

/* migrate_fingerprint(schemas) -> SHA-256 of the model, in hex */
Datum
migrate_fingerprint(PG_FUNCTION_ARGS)
{
	int			nschemas;
	Oid		   *schemas = schemas_arg(fcinfo, 0, &nschemas);
	char		fp[PGM_FINGERPRINT_LEN];

	pgm_schema_fingerprint(schemas, nschemas, fp, NULL);
	PG_RETURN_TEXT_P(cstring_to_text(fp));
}
