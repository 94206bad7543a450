/*-------------------------------------------------------------------------
 *
 * fn_graph.c
 *	  migrate_graph: a picture of the revision graph, as Graphviz DOT or a
 *	  Mermaid flowchart.
 *
 * One node per revision, in registration order, labelled with its short id,
 * the tags Alembic's history prints ("(label)", "(branchpoint)",
 * "(mergepoint)", "(head)") plus "(current)" for a row of
 * pgmigrate.migrate_version, and its message.  An arrow leads from a
 * revision to each revision that names it as a down_revision (the upgrade
 * direction), dashed for depends_on; the graph is drawn bottom to top, so
 * that the newest revisions are on top, as in migrate_history.  Applied
 * revisions are filled, the current version rows also have a thick border.
 *
 * With a range (migrate_history's syntax) only the revisions in it are
 * drawn in full; a revision outside it that shares an edge with one inside
 * is drawn as a small "..." placeholder, so that the cut is visible.
 *
 * The output depends on the registration order only (never on a
 * topological order), so the same catalog always gives the same text.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "entry.h"
#include "identifier.h"
#include "srf_util.h"

PG_FUNCTION_INFO_V1(migrate_graph);

/* How the read-only functions name themselves when called from a migration */
#define READ_ONLY "pg_migrate functions"

/* ids longer than this are cut in a node's label (the full id is the DOT tooltip) */
#define SHORT_ID_LEN 12

typedef enum GraphFormat
{
	FORMAT_DOT,
	FORMAT_MERMAID
} GraphFormat;

/* What a node is drawn as */
typedef enum NodeKind
{
	NODE_NONE,					/* not drawn */
	NODE_OUTSIDE,				/* a placeholder for a revision outside the range */
	NODE_PENDING,
	NODE_APPLIED,
	NODE_CURRENT				/* applied, and a row of migrate_version */
} NodeKind;

static GraphFormat
parse_format(const char *format)
{
	if (pg_strcasecmp(format, "dot") == 0)
		return FORMAT_DOT;
	if (pg_strcasecmp(format, "mermaid") == 0)
		return FORMAT_MERMAID;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown graph format \"%s\"", format),
			 errhint("The formats are \"dot\" (Graphviz) and \"mermaid\".")));
	return FORMAT_DOT;			/* keep compiler quiet */
}

/*
 * Label text into a DOT double-quoted string.  Only '"', '\' and line ends
 * need escaping there: a quoted label of a box node is no record and no
 * HTML label, so '<', '>', '|' and braces are drawn as they are.  A line end
 * becomes DOT's centred line break; other control characters a space.
 */
static void
dot_escape(StringInfo buf, const char *s)
{
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
		{
			appendStringInfoChar(buf, '\\');
			appendStringInfoChar(buf, c);
		}
		else if (c == '\r' || c == '\n')
		{
			if (c == '\r' && s[1] == '\n')
				s++;
			appendStringInfoString(buf, "\\n");
		}
		else if (c < ' ' || c == 0x7f)
			appendStringInfoChar(buf, ' ');
		else
			appendStringInfoChar(buf, c);
	}
}

/*
 * Label text into a Mermaid double-quoted string.  Mermaid has no
 * backslash escapes: it reads "#34;" as the character 34, and renders a
 * label as HTML.  So '"' (which would end the string), '#' (which would
 * start such a code), '&', '<', '>' (HTML) and '`' (a markdown string) are
 * written as codes; a line end becomes <br>, other control characters a
 * space.  Backslashes, '|' and brackets are plain text inside the quotes.
 */
static void
mermaid_escape(StringInfo buf, const char *s)
{
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '#' || c == '&' || c == '<' || c == '>' || c == '`')
			appendStringInfo(buf, "#%d;", c);
		else if (c == '\r' || c == '\n')
		{
			if (c == '\r' && s[1] == '\n')
				s++;
			appendStringInfoString(buf, "<br>");
		}
		else if (c < ' ' || c == 0x7f)
			appendStringInfoChar(buf, ' ');
		else
			appendStringInfoChar(buf, c);
	}
}

/*
 * A node's label, unescaped: the short id and its tags on the first line,
 * the message below.  Branch labels are the ones the revision declares (not
 * the ones it inherits), so that each label appears once.
 */
