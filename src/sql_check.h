/*-------------------------------------------------------------------------
 *
 * sql_check.h
 *	  Looks at migration SQL when it is registered.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_SQL_CHECK_H
#define PGM_SQL_CHECK_H

extern void pgm_check_migration_sql(const char *revision, const char *which, const char *sql,
									bool transactional);

#endif							/* PGM_SQL_CHECK_H */
