/*-------------------------------------------------------------------------
 *
 * catalog_plan.c
 *	  The SQL and settings of a plan's steps, read once per run, with the
 *	  check that each stored checksum still matches the stored SQL, and the
 *	  memo of the row versions that passed it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "storage/itemptr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "catalog.h"
#include "catalog_int.h"
#include "srf_util.h"

/*
 * Which row version of each revision had its checksum verified, so that the
 * next plan over it skips the hashing.  Keyed by the tuple's xmin and ctid,
 * not by the graph's epoch: an edit always writes a new row version (a new
 * ctid, and a new xmin unless it is the inserting transaction's own), even
 * one made with the epoch trigger disabled, and a version's SQL never
 * changes.  Lives in the graph cache's context and dies with the graph.
 */
typedef struct VerifiedVersion
{
	TransactionId xmin;			/* InvalidTransactionId: never verified */
	ItemPointerData ctid;
} VerifiedVersion;

static VerifiedVersion *verified = NULL;	/* nrevs entries, for the cache */
static uint64 verified_generation = 0;	/* of the graph it is for */

/*
 * The memo for 'g' if g is the cached graph (catalog_graph.c), made with
 * 'create'; NULL for any other graph.  A rebuilt graph has freed the memo
 * of the one before it with its memory context.
 */
static VerifiedVersion *
memo_for(PgmGraph *g, bool create)
{
	MemoryContext cxt = pgm_catalog_graph_memory(g);

	if (cxt == NULL)
		return NULL;
	if (verified_generation != pgm_catalog_graph_generation())
	{
		verified = NULL;
		verified_generation = pgm_catalog_graph_generation();
	}
	if (verified == NULL && create)
		verified = MemoryContextAllocZero(cxt, sizeof(VerifiedVersion) * Max(g->nrevs, 1));
	return verified;
}

/* Did this row version pass before (see VerifiedVersion)? */
static bool
plan_verified(PgmGraph *g, PgmIdxList steps)
{
	VerifiedVersion *memo = memo_for(g, false);

	if (memo == NULL)
		return false;
	for (int i = 0; i < steps.n; i++)
		if (!TransactionIdIsValid(memo[steps.items[i]].xmin))
			return false;
	return true;
}

static bool
same_version(const VerifiedVersion *v, TransactionId xmin, ItemPointer ctid)
{
	return TransactionIdEquals(v->xmin, xmin) && ItemPointerEquals((ItemPointer) &v->ctid, ctid);
}

/*
 * Read the plan's rows.  With 'verify', sum_ok[r] says whether the stored
 * checksum matches the stored SQL, and the versions that passed are
 * remembered; without it, only whether the row is a version verified
 * before (no hashing: the caller reads again with 'verify' if one is not).
 */
