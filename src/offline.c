/*-------------------------------------------------------------------------
 *
 * offline.c
 *	  Renders a plan as one SQL script for psql: the same steps, in the same
 *	  order, with the same migrate_version changes as the online run, inside
 *	  one transaction that takes the same advisory lock first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "catalog.h"
#include "offline.h"
#include "pg_migrate.h"

/*
 * The fixed parts of the migrate_version lines, built once per script: a
 * long script writes them for every step.
 */
typedef struct VersionLines
{
	StringInfoData delete_prefix;	/* DELETE ... AND revision = */
	StringInfoData insert_prefix;	/* INSERT ... VALUES (scope, */
} VersionLines;

static void
init_version_lines(VersionLines *vl, const char *nsp, const char *qscope)
{
	initStringInfo(&vl->delete_prefix);
	appendStringInfo(&vl->delete_prefix,
					 "DELETE FROM %s.migrate_version WHERE scope OPERATOR(pg_catalog.=) %s"
					 " AND revision OPERATOR(pg_catalog.=) ", nsp, qscope);
	initStringInfo(&vl->insert_prefix);
	appendStringInfo(&vl->insert_prefix,
					 "INSERT INTO %s.migrate_version (scope, revision) VALUES (%s, ", nsp, qscope);
}

/* quote_literal_cstr() without its allocation for the usual id */
static void
append_literal(StringInfo s, const char *str)
{
	if (strchr(str, '\'') || strchr(str, '\\'))
		appendStringInfoString(s, quote_literal_cstr(str));
	else
	{
		appendStringInfoChar(s, '\'');
		appendStringInfoString(s, str);
		appendStringInfoChar(s, '\'');
	}
}

static void
append_head_change(StringInfo s, PgmGraph *g, PgmHeadChange *ch, VersionLines *vl)
{
	for (int i = 0; i < ch->removed.n; i++)
	{
		appendBinaryStringInfo(s, vl->delete_prefix.data, vl->delete_prefix.len);
		append_literal(s, g->revs[ch->removed.items[i]].id);
		appendBinaryStringInfo(s, ";\n", 2);
	}
	for (int i = 0; i < ch->added.n; i++)
	{
		appendBinaryStringInfo(s, vl->insert_prefix.data, vl->insert_prefix.len);
		append_literal(s, g->revs[ch->added.items[i]].id);
		appendBinaryStringInfo(s, ");\n", 3);
	}
}

/* Does the SQL already end with a semicolon (ignoring trailing blanks)? */
static bool
ends_with_semicolon(const char *sql, int len)
{
	while (len > 0 && (sql[len - 1] == ' ' || sql[len - 1] == '\n' ||
					   sql[len - 1] == '\t' || sql[len - 1] == '\r'))
		len--;
	return len == 0 || sql[len - 1] == ';';
}

/* A message may hold newlines; a comment must not */
static void
append_one_line(StringInfo s, const char *msg)
{
	int			start = s->len;

	appendStringInfoString(s, msg);
	for (char *c = s->data + start; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
}

/*
 * The script's size, near enough that a long one is written into one
 * allocation instead of being copied at every doubling; it still grows
 * if a step changes more heads than one in, one out.
 */
static Size
estimate_size(PgmGraph *g, PgmPlan *plan, PgmStepInfo *infos, VersionLines *vl)
{
	Size		per_change = vl->delete_prefix.len + 4;
	Size		total = 256;

	for (int i = 0; i < plan->steps.n; i++)
	{
		PgmRev	   *rev = &g->revs[plan->steps.items[i]];
		Size		idlen = strlen(rev->id);

		total += 40 + idlen + strlen(rev->message) + infos[i].sql_len;
		total += 2 * (per_change + idlen + 2);
	}
	return Min(total, MaxAllocSize - VARHDRSZ - 2);
}

/*
 * The script of a plan whose steps' SQL 'infos' holds, as a text datum
 * allocated in 'result_cxt' (the caller's, so that nothing as long as the
 * script is copied again on the way out).
 */
text *
pgm_render_plan(PgmGraph *g, PgmState *st, PgmPlan *plan, PgmStepInfo *infos,
				const char *scope, const char *from, const char *target,
				MemoryContext result_cxt)
{
	StringInfoData s;
	const char *nsp = pgm_catalog_schema();
	VersionLines vl;
	MemoryContext old;

	init_version_lines(&vl, nsp, quote_literal_cstr(scope));

	/* the buffer lives in result_cxt; appends grow it there */
	old = MemoryContextSwitchTo(result_cxt);
	initStringInfo(&s);
	MemoryContextSwitchTo(old);
	enlargeStringInfo(&s, estimate_size(g, plan, infos, &vl));
	appendStringInfoSpaces(&s, VARHDRSZ);

	appendStringInfo(&s, "-- pg_migrate offline %s from %s to %s: %d step%s\n",
					 plan->upgrade ? "upgrade" : "downgrade", from, target,
					 plan->steps.n, plan->steps.n == 1 ? "" : "s");
	appendStringInfoString(&s, "BEGIN;\n");
	appendStringInfo(&s, "SELECT pg_catalog.pg_advisory_xact_lock(%d, %d);\n",
					 PGM_LOCK_CLASS, PGM_LOCK_MIGRATE);
	for (int i = 0; i < plan->steps.n; i++)
	{
		int			rev = plan->steps.items[i];
		PgmStepInfo *info = &infos[i];
		PgmHeadChange ch;

		appendStringInfoString(&s, plan->upgrade ? "\n-- Running upgrade of " : "\n-- Running downgrade of ");
		appendStringInfoString(&s, g->revs[rev].id);
		if (g->revs[rev].message[0])
		{
			appendStringInfoString(&s, ": ");
			append_one_line(&s, g->revs[rev].message);
		}
		appendStringInfoChar(&s, '\n');
		appendBinaryStringInfo(&s, info->sql, info->sql_len);
		if (!ends_with_semicolon(info->sql, info->sql_len))
			appendStringInfoString(&s, "\n;");
		appendStringInfoChar(&s, '\n');
		ch = pgm_state_step(g, st, rev, plan->upgrade);
		append_head_change(&s, g, &ch, &vl);
	}
	appendStringInfoString(&s, "\nCOMMIT;\n");
	SET_VARSIZE(s.data, s.len);
	return (text *) s.data;
}
