/*-------------------------------------------------------------------------
 *
 * catalog_graph.c
 *	  The revision graph read from migrate_revisions, and the backend's
 *	  cache of it, keyed by migrate_epoch.
 *
 * A graph load decodes many short strings (ids, messages, labels, edges):
 * they are carved from large blocks of a string pool instead of one palloc
 * each, and what the graph keeps goes straight into the cache's context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "catalog.h"
#include "catalog_int.h"

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
static uint64 graph_generation = 0; /* bumped by each rebuild */

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

	sql = psprintf("SELECT epoch FROM %s.migrate_epoch", pgm_catalog_schema());
	pgm_catalog_run(sql, 0, NULL, NULL, NULL, SPI_OK_SELECT);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("table migrate_epoch must hold exactly one row")));
	epoch = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (graph_cache && graph_ext == pgm_catalog_extension() && graph_epoch == epoch)
		return graph_cache;

	graph_cache = NULL;
	graph_generation++;
	if (graph_cxt == NULL)
		graph_cxt = AllocSetContextCreate(TopMemoryContext, "pg_migrate revision graph",
										  ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(graph_cxt);
	kept = (StringPool) {graph_cxt};
	scratch = (StringPool) {CurrentMemoryContext};

	sql = psprintf("SELECT revision, seq, down_revisions, depends_on, branch_labels, message"
				   " FROM %s.migrate_revisions", pgm_catalog_schema());
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
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, pgm_catalog_read_only());
	for (;;)
	{
		SPI_cursor_fetch(portal, true, PGM_FETCH_BATCH);
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
	graph_ext = pgm_catalog_extension();
	graph_epoch = epoch;
	return g;
}


/*
 * The memory context of the cached graph if 'g' is it, else NULL: what
 * lives as long as the graph (catalog_plan.c's memo) goes there.
 */
MemoryContext
pgm_catalog_graph_memory(PgmGraph *g)
{
	return g != NULL && g == graph_cache ? graph_cxt : NULL;
}

/* Which build of the cached graph this is; a rebuild frees its memory */
uint64
pgm_catalog_graph_generation(void)
{
	return graph_generation;
}
