/*-------------------------------------------------------------------------
 *
 * entry.h
 *	  The one prologue of the SQL-callable functions, and its epilogue.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_ENTRY_H
#define PGM_ENTRY_H

#include "graph.h"
#include "plan.h"

/* What pgm_enter() checks, takes and loads */
#define PGM_ENTER_READ			0x00	/* read-only: no lock, read-only SPI */
#define PGM_ENTER_WRITE			0x01	/* READ COMMITTED, read-write SPI */
#define PGM_ENTER_READ_WRITE	0x02	/* ... and not in a read-only xact */
#define PGM_ENTER_MIGRATE		0x04	/* ... and the migration lock */
#define PGM_ENTER_REGISTER		0x08	/* WRITE and the registration lock */
#define PGM_ENTER_NONATOMIC		0x10	/* SPI for a procedure that commits */
#define PGM_ENTER_GRAPH			0x20	/* load the revision graph */
#define PGM_ENTER_HEADS			0x40	/* ... and the applied heads */
#define PGM_ENTER_STATE			0x80	/* ... and the version state */

/* What pgm_enter() loaded */
typedef struct PgmEntry
{
	PgmGraph   *g;
	PgmIdxList	heads;
	PgmState	st;
} PgmEntry;

extern void pgm_refuse_reentry(const char *what);
extern PgmEntry pgm_enter(const char *what, int flags);
extern void pgm_enter_load(PgmEntry *e, int flags);
extern void pgm_leave(void);

#endif							/* PGM_ENTRY_H */
