/*-------------------------------------------------------------------------
 *
 * nontx.h
 *	  A non-transactional revision's SQL, run statement by statement at top
 *	  level by a background worker.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_NONTX_H
#define PGM_NONTX_H

#include "postgres.h"
#include "fmgr.h"

#include "bgtask.h"

/* What the worker needs besides the SQL */
typedef struct PgmSqlTask
{
	const char *sql;
	const char *search_path;
	int			lock_timeout_ms;	/* <= 0: leave the default */
	int			statement_timeout_ms;
	const char *revision;		/* for messages */
} PgmSqlTask;

extern PgmBgResult pgm_nontx_run(const PgmSqlTask *task);

PGDLLEXPORT void pgm_nontx_worker_main(Datum arg);

#endif							/* PGM_NONTX_H */
