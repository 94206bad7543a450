/*-------------------------------------------------------------------------
 *
 * fn_register.c
 *	  SQL-callable functions that add revisions to the catalog:
 *	  migrate_revision, migrate_new and migrate_merge.
 *
 * Registration is idempotent so that a deploy can load every migration file
 * with psql -f each time: the same revision with the same content is a
 * no-op, with different content an error.  Registrations are serialised by
 * their own advisory lock (PGM_LOCK_REGISTER), so label and id checks see
 * every committed revision; a running migration does not block them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/xact.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"

#include "entry.h"
#include "fn_graph_check.h"
#include "lock.h"
#include "catalog.h"
#include "identifier.h"
#include "pg_migrate.h"
#include "sql_check.h"
#include "srf_util.h"


PG_FUNCTION_INFO_V1(migrate_revision);
PG_FUNCTION_INFO_V1(migrate_revision_single);
PG_FUNCTION_INFO_V1(migrate_new);
PG_FUNCTION_INFO_V1(migrate_merge);
PG_FUNCTION_INFO_V1(migrate_merge_single);

/* Reject duplicates inside one list (parents, labels, depends_on) */
static void
check_list(char **items, int n, const char *what, const char *listname)
{
	for (int i = 0; i < n; i++)
	{
		pgm_check_name(items[i], what);
		for (int j = 0; j < i; j++)
			if (strcmp(items[i], items[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s lists \"%s\" twice", listname, items[i])));
	}
}

static bool
same_list(char **a, int na, char **b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static bool
same_interval(bool has_a, Datum a, bool has_b, Datum b)
{
	if (!has_a || !has_b)
		return has_a == has_b;
	return DatumGetBool(DirectFunctionCall2(interval_eq, a, b));
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/*
 * allow_hazards: the hazards a revision may cause while it runs.  Only
 * "rewrite" is enforced at run time (the rewrite guard); the others name
 * what a review accepted.
 */
static char **
allowed_hazards(FunctionCallInfo fcinfo, int argno, int *n)
{
	static const char *const known[] = {
		"long_lock", "rewrite", "volatile_default", "full_scan_under_lock",
		"index_without_concurrently", "not_null_without_default",
		"enum_value_used_same_transaction", "drop_column_used_by_view"
	};
	char	  **items = pgm_arg_text_array(fcinfo, argno, "allow_hazards", n);

	for (int i = 0; i < *n; i++)
	{
		bool		ok = false;

		for (size_t k = 0; k < lengthof(known); k++)
			ok = ok || strcmp(items[i], known[k]) == 0;
		if (!ok)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown hazard \"%s\" in allow_hazards", items[i]),
					 errhint("The hazards are long_lock, rewrite, volatile_default, full_scan_under_lock, index_without_concurrently, not_null_without_default, enum_value_used_same_transaction and drop_column_used_by_view.")));
		for (int j = 0; j < i; j++)
			if (strcmp(items[i], items[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("allow_hazards names \"%s\" twice", items[i])));
	}
	return items;
}

/* Which fields of an already registered revision differ from 'row' */
static char *
differences(const PgmRevisionRow *old, const PgmRevisionRow *row)
{
	StringInfoData s;

	initStringInfo(&s);
#define DIFF(cond, name) \
	if (!(cond)) appendStringInfo(&s, "%s%s", s.len ? ", " : "", name)
	DIFF(same_list(old->parents, old->nparents, row->parents, row->nparents), "down_revision");
	DIFF(same_list(old->deps, old->ndeps, row->deps, row->ndeps), "depends_on");
	DIFF(same_list(old->labels, old->nlabels, row->labels, row->nlabels), "branch_labels");
	DIFF(same_str(old->message, row->message), "message");
	DIFF(same_str(old->upgrade_sql, row->upgrade_sql), "upgrade_sql");
	DIFF(same_str(old->downgrade_sql, row->downgrade_sql), "downgrade_sql");
	DIFF(same_interval(old->has_lock_timeout, old->lock_timeout,
					   row->has_lock_timeout, row->lock_timeout), "lock_timeout");
	DIFF(same_interval(old->has_statement_timeout, old->statement_timeout,
					   row->has_statement_timeout, row->statement_timeout), "statement_timeout");
	DIFF(old->transactional == row->transactional, "transactional");
	DIFF(same_list(old->allow, old->nallow, row->allow, row->nallow), "allow_hazards");
#undef DIFF
	return s.len ? s.data : NULL;
}

