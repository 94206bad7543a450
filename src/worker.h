/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  A dynamic background worker that does one task for the calling
 *	  session in a transaction of its own, while the caller waits.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_WORKER_H
#define PGM_WORKER_H

#include "postgres.h"
#include "fmgr.h"

typedef enum PgmWorkerTask
{
	PGM_TASK_LOG_ROW = 1,		/* insert one migrate_log row and commit */
	PGM_TASK_RUN_SQL = 2		/* run SQL statement by statement, each at top level */
} PgmWorkerTask;

/* How the task ended; the error fields are set when ok is false */
typedef struct PgmWorkerResult
{
	bool		ok;
	char		sqlstate[6];
	char	   *message;
	char	   *detail;
	int			position;
	int			nblockers;
	int			blockers[32];
} PgmWorkerResult;

/* What a PGM_TASK_RUN_SQL worker needs besides the SQL */
typedef struct PgmSqlTask
{
	const char *sql;
	const char *search_path;
	int			lock_timeout_ms;	/* <= 0: leave the default */
	int			statement_timeout_ms;
	const char *revision;		/* for messages */
} PgmSqlTask;

extern PgmWorkerResult pgm_worker_run(PgmWorkerTask task, const char *payload, Size len);
extern PgmWorkerResult pgm_worker_run_sql(const PgmSqlTask *task);

PGDLLEXPORT void pgm_worker_main(Datum arg);

#endif							/* PGM_WORKER_H */