static void
read_plan_rows(PgmGraph *g, PgmIdxList steps, bool upgrade, bool verify,
			   PgmStepInfo *byrev, bool *found, bool *sum_ok)
{
	const char *s = pgm_catalog_schema();

	/*
	 * A plan over a good part of the graph reads the whole table: cheaper
	 * than planning and probing "= ANY" with an array of every step's id.
	 */
	bool		whole = steps.n > g->nrevs / 4;
	char	   *check = verify ?
		psprintf("checksum OPERATOR(pg_catalog.=) %s.migrate_checksum(upgrade_sql, downgrade_sql)",
				 pgm_catalog_ext_schema()) :
		"true";
	/* timeouts in whole ms, capped to int4 (rows from before 1.1 refused more) */
	char	   *sql = psprintf("SELECT seq, %s, %s,"
							   " (CASE WHEN lock_timeout IS NOT NULL THEN LEAST(pg_catalog.ceil(pg_catalog.date_part('epoch', lock_timeout) OPERATOR(pg_catalog.*) 1000), 2147483647) END)::pg_catalog.int4,"
							   " (CASE WHEN statement_timeout IS NOT NULL THEN LEAST(pg_catalog.ceil(pg_catalog.date_part('epoch', statement_timeout) OPERATOR(pg_catalog.*) 1000), 2147483647) END)::pg_catalog.int4,"
							   " transactional, xmin, ctid, %s"
							   " FROM %s.migrate_revisions%s",
							   upgrade ? "upgrade_sql" : "downgrade_sql", check,
							   pgm_catalog_is_1_1() ?
							   "'rewrite' OPERATOR(pg_catalog.=) ANY (allow_hazards)" : "false",
							   s,
							   whole ? "" : " WHERE revision OPERATOR(pg_catalog.=) ANY ($1)");
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1];
	SPIPlanPtr	plan;
	Portal		portal;
	int			next = 0;
	VerifiedVersion *memo = memo_for(g, verify);

	if (!whole)
	{
		char	  **ids = palloc(sizeof(char *) * Max(steps.n, 1));

		for (int i = 0; i < steps.n; i++)
			ids[i] = g->revs[steps.items[i]].id;
		values[0] = pgm_text_array(ids, steps.n);
		pfree(ids);
	}

	/*
	 * Prepared without CURSOR_OPT_PARALLEL_OK: for a long plan the planner
	 * would pick a parallel scan, and starting workers (and serializing the
	 * array of ids to each) costs more than the scan they share out.  Read
	 * in batches, so that only one batch of rows is ever materialized.
	 */
	plan = SPI_prepare_cursor(sql, whole ? 0 : 1, types, 0);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, plan, whole ? NULL : values, NULL, pgm_catalog_read_only());
	for (;;)
	{
		SPI_cursor_fetch(portal, true, PGM_FETCH_BATCH);
		if (SPI_processed == 0)
			break;
		for (uint64 k = 0; k < SPI_processed; k++)
		{
			Datum		v[9];
			bool		nulls[9];
			int			r;
			PgmStepInfo *info;
			TransactionId xmin;
			ItemPointer ctid;

			heap_deform_tuple(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, v, nulls);
			r = pgm_graph_index_of_seq(g, DatumGetInt64(v[0]), next);
			if (r < 0)
				continue;
			next = r + 1;
			xmin = DatumGetTransactionId(v[6]);
			ctid = (ItemPointer) DatumGetPointer(v[7]);
			info = &byrev[r];
			found[r] = true;
			if (!nulls[1])
			{
				text	   *t = DatumGetTextPP(v[1]);

				info->sql_len = VARSIZE_ANY_EXHDR(t);
				info->sql = palloc(info->sql_len + 1);
				memcpy(info->sql, VARDATA_ANY(t), info->sql_len);
				info->sql[info->sql_len] = '\0';
			}
			sum_ok[r] = verify ? DatumGetBool(v[2]) : same_version(&memo[r], xmin, ctid);
			if (verify && sum_ok[r] && memo)
			{
				memo[r].xmin = xmin;
				ItemPointerCopy(ctid, &memo[r].ctid);
			}
			info->lock_timeout_ms = nulls[3] ? -1 : DatumGetInt32(v[3]);
			info->statement_timeout_ms = nulls[4] ? -1 : DatumGetInt32(v[4]);
			info->transactional = DatumGetBool(v[5]);
			info->allow_rewrite = DatumGetBool(v[8]);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_freeplan(plan);
}

/* Did every step's row come back, and pass? */
static bool
all_ok(PgmIdxList steps, const bool *found, const bool *sum_ok)
{
	for (int i = 0; i < steps.n; i++)
		if (!found[steps.items[i]] || !sum_ok[steps.items[i]])
			return false;
	return true;
}

/*
 * The SQL and settings of a whole plan's steps, in plan order, after
 * checking that each stored checksum still matches the stored SQL (a
 * migration edited in place in the catalog must not run): a mismatch
 * anywhere in the plan fails before the first step runs.  A downgrade step
 * without SQL comes back with sql NULL, for pgm_check_reversible(); the
 * same infos tell pgm_check_transactional() which steps are not
 * transactional, so a run reads its plan's rows once.
 * The timeouts come back in milliseconds, rounded up so that a positive
 * interval never becomes "no timeout".  Revisions never change once
 * registered, so what is read here stays true for the whole run.
 *
 * Hashing every step's SQL is most of the cost of reading a long plan, so
 * a row version that passed once in this backend is not hashed again.
 */
PgmStepInfo *
pgm_catalog_plan_infos(PgmGraph *g, PgmIdxList steps, bool upgrade)
{
	size_t		nrevs = Max(g->nrevs, 1);
	PgmStepInfo *byrev = palloc0(sizeof(PgmStepInfo) * nrevs);
	bool	   *found = palloc0(nrevs);
	bool	   *sum_ok = palloc0(nrevs);
	PgmStepInfo *infos = palloc(sizeof(PgmStepInfo) * Max(steps.n, 1));
	bool		verify = !plan_verified(g, steps);

	read_plan_rows(g, steps, upgrade, verify, byrev, found, sum_ok);
	if (!verify && !all_ok(steps, found, sum_ok))
	{
		/* a row changed since it was verified: read again, hashing */
		memset(byrev, 0, sizeof(PgmStepInfo) * nrevs);
		memset(found, 0, nrevs);
		memset(sum_ok, 0, nrevs);
		read_plan_rows(g, steps, upgrade, true, byrev, found, sum_ok);
	}
	for (int i = 0; i < steps.n; i++)
	{
		int			r = steps.items[i];

		if (!found[r])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("revision \"%s\" disappeared from the catalog", g->revs[r].id)));
		if (!sum_ok[r])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("checksum mismatch for revision \"%s\"", g->revs[r].id),
					 errdetail("The SQL stored for this revision was changed after it was registered.  Nothing was changed."),
					 errhint("Registered migrations must not be edited; register a new revision instead.")));
		infos[i] = byrev[r];
	}
	pfree(byrev);
	pfree(found);
	pfree(sum_ok);
	return infos;
}

