/*-------------------------------------------------------------------------
 *
 * rehearse.c
 *	  migrate_rehearse's engine: the pending plan run statement by
 *	  statement on the real database, in a subtransaction that is always
 *	  rolled back, with what each statement really did.
 *
 * Per statement:
 *  - the locks it took: this backend's relation locks (GetLockStatusData)
 *	  after it, less those held before; the strongest mode it added;
 *  - the relations it rewrote: a table that existed before the rehearsal
 *	  whose relfilenode changed (the map of every relation's relfilenode is
 *	  read once, at the start);
 *  - the relations it read in full under a lock that blocks writes: the
 *	  growth of pg_stat_xact_user_tables' seq_scan while it ran (the
 *	  counters are read for every relation at the start: they also hold
 *	  what earlier transactions of this backend have not reported yet);
 *  - the sessions waiting for a lock this backend holds, when it holds one
 *	  that blocks writes (pg_blocking_pids);
 *  - its duration, the rows it processed, its error.
 * Then hazards.c judges each statement from these facts.  A step is
 * judged as if it ran in a transaction of its own, as CALL migrate_apply
 * runs it: the locks earlier steps took are still held here (they cannot
 * be let go without undoing their work), but they do not count against it.
 *
 * The first error ends the rehearsal: later statements would run on a
 * state no real run reaches.  A non-transactional revision cannot run in
 * the subtransaction: it is reported as not rehearsable and the rehearsal
 * goes on, so that later steps that need what it makes fail visibly.
 * Nothing persists: not the schema, the data, the version state (which is
 * not even moved) nor the log; sequences are the exception (nextval is
 * never rolled back).  Statements run with pg_migrate.rehearse_lock_timeout
 * and pg_migrate.rehearse_statement_timeout, or the revision's own
 * timeouts where these are lower.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/tablecmds.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "storage/bufmgr.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "hazards.h"
#include "pg_migrate.h"
#include "rehearse.h"
#include "settings.h"
#include "step.h"
#include "subxact.h"

/* What the rehearsal remembers of a relation between statements */
typedef struct RelState
{
	Oid			relid;			/* hash key */
	Oid			relfilenode;
	bool		existed;		/* in the map read at the start */
	int64		numscans;		/* pg_stat_get_xact_numscans when last seen */
	int64		tuples;			/* pg_stat_get_xact_tuples_returned */
} RelState;

/* One relation lock of this backend */
typedef struct HeldLock
{
	Oid			relid;
	LOCKMASK	mask;
} HeldLock;

typedef struct HeldLocks
{
	int			n;
	HeldLock   *items;
} HeldLocks;

/* Every relation's relfilenode now, before anything runs */
static HTAB *
read_relfilenodes(void)
{
	HASHCTL		ctl;
	HTAB	   *h;
	int			rc;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(RelState);
	ctl.hcxt = CurrentMemoryContext;
	h = hash_create("pg_migrate rehearsal relations", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	rc = SPI_execute("SELECT c.oid, c.relfilenode FROM pg_catalog.pg_class c"
					 " WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,m,t,p,f}'::pg_catalog.\"char\"[])"
					 "   AND c.oid OPERATOR(pg_catalog.>=) 16384",
					 true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed reading relfilenodes: %s", SPI_result_code_string(rc));
	for (uint64 k = 0; k < SPI_processed; k++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 1, &isnull));
		RelState   *st = hash_search(h, &relid, HASH_ENTER, NULL);

		st->relfilenode = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 2, &isnull));
		st->existed = true;

		/*
		 * The scan counters as they stand: they hold what this backend has
		 * not reported yet, which can include transactions before this one
		 */
		st->numscans = DatumGetInt64(DirectFunctionCall1(pg_stat_get_xact_numscans, ObjectIdGetDatum(relid)));
		st->tuples = DatumGetInt64(DirectFunctionCall1(pg_stat_get_xact_tuples_returned, ObjectIdGetDatum(relid)));
	}
	SPI_freetuptable(SPI_tuptable);
	return h;
}

static RelState *
rel_state(HTAB *h, Oid relid)
{
	bool		found;
	RelState   *st = hash_search(h, &relid, HASH_ENTER, &found);

	if (!found)
	{
		st->relfilenode = InvalidOid;
		st->existed = false;
		st->numscans = 0;
		st->tuples = 0;
	}
	return st;
}

