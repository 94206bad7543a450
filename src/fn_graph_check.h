/*-------------------------------------------------------------------------
 *
 * fn_graph_check.h
 *	  Validating the revision graph once it is complete: at the first call
 *	  that reads it, or at commit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_FN_GRAPH_CHECK_H
#define PGM_FN_GRAPH_CHECK_H

/* A revision named a revision not registered yet: check at commit */
extern void pgm_graph_check_later(void);

#endif							/* PGM_FN_GRAPH_CHECK_H */
