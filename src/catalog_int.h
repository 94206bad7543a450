/*-------------------------------------------------------------------------
 *
 * catalog_int.h
 *	  The catalog layer's session and statement helpers (catalog.c), for
 *	  the files that run statements of their own in it: catalog_graph.c,
 *	  catalog_plan.c, alembic.c and run_log.c.  Not for the layers above.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_CATALOG_INT_H
#define PGM_CATALOG_INT_H

#include "postgres.h"
#include "access/htup.h"
#include "access/tupdesc.h"

#include "graph.h"

/* rows per cursor fetch when reading much of the catalog */
#define PGM_FETCH_BATCH 4096

/* catalog.c */
extern const char *pgm_catalog_ext_schema(void);
extern bool pgm_catalog_read_only(void);
extern Oid	pgm_catalog_extension(void);
extern void pgm_catalog_run(const char *sql, int nargs, Oid *types, Datum *values,
							const char *nulls, int expect);
extern char *pgm_catalog_getstr(HeapTuple tup, TupleDesc desc, int col);

/* catalog_graph.c */
extern MemoryContext pgm_catalog_graph_memory(PgmGraph *g);
extern uint64 pgm_catalog_graph_generation(void);

#endif							/* PGM_CATALOG_INT_H */
