/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  The SPI layer: every statement pg_migrate runs against its own tables.
 *
 * Each statement names the extension's schema (looked up at run time and
 * quoted) and uses pg_catalog's operators by their qualified names, so a
 * function or operator that someone planted on the caller's search_path is
 * never called here.  Values always travel as $n parameters.
 *
 * The per-step statements of an apply run are prepared once per call; the
 * plans die with SPI_finish, so a dropped and re-created extension never
 * meets a stale plan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "storage/itemptr.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "compat.h"
#include "pg_migrate.h"
#include "settings.h"
#include "srf_util.h"

static bool read_only;
static char *schema_quoted;		/* the catalog's schema, quoted */
static char *ext_schema_quoted; /* the extension's (its SQL functions) */

/*
 * The revision graph of the last call, kept between calls.  It is reused
 * while the epoch this call sees (migrate_epoch, bumped by a trigger on
 * every change to migrate_revisions) is the one it was built at; see
 * pgm_catalog_load_graph().
 */
static MemoryContext graph_cxt = NULL;
static PgmGraph *graph_cache = NULL;
static Oid	graph_ext = InvalidOid;
static int64 graph_epoch = 0;
static Oid	current_ext = InvalidOid;

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

static VerifiedVersion *verified = NULL;	/* nrevs entries, for graph_cache */

/* statements prepared lazily, once per connect */
enum
{
	PLAN_ADD_HEAD,
	PLAN_REMOVE_HEAD,
	PLAN_LOG,
	NUM_PLANS
};
static SPIPlanPtr plans[NUM_PLANS];
static char *plan_sql[NUM_PLANS];	/* their SQL, built once per connect */

/*
 * Where the catalog tables are: the extension's own schema from 1.1 on, the
 * extension's schema in a 1.0 database not yet updated.  The schema counts
 * only if the extension owns it, so a user's schema of that name is never
 * taken for the catalog.
 */
static Oid
catalog_schema(Oid ext)
{
	Oid			nsp = get_namespace_oid(PGM_CATALOG_SCHEMA, true);

	if (OidIsValid(nsp) && getExtensionOfObject(NamespaceRelationId, nsp) == ext)
		return nsp;
	return pgm_extension_schema(ext);
}

/*
 * The SQL of the per-step statements, built once per connect in SPI's
 * procedure context (which outlives the commits of CALL migrate_apply), so
 * that a step allocates nothing for them: the plans are prepared from these
 * lazily, and again after a commit.
 */
static void
build_plan_sql(void)
{
	plan_sql[PLAN_ADD_HEAD] =
		psprintf("INSERT INTO %s.migrate_version (scope, revision) VALUES ($1, $2)",
				 schema_quoted);
	plan_sql[PLAN_REMOVE_HEAD] =
		psprintf("DELETE FROM %s.migrate_version"
				 " WHERE scope OPERATOR(pg_catalog.=) $1 AND revision OPERATOR(pg_catalog.=) $2",
				 schema_quoted);
	plan_sql[PLAN_LOG] =
		psprintf("INSERT INTO %s.migrate_log"
				 " (run_id, scope, revision, direction, attempt, outcome, started_at, duration,"
				 "  role, session_role, backend_pid, txid, sqlstate, error_message, error_detail,"
				 "  error_position, blockers)"
				 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8 OPERATOR(pg_catalog.-) $7, $9, $10, $11,"
				 " CASE WHEN $12 THEN pg_catalog.pg_current_xact_id() END, $13, $14, $15, $16,"
				 " $17::pg_catalog.jsonb)",
				 schema_quoted);
}

