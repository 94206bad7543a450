/*-------------------------------------------------------------------------
 *
 * alembic.h
 *	  Alembic's alembic_version table: read, and kept in step.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_ALEMBIC_H
#define PGM_ALEMBIC_H

#include "postgres.h"

extern char *pgm_alembic_table_name(Oid table);
extern char **pgm_alembic_versions(Oid table, int *n);
extern Oid	pgm_alembic_check_table(void);
extern void pgm_alembic_sync(const char *scope);

#endif							/* PGM_ALEMBIC_H */