/* This backend's locks on relations of this database, one entry per relation */
static HeldLocks
my_locks(void)
{
	LockData   *ld = GetLockStatusData();
	HeldLocks	out = {0, palloc(sizeof(HeldLock) * Max(ld->nelements, 1))};

	for (int i = 0; i < ld->nelements; i++)
	{
		LockInstanceData *l = &ld->locks[i];
		Oid			relid;
		int			j;

		if (l->pid != MyProcPid || l->holdMask == 0 ||
			l->locktag.locktag_type != LOCKTAG_RELATION ||
			l->locktag.locktag_field1 != MyDatabaseId)
			continue;
		relid = l->locktag.locktag_field2;
		for (j = 0; j < out.n; j++)
			if (out.items[j].relid == relid)
				break;
		if (j == out.n)
		{
			out.items[out.n].relid = relid;
			out.items[out.n].mask = 0;
			out.n++;
		}
		out.items[j].mask |= l->holdMask;
	}
	return out;
}

static LOCKMASK
held_mask(const HeldLocks *h, Oid relid)
{
	for (int i = 0; i < h->n; i++)
		if (h->items[i].relid == relid)
			return h->items[i].mask;
	return 0;
}

/* Note that a relation was asked for in 'mask' (a HeldLocks with room) */
static void
add_mask(HeldLocks *h, Oid relid, LOCKMASK mask)
{
	for (int i = 0; i < h->n; i++)
		if (h->items[i].relid == relid)
		{
			h->items[i].mask |= mask;
			return;
		}
	h->items = h->items ? repalloc(h->items, sizeof(HeldLock) * (h->n + 1)) : palloc(sizeof(HeldLock));
	h->items[h->n].relid = relid;
	h->items[h->n].mask = mask;
	h->n++;
}

static LOCKMODE
strongest(LOCKMASK m)
{
	for (LOCKMODE mode = AccessExclusiveLock; mode > NoLock; mode--)
		if (m & LOCKBIT_ON(mode))
			return mode;
	return NoLock;
}

/* A user's table (not a catalog, not pg_migrate's own, not an index) */
static bool
reportable(Oid relid, Oid pgm_nsp)
{
	char		kind;

	if (relid < FirstNormalObjectId)
		return false;
	kind = get_rel_relkind(relid);
	if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE &&
		kind != RELKIND_MATVIEW && kind != RELKIND_FOREIGN_TABLE)
		return false;
	return get_rel_namespace(relid) != pgm_nsp;
}

/* Name, size, row estimate and relfilenode of a relation the statement holds */
static void
describe(Oid relid, PgmRelFact *f, Oid *relfilenode)
{
	Relation	rel = relation_open(relid, NoLock);

	f->relid = relid;
	f->name = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
										 RelationGetRelationName(rel));
	f->size_bytes = RELKIND_HAS_STORAGE(rel->rd_rel->relkind) ?
		(int64) RelationGetNumberOfBlocks(rel) * BLCKSZ : 0;
	f->rows_estimate = rel->rd_rel->reltuples;
	*relfilenode = rel->rd_rel->relfilenode;
	relation_close(rel, NoLock);
}

