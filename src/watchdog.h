/*-------------------------------------------------------------------------
 *
 * watchdog.h
 *	  A background worker that watches who blocks the migrating backend.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_WATCHDOG_H
#define PGM_WATCHDOG_H

#include "postgres.h"
#include "fmgr.h"

typedef struct PgmWatchdog PgmWatchdog;

extern PgmWatchdog *pgm_watchdog_start(int interval_ms);
extern int	pgm_watchdog_stop(PgmWatchdog *wd, int *pids, int max);

PGDLLEXPORT void pgm_watchdog_main(Datum arg);

#endif							/* PGM_WATCHDOG_H */
