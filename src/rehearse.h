/*-------------------------------------------------------------------------
 *
 * rehearse.h
 *	  A plan run statement by statement on the real database, in a
 *	  subtransaction that is always rolled back, and what each statement
 *	  did: its locks, rewrites, full scans, the sessions it blocked.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_REHEARSE_H
#define PGM_REHEARSE_H

#include "catalog.h"
#include "graph.h"
#include "plan.h"
#include "datatype/timestamp.h"
#include "storage/lockdefs.h"

/* A relation a statement locked, rewrote or scanned */
typedef struct PgmRelFact
{
	Oid			relid;
	char	   *name;			/* schema-qualified */
	LOCKMODE	mode;			/* the strongest mode the statement added */
	int64		size_bytes;
	double		rows_estimate;
	bool		created;		/* made by the rehearsal itself */
	int64		seq_tup_read;	/* for a full scan */
} PgmRelFact;

/* What the parse tree says, before the statement runs */
typedef struct PgmStmtShape
{
	bool		create_index;	/* CREATE INDEX without CONCURRENTLY */
	bool		add_column_default; /* ALTER TABLE ... ADD COLUMN ... DEFAULT expr */
	bool		add_column_not_null_no_default;
	bool		add_enum_value; /* ALTER TYPE ... ADD VALUE */
	char	   *views_on_dropped_column;	/* views using a column it drops, or NULL */
	Oid			target;			/* the table it locks by name, or InvalidOid */
	LOCKMODE	target_mode;	/* the mode it asks for, held already or not */
} PgmStmtShape;

/* One statement of the rehearsal, and its findings */
typedef struct PgmStmtFacts
{
	int			step;			/* 1-based in the plan */
	const char *revision;
	int			statement;		/* 1-based in the revision's SQL; 0: the whole step */
	char	   *sql;
	bool		rehearsable;
	double		duration_ms;
	TimestampTz started;
	int			stmt_ms;		/* the statement timeout it ran under (0: none) */
	int			nlocks;
	PgmRelFact *locks;
	int			nrewrote;
	PgmRelFact *rewrote;
	int			nscans;
	PgmRelFact *scans;
	int			nholds;			/* tables held, after it, in a mode that blocks writes */
	PgmRelFact *holds;
	char	   *blocked;		/* JSON array */
	int64		rows;
	char	   *sqlstate;		/* NULL: it ran */
	char	   *error;
	PgmStmtShape shape;
	/* filled in by hazards.c */
	int			nhazards;
	const char *hazards[16];
	const char *suggestions[16];
} PgmStmtFacts;

typedef struct PgmRehearsal
{
	int			n;
	int			cap;
	PgmStmtFacts *items;
} PgmRehearsal;

extern void pgm_rehearse(PgmGraph *g, PgmPlan *plan, PgmStepInfo *infos, PgmRehearsal *out);

#endif							/* PGM_REHEARSE_H */