static void
check_unchanged(const PgmRevisionRow *row)
{
	PgmRevisionRow old;
	char	   *diff;

	if (!pgm_catalog_fetch_revision(row->revision, &old))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("revision \"%s\" disappeared from the catalog", row->revision)));
	diff = differences(&old, row);
	if (diff)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("revision \"%s\" is already registered with different content", row->revision),
				 errdetail("These fields differ: %s.", diff),
				 errhint("A registered revision must not change; register the change as a new revision.")));
}

/*
 * Check and insert one revision.  Returns its id.  Called with SPI connected.
 */
/*
 * A revision's timeout must be one PostgreSQL's lock_timeout and
 * statement_timeout accept (whole milliseconds in an int4): registered
 * revisions never change, so a larger one would block every plan through
 * the revision for good.
 */
static void
check_timeout(const PgmRevisionRow *row, Datum interval, const char *argname)
{
	if (pgm_interval_ms(interval, argname) == INT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s of revision \"%s\" is out of range", argname, row->revision),
				 errdetail("A timeout must be less than %d milliseconds (about 24.8 days), the limit of PostgreSQL's %s.",
						   INT_MAX, argname)));
}

static char *
register_revision(PgmRevisionRow *row)
{
	char	   *owner;

	pgm_check_name(row->revision, "revision id");
	check_list(row->parents, row->nparents, "revision id", "down_revision");
	check_list(row->deps, row->ndeps, "revision id", "depends_on");
	check_list(row->labels, row->nlabels, "branch label", "branch_labels");
	for (int i = 0; i < row->nparents; i++)
		if (strcmp(row->parents[i], row->revision) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_RECURSION),
					 errmsg("revision \"%s\" cannot be its own down_revision", row->revision)));
	for (int i = 0; i < row->ndeps; i++)
		if (strcmp(row->deps[i], row->revision) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_RECURSION),
					 errmsg("revision \"%s\" cannot depend on itself", row->revision)));

	/*
	 * Index lookups only, no graph load: a deploy that loads 100,000
	 * migration files must not pay for the whole graph once per file.
	 */
	if (row->has_lock_timeout)
		check_timeout(row, row->lock_timeout, "lock_timeout");
	if (row->has_statement_timeout)
		check_timeout(row, row->statement_timeout, "statement_timeout");
	pgm_check_migration_sql(row->revision, "upgrade_sql", row->upgrade_sql, row->transactional);
	pgm_check_migration_sql(row->revision, "downgrade_sql", row->downgrade_sql, row->transactional);

	pgm_lock_registrations();

	if (pgm_catalog_revision_exists(row->revision))
	{
		check_unchanged(row);
		return row->revision;
	}
	if ((owner = pgm_catalog_label_owner(row->revision)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("revision id \"%s\" is already a branch label of revision \"%s\"",
						row->revision, owner)));

	/*
	 * A parent or depends_on target may come later in the same
	 * transaction, as Alembic loads every file before it builds the graph:
	 * the graph is then checked once it is complete (fn_graph_check.c).
	 */
	for (int i = 0; i < row->nparents + row->ndeps; i++)
	{
		const char *to = i < row->nparents ? row->parents[i] : row->deps[i - row->nparents];

		if (!pgm_catalog_revision_exists(to))
		{
			pgm_graph_check_later();
			break;
		}
	}
	for (int i = 0; i < row->nlabels; i++)
	{
		if ((owner = pgm_catalog_label_owner(row->labels[i])) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("branch label \"%s\" is already used by revision \"%s\"",
							row->labels[i], owner)));
		if (strcmp(row->labels[i], row->revision) == 0 ||
			pgm_catalog_revision_exists(row->labels[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("branch label \"%s\" is the id of a revision", row->labels[i])));
	}

	if (!pgm_catalog_insert_revision(row))
		check_unchanged(row);	/* cannot happen under the lock, but be exact */
	return row->revision;
}