static void
connect_ext(bool ro, int options)
{
	Oid			ext;
	char	   *nsp;
	char	   *ext_nsp;

	ext = get_extension_oid("pg_migrate", false);
	nsp = get_namespace_name(catalog_schema(ext));
	ext_nsp = get_namespace_name(pgm_extension_schema(ext));

	if (SPI_connect_ext(options) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	read_only = ro;
	current_ext = ext;
	schema_quoted = pstrdup(quote_identifier(nsp));
	ext_schema_quoted = pstrdup(quote_identifier(ext_nsp));
	memset(plans, 0, sizeof(plans));
	build_plan_sql();
}

void
pgm_catalog_connect(bool ro)
{
	connect_ext(ro, 0);
}

/* For procedures that commit between steps (CALL migrate_apply) */
void
pgm_catalog_connect_nonatomic(void)
{
	connect_ext(false, SPI_OPT_NONATOMIC);
}

/*
 * Commit in a procedure connected with pgm_catalog_connect_nonatomic(), and
 * go on in the next transaction.  Plans prepared before a commit are not
 * reused after it.
 */
void
pgm_catalog_commit(void)
{
	pgm_spi_commit();
	memset(plans, 0, sizeof(plans));
}

void
pgm_catalog_finish(void)
{
	memset(plans, 0, sizeof(plans));
	memset(plan_sql, 0, sizeof(plan_sql));
	schema_quoted = NULL;
	ext_schema_quoted = NULL;
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

const char *
pgm_catalog_schema(void)
{
	return schema_quoted;
}

/*
 * Run a statement built around the schema name, check its result code.  SPI
 * leaves CurrentMemoryContext at its procedure context after each call;
 * this puts back the caller's, so that a caller working in a short-lived
 * context (the apply loop's per-step one) keeps allocating there.
 */
static void
run(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expect)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, 0);

	MemoryContextSwitchTo(cxt);
	if (rc != expect)
		elog(ERROR, "pg_migrate catalog statement failed: %s", SPI_result_code_string(rc));
}

/* Run one of the per-step statements, preparing it on first use (as run()) */
static void
run_plan(int which, int nargs, Oid *types, Datum *values, const char *nulls, int expect)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			rc;

	if (plans[which] == NULL)
	{
		plans[which] = SPI_prepare(plan_sql[which], nargs, types);
		if (plans[which] == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	}
	rc = SPI_execute_plan(plans[which], values, nulls, read_only, 0);
	MemoryContextSwitchTo(cxt);
	if (rc != expect)
		elog(ERROR, "pg_migrate catalog statement failed: %s", SPI_result_code_string(rc));
}

/* rows per cursor fetch when reading much of the catalog */
#define FETCH_BATCH 4096

static char *
getstr(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static char **
getarr(HeapTuple tup, TupleDesc desc, int col, int *n)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	*n = 0;
	return isnull ? NULL : pgm_array_cstrings(d, n);
}

/*
 * Copies of the many short strings a graph load decodes (ids, messages,
 * labels, edges), carved from large blocks instead of one palloc each.
 */
typedef struct StringPool
{
	MemoryContext cxt;
	char	   *next;
	Size		left;
} StringPool;

#define POOL_BLOCK (64 * 1024)

static void *
pool_alloc(StringPool *pool, Size size, bool aligned)
{
	void	   *out;

	if (aligned)
	{
		Size		pad = MAXALIGN(pool->next) - (uintptr_t) pool->next;

		if (pool->next != NULL && pad <= pool->left)
		{
			pool->next += pad;
			pool->left -= pad;
		}
		else
			pool->left = 0;
	}
	if (size > pool->left)
	{
		Size		block = Max(POOL_BLOCK, size);

		pool->next = MemoryContextAlloc(pool->cxt, block);
		pool->left = block;
	}
	out = pool->next;
	pool->next += size;
	pool->left -= size;
	return out;
}

static char *
pool_text(StringPool *pool, Datum d)
{
	text	   *t = DatumGetTextPP(d);
	int			len = VARSIZE_ANY_EXHDR(t);
	char	   *out = pool_alloc(pool, len + 1, false);

	memcpy(out, VARDATA_ANY(t), len);
	out[len] = '\0';
	return out;
}

