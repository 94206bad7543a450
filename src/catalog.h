/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  All SPI access to pg_migrate's own tables.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_CATALOG_H
#define PGM_CATALOG_H

#include "datatype/timestamp.h"

#include "graph.h"

/* One row of migrate_revisions, as C strings */
typedef struct PgmRevisionRow
{
	char	   *revision;
	int			nparents;
	char	  **parents;
	int			ndeps;
	char	  **deps;
	int			nlabels;
	char	  **labels;
	char	   *message;
	char	   *upgrade_sql;
	char	   *downgrade_sql;	/* NULL: irreversible */
	/* filled in by pgm_catalog_fetch_revision only */
	char	   *checksum;
	Datum		registered_by;	/* name */
	Datum		registered_at;	/* timestamptz */
} PgmRevisionRow;

extern void pgm_catalog_connect(bool read_only);
extern void pgm_catalog_finish(void);
extern const char *pgm_catalog_schema(void);

extern PgmGraph *pgm_catalog_load_graph(void);
extern PgmIdxList pgm_catalog_load_heads(PgmGraph *g, const char *scope);

extern bool pgm_catalog_revision_exists(const char *id);
extern char *pgm_catalog_label_owner(const char *label);
extern bool pgm_catalog_fetch_revision(const char *id, PgmRevisionRow *row);
extern bool pgm_catalog_insert_revision(const PgmRevisionRow *row);
extern const char *pgm_catalog_first_irreversible(PgmGraph *g, PgmIdxList revs);
extern char *pgm_catalog_step_sql(const char *id, bool upgrade);

extern void pgm_catalog_add_head(const char *scope, const char *id);
extern void pgm_catalog_remove_head(const char *scope, const char *id);
extern void pgm_catalog_log(const char *scope, const char *id, const char *direction,
							TimestampTz started, TimestampTz finished);

#endif							/* PGM_CATALOG_H */
