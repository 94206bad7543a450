/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  The SPI layer: the session of one call (connect, commit, finish), the
 *	  statement helpers the other catalog files share (catalog_int.h), and
 *	  the statements on single rows of pg_migrate's own tables: revisions,
 *	  heads, run ids, log rows.  catalog_graph.c reads the graph,
 *	  catalog_plan.c a plan's SQL, alembic.c Alembic's version table.
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
#include "miscadmin.h"
#include "storage/itemptr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "catalog_int.h"
#include "compat.h"
#include "pg_migrate.h"
#include "settings.h"
#include "srf_util.h"

/* The session: set by connect, for the statements of this call */
static bool read_only;
static Oid	current_ext = InvalidOid;
static char *schema_quoted;		/* the catalog's schema, quoted */
static char *ext_schema_quoted; /* the extension's (its SQL functions) */
static bool catalog_1_1;		/* 1.1's log columns and snapshot table are there */
static Oid	snapshots_rel;		/* migrate_schema_snapshots, in a 1.1 catalog */

/* statements prepared lazily, once per connect */
enum
{
	PLAN_ADD_HEAD,
	PLAN_REMOVE_HEAD,
	PLAN_LOG,
	PLAN_SNAPSHOT,
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
	/*
	 * 1.1's columns: the fingerprint, the revision's checksum as it stood
	 * when the row was written (what migrate_verify compares with later),
	 * and the reason of a repair.
	 */
	char	   *cols_1_1 = catalog_1_1 ? ", fingerprint, checksum, reason" : "";
	char	   *vals_1_1 = catalog_1_1 ?
		psprintf(", $18, (SELECT r.checksum FROM %s.migrate_revisions r"
				 " WHERE r.revision OPERATOR(pg_catalog.=) $3), $19", schema_quoted) : "";

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
				 "  error_position, blockers%s)"
				 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8 OPERATOR(pg_catalog.-) $7, $9, $10, $11,"
				 " CASE WHEN $12 THEN pg_catalog.pg_current_xact_id() END, $13, $14, $15, $16,"
				 " $17::pg_catalog.jsonb%s)",
				 schema_quoted, cols_1_1, vals_1_1);
	plan_sql[PLAN_SNAPSHOT] =
		psprintf("INSERT INTO %s.migrate_schema_snapshots (fingerprint, objects)"
				 " VALUES ($1, $2::pg_catalog.jsonb) ON CONFLICT (fingerprint) DO NOTHING",
				 schema_quoted);
}

