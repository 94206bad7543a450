/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  All SPI access to pg_migrate's own tables (catalog.c,
 *	  catalog_graph.c, catalog_plan.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_CATALOG_H
#define PGM_CATALOG_H

#include "datatype/timestamp.h"

#include "graph.h"
#include "plan.h"

/* One attempt of one step, or one revision stamped */
typedef struct PgmLogRow
{
	int64		run_id;
	const char *scope;
	const char *revision;
	const char *direction;		/* upgrade, downgrade, stamp, unstamp */
	int			attempt;
	const char *outcome;		/* success, failed, retry */
	TimestampTz started;
	TimestampTz finished;
	bool		with_txid;		/* record pg_current_xact_id() (committed work) */
	/* who: the session that ran the step, not the one that writes the row */
	const char *role;
	const char *session_role;
	int			pid;
	/* what went wrong, for failed and retry rows */
	const char *sqlstate;
	const char *message;
	const char *detail;
	int			position;		/* 0: none */
	const char *blockers;		/* JSON array text, or NULL */
	const char *fingerprint;	/* the schema's after a successful step, or NULL */
	const char *reason;			/* why, for a repair row */
} PgmLogRow;

/* What the apply engine needs to run one step */
typedef struct PgmStepInfo
{
	char	   *sql;
	int			sql_len;		/* strlen(sql) */
	int			lock_timeout_ms;	/* -1: not set for this revision */
	int			statement_timeout_ms;
	bool		transactional;
	bool		allow_rewrite;	/* 'rewrite' in its allow_hazards */
} PgmStepInfo;

/* One row of migrate_revisions, as C strings */
typedef struct PgmRevisionRow
{
	char	   *revision;
	int			nparents;
	char	  **parents;
	int			ndeps;
	char	  **deps;
	int			nlabels;
	char	  **labels;
	char	   *message;
	char	   *upgrade_sql;
	char	   *downgrade_sql;	/* NULL: irreversible */
	bool		has_lock_timeout;
	Datum		lock_timeout;	/* interval */
	bool		has_statement_timeout;
	Datum		statement_timeout;	/* interval */
	bool		transactional;
	int			nallow;			/* allow_hazards: hazards it may cause while it runs */
	char	  **allow;
	/* filled in by pgm_catalog_fetch_revision only */
	char	   *checksum;
	Datum		registered_by;	/* name */
	Datum		registered_at;	/* timestamptz */
} PgmRevisionRow;

/* catalog.c: the session, and single-row statements */
extern void pgm_catalog_connect(bool read_only);
extern void pgm_catalog_connect_nonatomic(void);
extern void pgm_catalog_commit(void);
extern void pgm_catalog_after_failed_commit(void);
extern void pgm_catalog_rollback(void);
extern void pgm_catalog_finish(void);
extern const char *pgm_catalog_schema(void);
extern bool pgm_catalog_is_1_1(void);

extern PgmIdxList pgm_catalog_load_heads(PgmGraph *g, const char *scope);

extern bool pgm_catalog_revision_exists(const char *id);
extern char *pgm_catalog_label_owner(const char *label);
extern bool pgm_catalog_fetch_revision(const char *id, PgmRevisionRow *row);
extern bool pgm_catalog_insert_revision(const PgmRevisionRow *row);
extern int64 pgm_catalog_new_run(void);

extern void pgm_catalog_add_head(const char *scope, const char *id);
extern void pgm_catalog_remove_head(const char *scope, const char *id);
extern void pgm_catalog_write_heads(PgmGraph *g, const PgmHeadChange *ch, const char *scope);
extern void pgm_catalog_log(const PgmLogRow *row);
extern bool pgm_catalog_save_snapshot(const char *fingerprint, const char *objects_json);

/* catalog_graph.c */
extern PgmGraph *pgm_catalog_load_graph(void);

/* catalog_plan.c */
extern PgmStepInfo *pgm_catalog_plan_infos(PgmGraph *g, PgmIdxList steps, bool upgrade);

#endif							/* PGM_CATALOG_H */