/* A text[] as C strings (pgm_array_cstrings(), without its allocations) */
static char **
pool_text_array(StringPool *pool, Datum d, int *n)
{
	ArrayType  *arr;
	char	   *p;
	char	  **out;

	/*
	 * An empty array (most depends_on and branch_labels) is only its header:
	 * known by its size, without the copy that aligning a short datum takes.
	 * It is never compressed or stored out of line.
	 */
	if (VARSIZE_ANY_EXHDR(DatumGetPointer(d)) <= sizeof(ArrayType) - VARHDRSZ)
	{
		*n = 0;
		return NULL;
	}
	arr = DatumGetArrayTypeP(d);
	if (ARR_NDIM(arr) > 1 || ARR_HASNULL(arr) || ARR_ELEMTYPE(arr) != TEXTOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("migrate_revisions holds an array that is not a one-dimensional text array without nulls")));
	*n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	out = pool_alloc(pool, sizeof(char *) * Max(*n, 1), true);
	/* walked as deconstruct_array() does for text, without its arrays */
	p = (char *) arr + ARR_OVERHEAD_NONULLS(ARR_NDIM(arr));	/* ARR_DATA_PTR, no null bitmap */
	for (int i = 0; i < *n; i++)
	{
		out[i] = pool_text(pool, PointerGetDatum(p));
		p = att_addlength_pointer(p, -1, p);
		p = (char *) att_align_nominal(p, TYPALIGN_INT);
	}
	if ((Pointer) arr != DatumGetPointer(d))
		pfree(arr);
	return out;
}

/* Ascending seq, for rows that did not come back in that order */
static int
compare_seq(const void *a, const void *b)
{
	int64		x = ((const PgmRevInput *) a)->seq;
	int64		y = ((const PgmRevInput *) b)->seq;

	return (x > y) - (x < y);
}

/*
 * The whole graph, without the SQL bodies: the read-only functions need
 * only the columns a reader can be granted without seeing any SQL.
 *
 * The graph is cached in this backend under the epoch that was visible when
 * it was read.  Any change to migrate_revisions, committed or our own, moves
 * the epoch in the same transaction, and epochs never repeat, so a snapshot
 * that sees the cached epoch sees exactly the cached revisions.  The epoch is
 * read before the revisions: if a commit slips in between, the graph is
 * newer than its key and the next call just reloads it.  The cached graph
 * is never modified by its users.
 */
PgmGraph *
pgm_catalog_load_graph(void)
{
	char	   *sql;
	PgmRevInput *in;
	PgmGraph   *g;
	int64		epoch;
	bool		isnull;
	MemoryContext old;
	SPIPlanPtr	plan;
	Portal		portal;
	uint64		n = 0;
	uint64		cap = 1024;
	bool		sorted = true;
	StringPool	kept;
	StringPool	scratch;

	sql = psprintf("SELECT epoch FROM %s.migrate_epoch", schema_quoted);
	run(sql, 0, NULL, NULL, NULL, SPI_OK_SELECT);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("table migrate_epoch must hold exactly one row")));
	epoch = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (graph_cache && graph_ext == current_ext && graph_epoch == epoch)
		return graph_cache;

	graph_cache = NULL;
	verified = NULL;
	if (graph_cxt == NULL)
		graph_cxt = AllocSetContextCreate(TopMemoryContext, "pg_migrate revision graph",
										  ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(graph_cxt);
	kept = (StringPool) {graph_cxt};
	scratch = (StringPool) {CurrentMemoryContext};

	sql = psprintf("SELECT revision, seq, down_revisions, depends_on, branch_labels, message"
				   " FROM %s.migrate_revisions", schema_quoted);
	plan = SPI_prepare(sql, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));

	/*
	 * Fetched in batches through a cursor, so that only one batch of rows is
	 * ever materialized, and decoded with one deform per row.  What the
	 * graph keeps (ids, messages, labels) is copied straight into the
	 * cache's context; the edges, which the graph turns into indexes, into
	 * the call's memory.  No ORDER BY: the rows mostly come in seq order
	 * already (the table is append-mostly), and sorting here when they do
	 * not is cheaper than an index scan every time.
	 */
	in = palloc(sizeof(PgmRevInput) * cap);
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, read_only);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, FETCH_BATCH);
		if (SPI_processed == 0)
			break;
		if (n + SPI_processed > cap)
		{
			while (n + SPI_processed > cap)
				cap *= 2;
			in = repalloc_huge(in, sizeof(PgmRevInput) * cap);
		}
		for (uint64 i = 0; i < SPI_processed; i++, n++)
		{
			Datum		values[6];
			bool		nulls[6];
			PgmRevInput *r = &in[n];

			heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, values, nulls);
			r->id = pool_text(&kept, values[0]);
			r->seq = DatumGetInt64(values[1]);
			if (n > 0 && r->seq < in[n - 1].seq)
				sorted = false;
			r->nparents = r->ndeps = r->nlabels = 0;
			r->parents = r->deps = r->labels = NULL;
			if (!nulls[2])
				r->parents = pool_text_array(&scratch, values[2], &r->nparents);
			if (!nulls[3])
				r->deps = pool_text_array(&scratch, values[3], &r->ndeps);
			if (!nulls[4])
				r->labels = pool_text_array(&kept, values[4], &r->nlabels);
			r->message = nulls[5] ? "" : pool_text(&kept, values[5]);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_freeplan(plan);
	if (!sorted)
		qsort(in, n, sizeof(PgmRevInput), compare_seq);
	old = MemoryContextSwitchTo(graph_cxt);
	g = pgm_graph_build(in, (int) n);
	MemoryContextSwitchTo(old);
	pfree(in);

	graph_cache = g;
	graph_ext = current_ext;
	graph_epoch = epoch;
	return g;
}

