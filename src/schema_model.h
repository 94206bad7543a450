/*-------------------------------------------------------------------------
 *
 * schema_model.h
 *	  The managed schemas read from the catalog into a normalized model,
 *	  and its fingerprint.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_SCHEMA_MODEL_H
#define PGM_SCHEMA_MODEL_H

#include "postgres.h"

#include "lib/stringinfo.h"

/* One object: what it is, which one, and its canonical definition */
typedef struct PgmSchemaObject
{
	char	   *kind;			/* "table", "column", "index", ... */
	char	   *identity;		/* schema-qualified, quoted where needed */
	char	   *definition;
} PgmSchemaObject;

/* Objects sorted by (kind, identity), bytewise */
typedef struct PgmSchemaModel
{
	int			n;
	PgmSchemaObject *objects;
} PgmSchemaModel;

/* An object that differs between two snapshots */
typedef struct PgmDigestChange
{
	char	   *object;			/* "kind identity" */
	const char *change;			/* "added", "removed" or "changed" */
} PgmDigestChange;

/* Length of a fingerprint: SHA-256 in hex, and its NUL */
#define PGM_FINGERPRINT_LEN 65

extern Oid *pgm_schema_oids(char **names, int nnames, int *n);
extern PgmSchemaModel pgm_schema_model_read(const Oid *schemas, int nschemas);
extern void pgm_schema_fingerprint(const Oid *schemas, int nschemas, char *out,
								   StringInfo digests);

extern void pgm_schema_model_hold(void);
extern void pgm_schema_model_release(void);
extern PgmDigestChange *pgm_schema_digest_diff(const char *now, const char *then, int *n);

#endif							/* PGM_SCHEMA_MODEL_H */
