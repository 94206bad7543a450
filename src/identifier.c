/*-------------------------------------------------------------------------
 *
 * identifier.c
 *	  Checks revision ids and branch labels, and resolves the identifiers an
 *	  Alembic user types into sets of revisions.
 *
 * Ids and labels are 1 to 128 characters from [A-Za-z0-9_]: this keeps them
 * clear of the grammar's operators ('@', '+', '-', ':') and of quoting.
 *
 * The grammar, as Alembic's revision.py reads it:
 *
 *		ident	:= [branch '@'] body
 *		body	:= 'heads' | 'head' | 'base' | 'current' | name
 *				 | [symbol] ('+' | '-') digits
 *		name	:= full id | branch label | unique id prefix
 *
 * 'branch' is a branch label or a revision (then it means that revision's
 * descendants).  A relative walk goes one parent or one child per step and
 * fails where that is ambiguous (a merge going down, a branch point going
 * up), as Alembic's _walk does; walking down off a base yields "base".
 * Without a symbol the walk starts from the applied heads.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "lib/stringinfo.h"

#include "identifier.h"
#include "pg_migrate.h"

static const char *const reserved_words[] = {"head", "heads", "base", "current", NULL};

/* A parsed identifier */
typedef struct ParsedIdent
{
	char	   *branch;			/* before '@', or NULL */
	char	   *symbol;			/* the body without the relative part, or NULL */
	bool		relative;
	int			steps;			/* signed */
} ParsedIdent;

static ParsedIdent parse_ident(const char *ident);
static int	lookup_name(PgmGraph *g, const char *name, const bool *scope, const char *branch);
static bool *branch_scope(PgmGraph *g, const char *branch);
static int	walk(PgmGraph *g, int start, int steps, const bool *scope, const char *ident,
				 bool *fell_off);
static PgmIdxList one(int idx);
static void error_multiple_heads(PgmGraph *g, PgmIdxList heads, const char *ident);

bool
pgm_is_reserved_word(const char *name)
{
	for (int i = 0; reserved_words[i]; i++)
		if (strcmp(name, reserved_words[i]) == 0)
			return true;
	return false;
}

/*
 * Reject an id or label that the grammar could not name unambiguously.
 * 'what' is "revision id" or "branch label".
 */
void
pgm_check_name(const char *name, const char *what)
{
	size_t		len = strlen(name);

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what)));
	if (len > PGM_MAX_ID_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is too long", what),
				 errdetail("It has %zu bytes; the maximum is %d.", len, PGM_MAX_ID_LEN)));
	for (const char *p = name; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '_'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s \"%s\" contains an invalid character", what, name),
					 errdetail("Revision ids and branch labels may contain only ASCII letters, digits and underscores."),
					 *p == ',' || *p == '{' ?
					 errhint("To give several parents, pass an array: ARRAY['rev1', 'rev2'].") : 0));
	}
	if (pgm_is_reserved_word(name))
		ereport(ERROR,
				(errcode(ERRCODE_RESERVED_NAME),
				 errmsg("%s \"%s\" is a reserved word", what, name),
				 errdetail("\"head\", \"heads\", \"base\" and \"current\" are identifiers of their own.")));
}

static ParsedIdent
parse_ident(const char *ident)
{
	ParsedIdent p = {0};
	const char *at = strchr(ident, '@');
	const char *body = ident;
	const char *sign;

	if (at)
	{
		p.branch = pnstrdup(ident, at - ident);
		body = at + 1;
		if (p.branch[0] == '\0' || *body == '\0' || strchr(body, '@'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid revision identifier \"%s\"", ident),
					 errhint("Write branch@head, branch@base, branch@revision or branch@-1.")));
	}

	sign = body + strcspn(body, "+-");
	if (*sign)
	{
		long long	v = 0;

		p.relative = true;
		if (sign[1] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid revision identifier \"%s\"", ident),
					 errdetail("A relative step needs a number after \"%c\".", *sign)));
		for (const char *d = sign + 1; *d; d++)
		{
			if (*d < '0' || *d > '9')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid revision identifier \"%s\"", ident),
						 errdetail("Only digits may follow \"%c\".", *sign)));
			v = v * 10 + (*d - '0');
			if (v > INT_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("relative step in \"%s\" is out of range", ident)));
		}
		p.steps = *sign == '-' ? -(int) v : (int) v;
		if (sign > body)
			p.symbol = pnstrdup(body, sign - body);
	}
	else
		p.symbol = pstrdup(body);
	return p;
}

