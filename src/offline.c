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

#include "catalog.h"
#include "offline.h"
#include "pg_migrate.h"

static void
append_head_change(StringInfo s, PgmGraph *g, PgmHeadChange *ch, const char *nsp,
				   const char *qscope)
{
	/* plain appends, not appendStringInfo: this runs for every step of a long script */
	for (int i = 0; i < ch->removed.n; i++)
	{
		appendStringInfoString(s, "DELETE FROM ");
		appendStringInfoString(s, nsp);
		appendStringInfoString(s, ".migrate_version WHERE scope OPERATOR(pg_catalog.=) ");
		appendStringInfoString(s, qscope);
		appendStringInfoString(s, " AND revision OPERATOR(pg_catalog.=) ");
		appendStringInfoString(s, quote_literal_cstr(g->revs[ch->removed.items[i]].id));
		appendStringInfoString(s, ";\n");
	}
	for (int i = 0; i < ch->added.n; i++)
	{
		appendStringInfoString(s, "INSERT INTO ");
		appendStringInfoString(s, nsp);
		appendStringInfoString(s, ".migrate_version (scope, revision) VALUES (");
		appendStringInfoString(s, qscope);
		appendStringInfoString(s, ", ");
		appendStringInfoString(s, quote_literal_cstr(g->revs[ch->added.items[i]].id));
		appendStringInfoString(s, ");\n");
	}
}

/* Does the SQL already end with a semicolon (ignoring trailing blanks)? */
static bool
ends_with_semicolon(const char *sql)
{
	size_t		len = strlen(sql);

	while (len > 0 && (sql[len - 1] == ' ' || sql[len - 1] == '\n' ||
					   sql[len - 1] == '\t' || sql[len - 1] == '\r'))
		len--;
	return len == 0 || sql[len - 1] == ';';
}

/* A message may hold newlines; a comment must not */
static char *
one_line(const char *msg)
{
	char	   *copy = pstrdup(msg);

	for (char *c = copy; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	return copy;
}

char *
pgm_render_plan(PgmGraph *g, PgmState *st, PgmPlan *plan, const char *scope,
				const char *from, const char *target)
{
	StringInfoData s;
	PgmStepInfo *infos;
	const char *nsp = pgm_catalog_schema();
	const char *qscope = quote_literal_cstr(scope);

	initStringInfo(&s);
	appendStringInfo(&s, "-- pg_migrate offline %s from %s to %s: %d step%s\n",
					 plan->upgrade ? "upgrade" : "downgrade", from, target,
					 plan->steps.n, plan->steps.n == 1 ? "" : "s");
	appendStringInfoString(&s, "BEGIN;\n");
	appendStringInfo(&s, "SELECT pg_catalog.pg_advisory_xact_lock(%d, %d);\n",
					 PGM_LOCK_CLASS, PGM_LOCK_MIGRATE);
	infos = pgm_catalog_plan_infos(g, plan->steps, plan->upgrade);
	for (int i = 0; i < plan->steps.n; i++)
	{
		int			rev = plan->steps.items[i];
		char	   *sql = infos[i].sql;
		PgmHeadChange ch;

		appendStringInfoString(&s, plan->upgrade ? "\n-- Running upgrade of " : "\n-- Running downgrade of ");
		appendStringInfoString(&s, g->revs[rev].id);
		if (g->revs[rev].message[0])
		{
			appendStringInfoString(&s, ": ");
			appendStringInfoString(&s, one_line(g->revs[rev].message));
		}
		appendStringInfoChar(&s, '\n');
		appendStringInfoString(&s, sql);
		if (!ends_with_semicolon(sql))
			appendStringInfoString(&s, "\n;");
		appendStringInfoChar(&s, '\n');
		ch = pgm_state_step(g, st, rev, plan->upgrade);
		append_head_change(&s, g, &ch, nsp, qscope);
	}
	appendStringInfoString(&s, "\nCOMMIT;\n");
	return s.data;
}