/* The applied heads of a scope, as graph indexes in registration order */
PgmIdxList
pgm_catalog_load_heads(PgmGraph *g, const char *scope)
{
	char	   *sql = psprintf("SELECT revision FROM %s.migrate_version"
							   " WHERE scope OPERATOR(pg_catalog.=) $1", schema_quoted);
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(scope)};
	PgmIdxList	heads;
	bool	   *mark = palloc0(Max(g->nrevs, 1));

	run(sql, 1, types, values, NULL, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *id = getstr(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		int			idx = pgm_graph_lookup(g, id);

		if (idx < 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("applied revision \"%s\" is not registered", id)));
		mark[idx] = true;
	}
	heads.n = 0;
	heads.items = palloc(sizeof(int) * Max(g->nrevs, 1));
	for (int i = 0; i < g->nrevs; i++)
		if (mark[i])
			heads.items[heads.n++] = i;
	pfree(mark);
	return heads;
}

bool
pgm_catalog_revision_exists(const char *id)
{
	char	   *sql = psprintf("SELECT 1 FROM %s.migrate_revisions WHERE revision OPERATOR(pg_catalog.=) $1",
							   schema_quoted);
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(id)};

	run(sql, 1, types, values, NULL, SPI_OK_SELECT);
	return SPI_processed > 0;
}

/* The revision declaring a branch label, or NULL (GIN index on branch_labels) */
char *
pgm_catalog_label_owner(const char *label)
{
	char	   *sql = psprintf("SELECT revision FROM %s.migrate_revisions"
							   " WHERE branch_labels OPERATOR(pg_catalog.@>) ARRAY[$1]", schema_quoted);
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(label)};

	run(sql, 1, types, values, NULL, SPI_OK_SELECT);
	return SPI_processed > 0 ? getstr(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : NULL;
}