/* The views that use a column, as one text, or NULL */
static char *
views_using_column(Oid relid, AttrNumber attnum)
{
	Oid			types[2] = {OIDOID, INT4OID};
	Datum		values[2] = {ObjectIdGetDatum(relid), Int32GetDatum(attnum)};
	char	   *result = NULL;
	int			rc;

	rc = SPI_execute_with_args("SELECT pg_catalog.string_agg(DISTINCT v.oid::pg_catalog.regclass::pg_catalog.text, ', ')"
							   " FROM pg_catalog.pg_depend d"
							   " JOIN pg_catalog.pg_rewrite r ON r.oid OPERATOR(pg_catalog.=) d.objid"
							   " JOIN pg_catalog.pg_class v ON v.oid OPERATOR(pg_catalog.=) r.ev_class"
							   " WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
							   "   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
							   "   AND d.refobjid OPERATOR(pg_catalog.=) $1"
							   "   AND d.refobjsubid OPERATOR(pg_catalog.=) $2"
							   "   AND v.oid OPERATOR(pg_catalog.<>) $1",
							   2, types, values, NULL, true, 0);
	if (rc == SPI_OK_SELECT && SPI_processed == 1)
		result = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/* What the parse tree says, looked up before the statement runs */
static PgmStmtShape
shape_of(Node *stmt)
{
	PgmStmtShape sh = {0};

	if (IsA(stmt, IndexStmt))
	{
		IndexStmt  *is = (IndexStmt *) stmt;

		sh.create_index = !is->concurrent;
		sh.target = RangeVarGetRelid(is->relation, NoLock, true);
		sh.target_mode = is->concurrent ? ShareUpdateExclusiveLock : ShareLock;
	}
	else if (IsA(stmt, LockStmt) && ((LockStmt *) stmt)->relations != NIL)
	{
		LockStmt   *ls = (LockStmt *) stmt;

		sh.target = RangeVarGetRelid(linitial_node(RangeVar, ls->relations), NoLock, true);
		sh.target_mode = ls->mode;
	}
	else if (IsA(stmt, AlterEnumStmt))
		sh.add_enum_value = ((AlterEnumStmt *) stmt)->newVal != NULL &&
			((AlterEnumStmt *) stmt)->oldVal == NULL;
	else if (IsA(stmt, AlterTableStmt))
	{
		AlterTableStmt *at = (AlterTableStmt *) stmt;
		ListCell   *lc;

		/* the lock ALTER TABLE itself computes for these subcommands */
		sh.target = RangeVarGetRelid(at->relation, NoLock, true);
		if (OidIsValid(sh.target))
			sh.target_mode = AlterTableGetLockLevel(at->cmds);

		foreach(lc, at->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

			if (cmd->subtype == AT_AddColumn && IsA(cmd->def, ColumnDef))
			{
				ColumnDef  *def = (ColumnDef *) cmd->def;
				bool		not_null = def->is_not_null;
				bool		has_default = def->raw_default != NULL;
				ListCell   *c;

				foreach(c, def->constraints)
				{
					Constraint *con = lfirst_node(Constraint, c);

					if (con->contype == CONSTR_NOTNULL || con->contype == CONSTR_PRIMARY)
						not_null = true;
					if (con->contype == CONSTR_DEFAULT)
						sh.add_column_default = true;
					if (con->contype == CONSTR_DEFAULT || con->contype == CONSTR_IDENTITY ||
						con->contype == CONSTR_GENERATED)
						has_default = true;
				}
				if (def->raw_default != NULL)
					sh.add_column_default = true;
				if (not_null && !has_default)
					sh.add_column_not_null_no_default = true;
			}
			else if (cmd->subtype == AT_DropColumn && cmd->name != NULL)
			{
				Oid			relid = RangeVarGetRelid(at->relation, NoLock, true);
				AttrNumber	attnum = OidIsValid(relid) ? get_attnum(relid, cmd->name) : InvalidAttrNumber;
				char	   *views = attnum > 0 ? views_using_column(relid, attnum) : NULL;

				if (views)
					sh.views_on_dropped_column = sh.views_on_dropped_column ?
						psprintf("%s, %s", sh.views_on_dropped_column, views) : views;
			}
		}
	}
	return sh;
}

/* Sessions waiting for a lock this backend holds, as a JSON array */
static char *
blocked_sessions(void)
{
	char	   *json = NULL;
	int			rc;

	/* pg_stat_activity is read once per transaction unless told otherwise */
	pgm_forget_activity_snapshot();
	rc = SPI_execute("SELECT pg_catalog.json_agg(pg_catalog.json_build_object("
								 "  'pid', a.pid, 'application_name', a.application_name,"
								 "  'wait_event_type', a.wait_event_type, 'query', a.query) ORDER BY a.pid)"
								 " FROM pg_catalog.pg_stat_activity a"
								 " WHERE pg_catalog.pg_backend_pid() OPERATOR(pg_catalog.=)"
								 "       ANY (pg_catalog.pg_blocking_pids(a.pid))",
								 true, 0);
	if (rc == SPI_OK_SELECT && SPI_processed == 1)
		json = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	SPI_freetuptable(SPI_tuptable);
	return json ? json : pstrdup("[]");
}

static PgmStmtFacts *
new_row(PgmRehearsal *out, int step, const char *revision, int statement, char *sql)
{
	PgmStmtFacts *s;

	if (out->n == out->cap)
	{
		out->cap = out->cap ? out->cap * 2 : 16;
		out->items = out->items ? repalloc(out->items, sizeof(PgmStmtFacts) * out->cap) :
			palloc(sizeof(PgmStmtFacts) * out->cap);
	}
	s = &out->items[out->n++];
	memset(s, 0, sizeof(*s));
	s->step = step;
	s->revision = revision;
	s->statement = statement;
	s->sql = sql;
	s->rehearsable = true;
	s->blocked = "[]";
	return s;
}

/* The lower of two timeouts, 0 and -1 meaning none */
static int
lower_timeout(int a, int b)
{
	if (a <= 0)
		return b > 0 ? b : 0;
	if (b <= 0)
		return a;
	return Min(a, b);
}

/*
 * After a statement: its locks, rewrites and full scans, from before and
 * after.  'locks' are the modes the statement added; the mode a relation is
 * held in, for rewrites, scans and hazards, counts the locks its revision
 * took (since step_start), not those of earlier steps: each step is judged
 * as if it ran in a transaction of its own, as CALL migrate_apply runs it.
 */
static void
observe(PgmStmtFacts *s, HTAB *rels, const HeldLocks *before, const HeldLocks *step_start,
		HeldLocks *asked, Oid pgm_nsp)
{
	HeldLocks	after = my_locks();
	bool		strong = false;

	s->locks = palloc(sizeof(PgmRelFact) * Max(after.n, 1));
	s->rewrote = palloc(sizeof(PgmRelFact) * Max(after.n, 1));
	s->scans = palloc(sizeof(PgmRelFact) * Max(after.n, 1));
	s->holds = palloc(sizeof(PgmRelFact) * Max(after.n, 1));
	for (int i = 0; i < after.n; i++)
	{
		Oid			relid = after.items[i].relid;
		LOCKMASK	added = after.items[i].mask & ~held_mask(before, relid);
		LOCKMODE	held;
		LOCKMODE	prior;
		LOCKMODE	took;
		RelState   *st;
		PgmRelFact	f = {0};
		Oid			relfilenode;
		int64		numscans;
		int64		tuples;

		if (!reportable(relid, pgm_nsp))
			continue;

		/*
		 * The modes it added; and the one it asked for by name (the parse
		 * tree), when an earlier step of the rehearsal already held it and
		 * this step had not taken it yet: in a run of its own the step
		 * would take it here
		 */
		prior = strongest((held_mask(before, relid) & ~held_mask(step_start, relid)) |
						  held_mask(asked, relid));
		took = strongest(added);
		if (relid == s->shape.target && s->shape.target_mode > took &&
			s->shape.target_mode > prior)
			took = s->shape.target_mode;
		if (relid == s->shape.target && s->shape.target_mode != NoLock)
			add_mask(asked, relid, LOCKBIT_ON(s->shape.target_mode));
		/* the mode this step holds it in: its own locks, and what it asked for */
		held = strongest((after.items[i].mask & ~held_mask(step_start, relid)) |
						 held_mask(asked, relid));
		st = rel_state(rels, relid);
		describe(relid, &f, &relfilenode);
		f.created = !st->existed;
		if (took != NoLock)
		{
			f.mode = took;
			s->locks[s->nlocks++] = f;
		}
		if (held >= ShareLock)
		{
			/* no other session can see, let alone wait for, a table made here */
			if (!f.created)
				strong = true;
			f.mode = held;
			s->holds[s->nholds++] = f;
		}
		if (st->existed && OidIsValid(st->relfilenode) && relfilenode != st->relfilenode)
		{
			f.mode = held;
			s->rewrote[s->nrewrote++] = f;
		}
		st->relfilenode = relfilenode;

		numscans = DatumGetInt64(DirectFunctionCall1(pg_stat_get_xact_numscans, ObjectIdGetDatum(relid)));
		tuples = DatumGetInt64(DirectFunctionCall1(pg_stat_get_xact_tuples_returned, ObjectIdGetDatum(relid)));
		if (numscans > st->numscans && held >= ShareLock)
		{
			f.mode = held;
			f.seq_tup_read = tuples - st->tuples;
			s->scans[s->nscans++] = f;
		}
		st->numscans = numscans;
		st->tuples = tuples;
	}
	if (strong)
		s->blocked = blocked_sessions();
}

static double
elapsed_ms(TimestampTz start)
{
	long		secs;
	int			usecs;

	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);
	return secs * 1000.0 + usecs / 1000.0;
}

