/*-------------------------------------------------------------------------
 *
 * codec.h
 *	  The one encoding of the records a background task is handed: fields
 *	  as NUL-terminated strings one after the other, a lone \x01 standing
 *	  for NULL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_CODEC_H
#define PGM_CODEC_H

#include "postgres.h"
#include "lib/stringinfo.h"

#define PGM_CODEC_NULL "\x01"

/* Append one field (NULL allowed) */
static inline void
pgm_codec_put(StringInfo buf, const char *value)
{
	appendStringInfoString(buf, value ? value : PGM_CODEC_NULL);
	appendStringInfoChar(buf, '\0');
}

/* Append an integer field */
static inline void
pgm_codec_put_int(StringInfo buf, int64 value)
{
	appendStringInfo(buf, INT64_FORMAT, value);
	appendStringInfoChar(buf, '\0');
}

/* The field at *p (NULL for the NULL mark), moving *p past it */
static inline const char *
pgm_codec_get(const char **p)
{
	const char *v = *p;

	*p += strlen(v) + 1;
	return strcmp(v, PGM_CODEC_NULL) == 0 ? NULL : v;
}

static inline int64
pgm_codec_get_int(const char **p)
{
	const char *v = pgm_codec_get(p);

	return v ? strtoll(v, NULL, 10) : 0;
}

#endif							/* PGM_CODEC_H */
