/*-------------------------------------------------------------------------
 *
 * hazards.h
 *	  The hazards of a rehearsed statement, judged from what it really did
 *	  on the real database, and a safe rewrite for each.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_HAZARDS_H
#define PGM_HAZARDS_H

#include "rehearse.h"

extern void pgm_judge_hazards(PgmStmtFacts *s);

#endif							/* PGM_HAZARDS_H */
