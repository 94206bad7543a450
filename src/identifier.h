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
 * What an identifier names: 'revs', or with 'is_base' the empty state
 * ("base").  'anchor' is the revision that a "branch@" prefix (or, for a
 * bare -N, the applied head walked from) stands for, -1 if none: a
 * downgrade only removes what shares lineage with it (Alembic's
 * _collect_downgrade_revisions).  'branch' is the revision a "branch@"
 * prefix stands for (its label's declaring revision), -1 without one: a
 * stamp moves the version rows in line with it (Alembic's _stamp_revs).
 */
typedef struct PgmTarget
{
	PgmIdxList	revs;
	bool		is_base;
	int			anchor;
	int			branch;
} PgmTarget;

extern void pgm_check_name(const char *name, const char *what);
extern bool pgm_is_reserved_word(const char *name);
extern PgmTarget pgm_resolve(PgmGraph *g, const char *ident, PgmIdxList current);
extern void pgm_check_direction(const char *ident, bool upgrade);
extern int	pgm_resolve_single(PgmGraph *g, const char *ident, PgmIdxList current);
extern char *pgm_format_ids(PgmGraph *g, const int *idx, int n);
extern bool *pgm_resolve_range(PgmGraph *g, const char *range, PgmIdxList current,
								 PgmIdxList *top);

#endif							/* PGM_IDENTIFIER_H */
