/*-------------------------------------------------------------------------
 *
 * nontx.c
 *	  A non-transactional revision's SQL (CREATE INDEX CONCURRENTLY, VACUUM,
 *	  ALTER SYSTEM, ...), which cannot run inside a function, a procedure or
 *	  a transaction block at all: a background worker (bgtask.c) runs its
 *	  statements one by one at top level, each in its own transaction, the
 *	  way the simple query protocol does (postgres.c, exec_simple_query),
 *	  while the calling session waits having committed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "pgstat.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timeout.h"

#include "bgtask.h"
#include "codec.h"
#include "compat.h"
#include "nontx.h"

static void run_sql(void *data, Size len);

/*
 * Run a non-transactional revision's SQL in a worker and wait for it.  The
 * task's record: search_path, timeouts, revision, SQL (codec.h).
 */
PgmBgResult
pgm_nontx_run(const PgmSqlTask *task)
{
	StringInfoData buf;

	initStringInfo(&buf);
	pgm_codec_put(&buf, task->search_path);
	pgm_codec_put_int(&buf, task->lock_timeout_ms);
	pgm_codec_put_int(&buf, task->statement_timeout_ms);
	pgm_codec_put(&buf, task->revision);
	pgm_codec_put(&buf, task->sql);
	return pgm_bgtask_run("pgm_nontx_worker_main", "pg_migrate worker", buf.data, buf.len);
}

/* The task's record, read back in the worker */
static PgmSqlTask
decode(const char *data)
{
	const char *p = data;
	PgmSqlTask	task;

	task.search_path = pgm_codec_get(&p);
	task.lock_timeout_ms = (int) pgm_codec_get_int(&p);
	task.statement_timeout_ms = (int) pgm_codec_get_int(&p);
	task.revision = pgm_codec_get(&p);
	task.sql = pgm_codec_get(&p);
	return task;
}

/* The worker's entry point (bgw_function_name) */
void
pgm_nontx_worker_main(Datum arg)
{
	pgm_bgtask_serve(arg, run_sql);
}

/* The current namespace and name of an index about to be built, or NULL */
static Oid
index_namespace(IndexStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);

	return OidIsValid(relid) ? get_rel_namespace(relid) : InvalidOid;
}

/* Does the named index exist and is it invalid (a failed concurrent build)? */
static Oid
invalid_index(Oid nsp, const char *name)
{
	Oid			indexoid;
	HeapTuple	tup;
	bool		invalid = false;

	if (!OidIsValid(nsp) || name == NULL)
		return InvalidOid;
	indexoid = get_relname_relid(name, nsp);
	if (!OidIsValid(indexoid))
		return InvalidOid;
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	if (HeapTupleIsValid(tup))
	{
		invalid = !((Form_pg_index) GETSTRUCT(tup))->indisvalid;
		ReleaseSysCache(tup);
	}
	return invalid ? indexoid : InvalidOid;
}

/*
 * Run one statement at top level in its own transaction, as the simple
 * query protocol would.
 */
static void
run_toplevel(RawStmt *parsetree, const char *sql)
{
	List	   *querytrees;
	List	   *plantrees;
	Portal		portal;
	DestReceiver *receiver;
	QueryCompletion qc;
	bool		snapshot_set = false;
	int16		format = 0;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (analyze_requires_snapshot(parsetree))
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		snapshot_set = true;
	}
	querytrees = pg_analyze_and_rewrite_fixedparams(parsetree, sql, NULL, 0, NULL);
	plantrees = pg_plan_queries(querytrees, sql, CURSOR_OPT_PARALLEL_OK, NULL);
	if (snapshot_set)
		PopActiveSnapshot();

	portal = CreatePortal("", true, true);
	portal->visible = false;
	PortalDefineQuery(portal, NULL, sql, CreateCommandTag(parsetree->stmt), plantrees, NULL);
	PortalStart(portal, NULL, 0, InvalidSnapshot);
	PortalSetResultFormat(portal, 1, &format);
	receiver = CreateDestReceiver(DestNone);
	/* armed per statement, as start_xact_command() does for clients */
	if (StatementTimeout > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
	(void) PortalRun(portal, FETCH_ALL, true, true, receiver, receiver, &qc);
	disable_timeout(STATEMENT_TIMEOUT, false);
	receiver->rDestroy(receiver);
	PortalDrop(portal, false);
	CommitTransactionCommand();
}

