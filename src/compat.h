/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  The one place that knows about differences between PostgreSQL 13 to 17.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_COMPAT_H
#define PGM_COMPAT_H

#include "postgres.h"
#include "utils/guc.h"

/* MarkGUCPrefixReserved replaced EmitWarningsOnPlaceholders in 15 */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

#endif							/* PGM_COMPAT_H */
