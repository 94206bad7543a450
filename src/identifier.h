/*-------------------------------------------------------------------------
 *
 * identifier.h
 *	  Revision ids, branch labels, and Alembic's identifier grammar.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_IDENTIFIER_H
#define PGM_IDENTIFIER_H

#include "graph.h"

/*
 * What an identifier names.  'revs' are revisions; 'is_base' means the
 * empty state ("base"); 'below' lists revisions whose branch is named down
 * to nothing (label@base, or a relative walk that stepped off a base): a
 * downgrade removes them and everything above them.
 */
typedef struct PgmTarget
{
	PgmIdxList	revs;
	PgmIdxList	below;
	bool		is_base;
} PgmTarget;

extern void pgm_check_name(const char *name, const char *what);
extern bool pgm_is_reserved_word(const char *name);
extern PgmTarget pgm_resolve(PgmGraph *g, const char *ident, PgmIdxList current);
extern int	pgm_resolve_single(PgmGraph *g, const char *ident, PgmIdxList current);
extern char *pgm_format_ids(PgmGraph *g, const int *idx, int n);

#endif							/* PGM_IDENTIFIER_H */
