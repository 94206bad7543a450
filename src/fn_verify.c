/*-------------------------------------------------------------------------
 *
 * fn_verify.c
 *	  migrate_verify: have applied revisions been edited since they ran,
 *	  and has the schema drifted from what the migrations left?  And
 *	  migrate_repair, which accepts an intentional edit or drift.
 *
 * Drift compares the live fingerprint of the managed schemas with the last
 * one the log recorded (by default the last step of each run records one,
 * pg_migrate.log_fingerprint), and names the objects that differ from the
 * snapshot kept with it.  When steps ran after that record without one,
 * the difference cannot be told from theirs: the finding says so.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "catalog_verify.h"
#include "entry.h"
#include "pg_migrate.h"
#include "run_log.h"
#include "schema_model.h"
#include "srf_util.h"

PG_FUNCTION_INFO_V1(migrate_verify);
PG_FUNCTION_INFO_V1(migrate_repair);

/* The live fingerprint of the managed schemas, and its snapshot */
static char *
live_fingerprint(StringInfo digests)
{
	int			nschemas;
	Oid		   *schemas = pgm_schema_oids(NULL, 0, &nschemas);
	char	   *fp = palloc(PGM_FINGERPRINT_LEN);

	pgm_schema_fingerprint(schemas, nschemas, fp, digests);
	return fp;
}

static void
verify_drift(PgmFindings *f)
{
	PgmFingerprintRecord rec;
	StringInfoData digests;
	char	   *live;

	if (!pgm_catalog_last_fingerprint(&rec))
	{
		pgm_findings_add(f, "drift", "unknown", NULL,
						 "No fingerprint is on record yet: the last step of each run records one (pg_migrate.log_fingerprint), and so does migrate_repair(NULL, reason).");
		return;
	}
	initStringInfo(&digests);
	live = live_fingerprint(&digests);
	if (strcmp(live, rec.fingerprint) == 0)
		pgm_findings_add(f, "drift", "ok", NULL,
						 psprintf("The managed schemas match the fingerprint recorded by the %s of %s (migrate_log id " INT64_FORMAT ").",
								  rec.direction, rec.revision, rec.log_id));
	else if (rec.steps_since > 0)
		pgm_findings_add(f, "drift", "unknown", NULL,
						 psprintf("The managed schemas differ from the fingerprint recorded by the %s of %s (migrate_log id " INT64_FORMAT "), but " INT64_FORMAT " step%s ran after it without recording one, so drift cannot be told from what they did. Run migrate_repair(NULL, reason) to record the schema as it is, or apply with pg_migrate.log_fingerprint = last.",
								  rec.direction, rec.revision, rec.log_id, rec.steps_since,
								  rec.steps_since == 1 ? "" : "s"));
	else if (rec.snapshot == NULL)
		pgm_findings_add(f, "drift", "changed", NULL,
						 psprintf("The managed schemas differ from the fingerprint recorded by the %s of %s (migrate_log id " INT64_FORMAT "), whose snapshot is not kept: the role that recorded it may not insert into pgmigrate.migrate_schema_snapshots.",
								  rec.direction, rec.revision, rec.log_id));
	else
	{
		int			n;
		PgmDigestChange *ch = pgm_schema_digest_diff(digests.data, rec.snapshot, &n);
		char	   *since = psprintf("the %s of %s (migrate_log id " INT64_FORMAT ")",
									 rec.direction, rec.revision, rec.log_id);

		for (int k = 0; k < n; k++)
			pgm_findings_add(f, "drift", ch[k].change, ch[k].object,
							 psprintf("%s outside migrations since %s.",
									  strcmp(ch[k].change, "added") == 0 ? "Added" :
									  strcmp(ch[k].change, "removed") == 0 ? "Removed" : "Changed",
									  since));
		/* equal digests, other fingerprint: the managed set itself changed */
		if (n == 0)
			pgm_findings_add(f, "drift", "changed", NULL,
							 "The fingerprint differs but no object does: pg_migrate.managed_schemas names other schemas than when it was recorded.");
	}
}

/* migrate_verify() -> (check_name, status, object, detail) */
Datum
migrate_verify(PG_FUNCTION_ARGS)
{
	PgmSrf		out = pgm_srf_begin(fcinfo);
	PgmEntry	e = pgm_enter("migrate_verify()", PGM_ENTER_STATE);
	PgmFindings f = {0, 0, NULL};

	pgm_catalog_verify_checksums(e.g, &e.st, &f);
	verify_drift(&f);
	for (int i = 0; i < f.n; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {0};

		values[0] = CStringGetTextDatum(f.items[i].check);
		values[1] = CStringGetTextDatum(f.items[i].status);
		if (f.items[i].object)
			values[2] = CStringGetTextDatum(f.items[i].object);
		else
			nulls[2] = true;
		values[3] = CStringGetTextDatum(f.items[i].detail);
		tuplestore_putvalues(out.store, out.desc, values, nulls);
	}
	pgm_leave();
	return (Datum) 0;
}

/* The version state as one word for a repair row: its heads, or base */
static char *
state_name(PgmGraph *g, PgmIdxList heads)
{
	return heads.n == 0 ? pstrdup("base") : pgm_format_ids(g, heads.items, heads.n);
}

/*
 * migrate_repair(revision, reason) -> text.  With a revision: accept that
 * its SQL was edited after it was applied (the log row records the
 * checksum it has now).  With NULL: accept the schema as it is (the log
 * row records its fingerprint and snapshot).  Either way the row says who
 * and why.  Returns what was recorded.
 */
Datum
migrate_repair(PG_FUNCTION_ARGS)
{
	char	   *revision = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *reason = pgm_arg_text(fcinfo, 1, "reason");
	MemoryContext outer = CurrentMemoryContext;
	PgmEntry	e;
	PgmLogRow	row;
	char	   *result;

	if (strspn(reason, " \t\r\n") == strlen(reason))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reason must not be empty"),
				 errhint("Say why the edit or the drift is intended: the log keeps it with who accepted it.")));

	e = pgm_enter("migrate_repair()", PGM_ENTER_MIGRATE | PGM_ENTER_STATE);
	if (revision != NULL)
	{
		int			i = pgm_graph_lookup(e.g, revision);

		if (i < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("revision \"%s\" does not exist", revision)));
		if (!e.st.applied[i])
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("revision \"%s\" is not applied", revision),
					 errdetail("Only the checksums of applied revisions are verified."),
					 errhint("An edit of a pending revision needs no repair: it runs as it is now.")));
		pgm_log_row_init(&row, pgm_catalog_new_run(), PGM_DEFAULT_SCOPE, e.g->revs[i].id, "repair");
		result = psprintf("accepted the SQL of revision %s as it is now", e.g->revs[i].id);
	}
	else
	{
		StringInfoData digests;
		char	   *fp;

		initStringInfo(&digests);
		fp = live_fingerprint(&digests);
		pgm_catalog_save_snapshot(fp, digests.data);
		pgm_log_row_init(&row, pgm_catalog_new_run(), PGM_DEFAULT_SCOPE,
						 state_name(e.g, e.heads), "repair");
		row.fingerprint = fp;
		result = psprintf("accepted the managed schemas as they are now, fingerprint %s", fp);
	}
	row.started = row.finished = GetCurrentTimestamp();
	row.with_txid = true;
	row.reason = reason;
	pgm_catalog_log(&row);
	/* out of the SPI session's memory, which pgm_leave() frees */
	result = MemoryContextStrdup(outer, result);
	pgm_leave();
	PG_RETURN_TEXT_P(cstring_to_text(result));
}
