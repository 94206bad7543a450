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
 * to abort, so a background worker (worker.c) inserts the row and commits
 * it on its own: an autonomous transaction, waited for.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "run_log.h"
#include "worker.h"

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

/* NUL-separated fields; a lone \x01 stands for NULL */
static void
put(StringInfo buf, const char *value)
{
	appendStringInfoString(buf, value ? value : "\x01");
	appendStringInfoChar(buf, '\0');
}

static const char *
get(const char **p)
{
	const char *v = *p;

	*p += strlen(v) + 1;
	return strcmp(v, "\x01") == 0 ? NULL : v;
}

char *
pgm_log_serialize(const PgmLogRow *row, Size *len)
{
	StringInfoData buf;

	initStringInfo(&buf);
	put(&buf, psprintf(INT64_FORMAT, row->run_id));
	put(&buf, row->scope);
	put(&buf, row->revision);
	put(&buf, row->direction);
	put(&buf, psprintf("%d", row->attempt));
	put(&buf, row->outcome);
	put(&buf, psprintf(INT64_FORMAT, (int64) row->started));
	put(&buf, psprintf(INT64_FORMAT, (int64) row->finished));
	put(&buf, row->with_txid ? "t" : "f");
	put(&buf, row->role);
	put(&buf, row->session_role);
	put(&buf, psprintf("%d", row->pid));
	put(&buf, row->sqlstate);
	put(&buf, row->message);
	put(&buf, row->detail);
	put(&buf, psprintf("%d", row->position));
	put(&buf, row->blockers);
	*len = buf.len;
	return buf.data;
}

void
pgm_log_deserialize(const char *buf, PgmLogRow *row)
{
	const char *p = buf;

	memset(row, 0, sizeof(*row));
	row->run_id = strtoll(get(&p), NULL, 10);
	row->scope = get(&p);
	row->revision = get(&p);
	row->direction = get(&p);
	row->attempt = atoi(get(&p));
	row->outcome = get(&p);
	row->started = (TimestampTz) strtoll(get(&p), NULL, 10);
	row->finished = (TimestampTz) strtoll(get(&p), NULL, 10);
	row->with_txid = strcmp(get(&p), "t") == 0;
	row->role = get(&p);
	row->session_role = get(&p);
	row->pid = atoi(get(&p));
	row->sqlstate = get(&p);
	row->message = get(&p);
	row->detail = get(&p);
	row->position = atoi(get(&p));
	row->blockers = get(&p);
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
	char	   *payload = pgm_log_serialize(row, &len);
	PgmWorkerResult res = pgm_worker_run(PGM_TASK_LOG_ROW, payload, len);

	if (!res.ok)
		ereport(WARNING,
				(errmsg("pg_migrate could not write the log row of revision \"%s\" (%s, attempt %d): %s",
						row->revision, row->outcome, row->attempt, res.message),
				 errdetail("The step ended with SQLSTATE %s: %s",
						   row->sqlstate ? row->sqlstate : "none",
						   row->message ? row->message : "")));
}