/* migrate_revision(revision, down_revision text[] | text, upgrade_sql, ...) */
static Datum
revision_common(FunctionCallInfo fcinfo, bool single_parent)
{
	PgmRevisionRow row = {0};
	MemoryContext outer = CurrentMemoryContext;
	char	   *id;

	row.revision = pgm_arg_text(fcinfo, 0, "revision");
	if (PG_ARGISNULL(1))
		row.nparents = 0;		/* a base */
	else if (single_parent)
	{
		row.nparents = 1;
		row.parents = palloc(sizeof(char *));
		row.parents[0] = text_to_cstring(PG_GETARG_TEXT_PP(1));
	}
	else
		row.parents = pgm_arg_text_array(fcinfo, 1, "down_revision", &row.nparents);
	row.upgrade_sql = pgm_arg_text(fcinfo, 2, "upgrade_sql");
	row.downgrade_sql = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	row.message = pgm_arg_text(fcinfo, 4, "message");
	row.labels = pgm_arg_text_array(fcinfo, 5, "branch_labels", &row.nlabels);
	row.deps = pgm_arg_text_array(fcinfo, 6, "depends_on", &row.ndeps);
	row.has_lock_timeout = !PG_ARGISNULL(7);
	row.lock_timeout = PG_ARGISNULL(7) ? (Datum) 0 : PG_GETARG_DATUM(7);
	row.has_statement_timeout = !PG_ARGISNULL(8);
	row.statement_timeout = PG_ARGISNULL(8) ? (Datum) 0 : PG_GETARG_DATUM(8);
	row.transactional = pgm_arg_bool(fcinfo, 9, "transactional");
	/* 1.0's SQL definition has no allow_hazards */
	if (PG_NARGS() > 10)
		row.allow = allowed_hazards(fcinfo, 10, &row.nallow);

	(void) pgm_enter("migrate_revision()", PGM_ENTER_WRITE);
	id = register_revision(&row);
	id = MemoryContextStrdup(outer, id);
	pgm_leave();
	PG_RETURN_TEXT_P(cstring_to_text(id));
}

Datum
migrate_revision(PG_FUNCTION_ARGS)
{
	return revision_common(fcinfo, false);
}

Datum
migrate_revision_single(PG_FUNCTION_ARGS)
{
	return revision_common(fcinfo, true);
}

/* A fresh 12-hex-digit id, as Alembic's uuid4().hex[-12:] */
static char *
new_revision_id(PgmGraph *g)
{
	for (;;)
	{
		uint8		bytes[6];
		char	   *id = palloc(13);

		if (!pg_strong_random(bytes, sizeof(bytes)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a random revision id")));
		for (int i = 0; i < 6; i++)
			snprintf(id + 2 * i, 3, "%02x", bytes[i]);
		if (pgm_graph_lookup(g, id) < 0 && pgm_graph_lookup_label(g, id) < 0)
			return id;
	}
}

/*
 * migrate_new(message, upgrade_sql, downgrade_sql, head, branch_labels,
 * depends_on): alembic revision -m.  The parent is the single head, or the
 * head named ('label@head', an id, or 'base' to start a new base).
 */
Datum
migrate_new(PG_FUNCTION_ARGS)
{
	PgmRevisionRow row = {0};
	MemoryContext outer = CurrentMemoryContext;
	char	   *head = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	PgmEntry	e;
	PgmGraph   *g;
	PgmIdxList	heads;
	char	   *id;

	row.message = pgm_arg_text(fcinfo, 0, "message");
	row.upgrade_sql = pgm_arg_text(fcinfo, 1, "upgrade_sql");
	row.downgrade_sql = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	row.labels = pgm_arg_text_array(fcinfo, 4, "branch_labels", &row.nlabels);
	row.deps = pgm_arg_text_array(fcinfo, 5, "depends_on", &row.ndeps);
	row.transactional = true;

	e = pgm_enter("migrate_new()", PGM_ENTER_REGISTER | PGM_ENTER_HEADS);
	g = e.g;
	heads = e.heads;
	row.parents = palloc(sizeof(char *));
	if (head == NULL)
	{
		PgmIdxList	all = pgm_graph_heads(g);

		if (all.n > 1)
			ereport(ERROR,
					(errcode(ERRCODE_CARDINALITY_VIOLATION),
					 errmsg("cannot choose a parent: there are %d heads", all.n),
					 errdetail("The heads are: %s.", pgm_format_ids(g, all.items, all.n)),
					 errhint("Pass head => 'label@head' or a head's id, or merge the heads first.")));
		row.nparents = all.n;
		if (all.n == 1)
			row.parents[0] = g->revs[all.items[0]].id;
	}
	else
	{
		PgmTarget	t = pgm_resolve(g, head, heads);

		if (t.is_base && t.revs.n == 0)
			row.nparents = 0;
		else
		{
			int			p = pgm_resolve_single(g, head, heads);

			if (!pgm_is_head(g, p))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("revision \"%s\" is not a head", g->revs[p].id),
						 errhint("To branch from an older revision, call migrate_revision() with an explicit down_revision.")));
			row.nparents = 1;
			row.parents[0] = g->revs[p].id;
		}
	}
	row.revision = new_revision_id(g);
	id = register_revision(&row);
	id = MemoryContextStrdup(outer, id);
	pgm_leave();
	PG_RETURN_TEXT_P(cstring_to_text(id));
}

