/*-------------------------------------------------------------------------
 *
 * subxact.h
 *	  Closing an internal subtransaction opened around code that may fail,
 *	  the way PL/pgSQL's exception blocks do: the caller saves
 *	  CurrentMemoryContext and CurrentResourceOwner, calls
 *	  pgm_subxact_begin(), and ends the PG_TRY with one of the others.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_SUBXACT_H
#define PGM_SUBXACT_H

#include "access/xact.h"
#include "utils/elog.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

/*
 * Before the PG_TRY block: open the subtransaction and go on allocating in
 * the caller's context (oldcxt, saved with CurrentResourceOwner before).
 */
static inline void
pgm_subxact_begin(MemoryContext oldcxt)
{
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
}

/* At the end of the PG_TRY block: keep what the subtransaction did */
static inline void
pgm_subxact_release(MemoryContext oldcxt, ResourceOwner oldowner)
{
	ReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
}

/*
 * In the PG_CATCH block: take the error out of the error state (copied into
 * oldcxt), roll the subtransaction back and return the error to the caller.
 */
static inline ErrorData *
pgm_subxact_abort(MemoryContext oldcxt, ResourceOwner oldowner)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(oldcxt);
	edata = CopyErrorData();
	FlushErrorState();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	return edata;
}

#endif							/* PGM_SUBXACT_H */
