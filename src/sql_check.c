/*-------------------------------------------------------------------------
 *
 * sql_check.c
 *	  Looks at migration SQL when it is registered: statements that cannot
 *	  run inside a transaction block (CREATE INDEX CONCURRENTLY, VACUUM,
 *	  ALTER SYSTEM, ...) need a revision registered with transactional =>
 *	  false, transaction control never belongs in migration SQL, and COPY
 *	  to or from the client cannot run inside the server at all.
 *
 * Only the raw grammar is used, so nothing is looked up and nothing runs.
 * SQL that does not parse (a newer server's syntax, say) is not checked
 * here: it fails, with its position, when the step runs.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "compat.h"
#include "sql_check.h"
#include "subxact.h"

/* Parse without letting a syntax error escape; NIL when it does not parse */
static List *
try_parse(const char *sql)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	List	   *volatile result = NIL;

	pgm_subxact_begin(oldcxt);
	PG_TRY();
	{
		result = pg_parse_query(sql);
		pgm_subxact_release(oldcxt, oldowner);
	}
	PG_CATCH();
	{
		FreeErrorData(pgm_subxact_abort(oldcxt, oldowner));
		result = NIL;
	}
	PG_END_TRY();
	return result;
}

/* The statement's name if it refuses to run inside a transaction block */
static const char *
outside_transaction_only(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_IndexStmt:
			return ((IndexStmt *) stmt)->concurrent ? "CREATE INDEX CONCURRENTLY" : NULL;
		case T_DropStmt:
			return ((DropStmt *) stmt)->concurrent ? "DROP INDEX CONCURRENTLY" : NULL;
		case T_ReindexStmt:
			return pgm_reindex_is_concurrent((ReindexStmt *) stmt) ? "REINDEX CONCURRENTLY" : NULL;
		case T_VacuumStmt:
			return ((VacuumStmt *) stmt)->is_vacuumcmd ? "VACUUM" : NULL;
		case T_AlterSystemStmt:
			return "ALTER SYSTEM";
		case T_CreatedbStmt:
			return "CREATE DATABASE";
		case T_DropdbStmt:
			return "DROP DATABASE";
		case T_CreateTableSpaceStmt:
			return "CREATE TABLESPACE";
		case T_DropTableSpaceStmt:
			return "DROP TABLESPACE";
		default:
			return NULL;
	}
}

void
pgm_check_migration_sql(const char *revision, const char *which, const char *sql,
						bool transactional)
{
	List	   *stmts;
	ListCell   *lc;

	if (sql == NULL)
		return;
	stmts = try_parse(sql);
	foreach(lc, stmts)
	{
		Node	   *stmt = lfirst_node(RawStmt, lc)->stmt;
		const char *name = outside_transaction_only(stmt);

		if (IsA(stmt, TransactionStmt))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
					 errmsg("%s of revision \"%s\" contains a transaction control statement", which, revision),
					 errdetail("pg_migrate runs each step in a transaction of its own (or in a background worker for non-transactional revisions)."),
					 errhint("Remove BEGIN, COMMIT, ROLLBACK and SAVEPOINT from the migration.")));
		/*
		 * COPY to or from the client needs the frontend protocol, which SPI
		 * and a background worker do not have: every run would fail.
		 */
		if (IsA(stmt, CopyStmt) && ((CopyStmt *) stmt)->filename == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 ((CopyStmt *) stmt)->is_from ?
					 errmsg("%s of revision \"%s\" contains COPY FROM STDIN", which, revision) :
					 errmsg("%s of revision \"%s\" contains COPY TO STDOUT", which, revision),
					 errdetail("Migration SQL runs inside the server, where no client is connected to send or receive the data."),
					 errhint("Load the data with INSERT, or with COPY from a file on the server.")));
		if (name && transactional)
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("%s of revision \"%s\" contains %s, which cannot run inside a transaction block",
							which, revision, name),
					 errhint("Register the revision with transactional => false and apply it with CALL migrate_apply().")));
		if (IsA(stmt, AlterEnumStmt) && ((AlterEnumStmt *) stmt)->newVal &&
			!((AlterEnumStmt *) stmt)->oldVal && transactional && list_length(stmts) > 1)
			ereport(WARNING,
					(errmsg("%s of revision \"%s\" adds an enum value and runs other statements in the same transaction",
							which, revision),
					 errdetail("A new enum value cannot be used before the transaction that added it commits."),
					 errhint("Register it with transactional => false (each statement then commits on its own), or split the revision.")));
	}
}