/* The steps, inside the rehearsal's subtransaction; an error escapes */
static void
rehearse_steps(PgmGraph *g, PgmPlan *plan, PgmStepInfo *infos, PgmRehearsal *out,
			   PgmStmtFacts *volatile *current)
{
	HTAB	   *rels = read_relfilenodes();
	Oid			pgm_nsp = get_namespace_oid(PGM_CATALOG_SCHEMA, true);

	for (int k = 0; k < plan->steps.n; k++)
	{
		const char *rev = g->revs[plan->steps.items[k]].id;
		PgmStepInfo *info = &infos[k];
		int			stmt_ms = lower_timeout(pgm_rehearse_statement_timeout, info->statement_timeout_ms);
		int			lock_ms = lower_timeout(pgm_rehearse_lock_timeout, info->lock_timeout_ms);
		List	   *raw;
		ListCell   *lc;
		int			n = 0;
		HeldLocks	step_start;
		HeldLocks	asked = {0, NULL};

		CHECK_FOR_INTERRUPTS();
		if (!info->transactional)
		{
			PgmStmtFacts *s = new_row(out, k + 1, rev, 0, pstrdup(info->sql));

			s->rehearsable = false;
			continue;
		}
		*current = new_row(out, k + 1, rev, 1, pstrdup(info->sql));
		(*current)->started = GetCurrentTimestamp();
		raw = pgm_raw_parser(info->sql);
		out->n--;				/* the placeholder row: parsed, so per statement now */
		*current = NULL;
		step_start = my_locks();
		(void) set_config_option("lock_timeout", psprintf("%dms", lock_ms), PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		foreach(lc, raw)
		{
			RawStmt    *rs = lfirst_node(RawStmt, lc);
			int			len = rs->stmt_len > 0 ? rs->stmt_len : (int) strlen(info->sql) - rs->stmt_location;
			char	   *text = pnstrdup(info->sql + rs->stmt_location, len);
			PgmStmtFacts *s = new_row(out, k + 1, rev, ++n, text);
			HeldLocks	before;

			*current = s;
			s->stmt_ms = stmt_ms;
			s->started = GetCurrentTimestamp();
			s->shape = shape_of(rs->stmt);
			before = my_locks();
			s->rows = (int64) pgm_step_exec_statement(rev, text, stmt_ms);
			s->duration_ms = elapsed_ms(s->started);
			observe(s, rels, &before, &step_start, &asked, pgm_nsp);
			pgm_judge_hazards(s);
			*current = NULL;
		}
	}
}

/*
 * Rehearse the plan's steps (infos[k]: their upgrade SQL and settings),
 * appending a row per statement to 'out'; the database is left as it was.
 */
void
pgm_rehearse(PgmGraph *g, PgmPlan *plan, PgmStepInfo *infos, PgmRehearsal *out)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	PgmStmtFacts *volatile current = NULL;

	pgm_subxact_begin(oldcxt);
	PG_TRY();
	{
		rehearse_steps(g, plan, infos, out, &current);
		/* always rolled back: the rehearsal leaves nothing behind */
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *e = pgm_subxact_abort(oldcxt, oldowner);

		/*
		 * An error of pg_migrate's own, not of a statement, or a cancel
		 * (not the rehearsal's own statement timeout): raise it
		 */
		if (current == NULL || pgm_step_cancelled(e, current->started, current->stmt_ms))
			ReThrowError(e);
		current->sqlstate = pstrdup(unpack_sql_state(e->sqlerrcode));
		current->error = e->detail ? psprintf("%s (%s)", e->message, e->detail) : pstrdup(e->message);
		current->duration_ms = elapsed_ms(current->started);
		pgm_judge_hazards(current);
	}
	PG_END_TRY();
}
