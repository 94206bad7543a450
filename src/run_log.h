/*-------------------------------------------------------------------------
 *
 * run_log.h
 *	  Rows of migrate_log, and writing them so that they survive.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_RUN_LOG_H
#define PGM_RUN_LOG_H

#include "postgres.h"
#include "fmgr.h"

#include "catalog.h"


extern void pgm_log_row_init(PgmLogRow *row, int64 run_id, const char *scope,
							 const char *revision, const char *direction);
extern void pgm_log_row_set_error(PgmLogRow *row, ErrorData *edata);
extern void pgm_log_write_autonomous(const PgmLogRow *row);
extern char *pgm_log_describe_sessions(const int *pids, int n);

PGDLLEXPORT void pgm_log_worker_main(Datum arg);

#endif							/* PGM_RUN_LOG_H */
