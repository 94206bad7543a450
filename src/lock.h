/*-------------------------------------------------------------------------
 *
 * lock.h
 *	  pg_migrate's migration and registration locks, and the isolation and
 *	  read-only checks made before taking them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_LOCK_H
#define PGM_LOCK_H

extern void pgm_require_read_committed(const char *what);
extern void pgm_require_read_write(const char *what);
extern bool pgm_lock_migrations(const char *what, bool session, int wait_ms, bool skip_if_locked);
extern void pgm_unlock_migrations(void);
extern void pgm_lock_registrations(void);

#endif							/* PGM_LOCK_H */
