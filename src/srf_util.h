/*-------------------------------------------------------------------------
 *
 * srf_util.h
 *	  Small helpers for returning rows and arrays from C functions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_SRF_UTIL_H
#define PGM_SRF_UTIL_H

#include "postgres.h"
#include "fmgr.h"
#include "utils/tuplestore.h"

typedef struct PgmSrf
{
	Tuplestorestate *store;
	TupleDesc	desc;
} PgmSrf;

extern PgmSrf pgm_srf_begin(FunctionCallInfo fcinfo);
extern Datum pgm_text_array(char **items, int n);
extern char **pgm_array_cstrings(Datum array, int *n);
extern char *pgm_arg_text(FunctionCallInfo fcinfo, int argno, const char *argname);
extern int	pgm_interval_ms(Datum interval, const char *argname);
extern int	pgm_arg_interval_ms(FunctionCallInfo fcinfo, int argno, const char *argname);
extern bool pgm_arg_bool(FunctionCallInfo fcinfo, int argno, const char *argname);
extern char **pgm_arg_text_array(FunctionCallInfo fcinfo, int argno, const char *argname, int *n);

#endif							/* PGM_SRF_UTIL_H */