/*
 * migrate_merge(revisions, message): a revision with no SQL whose parents are
 * the named revisions (alembic merge).  Each element is an identifier, so
 * '{heads}' merges every head.
 */
static Datum
merge_common(FunctionCallInfo fcinfo, char **idents, int nidents)
{
	PgmRevisionRow row = {0};
	MemoryContext outer = CurrentMemoryContext;
	PgmEntry	e;
	PgmGraph   *g;
	PgmIdxList	heads;
	bool	   *chosen;
	char	   *id;

	row.message = pgm_arg_text(fcinfo, 1, "message");
	row.upgrade_sql = "";
	row.downgrade_sql = "";
	row.transactional = true;

	e = pgm_enter("migrate_merge()", PGM_ENTER_REGISTER | PGM_ENTER_HEADS);
	g = e.g;
	heads = e.heads;
	chosen = palloc0(Max(g->nrevs, 1));
	for (int i = 0; i < nidents; i++)
	{
		PgmTarget	t = pgm_resolve(g, idents[i], heads);

		for (int k = 0; k < t.revs.n; k++)
			chosen[t.revs.items[k]] = true;
	}
	row.parents = palloc(sizeof(char *) * Max(g->nrevs, 1));
	for (int i = 0; i < g->nrevs; i++)
		if (chosen[i])
		{
			bool	   *anc = palloc0(Max(g->nrevs, 1));

			row.parents[row.nparents++] = g->revs[i].id;
			/* merging a revision with its own ancestor would merge nothing */
			pgm_graph_ancestors(g, g->revs[i].parents, g->revs[i].nparents, anc);
			for (int j = 0; j < g->nrevs; j++)
				if (chosen[j] && anc[j])
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("cannot merge revision \"%s\" with its ancestor \"%s\"",
									g->revs[i].id, g->revs[j].id)));
			pfree(anc);
		}
	if (row.nparents < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a merge needs at least two revisions, got %d", row.nparents),
				 errhint("Use migrate_heads() to see what there is to merge.")));
	row.revision = new_revision_id(g);
	id = register_revision(&row);
	id = MemoryContextStrdup(outer, id);
	pgm_leave();
	PG_RETURN_TEXT_P(cstring_to_text(id));
}

Datum
migrate_merge(PG_FUNCTION_ARGS)
{
	int			n;
	char	  **idents = pgm_arg_text_array(fcinfo, 0, "revisions", &n);

	return merge_common(fcinfo, idents, n);
}

Datum
migrate_merge_single(PG_FUNCTION_ARGS)
{
	char	   *ident = pgm_arg_text(fcinfo, 0, "revisions");

	return merge_common(fcinfo, &ident, 1);
}