static PgmIdxList
one(int idx)
{
	PgmIdxList	l;

	l.n = 1;
	l.items = palloc(sizeof(int));
	l.items[0] = idx;
	return l;
}

/* Keep the members of 'l' that are in 'scope' (all when scope is NULL) */
static PgmIdxList
filter(PgmIdxList l, const bool *scope)
{
	PgmIdxList	out;

	out.n = 0;
	out.items = palloc(sizeof(int) * Max(l.n, 1));
	for (int i = 0; i < l.n; i++)
		if (scope == NULL || scope[l.items[i]])
			out.items[out.n++] = l.items[i];
	return out;
}

/* "a1, b2, c3" for messages, in the order given */
char *
pgm_format_ids(PgmGraph *g, const int *idx, int n)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(&s, ", ");
		if (i == 10 && n > 11)
		{
			appendStringInfo(&s, "and %d more", n - 10);
			break;
		}
		appendStringInfoString(&s, g->revs[idx[i]].id);
	}
	return s.data;
}

/*
 * The keys a prefix matched, each as what it is: a revision id, or a branch
 * label with the revision that carries it (a label need not share a single
 * character with its revision's id).
 */
static char *
format_matches(PgmGraph *g, const int *idx, const int *label, int n)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; i < n; i++)
	{
		PgmRev	   *r = &g->revs[idx[i]];

		if (i > 0)
			appendStringInfoString(&s, ", ");
		if (label[i] < 0)
			appendStringInfo(&s, "revision %s", r->id);
		else
			appendStringInfo(&s, "branch label \"%s\" of revision %s", r->labels[label[i]], r->id);
	}
	return s.data;
}

/* Whether any revision carries a branch label: hints offer label@ only then */
static bool
graph_has_labels(PgmGraph *g)
{
	for (int i = 0; i < g->nrevs; i++)
		if (g->revs[i].nlabels > 0)
			return true;
	return false;
}

static void
error_multiple_heads(PgmGraph *g, PgmIdxList heads, const char *ident)
{
	ereport(ERROR,
			(errcode(ERRCODE_CARDINALITY_VIOLATION),
			 errmsg("identifier \"%s\" is ambiguous: there are %d heads", ident, heads.n),
			 errdetail("The heads are: %s.", pgm_format_ids(g, heads.items, heads.n)),
			 errhint("Name one head (by id or as label@head), use \"heads\" for all of them, or join them with migrate_merge().")));
}

/* The revision a branch name stands for: a label's declaring revision, or the revision named */
static int
branch_revision(PgmGraph *g, const char *branch)
{
	int			decl = pgm_graph_lookup_label(g, branch);

	return decl >= 0 ? decl : lookup_name(g, branch, NULL, NULL);
}

/* Alembic's _real_heads: no child and nothing depending on them */
static PgmIdxList
real_heads(PgmGraph *g)
{
	PgmIdxList	all = pgm_graph_heads(g);
	PgmIdxList	out;

	out.n = 0;
	out.items = palloc(sizeof(int) * Max(all.n, 1));
	for (int i = 0; i < all.n; i++)
		if (g->revs[all.items[i]].ndependents == 0)
			out.items[out.n++] = all.items[i];
	return out;
}

/*
 * Where a bare +N/-N walks from: the version rows on the branch, or, when
 * none is, the newest applied revisions on it, as Alembic finds them:
 * walking up (_parse_upgrade_target's "active_on_branch") the tips of what
 * is applied on the branch; walking down (_get_all_current) the applied
 * revisions with no applied child anywhere, then those on the branch.
 */
static PgmIdxList
applied_tips(PgmGraph *g, PgmIdxList current, const bool *scope, bool up)
{
	PgmIdxList	rows = filter(current, scope);
	bool	   *applied;
	bool	   *covered;
	PgmIdxList	tips;

	if (rows.n > 0 || scope == NULL)
		return rows;
	applied = palloc0(Max(g->nrevs, 1));
	pgm_graph_ancestors(g, current.items, current.n, applied);
	covered = palloc0(Max(g->nrevs, 1));
	for (int i = 0; i < g->nrevs; i++)
	{
		PgmRev	   *r = &g->revs[i];

		if (!applied[i] || (up && !scope[i]))
			continue;
		for (int k = 0; k < r->nparents; k++)
			covered[r->parents[k]] = true;
		for (int k = 0; up && k < r->ndeps; k++)
			covered[r->deps[k]] = true;
	}
	tips.n = 0;
	tips.items = palloc(sizeof(int) * Max(g->nrevs, 1));
	for (int i = 0; i < g->nrevs; i++)
		if (applied[i] && scope[i] && !covered[i])
			tips.items[tips.n++] = i;
	pfree(applied);
	pfree(covered);
	return tips;
}