static char *
node_label(PgmGraph *g, PgmState *st, int i)
{
	PgmRev	   *r = &g->revs[i];
	StringInfoData buf;

	initStringInfo(&buf);
	if (strlen(r->id) > SHORT_ID_LEN)
		appendStringInfo(&buf, "%.*s..", SHORT_ID_LEN, r->id);
	else
		appendStringInfoString(&buf, r->id);
	for (int l = 0; l < r->nlabels; l++)
		appendStringInfo(&buf, " (%s)", r->labels[l]);
	if (pgm_is_branch_point(g, i))
		appendStringInfoString(&buf, " (branchpoint)");
	if (pgm_is_merge(g, i))
		appendStringInfoString(&buf, " (mergepoint)");
	if (pgm_is_head(g, i))
		appendStringInfoString(&buf, " (head)");
	if (st->is_head[i])
		appendStringInfoString(&buf, " (current)");
	if (r->message[0] != '\0')
	{
		appendStringInfoChar(&buf, '\n');
		appendStringInfoString(&buf, r->message);
	}
	return buf.data;
}

static void
dot_node(StringInfo out, PgmGraph *g, PgmState *st, int i, NodeKind kind)
{
	const char *id = g->revs[i].id;

	/* ids are [A-Za-z0-9_], nothing to escape; quoted, as one may start with a digit */
	appendStringInfo(out, "\t\"%s\" [", id);
	if (kind == NODE_OUTSIDE)
		appendStringInfoString(out, "label=\"...\", shape=plaintext, style=\"\", fontcolor=gray50");
	else
	{
		appendStringInfoString(out, "label=\"");
		dot_escape(out, node_label(g, st, i));
		appendStringInfoChar(out, '"');
		if (kind == NODE_APPLIED)
			appendStringInfoString(out, ", fillcolor=\"#c8e6c9\"");
		else if (kind == NODE_CURRENT)
			appendStringInfoString(out, ", fillcolor=\"#c8e6c9\", penwidth=3");
	}
	appendStringInfo(out, ", tooltip=\"%s\"];\n", id);
}

static void
mermaid_node(StringInfo out, PgmGraph *g, PgmState *st, int i, NodeKind kind)
{
	/* a prefix keeps ids clear of Mermaid's words ("end") and edge syntax ("o", "x") */
	appendStringInfo(out, "    r_%s", g->revs[i].id);
	if (kind == NODE_OUTSIDE)
		appendStringInfoString(out, "[\"...\"]:::outside\n");
	else
	{
		appendStringInfoString(out, "(\"");
		mermaid_escape(out, node_label(g, st, i));
		appendStringInfo(out, "\"):::%s\n",
						 kind == NODE_CURRENT ? "current" :
						 kind == NODE_APPLIED ? "applied" : "pending");
	}
}

static void
edge(StringInfo out, GraphFormat format, PgmGraph *g, int from, int to, bool dep, bool cut)
{
	if (format == FORMAT_DOT)
	{
		appendStringInfo(out, "\t\"%s\" -> \"%s\"", g->revs[from].id, g->revs[to].id);
		if (dep && cut)
			appendStringInfoString(out, " [style=dashed, color=gray50]");
		else if (dep)
			appendStringInfoString(out, " [style=dashed]");
		else if (cut)
			appendStringInfoString(out, " [color=gray50]");
		appendStringInfoString(out, ";\n");
	}
	else
		appendStringInfo(out, "    r_%s %s r_%s\n", g->revs[from].id, dep ? "-.->" : "-->",
						 g->revs[to].id);
}

/*
 * The edges into revision 'i' (its down_revisions in declared order, then
 * its depends_on), where at least one end is in the range.
 */
static void
edges_into(StringInfo out, GraphFormat format, PgmGraph *g, const bool *in_range, int i)
{
	PgmRev	   *r = &g->revs[i];

	for (int p = 0; p < r->nparents; p++)
		if (in_range[i] || in_range[r->parents[p]])
			edge(out, format, g, r->parents[p], i, false,
				 !(in_range[i] && in_range[r->parents[p]]));
	for (int d = 0; d < r->ndeps; d++)
		if (in_range[i] || in_range[r->deps[d]])
			edge(out, format, g, r->deps[d], i, true,
				 !(in_range[i] && in_range[r->deps[d]]));
}

