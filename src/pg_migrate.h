/*-------------------------------------------------------------------------
 *
 * pg_migrate.h
 *	  Constants shared by every part of pg_migrate.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_MIGRATE_H
#define PG_MIGRATE_H

/*
 * The version state is keyed by a scope so that a later release can keep
 * separate state per target schema or migration stream; 1.0 uses one.
 */
#define PGM_DEFAULT_SCOPE	"default"

/*
 * Advisory lock keys (documented in the README, "Concurrency").  Key 1 is
 * 'pgmg' in ASCII; key 2 says what is serialised.  The two-int4 form of the
 * advisory lock functions cannot collide with the bigint form.
 */
#define PGM_LOCK_CLASS		0x70676d67
#define PGM_LOCK_MIGRATE	1	/* upgrade, downgrade, stamp */
#define PGM_LOCK_REGISTER	2	/* migrate_revision, migrate_new, migrate_merge */

/* Longest revision id or branch label accepted (also a CHECK in the catalog) */
#define PGM_MAX_ID_LEN		128

#endif							/* PG_MIGRATE_H */