/*
 * What "branch@" restricts an identifier to, as Alembic's filter_for_lineage
 * does: the revisions that share lineage with the branch's revision (the
 * label's declaring revision, or the revision named), i.e. lie above or
 * below it through down_revision edges.
 */
static bool *
branch_scope(PgmGraph *g, const char *branch)
{
	int			decl = pgm_graph_lookup_label(g, branch);

	if (decl < 0)
		decl = lookup_name(g, branch, NULL, NULL);
	return pgm_graph_lineage(g, decl);
}

/*
 * A full id, a branch label (its declaring revision), or a unique prefix of
 * an id longer than three characters (Alembic's rule).
 */
static int
lookup_name(PgmGraph *g, const char *name, const bool *scope, const char *branch)
{
	int			idx = pgm_graph_lookup(g, name);
	size_t		len = strlen(name);

	if (idx < 0)
		idx = pgm_graph_lookup_label(g, name);
	if (idx < 0)
	{
		int			nfound = 0;
		int			found[4];
		int			found_label[4]; /* -1: matched by id, else the label's index */

		/*
		 * Alembic matches the prefix against every key of its revision map,
		 * ids and branch labels alike, longer than three characters; on a
		 * branch, the candidates that share its lineage come first.
		 */
		for (int pass = scope ? 0 : 1; pass < 2 && nfound == 0; pass++)
			for (int i = 0; i < g->nrevs; i++)
			{
				PgmRev	   *r = &g->revs[i];

				if (pass == 0 && !scope[i])
					continue;
				for (int k = -1; k < r->nlabels; k++)
				{
					const char *key = k < 0 ? r->id : r->labels[k];

					if (strncmp(key, name, len) == 0 && strlen(key) > 3)
					{
						if (nfound < 4)
						{
							found[nfound] = i;
							found_label[nfound] = k;
						}
						nfound++;
					}
				}
			}
		if (nfound == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("revision \"%s\" does not exist", name),
					 len < 4 ? errhint("A partial revision id needs at least four characters.") : 0));
		if (nfound > 1)
			ereport(ERROR,
					(errcode(ERRCODE_CARDINALITY_VIOLATION),
					 errmsg("revision prefix \"%s\" is ambiguous", name),
					 errdetail("%d revision ids or branch labels start with \"%s\": %s%s.",
							   nfound, name, format_matches(g, found, found_label, Min(nfound, 3)),
							   nfound > 3 ? ", ..." : ""),
					 errhint("Give more characters of the revision id.")));
		idx = found[0];
	}
	if (scope && !scope[idx])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("revision \"%s\" is not a member of branch \"%s\"", g->revs[idx].id, branch)));
	return idx;
}

/*
 * Walk 'steps' parents (negative) or children (positive) from 'start'; a
 * start of -1 is "below the bases".  Walking down off a base returns that
 * base with *fell_off set (the caller reads it as "that branch's base");
 * a further step down is an error, as is an ambiguous step.
 */
static int
walk(PgmGraph *g, int start, int steps, const bool *scope, const char *ident, bool *fell_off)
{
	int			cur = start;
	int			total = steps < 0 ? -steps : steps;

	*fell_off = false;
	for (int s = 0; s < total; s++)
	{
		int			next = -1;
		int			nnext = 0;

		if (steps > 0)
		{
			int			n = cur < 0 ? g->nrevs : g->revs[cur].nchildren;

			for (int k = 0; k < n; k++)
			{
				int			c = cur < 0 ? k : g->revs[cur].children[k];

				if ((cur >= 0 || pgm_is_base(g, c)) && (scope == NULL || scope[c]))
				{
					next = c;
					nnext++;
				}
			}
		}
		else if (*fell_off)
			nnext = 0;
		else if (pgm_is_base(g, cur))
		{
			*fell_off = true;
			continue;
		}
		else
		{
			nnext = g->revs[cur].nparents;
			next = g->revs[cur].parents[0];
		}

		if (nnext == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 steps > 0 ?
					 errmsg("relative revision \"%s\" goes past the head", ident) :
					 errmsg("relative revision \"%s\" goes past the base", ident),
					 errdetail("It reaches its end after %d of %d steps.", s, total)));
		if (nnext > 1)
			ereport(ERROR,
					(errcode(ERRCODE_CARDINALITY_VIOLATION),
					 errmsg("relative revision \"%s\" is ambiguous", ident),
					 steps < 0 ?
					 errdetail("Step %d of %d reaches a merge point.", s + 1, total) :
					 cur < 0 ?
					 errdetail("Step %d of %d reaches several bases.", s + 1, total) :
					 errdetail("Step %d of %d reaches a branch point.", s + 1, total),
					 steps < 0 ?
					 errhint("Give the target by id: a merge's parents are named in migrate_history().") :
					 graph_has_labels(g) ?
					 errhint("Name the branch, as label@%+d, or give the target by id.", steps) :
					 errhint("Give the target by id: migrate_branches() lists each branch point's next revisions.")));
		cur = next;
	}
	return cur;
}

