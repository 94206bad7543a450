/*-------------------------------------------------------------------------
 *
 * bgtask.h
 *	  A dynamic background worker doing one task for the calling session:
 *	  the shared memory, registration, waiting, termination and the copy
 *	  of its outcome, for every task (bgtask.c knows none of them).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_BGTASK_H
#define PGM_BGTASK_H

#include "postgres.h"
#include "fmgr.h"

/* How a task ended; the error fields are set when ok is false */
typedef struct PgmBgResult
{
	bool		ok;
	char		sqlstate[6];
	char	   *message;
	char	   *detail;			/* or NULL */
	char	   *hint;			/* or NULL */
	int			position;
} PgmBgResult;

typedef struct PgmBgTask PgmBgTask;

/* the task's code, in the worker; 'data' is the caller's payload, writable */
typedef void (*PgmBgTaskFn) (void *data, Size len);

/* in the calling session */
extern PgmBgTask *pgm_bgtask_start(const char *function_name, const char *type, bool connect,
								   const void *data, Size len);
extern PgmBgResult pgm_bgtask_finish(PgmBgTask *task, bool terminate, void *data_out, Size len);
extern PgmBgResult pgm_bgtask_run(const char *function_name, const char *type,
								  const void *data, Size len);

/* in the worker */
extern void pgm_bgtask_serve(Datum arg, PgmBgTaskFn fn) pg_attribute_noreturn();
extern void pgm_bgtask_set_detail(const char *detail);
extern bool pgm_bgtask_serving(void);

#endif							/* PGM_BGTASK_H */