static void
connect_ext(bool ro, int options)
{
	Oid			ext;
	Oid			nsp_oid;
	Oid			log_rel;
	char	   *nsp;
	char	   *ext_nsp;

	ext = get_extension_oid("pg_migrate", false);
	nsp_oid = catalog_schema(ext);
	nsp = get_namespace_name(nsp_oid);
	ext_nsp = get_namespace_name(pgm_extension_schema(ext));

	if (SPI_connect_ext(options) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	read_only = ro;
	current_ext = ext;
	schema_quoted = pstrdup(quote_identifier(nsp));
	ext_schema_quoted = pstrdup(quote_identifier(ext_nsp));
	/* a 1.0 catalog, not yet updated, has none of 1.1's log columns */
	log_rel = get_relname_relid("migrate_log", nsp_oid);
	catalog_1_1 = OidIsValid(log_rel) &&
		get_attnum(log_rel, "fingerprint") != InvalidAttrNumber;
	snapshots_rel = get_relname_relid("migrate_schema_snapshots", nsp_oid);
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

/* After a commit that failed (SPI rolled back and began anew): as after one */
void
pgm_catalog_after_failed_commit(void)
{
	memset(plans, 0, sizeof(plans));
}

/*
 * Roll back the current transaction of a procedure connected with
 * pgm_catalog_connect_nonatomic() and go on in the next one: after an error
 * that escaped everything but the procedure, as PostgreSQL's main loop
 * would abort the transaction, so that the attempt's failed row can still
 * be committed.
 */
void
pgm_catalog_rollback(void)
{
	pgm_spi_rollback();
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

/* The catalog's schema, quoted, for statements built around it */
const char *
pgm_catalog_schema(void)
{
	return schema_quoted;
}

/* Has the catalog 1.1's columns (an updated or 1.1 database)? */
bool
pgm_catalog_is_1_1(void)
{
	return catalog_1_1;
}

/* The extension's schema (that of its SQL functions), quoted */
const char *
pgm_catalog_ext_schema(void)
{
	return ext_schema_quoted;
}

/* Is this call's session read-only? */
bool
pgm_catalog_read_only(void)
{
	return read_only;
}

/* The extension's OID, as looked up at connect */
Oid
pgm_catalog_extension(void)
{
	return current_ext;
}

/*
 * Run a statement built around the schema name, check its result code.  SPI
 * leaves CurrentMemoryContext at its procedure context after each call;
 * this puts back the caller's, so that a caller working in a short-lived
 * context (the apply loop's per-step one) keeps allocating there.
 */
void
pgm_catalog_run(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expect)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, 0);

	MemoryContextSwitchTo(cxt);
	if (rc != expect)
		elog(ERROR, "pg_migrate catalog statement failed: %s", SPI_result_code_string(rc));
}

/* Run one of the per-step statements, preparing it on first use (as pgm_catalog_run()) */
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

/* A text column as a C string, NULL for NULL */
char *
pgm_catalog_getstr(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/* A text[] column as C strings */
static char **
getarr(HeapTuple tup, TupleDesc desc, int col, int *n)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	*n = 0;
	return isnull ? NULL : pgm_array_cstrings(d, n);
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

	pgm_catalog_run(sql, 1, types, values, NULL, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *id = pgm_catalog_getstr(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
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

	pgm_catalog_run(sql, 1, types, values, NULL, SPI_OK_SELECT);
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

	pgm_catalog_run(sql, 1, types, values, NULL, SPI_OK_SELECT);
	return SPI_processed > 0 ? pgm_catalog_getstr(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : NULL;
}

bool
pgm_catalog_fetch_revision(const char *id, PgmRevisionRow *row)
{
	char	   *sql = psprintf("SELECT revision, down_revisions, depends_on, branch_labels, message,"
							   " upgrade_sql, downgrade_sql, checksum, registered_by, registered_at,"
							   " lock_timeout, statement_timeout, transactional, %s"
							   " FROM %s.migrate_revisions WHERE revision OPERATOR(pg_catalog.=) $1",
							   catalog_1_1 ? "allow_hazards" : "'{}'::pg_catalog.text[]", schema_quoted);
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(id)};
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;

	pgm_catalog_run(sql, 1, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	row->revision = pgm_catalog_getstr(tup, desc, 1);
	row->parents = getarr(tup, desc, 2, &row->nparents);
	row->deps = getarr(tup, desc, 3, &row->ndeps);
	row->labels = getarr(tup, desc, 4, &row->nlabels);
	row->message = pgm_catalog_getstr(tup, desc, 5);
	row->upgrade_sql = pgm_catalog_getstr(tup, desc, 6);
	row->downgrade_sql = pgm_catalog_getstr(tup, desc, 7);
	row->checksum = pgm_catalog_getstr(tup, desc, 8);
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
	row->allow = getarr(tup, desc, 14, &row->nallow);
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
							   "  transactional%s)"
							   " VALUES ($1, $2, $3, $4, $5, $6, $7, %s.migrate_checksum($6, $7),"
							   " $8, $9, $10%s)"
							   " ON CONFLICT (revision) DO NOTHING",
							   schema_quoted, catalog_1_1 ? ", allow_hazards" : "",
							   ext_schema_quoted, catalog_1_1 ? ", $11" : "");
	Oid			types[11] = {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID,
	TEXTOID, INTERVALOID, INTERVALOID, BOOLOID, TEXTARRAYOID};
	Datum		values[11];
	char		nulls[11] = "          ";

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
	values[10] = pgm_text_array(row->allow, row->nallow);
	pgm_catalog_run(sql, catalog_1_1 ? 11 : 10, types, values, nulls, SPI_OK_INSERT);
	return SPI_processed == 1;
}

/* A new run id: one per call, shared by the call's log rows */
int64
pgm_catalog_new_run(void)
{
	char	   *sql = "SELECT pg_catalog.nextval($1::pg_catalog.regclass)";
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(psprintf("%s.migrate_run_seq", schema_quoted))};
	bool		isnull;

	pgm_catalog_run(sql, 1, types, values, NULL, SPI_OK_SELECT);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
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
	Oid			types[19] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, INT4OID, TEXTOID, TIMESTAMPTZOID,
		TIMESTAMPTZOID, NAMEOID, NAMEOID, INT4OID, BOOLOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, TEXTOID,
	TEXTOID, TEXTOID};
	Datum		values[19];
	char		nulls[20] = "                   ";

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
	TEXT_OR_NULL(17, row->fingerprint);
	TEXT_OR_NULL(18, row->reason);
#undef TEXT_OR_NULL

	run_plan(PLAN_LOG, catalog_1_1 ? 19 : 17, types, values, nulls, SPI_OK_INSERT);
}

/*
 * Keep the per-object digests of a schema state under its fingerprint
 * (migrate_verify names what drifted from them); a state seen before is
 * kept once.  Nothing to do in a 1.0 catalog, nor for a role that may not
 * insert there: a migration role granted what 1.0 documented goes on
 * migrating, and drift is then reported without the objects' names.
 * Returns whether the snapshot is kept.
 */
bool
pgm_catalog_save_snapshot(const char *fingerprint, const char *objects_json)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];

	if (!catalog_1_1 || !OidIsValid(snapshots_rel) ||
		pg_class_aclcheck(snapshots_rel, GetUserId(), ACL_INSERT) != ACLCHECK_OK)
		return false;
	values[0] = CStringGetTextDatum(fingerprint);
	values[1] = CStringGetTextDatum(objects_json);
	run_plan(PLAN_SNAPSHOT, 2, types, values, NULL, SPI_OK_INSERT);
	return true;
}

