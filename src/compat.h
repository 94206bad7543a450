/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  The one place that knows about differences between PostgreSQL 13 to
 *	  17: every #if PG_VERSION_NUM of pg_migrate is here.  Only the 15 side
 *	  is compiled by the test suite; the others mirror the server's own
 *	  APIs of those releases.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_COMPAT_H
#define PGM_COMPAT_H

#include "postgres.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "utils/guc.h"

/* MarkGUCPrefixReserved replaced EmitWarningsOnPlaceholders in 15 */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/*
 * Commit in a procedure.  SPI_commit() starts the next transaction itself
 * from 15 on; before, SPI_start_transaction() did.
 */
#if PG_VERSION_NUM >= 150000
#define pgm_spi_commit()	SPI_commit()
#define pgm_spi_rollback()	SPI_rollback()
#else
#define pgm_spi_commit()	(SPI_commit(), SPI_start_transaction())
#define pgm_spi_rollback()	(SPI_rollback(), SPI_start_transaction())
#endif

/* pg_analyze_and_rewrite() was renamed ..._fixedparams() in 15 */
#if PG_VERSION_NUM < 150000
#define pg_analyze_and_rewrite_fixedparams(tree, sql, types, ntypes, env) \
	pg_analyze_and_rewrite((tree), (sql), (types), (ntypes), (env))
#endif

/*
 * Is a REINDEX CONCURRENTLY?  From 14 on the option is one of the
 * statement's params; in 13 it is a field.
 */
static inline bool
pgm_reindex_is_concurrent(ReindexStmt *stmt)
{
#if PG_VERSION_NUM >= 140000
	ListCell   *lc;

	foreach(lc, stmt->params)
	{
		DefElem    *opt = (DefElem *) lfirst(lc);

		if (strcmp(opt->defname, "concurrently") == 0)
			return defGetBoolean(opt);
	}
	return false;
#else
	return stmt->concurrent;
#endif
}

/*
 * get_extension_schema() is exported from 16 on; before, scan pg_extension
 * as it does.
 */
#if PG_VERSION_NUM >= 160000
#include "commands/extension.h"
#define pgm_extension_schema(ext)	get_extension_schema(ext)
#else
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

static inline Oid
pgm_extension_schema(Oid ext)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(ext));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}
#endif

/*
 * SHA-256 of a stream: the cryptohash API from 14 on (its final() took no
 * length before 15), pg_sha256_* before.
 */
#if PG_VERSION_NUM >= 140000
#include "common/cryptohash.h"
#include "common/sha2.h"
typedef pg_cryptohash_ctx *PgmSha256;

static inline void
pgm_sha256_init(PgmSha256 *ctx)
{
	*ctx = pg_cryptohash_create(PG_SHA256);
	if (*ctx == NULL || pg_cryptohash_init(*ctx) < 0)
		elog(ERROR, "could not initialize a SHA-256 context");
}

static inline void
pgm_sha256_update(PgmSha256 *ctx, const uint8 *data, size_t len)
{
	if (pg_cryptohash_update(*ctx, data, len) < 0)
		elog(ERROR, "could not update a SHA-256 context");
}

static inline void
pgm_sha256_final(PgmSha256 *ctx, uint8 *digest)
{
#if PG_VERSION_NUM >= 150000
	int			rc = pg_cryptohash_final(*ctx, digest, PG_SHA256_DIGEST_LENGTH);
#else
	int			rc = pg_cryptohash_final(*ctx, digest);
#endif

	pg_cryptohash_free(*ctx);
	if (rc < 0)
		elog(ERROR, "could not finish a SHA-256 context");
}
#else
#include "common/sha2.h"
typedef pg_sha256_ctx PgmSha256;
#define pgm_sha256_init(ctx) pg_sha256_init(ctx)
#define pgm_sha256_update(ctx, data, len) pg_sha256_update((ctx), (data), (len))
#define pgm_sha256_final(ctx, digest) pg_sha256_final((ctx), (digest))
#endif

/* raw_parser() took a parse mode from 14 on */
#if PG_VERSION_NUM >= 140000
#define pgm_raw_parser(str) raw_parser((str), RAW_PARSE_DEFAULT)
#else
#define pgm_raw_parser(str) raw_parser(str)
#endif

/*
 * Forget the transaction's snapshot of the other backends' activity
 * (pg_stat_activity), so that the next read sees them as they are now.
 */
#if PG_VERSION_NUM >= 150000
#include "utils/backend_status.h"
#define pgm_forget_activity_snapshot() pgstat_clear_backend_activity_snapshot()
#else
#include "pgstat.h"
#define pgm_forget_activity_snapshot() pgstat_clear_snapshot()
#endif

#endif							/* PGM_COMPAT_H */