/*
 * Resolve an identifier.  'current' holds the applied heads (for "current"
 * and bare relative steps).
 */
PgmTarget
pgm_resolve(PgmGraph *g, const char *ident, PgmIdxList current)
{
	PgmTarget	t = {{0, NULL}, false, -1, -1};
	ParsedIdent p;
	bool	   *scope;
	int			start;
	bool		fell_off;

	if (ident[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("revision identifier must not be empty")));
	/* branch@symbol+digits at the most; keeps absurd input out of messages */
	if (strlen(ident) > 2 * PGM_MAX_ID_LEN + 12)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("revision identifier is too long"),
				 errdetail("It has %zu bytes; an identifier has at most %d.",
						   strlen(ident), 2 * PGM_MAX_ID_LEN + 12)));
	for (const char *c = ident; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') || *c == '_' || *c == '@' || *c == '+' || *c == '-'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("revision identifier contains an invalid character"),
					 (unsigned char) *c > ' ' && (unsigned char) *c < 127 ?
					 errdetail("Character %d is \"%c\"; identifiers contain only ASCII letters, digits, underscores, \"@\", \"+\" and \"-\".",
							   (int) (c - ident) + 1, *c) :
					 errdetail("Byte %d is 0x%02x; identifiers contain only ASCII letters, digits, underscores, \"@\", \"+\" and \"-\".",
							   (int) (c - ident) + 1, (unsigned char) *c)));
	p = parse_ident(ident);
	scope = p.branch ? branch_scope(g, p.branch) : NULL;

	t.anchor = t.branch = p.branch ? branch_revision(g, p.branch) : -1;
	if (!p.relative)
	{
		if (strcmp(p.symbol, "heads") == 0)
			t.revs = scope ? filter(pgm_graph_heads(g), scope) : real_heads(g);
		else if (strcmp(p.symbol, "head") == 0)
		{
			t.revs = filter(pgm_graph_heads(g), scope);
			if (t.revs.n > 1)
				error_multiple_heads(g, t.revs, ident);
		}
		else if (strcmp(p.symbol, "current") == 0)
			t.revs = filter(current, scope);
		else if (strcmp(p.symbol, "base") == 0)
			t.is_base = true;	/* with an anchor: that lineage's base */
		else
			t.revs = one(lookup_name(g, p.symbol, scope, p.branch));
		return t;
	}

	/* relative: find the one revision to walk from (-1: below the bases) */
	if (p.symbol == NULL || strcmp(p.symbol, "current") == 0)
	{
		PgmIdxList	cur = applied_tips(g, current, scope, p.steps > 0);

		if (cur.n > 1)
			ereport(ERROR,
					(errcode(ERRCODE_CARDINALITY_VIOLATION),
					 errmsg("relative revision \"%s\" is ambiguous: %d heads are applied", ident, cur.n),
					 errdetail("The applied heads are: %s.", pgm_format_ids(g, cur.items, cur.n)),
					 graph_has_labels(g) ?
					 errhint("Name the branch, as label@%+d, or the head to step from, as %s@%+d.",
							 p.steps, g->revs[cur.items[0]].id, p.steps) :
					 errhint("Name the head to step from, as %s@%+d.",
							 g->revs[cur.items[0]].id, p.steps)));
		if (cur.n == 0 && p.steps < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("relative revision \"%s\" goes past the base", ident),
					 p.branch ?
					 errdetail("No revision is applied on that branch.") :
					 errdetail("No revision is applied.")));
		start = cur.n == 1 ? cur.items[0] : -1;
		/* Alembic downgrades a bare -N within the lineage of the head it walks from */
		if (p.branch == NULL && start >= 0)
			t.anchor = start;
	}
	else if (strcmp(p.symbol, "head") == 0)
	{
		PgmIdxList	heads = filter(pgm_graph_heads(g), scope);

		if (heads.n > 1)
			error_multiple_heads(g, heads, ident);
		start = heads.n == 1 ? heads.items[0] : -1;
	}
	else if (strcmp(p.symbol, "base") == 0)
		start = -1;
	else if (strcmp(p.symbol, "heads") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid revision identifier \"%s\"", ident),
				 errdetail("A relative step cannot start from \"heads\".")));
	else
		start = lookup_name(g, p.symbol, scope, p.branch);

	if (start < 0 && p.steps < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relative revision \"%s\" goes past the base", ident)));

	start = walk(g, start, p.steps, scope, ident, &fell_off);
	if (fell_off || start < 0)
		t.is_base = true;		/* stepped off a base, or "+0" from nothing */
	else
		t.revs = one(start);
	return t;
}

