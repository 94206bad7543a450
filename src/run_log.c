/*-------------------------------------------------------------------------
 *
 * run_log.c
 *	  Rows of migrate_log, and writing a row so that it survives the
 *	  rollback of the transaction that made it.
 *
 * A successful step writes its row in its own transaction: the row commits
 * or rolls back with the step.  A failed attempt must be kept either way.
 * In CALL migrate_apply the caller commits it right after rolling the step
 * back; in function mode (migrate_upgrade) the caller's transaction is about
 * to abort, so a background worker (bgtask.c, running this file's
 * pgm_log_worker_main) inserts the row and commits it on its own: an
 * autonomous transaction, waited for.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "bgtask.h"
#include "catalog.h"
#include "catalog_int.h"
#include "codec.h"
#include "run_log.h"

/* A row for one attempt by this session; the caller fills in times and outcome */
void
pgm_log_row_init(PgmLogRow *row, int64 run_id, const char *scope, const char *revision,
				 const char *direction)
{
	memset(row, 0, sizeof(*row));
	row->run_id = run_id;
	row->scope = scope;
	row->revision = revision;
	row->direction = direction;
	row->attempt = 1;
	row->outcome = "success";
	row->role = GetUserNameFromId(GetUserId(), false);
	row->session_role = GetUserNameFromId(GetSessionUserId(), false);
	row->pid = MyProcPid;
}

void
pgm_log_row_set_error(PgmLogRow *row, ErrorData *edata)
{
	row->sqlstate = pstrdup(unpack_sql_state(edata->sqlerrcode));
	row->message = edata->message;
	row->detail = edata->detail;
	row->position = edata->cursorpos > 0 ? edata->cursorpos : edata->internalpos;
}

/*
 * Who the given sessions are and what they run, as a JSON array: the
 * blockers of a step that timed out on a lock, for the log.
 */
char *
pgm_log_describe_sessions(const int *pids, int n)
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
	pgm_catalog_run(sql, 1, types, values, NULL, SPI_OK_SELECT);
	return SPI_processed == 1 ? pgm_catalog_getstr(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : NULL;
}

/* A row as one record for the worker (codec.h) */
static char *
serialize(const PgmLogRow *row, Size *len)
{
	StringInfoData buf;

	initStringInfo(&buf);
	pgm_codec_put_int(&buf, row->run_id);
	pgm_codec_put(&buf, row->scope);
	pgm_codec_put(&buf, row->revision);
	pgm_codec_put(&buf, row->direction);
	pgm_codec_put_int(&buf, row->attempt);
	pgm_codec_put(&buf, row->outcome);
	pgm_codec_put_int(&buf, row->started);
	pgm_codec_put_int(&buf, row->finished);
	pgm_codec_put(&buf, row->with_txid ? "t" : "f");
	pgm_codec_put(&buf, row->role);
	pgm_codec_put(&buf, row->session_role);
	pgm_codec_put_int(&buf, row->pid);
	pgm_codec_put(&buf, row->sqlstate);
	pgm_codec_put(&buf, row->message);
	pgm_codec_put(&buf, row->detail);
	pgm_codec_put_int(&buf, row->position);
	pgm_codec_put(&buf, row->blockers);
	pgm_codec_put(&buf, row->fingerprint);
	pgm_codec_put(&buf, row->reason);
	*len = buf.len;
	return buf.data;
}

static void
deserialize(const char *buf, PgmLogRow *row)
{
	const char *p = buf;

	memset(row, 0, sizeof(*row));
	row->run_id = pgm_codec_get_int(&p);
	row->scope = pgm_codec_get(&p);
	row->revision = pgm_codec_get(&p);
	row->direction = pgm_codec_get(&p);
	row->attempt = (int) pgm_codec_get_int(&p);
	row->outcome = pgm_codec_get(&p);
	row->started = (TimestampTz) pgm_codec_get_int(&p);
	row->finished = (TimestampTz) pgm_codec_get_int(&p);
	row->with_txid = strcmp(pgm_codec_get(&p), "t") == 0;
	row->role = pgm_codec_get(&p);
	row->session_role = pgm_codec_get(&p);
	row->pid = (int) pgm_codec_get_int(&p);
	row->sqlstate = pgm_codec_get(&p);
	row->message = pgm_codec_get(&p);
	row->detail = pgm_codec_get(&p);
	row->position = (int) pgm_codec_get_int(&p);
	row->blockers = pgm_codec_get(&p);
	row->fingerprint = pgm_codec_get(&p);
	row->reason = pgm_codec_get(&p);
}

/*
 * Write a row in a transaction of its own, by a background worker, and wait
 * for it.  If even that fails, the row goes to the server log, so that the
 * attempt is never lost without a trace.
 */
void
pgm_log_write_autonomous(const PgmLogRow *row)
{
	Size		len;
	char	   *payload = serialize(row, &len);
	PgmBgResult res = pgm_bgtask_run("pgm_log_worker_main", "pg_migrate worker", payload, len);

	if (!res.ok)
		ereport(WARNING,
				(errmsg("pg_migrate could not write the log row of revision \"%s\" (%s, attempt %d): %s",
						row->revision, row->outcome, row->attempt, res.message),
				 errdetail("The step ended with SQLSTATE %s: %s.",
						   row->sqlstate ? row->sqlstate : "none",
						   row->message ? row->message : "")));
}

/* The worker's task: insert the row and commit */
static void
write_row(void *data, Size len)
{
	PgmLogRow	row;

	deserialize(data, &row);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_migrate: writing a log row");
	pgm_catalog_connect(false);
	pgm_catalog_log(&row);
	pgm_catalog_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* The worker's entry point (bgw_function_name) */
void
pgm_log_worker_main(Datum arg)
{
	pgm_bgtask_serve(arg, write_row);
}
