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

/*
 * The schema of pg_migrate's own tables from 1.1 on, created and owned by
 * the extension (pg_migrate--1.1.sql says why).  A 1.0 catalog, served by
 * this library until ALTER EXTENSION UPDATE runs, is in the extension's
 * schema instead.
 */
#define PGM_CATALOG_SCHEMA	"pgmigrate"

/*
 * Most blocking sessions a step's lock timeout reports (the lock watchdog
 * keeps at most this many; migrate_log.blockers describes them).
 */
#define PGM_MAX_BLOCKERS	32

/* Longest revision id or branch label accepted (also a CHECK in the catalog) */
#define PGM_MAX_ID_LEN		128

#endif							/* PG_MIGRATE_H */
