/*-------------------------------------------------------------------------
 *
 * catalog_verify.h
 *	  What migrate_verify reads from pg_migrate's catalog: the checksums
 *	  applied revisions ran with, the last recorded fingerprint and its
 *	  snapshot, and how two snapshots differ.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_CATALOG_VERIFY_H
#define PGM_CATALOG_VERIFY_H

#include "graph.h"
#include "plan.h"

/* One row of migrate_verify */
typedef struct PgmFinding
{
	const char *check;			/* "checksum" or "drift" */
	const char *status;
	const char *object;			/* NULL for a summary row */
	const char *detail;
} PgmFinding;

typedef struct PgmFindings
{
	int			n;
	int			cap;
	PgmFinding *items;
} PgmFindings;

/* The last log row that recorded a fingerprint */
typedef struct PgmFingerprintRecord
{
	int64		log_id;
	char	   *fingerprint;
	char	   *revision;
	char	   *direction;
	int64		steps_since;	/* upgrade and downgrade steps logged after it */
	char	   *snapshot;		/* its migrate_schema_snapshots.objects, or NULL */
} PgmFingerprintRecord;

extern void pgm_findings_add(PgmFindings *f, const char *check, const char *status,
							 const char *object, const char *detail);
extern void pgm_catalog_verify_checksums(PgmGraph *g, PgmState *st, PgmFindings *f);
extern bool pgm_catalog_last_fingerprint(PgmFingerprintRecord *rec);

#endif							/* PGM_CATALOG_VERIFY_H */