/*
 * Alembic refuses a bare relative step against the direction of the
 * command: "upgrade -1", "downgrade +1" (and any bare 0).
 */
void
pgm_check_direction(const char *ident, bool upgrade)
{
	ParsedIdent p = parse_ident(ident);

	if (p.relative && p.symbol == NULL &&
		(p.steps == 0 || (upgrade ? p.steps < 0 : p.steps > 0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 upgrade ?
				 errmsg("relative revision \"%s\" does not move up", ident) :
				 errmsg("relative revision \"%s\" does not move down", ident),
				 upgrade ?
				 errhint("To go back, downgrade with -N.") :
				 errhint("To go forward, upgrade with +N.")));
}

/*
 * Resolve to exactly one revision (migrate_new's head, migrate_show, ...).
 */
int
pgm_resolve_single(PgmGraph *g, const char *ident, PgmIdxList current)
{
	PgmTarget	t = pgm_resolve(g, ident, current);

	if (t.revs.n == 1 && !t.is_base)
		return t.revs.items[0];
	if (t.revs.n > 1)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("identifier \"%s\" names %d revisions where one is needed", ident, t.revs.n),
				 errdetail("It names: %s.", pgm_format_ids(g, t.revs.items, t.revs.n))));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("identifier \"%s\" names no revision", ident),
			 t.anchor >= 0 ?
			 errdetail("It names the base of a branch, below its first revision.") :
			 errdetail("It resolves to base, the state before any revision.")));
	return -1;					/* keep compiler quiet */
}

/*
 * A history range, Alembic's "lower:upper" (alembic history -r): both ends
 * optional and inclusive, each any identifier ("current", "-3",
 * "label@head").  NULL or ":" is the whole graph.  Returns a mark per
 * revision (length nrevs): the upper end and everything below it; with a
 * lower end, only what is above it through down_revision edges, as
 * Alembic's _collect_upgrade_revisions.  *top gets the revisions a walk
 * from above starts at: the upper end, Alembic's "heads" when it is left
 * out.
 */
bool *
pgm_resolve_range(PgmGraph *g, const char *range, PgmIdxList current, PgmIdxList *top)
{
	bool	   *in_range = palloc0(Max(g->nrevs, 1));
	const char *colon;
	char	   *lower = NULL;
	const char *upper = NULL;
	PgmTarget	up;

	if (range == NULL || strcmp(range, ":") == 0)
	{
		*top = pgm_resolve(g, "heads", current).revs;
		memset(in_range, true, g->nrevs);
		return in_range;
	}
	colon = strchr(range, ':');
	if (colon == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid history range \"%s\"", range),
				 errhint("Write lower:upper, where either end may be left out, as in \"base:head\" or \"current:\".")));
	if (colon > range)
		lower = pnstrdup(range, colon - range);
	if (colon[1])
		upper = colon + 1;

	up = pgm_resolve(g, upper ? upper : "heads", current);
	*top = up.revs;
	pgm_graph_ancestors(g, up.revs.items, up.revs.n, in_range);
	if (lower)
	{
		PgmTarget	low = pgm_resolve(g, lower, current);
		bool	   *above = palloc0(Max(g->nrevs, 1));

		/* an empty lower end ("current" with nothing applied) is base */
		if (!low.is_base && low.revs.n > 0)
		{
			pgm_graph_children_closure(g, low.revs.items, low.revs.n, above);
			for (int i = 0; i < low.revs.n; i++)
				if (!in_range[low.revs.items[i]])
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("revision \"%s\" is not an ancestor of \"%s\"",
									g->revs[low.revs.items[i]].id, upper ? upper : "heads")));
			for (int i = 0; i < g->nrevs; i++)
				in_range[i] = in_range[i] && above[i];
		}
	}
	return in_range;
}