bool
pgm_catalog_fetch_revision(const char *id, PgmRevisionRow *row)
{
	char	   *sql = psprintf("SELECT revision, down_revisions, depends_on, branch_labels, message,"
							   " upgrade_sql, downgrade_sql, checksum, registered_by, registered_at,"
							   " lock_timeout, statement_timeout, transactional"
							   " FROM %s.migrate_revisions WHERE revision OPERATOR(pg_catalog.=) $1",
							   schema_quoted);
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(id)};
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;

	run(sql, 1, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	row->revision = getstr(tup, desc, 1);
	row->parents = getarr(tup, desc, 2, &row->nparents);
	row->deps = getarr(tup, desc, 3, &row->ndeps);
	row->labels = getarr(tup, desc, 4, &row->nlabels);
	row->message = getstr(tup, desc, 5);
	row->upgrade_sql = getstr(tup, desc, 6);
	row->downgrade_sql = getstr(tup, desc, 7);
	row->checksum = getstr(tup, desc, 8);
	row->registered_by = SPI_getbinval(tup, desc, 9, &isnull);
	row->registered_by = datumCopy(row->registered_by, false, NAMEDATALEN);
	row->registered_at = SPI_getbinval(tup, desc, 10, &isnull);
	row->lock_timeout = SPI_getbinval(tup, desc, 11, &isnull);
	row->has_lock_timeout = !isnull;
	if (!isnull)
		row->lock_timeout = datumCopy(row->lock_timeout, false, sizeof(Interval));
	row->statement_timeout = SPI_getbinval(tup, desc, 12, &isnull);
	row->has_statement_timeout = !isnull;
	if (!isnull)
		row->statement_timeout = datumCopy(row->statement_timeout, false, sizeof(Interval));
	row->transactional = DatumGetBool(SPI_getbinval(tup, desc, 13, &isnull));
	return true;
}

/*
 * Insert a new revision.  ON CONFLICT DO NOTHING makes a concurrent
 * registration of the same id wait for the other one and then report
 * "not inserted", so the caller can compare contents instead of failing on a
 * unique violation.
 */
bool
pgm_catalog_insert_revision(const PgmRevisionRow *row)
{
	char	   *sql = psprintf("INSERT INTO %s.migrate_revisions AS r"
							   " (revision, down_revisions, depends_on, branch_labels, message,"
							   "  upgrade_sql, downgrade_sql, checksum, lock_timeout, statement_timeout,"
							   "  transactional)"
							   " VALUES ($1, $2, $3, $4, $5, $6, $7, %s.migrate_checksum($6, $7),"
							   " $8, $9, $10)"
							   " ON CONFLICT (revision) DO NOTHING",
							   schema_quoted, ext_schema_quoted);
	Oid			types[10] = {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID,
	TEXTOID, INTERVALOID, INTERVALOID, BOOLOID};
	Datum		values[10];
	char		nulls[10] = "          ";

	values[0] = CStringGetTextDatum(row->revision);
	values[1] = pgm_text_array(row->parents, row->nparents);
	values[2] = pgm_text_array(row->deps, row->ndeps);
	values[3] = pgm_text_array(row->labels, row->nlabels);
	values[4] = CStringGetTextDatum(row->message);
	values[5] = CStringGetTextDatum(row->upgrade_sql);
	if (row->downgrade_sql)
		values[6] = CStringGetTextDatum(row->downgrade_sql);
	else
		nulls[6] = 'n';
	values[7] = row->lock_timeout;
	if (!row->has_lock_timeout)
		nulls[7] = 'n';
	values[8] = row->statement_timeout;
	if (!row->has_statement_timeout)
		nulls[8] = 'n';
	values[9] = BoolGetDatum(row->transactional);
	run(sql, 10, types, values, nulls, SPI_OK_INSERT);
	return SPI_processed == 1;
}

