/*-------------------------------------------------------------------------
 *
 * srf_util.c
 *	  Materialized set-returning functions, text arrays, and the argument
 *	  checks every entry point shares.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "srf_util.h"

/*
 * Set up materialize mode (what InitMaterializedSRF does from 15 on, written
 * out so that 13 and 14 build too).  The store lives in per-query memory, so
 * rows may be added while SPI is connected.
 */
PgmSrf
pgm_srf_begin(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcxt;
	PgmSrf		srf;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));

	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &srf.desc) != TYPEFUNC_COMPOSITE)
	{
		/* SETOF text */
		srf.desc = CreateTemplateTupleDesc(1);
		TupleDescInitEntry(srf.desc, (AttrNumber) 1, "value", TEXTOID, -1, 0);
	}
	srf.desc = BlessTupleDesc(CreateTupleDescCopy(srf.desc));
	srf.store = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = srf.store;
	rsinfo->setDesc = srf.desc;
	MemoryContextSwitchTo(oldcxt);
	return srf;
}

Datum
pgm_text_array(char **items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* A one-dimensional text[] without NULLs, as C strings */
char **
pgm_array_cstrings(Datum array, int *n)
{
	ArrayType  *arr = DatumGetArrayTypeP(array);
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("array must be one-dimensional")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
	out = palloc(sizeof(char *) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("array must not contain nulls")));
		out[i] = TextDatumGetCString(elems[i]);
	}
	return out;
}

/* A required text argument: NULL is an error (22004), never a NULL result */
char *
pgm_arg_text(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname)));
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* A required text[] argument; NULL elements are errors too */
char **
pgm_arg_text_array(FunctionCallInfo fcinfo, int argno, const char *argname, int *n)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname)));
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(argno);

		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("%s must be a one-dimensional array", argname)));
		if (array_contains_nulls(arr))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain nulls", argname)));
	}
	return pgm_array_cstrings(PG_GETARG_DATUM(argno), n);
}

/*
 * An interval as whole milliseconds, rounded up (so that 1 microsecond is
 * still a timeout), capped at INT_MAX; negative intervals are errors.
 */
int
pgm_interval_ms(Datum interval, const char *argname)
{
	Interval   *iv = DatumGetIntervalP(interval);
	double		us = (double) iv->time +
		((double) iv->day + (double) iv->month * DAYS_PER_MONTH) * USECS_PER_DAY;

	if (us < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be negative", argname)));
	if (us / 1000.0 >= (double) INT_MAX)
		return INT_MAX;
	return (int) ((us + 999) / 1000);
}

/* An optional interval argument in milliseconds, -1 when NULL */
int
pgm_arg_interval_ms(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		return -1;
	return pgm_interval_ms(PG_GETARG_DATUM(argno), argname);
}

bool
pgm_arg_bool(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname)));
	return PG_GETARG_BOOL(argno);
}