static char *
render(GraphFormat format, PgmGraph *g, PgmState *st, const bool *in_range)
{
	StringInfoData out;
	NodeKind   *kind = palloc0(sizeof(NodeKind) * Max(g->nrevs, 1));

	/* what is drawn: the range, and its neighbours outside as placeholders */
	for (int i = 0; i < g->nrevs; i++)
	{
		PgmRev	   *r = &g->revs[i];

		if (!in_range[i])
			continue;
		kind[i] = st->is_head[i] ? NODE_CURRENT : st->applied[i] ? NODE_APPLIED : NODE_PENDING;
		for (int k = 0; k < r->nparents; k++)
			if (!in_range[r->parents[k]])
				kind[r->parents[k]] = NODE_OUTSIDE;
		for (int k = 0; k < r->ndeps; k++)
			if (!in_range[r->deps[k]])
				kind[r->deps[k]] = NODE_OUTSIDE;
		for (int k = 0; k < r->nchildren; k++)
			if (!in_range[r->children[k]])
				kind[r->children[k]] = NODE_OUTSIDE;
		for (int k = 0; k < r->ndependents; k++)
			if (!in_range[r->dependents[k]])
				kind[r->dependents[k]] = NODE_OUTSIDE;
	}

	initStringInfo(&out);
	if (format == FORMAT_DOT)
		appendStringInfoString(&out,
							   "digraph pg_migrate {\n"
							   "\t// pg_migrate revision graph: an arrow leads to the revision that upgrades from it,\n"
							   "\t// dashed: depends_on; filled: applied; thick border: current (migrate_version);\n"
							   "\t// \"...\": a revision outside the range drawn\n"
							   "\trankdir=BT;\n"
							   "\tnode [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", fontsize=10];\n"
							   "\tedge [arrowsize=0.7];\n");
	else
		appendStringInfoString(&out,
							   "flowchart BT\n"
							   "    %% pg_migrate revision graph: an arrow leads to the revision that upgrades from it,\n"
							   "    %% dotted: depends_on; filled: applied; thick border: current (migrate_version);\n"
							   "    %% \"...\": a revision outside the range drawn\n"
							   "    classDef pending fill:#ffffff,stroke:#333333\n"
							   "    classDef applied fill:#c8e6c9,stroke:#333333\n"
							   "    classDef current fill:#c8e6c9,stroke:#000000,stroke-width:3px\n"
							   "    classDef outside fill:#ffffff,stroke:#999999,stroke-dasharray:3 3,color:#999999\n");

	for (int i = 0; i < g->nrevs; i++)
	{
		if (kind[i] == NODE_NONE)
			continue;
		if (format == FORMAT_DOT)
			dot_node(&out, g, st, i, kind[i]);
		else
			mermaid_node(&out, g, st, i, kind[i]);
	}
	for (int i = 0; i < g->nrevs; i++)
		if (kind[i] != NODE_NONE)
			edges_into(&out, format, g, in_range, i);
	if (format == FORMAT_DOT)
		appendStringInfoString(&out, "}\n");
	return out.data;
}

/*
 * migrate_graph(format, range) -> text.  The arguments are read by
 * position, so a trailing argument added later (with a default) changes
 * nothing here.
 */
Datum
migrate_graph(PG_FUNCTION_ARGS)
{
	GraphFormat format = parse_format(pgm_arg_text(fcinfo, 0, "format"));
	char	   *range = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	MemoryContext outer = CurrentMemoryContext;
	PgmEntry	e = pgm_enter(READ_ONLY, PGM_ENTER_STATE);
	bool	   *in_range;
	PgmIdxList	top;
	char	   *result;

	/* built in the caller's context: pgm_leave() ends the SPI session's */
	MemoryContextSwitchTo(outer);
	in_range = pgm_resolve_range(e.g, range, e.heads, &top);
	result = render(format, e.g, &e.st, in_range);
	pgm_leave();
	PG_RETURN_TEXT_P(cstring_to_text(result));
}