/* Did this row version pass before (see VerifiedVersion)? */
static bool
plan_verified(PgmGraph *g, PgmIdxList steps)
{
	if (g != graph_cache || verified == NULL)
		return false;
	for (int i = 0; i < steps.n; i++)
		if (!TransactionIdIsValid(verified[steps.items[i]].xmin))
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
	const char *s = schema_quoted;

	/*
	 * A plan over a good part of the graph reads the whole table: cheaper
	 * than planning and probing "= ANY" with an array of every step's id.
	 */
	bool		whole = steps.n > g->nrevs / 4;
	char	   *check = verify ?
		psprintf("checksum OPERATOR(pg_catalog.=) %s.migrate_checksum(upgrade_sql, downgrade_sql)",
				 ext_schema_quoted) :
		"true";
	char	   *sql = psprintf("SELECT seq, %s, %s,"
							   " pg_catalog.ceil(pg_catalog.date_part('epoch', lock_timeout) OPERATOR(pg_catalog.*) 1000)::pg_catalog.int4,"
							   " pg_catalog.ceil(pg_catalog.date_part('epoch', statement_timeout) OPERATOR(pg_catalog.*) 1000)::pg_catalog.int4,"
							   " transactional, xmin, ctid"
							   " FROM %s.migrate_revisions%s",
							   upgrade ? "upgrade_sql" : "downgrade_sql", check, s,
							   whole ? "" : " WHERE revision OPERATOR(pg_catalog.=) ANY ($1)");
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1];
	SPIPlanPtr	plan;
	Portal		portal;
	int			next = 0;

	if (!whole)
	{
		char	  **ids = palloc(sizeof(char *) * Max(steps.n, 1));

		for (int i = 0; i < steps.n; i++)
			ids[i] = g->revs[steps.items[i]].id;
		values[0] = pgm_text_array(ids, steps.n);
		pfree(ids);
	}
	if (verify && g == graph_cache && verified == NULL)
		verified = MemoryContextAllocZero(graph_cxt, sizeof(VerifiedVersion) * Max(g->nrevs, 1));

	/*
	 * Prepared without CURSOR_OPT_PARALLEL_OK: for a long plan the planner
	 * would pick a parallel scan, and starting workers (and serializing the
	 * array of ids to each) costs more than the scan they share out.  Read
	 * in batches, so that only one batch of rows is ever materialized.
	 */
	plan = SPI_prepare_cursor(sql, whole ? 0 : 1, types, 0);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, plan, whole ? NULL : values, NULL, read_only);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, FETCH_BATCH);
		if (SPI_processed == 0)
			break;
		for (uint64 k = 0; k < SPI_processed; k++)
		{
			Datum		v[8];
			bool		nulls[8];
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
			sum_ok[r] = verify ? DatumGetBool(v[2]) : same_version(&verified[r], xmin, ctid);
			if (verify && sum_ok[r] && g == graph_cache)
			{
				verified[r].xmin = xmin;
				ItemPointerCopy(ctid, &verified[r].ctid);
			}
			info->lock_timeout_ms = nulls[3] ? -1 : DatumGetInt32(v[3]);
			info->statement_timeout_ms = nulls[4] ? -1 : DatumGetInt32(v[4]);
			info->transactional = DatumGetBool(v[5]);
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
					 errdetail("The SQL stored for this revision was changed after it was registered. Nothing was changed."),
					 errhint("Registered migrations must not be edited; register a new revision instead.")));
		infos[i] = byrev[r];
	}
	pfree(byrev);
	pfree(found);
	pfree(sum_ok);
	return infos;
}

/* A new run id: one per call, shared by the call's log rows */
int64
pgm_catalog_new_run(void)
{
	char	   *sql = "SELECT pg_catalog.nextval($1::pg_catalog.regclass)";
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(psprintf("%s.migrate_run_seq", schema_quoted))};
	bool		isnull;

	run(sql, 1, types, values, NULL, SPI_OK_SELECT);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Who the given sessions are and what they run, as a JSON array: the
 * blockers of a step that timed out on a lock, for the log.
 */
char *
pgm_catalog_describe_sessions(const int *pids, int n)
{
	const char *sql = "SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
		"'pid', a.pid, 'role', a.usename, 'application_name', a.application_name,"
		" 'state', a.state, 'query_start', a.query_start, 'xact_start', a.xact_start,"
		" 'query', a.query) ORDER BY a.pid)::pg_catalog.text"
		" FROM pg_catalog.pg_stat_activity a WHERE a.pid OPERATOR(pg_catalog.=) ANY ($1)";
	Oid			types[1] = {INT4ARRAYOID};
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	Datum		values[1];

	for (int i = 0; i < n; i++)
		elems[i] = Int32GetDatum(pids[i]);
	values[0] = PointerGetDatum(construct_array(elems, n, INT4OID, sizeof(int32), true, TYPALIGN_INT));
	run(sql, 1, types, values, NULL, SPI_OK_SELECT);
	return SPI_processed == 1 ? getstr(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : NULL;
}

void
pgm_catalog_add_head(const char *scope, const char *id)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(scope), CStringGetTextDatum(id)};

	run_plan(PLAN_ADD_HEAD, 2, types, values, NULL, SPI_OK_INSERT);
}

