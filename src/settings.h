/*-------------------------------------------------------------------------
 *
 * settings.h
 *	  pg_migrate.* configuration parameters.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_SETTINGS_H
#define PGM_SETTINGS_H

extern int	pgm_lock_wait_timeout;	/* ms to wait for pg_migrate's own lock; 0: lock_timeout */
extern int	pgm_lock_timeout;		/* ms, around each step's SQL; 0: the session's */
extern int	pgm_statement_timeout;	/* ms, around each step's SQL; 0: the session's */
extern int	pgm_lock_retries;		/* retries of a step that timed out on a lock */
extern int	pgm_retry_backoff;		/* ms before the first retry; doubles each time */
extern char *pgm_alembic_version_table;	/* kept in step with migrate_version, or "" */
/* pg_migrate.log_fingerprint: which success rows record the fingerprint */
typedef enum PgmLogFingerprint
{
	PGM_FINGERPRINT_LAST,		/* the last step of each call */
	PGM_FINGERPRINT_STEP,		/* every step */
	PGM_FINGERPRINT_OFF
} PgmLogFingerprint;

extern int	pgm_log_fingerprint;
extern bool pgm_guard_rewrites;	/* abort unallowed rewrites of big tables in a run */
extern bool pgm_allow_ddl;		/* break glass: DDL through the guard */
extern int	pgm_rehearse_lock_timeout;	/* ms, each rehearsed statement; 0: the session's */
extern int	pgm_rehearse_statement_timeout;	/* ms */
extern int	pgm_hazard_min_table_size;	/* kB: smaller tables raise no hazard */
extern int	pgm_hazard_min_lock_duration;	/* ms */
extern char *pgm_managed_schemas;	/* comma-separated schema names, or "": every user schema */

extern void pgm_define_settings(void);

#endif							/* PGM_SETTINGS_H */
