/*-------------------------------------------------------------------------
 *
 * catalog_verify.c
 *	  What migrate_verify reads from pg_migrate's catalog.
 *
 * Values are read with SPI_getvalue (text output of any column type).
 *
 * Checksums: every applied revision's checksum now, against the one the
 * log recorded when it was applied (or when migrate_repair accepted an
 * edit), and against its own SQL.  Drift: the last fingerprint recorded in
 * the log, and the per-object digests kept with it in
 * migrate_schema_snapshots, which say what changed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "catalog.h"
#include "catalog_int.h"
#include "catalog_verify.h"
#include "srf_util.h"

void
pgm_findings_add(PgmFindings *f, const char *check, const char *status, const char *object,
				 const char *detail)
{
	if (f->n == f->cap)
	{
		f->cap = f->cap ? f->cap * 2 : 16;
		f->items = f->items ? repalloc(f->items, sizeof(PgmFinding) * f->cap) :
			palloc(sizeof(PgmFinding) * f->cap);
	}
	f->items[f->n].check = check;
	f->items[f->n].status = status;
	f->items[f->n].object = object ? pstrdup(object) : NULL;
	f->items[f->n].detail = detail ? pstrdup(detail) : NULL;
	f->n++;
}

static void
exec(const char *sql, int nargs, Oid *types, Datum *values)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, NULL, true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pg_migrate verify statement failed: %s", SPI_result_code_string(rc));
}

/*
 * The applied revisions' checksums: edited in place (the stored SQL no
 * longer hashes to the stored checksum), edited since applied (the catalog
 * has another checksum than the one logged at apply time), or not on
 * record (applied before 1.1, or stamped).  One summary row when all that
 * are on record match.
 */
void
pgm_catalog_verify_checksums(PgmGraph *g, PgmState *st, PgmFindings *f)
{
	const char *s = pgm_catalog_schema();
	char	  **ids = palloc(sizeof(char *) * Max(g->nrevs, 1));
	int			nids = 0;
	int			nok = 0;
	int			nunknown = 0;
	int			before = f->n;
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1];

	for (int i = 0; i < g->nrevs; i++)
		if (st->applied[i])
			ids[nids++] = g->revs[i].id;
	values[0] = pgm_text_array(ids, nids);

	exec(psprintf("WITH rec AS ("
				  "  SELECT DISTINCT ON (l.revision) l.revision, l.checksum, l.direction, l.id"
				  "  FROM %s.migrate_log l"
				  "  WHERE l.outcome OPERATOR(pg_catalog.=) 'success'"
				  "    AND l.direction OPERATOR(pg_catalog.=) ANY ('{upgrade,repair}'::pg_catalog.text[])"
				  "    AND l.checksum IS NOT NULL AND l.revision OPERATOR(pg_catalog.=) ANY ($1)"
				  "  ORDER BY l.revision, l.id DESC)"
				  " SELECT r.revision, r.checksum,"
				  "   r.checksum OPERATOR(pg_catalog.=) %s.migrate_checksum(r.upgrade_sql, r.downgrade_sql),"
				  "   rec.checksum, rec.direction, rec.id"
				  " FROM %s.migrate_revisions r LEFT JOIN rec ON rec.revision OPERATOR(pg_catalog.=) r.revision"
				  " WHERE r.revision OPERATOR(pg_catalog.=) ANY ($1)"
				  " ORDER BY r.seq",
				  s, pgm_catalog_ext_schema(), s),
		 1, types, values);

	for (uint64 k = 0; k < SPI_processed; k++)
	{
		HeapTuple	t = SPI_tuptable->vals[k];
		TupleDesc	d = SPI_tuptable->tupdesc;
		char	   *id = SPI_getvalue(t, d, 1);
		char	   *now_sum = SPI_getvalue(t, d, 2);
		char	   *intact = SPI_getvalue(t, d, 3);
		char	   *then_sum = SPI_getvalue(t, d, 4);

		if (strcmp(intact, "t") != 0)
			pgm_findings_add(f, "checksum", "corrupt", id,
							 "The stored SQL no longer matches the stored checksum: the catalog row was edited in place.");
		else if (then_sum == NULL)
			nunknown++;
		else if (strcmp(then_sum, now_sum) != 0)
			pgm_findings_add(f, "checksum", "edited", id,
							 psprintf("It was %s with checksum %.12s (migrate_log id %s); the catalog now has %.12s.",
									  strcmp(SPI_getvalue(t, d, 5), "repair") == 0 ?
									  "accepted by migrate_repair" : "applied",
									  then_sum, SPI_getvalue(t, d, 6), now_sum));
		else
			nok++;
	}
	if (nunknown > 0)
		pgm_findings_add(f, "checksum", "unknown", NULL,
						 psprintf("%d applied revision%s no checksum on record: applied before 1.1, or stamped.",
								  nunknown, nunknown == 1 ? " has" : "s have"));
	if (f->n == before || (f->n == before + 1 && nunknown > 0))
		pgm_findings_add(f, "checksum", "ok", NULL,
						 psprintf("%d applied revision%s the checksum%s applied with.",
								  nok, nok == 1 ? " has" : "s have", nok == 1 ? " it was" : "s they were"));
}

/* The last log row with a fingerprint, and its snapshot */
bool
pgm_catalog_last_fingerprint(PgmFingerprintRecord *rec)
{
	const char *s = pgm_catalog_schema();
	HeapTuple	t;
	TupleDesc	d;

	exec(psprintf("SELECT l.id, l.fingerprint, l.revision, l.direction,"
				  "  (SELECT pg_catalog.count(*) FROM %s.migrate_log a"
				  "   WHERE a.id OPERATOR(pg_catalog.>) l.id AND a.outcome OPERATOR(pg_catalog.=) 'success'"
				  "     AND a.direction OPERATOR(pg_catalog.=) ANY ('{upgrade,downgrade}'::pg_catalog.text[])),"
				  "  (SELECT sn.objects::pg_catalog.text FROM %s.migrate_schema_snapshots sn"
				  "   WHERE sn.fingerprint OPERATOR(pg_catalog.=) l.fingerprint)"
				  " FROM %s.migrate_log l WHERE l.fingerprint IS NOT NULL"
				  " ORDER BY l.id DESC LIMIT 1", s, s, s),
		 0, NULL, NULL);
	if (SPI_processed == 0)
		return false;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	rec->log_id = strtoll(SPI_getvalue(t, d, 1), NULL, 10);
	rec->fingerprint = SPI_getvalue(t, d, 2);
	rec->revision = SPI_getvalue(t, d, 3);
	rec->direction = SPI_getvalue(t, d, 4);
	rec->steps_since = strtoll(SPI_getvalue(t, d, 5), NULL, 10);
	rec->snapshot = SPI_getvalue(t, d, 6);
	return true;
}
