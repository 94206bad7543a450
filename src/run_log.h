/*-------------------------------------------------------------------------
 *
 * run_log.h
 *	  Rows of migrate_log, and writing them so that they survive.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_RUN_LOG_H
#define PGM_RUN_LOG_H

#include "datatype/timestamp.h"

/* One attempt of one step, or one revision stamped */
typedef struct PgmLogRow
{
	int64		run_id;
	const char *scope;
	const char *revision;
	const char *direction;		/* upgrade, downgrade, stamp, unstamp */
	int			attempt;
	const char *outcome;		/* success, failed, retry */
	TimestampTz started;
	TimestampTz finished;
	bool		with_txid;		/* record pg_current_xact_id() (committed work) */
	/* who: the session that ran the step, not the one that writes the row */
	const char *role;
	const char *session_role;
	int			pid;
	/* what went wrong, for failed and retry rows */
	const char *sqlstate;
	const char *message;
	const char *detail;
	int			position;		/* 0: none */
	const char *blockers;		/* JSON array text, or NULL */
} PgmLogRow;

extern void pgm_log_row_init(PgmLogRow *row, int64 run_id, const char *scope,
							 const char *revision, const char *direction);
extern void pgm_log_row_set_error(PgmLogRow *row, ErrorData *edata);
extern void pgm_log_write_autonomous(const PgmLogRow *row);
extern char *pgm_log_serialize(const PgmLogRow *row, Size *len);
extern void pgm_log_deserialize(const char *buf, PgmLogRow *row);

#endif							/* PGM_RUN_LOG_H */