void
pgm_catalog_remove_head(const char *scope, const char *id)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(scope), CStringGetTextDatum(id)};

	run_plan(PLAN_REMOVE_HEAD, 2, types, values, NULL, SPI_OK_DELETE);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("version state of scope \"%s\" changed under a running migration", scope),
				 errdetail("Head \"%s\" was expected in migrate_version.", id)));
}

/*
 * Write what one step (CALL mode) or a whole run (function mode) did to
 * migrate_version: the rows that go, then the rows that come.
 */
void
pgm_catalog_write_heads(PgmGraph *g, const PgmHeadChange *ch, const char *scope)
{
	for (int i = 0; i < ch->removed.n; i++)
		pgm_catalog_remove_head(scope, g->revs[ch->removed.items[i]].id);
	for (int i = 0; i < ch->added.n; i++)
		pgm_catalog_add_head(scope, g->revs[ch->added.items[i]].id);
}

void
pgm_catalog_log(const PgmLogRow *row)
{
	Oid			types[17] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, INT4OID, TEXTOID, TIMESTAMPTZOID,
		TIMESTAMPTZOID, NAMEOID, NAMEOID, INT4OID, BOOLOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, TEXTOID};
	Datum		values[17];
	char		nulls[18] = "                 ";

#define TEXT_OR_NULL(i, v) \
	do { if (v) values[i] = CStringGetTextDatum(v); else nulls[i] = 'n'; } while (0)
	values[0] = Int64GetDatum(row->run_id);
	values[1] = CStringGetTextDatum(row->scope);
	values[2] = CStringGetTextDatum(row->revision);
	values[3] = CStringGetTextDatum(row->direction);
	values[4] = Int32GetDatum(row->attempt);
	values[5] = CStringGetTextDatum(row->outcome);
	values[6] = TimestampTzGetDatum(row->started);
	values[7] = TimestampTzGetDatum(row->finished);
	values[8] = DirectFunctionCall1(namein, CStringGetDatum(row->role));
	values[9] = DirectFunctionCall1(namein, CStringGetDatum(row->session_role));
	values[10] = Int32GetDatum(row->pid);
	values[11] = BoolGetDatum(row->with_txid);
	TEXT_OR_NULL(12, row->sqlstate);
	TEXT_OR_NULL(13, row->message);
	TEXT_OR_NULL(14, row->detail);
	values[15] = Int32GetDatum(row->position);
	if (row->position <= 0)
		nulls[15] = 'n';
	TEXT_OR_NULL(16, row->blockers);
#undef TEXT_OR_NULL

	run_plan(PLAN_LOG, 17, types, values, nulls, SPI_OK_INSERT);
}

/* A table's name, schema-qualified and quoted */
char *
pgm_catalog_table_name(Oid table)
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
pgm_catalog_alembic_versions(Oid table, int *n)
{
	char	   *sql = psprintf("SELECT version_num::pg_catalog.text FROM %s", pgm_catalog_table_name(table));
	char	  **ids;

	run(sql, 0, NULL, NULL, NULL, SPI_OK_SELECT);
	*n = (int) SPI_processed;
	ids = palloc(sizeof(char *) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		ids[i] = getstr(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		if (ids[i] == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s holds a NULL version", pgm_catalog_table_name(table))));
	}
	return ids;
}

/*
 * With pg_migrate.alembic_version_table set, keep that table holding the
 * same rows as migrate_version, so that alembic current still answers
 * during a gradual move.
 */
void
pgm_catalog_sync_alembic(const char *scope)
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
	name = pgm_catalog_table_name(table);
	run(psprintf("DELETE FROM %s", name), 0, NULL, NULL, NULL, SPI_OK_DELETE);
	run(psprintf("INSERT INTO %s (version_num) SELECT revision FROM %s.migrate_version"
				 " WHERE scope OPERATOR(pg_catalog.=) $1", name, schema_quoted),
		1, types, values, NULL, SPI_OK_INSERT);
}