static void
set_setting(const char *name, const char *value)
{
	SetConfigOption(name, value, PGC_USERSET, PGC_S_SESSION);
}

/*
 * Run a non-transactional revision's SQL.  A CREATE INDEX CONCURRENTLY
 * whose index is already there but invalid (an earlier attempt failed
 * half-way) drops that index first, so that a retry never records an
 * invalid index as success; if the build fails now, the error says which
 * invalid index it left behind.
 */
static void
run_sql(void *data, Size len)
{
	PgmSqlTask	task = decode(data);
	const char *search_path = task.search_path;
	int			lock_timeout = task.lock_timeout_ms;
	int			statement_timeout = task.statement_timeout_ms;
	const char *volatile revision = task.revision;
	const char *sql = task.sql;
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "pg_migrate worker statements",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	List	   *parsetrees;
	ListCell   *lc;
	char		activity[256];

	StartTransactionCommand();
	set_setting("search_path", search_path);
	if (lock_timeout > 0)
		set_setting("lock_timeout", psprintf("%dms", lock_timeout));
	if (statement_timeout > 0)
		set_setting("statement_timeout", psprintf("%dms", statement_timeout));
	CommitTransactionCommand();

	snprintf(activity, sizeof(activity), "pg_migrate: non-transactional step of revision %s", revision);
	pgstat_report_activity(STATE_RUNNING, activity);

	old = MemoryContextSwitchTo(cxt);
	parsetrees = pg_parse_query(sql);
	MemoryContextSwitchTo(old);

	foreach(lc, parsetrees)
	{
		RawStmt    *parsetree = lfirst_node(RawStmt, lc);
		IndexStmt  *volatile cic = NULL;
		char	   *volatile idxname = NULL;
		volatile Oid nsp = InvalidOid;

		if (IsA(parsetree->stmt, IndexStmt) && ((IndexStmt *) parsetree->stmt)->concurrent &&
			((IndexStmt *) parsetree->stmt)->idxname)
		{
			cic = (IndexStmt *) parsetree->stmt;
			idxname = MemoryContextStrdup(cxt, cic->idxname);
			StartTransactionCommand();
			nsp = index_namespace(cic);
			if (OidIsValid(invalid_index(nsp, idxname)))
			{
				char	   *nspname = MemoryContextStrdup(cxt, get_namespace_name(nsp));
				char	   *drop = MemoryContextStrdup(cxt, psprintf("DROP INDEX CONCURRENTLY %s",
																	 quote_qualified_identifier(nspname, idxname)));

				CommitTransactionCommand();
				ereport(LOG,
						(errmsg("dropping invalid index \"%s.%s\" left by an earlier attempt of revision \"%s\"",
								nspname, idxname, revision)));
				old = MemoryContextSwitchTo(cxt);
				run_toplevel(linitial_node(RawStmt, pg_parse_query(drop)), drop);
				MemoryContextSwitchTo(old);
			}
			else
				CommitTransactionCommand();
		}

		PG_TRY();
		{
			run_toplevel(parsetree, sql);
		}
		PG_CATCH();
		{
			ErrorData  *e;

			MemoryContextSwitchTo(cxt);
			e = CopyErrorData();
			FlushErrorState();
			AbortCurrentTransaction();
			if (cic)
			{
				bool		left_invalid;

				StartTransactionCommand();
				left_invalid = OidIsValid(invalid_index(nsp, idxname));
				CommitTransactionCommand();
				if (left_invalid)
					pgm_bgtask_set_detail(psprintf("CREATE INDEX CONCURRENTLY left the invalid index \"%s\" behind; "
												   "the next attempt of this revision drops it first.", idxname));
			}
			ReThrowError(e);
		}
		PG_END_TRY();
	}
	pgstat_report_activity(STATE_IDLE, NULL);
}
