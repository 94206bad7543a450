/*-------------------------------------------------------------------------
 *
 * hazards.c
 *	  The hazards of a rehearsed statement, judged from what it did on the
 *	  real database (rehearse.c), and a safe rewrite for each.
 *
 * A static linter guesses from the text; these rules look at the facts:
 * the lock the statement really took, the size of the table it took it
 * on, whether PostgreSQL really rewrote or scanned it, and the error it
 * really raised.  So none fires on a table the migration itself created,
 * on a table below pg_migrate.hazard_min_table_size, on NOT VALID then
 * VALIDATE (VALIDATE's lock does not block writes), on a type change that
 * does not rewrite (varchar(10) to text) or on a constant default (no
 * rewrite since PostgreSQL 11).
 *
 * The codes:
 *	long_lock					a lock that blocks writes (SHARE or stronger) on
 *								a big table, held while a statement ran at
 *								least pg_migrate.hazard_min_lock_duration (taken
 *								by it, or earlier in its revision: a real run
 *								holds it until the step commits)
 *	rewrite						a big table rewritten
 *	volatile_default			ADD COLUMN with a default that rewrote the table
 *	full_scan_under_lock		a big table read in full under a lock that
 *								blocks writes (SET NOT NULL, a CHECK or foreign
 *								key added without NOT VALID)
 *	index_without_concurrently	CREATE INDEX on a big table without
 *								CONCURRENTLY
 *	not_null_without_default	ADD COLUMN NOT NULL without a default on a
 *								table that has rows (it fails)
 *	enum_value_used_same_transaction
 *								a value added to an enum used before commit
 *								(55P04)
 *	drop_column_used_by_view	a dropped column that views still use
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/lockdefs.h"
#include "utils/errcodes.h"

#include "hazards.h"
#include "settings.h"

static bool
big(const PgmRelFact *r)
{
	return !r->created && r->size_bytes >= (int64) pgm_hazard_min_table_size * 1024;
}

static void
add(PgmStmtFacts *s, const char *code, const char *suggestion)
{
	for (int i = 0; i < s->nhazards; i++)
		if (strcmp(s->hazards[i], code) == 0)
			return;
	if (s->nhazards < (int) lengthof(s->hazards))
	{
		s->hazards[s->nhazards] = code;
		s->suggestions[s->nhazards] = suggestion;
		s->nhazards++;
	}
}

static bool
failed_with(const PgmStmtFacts *s, const char *sqlstate)
{
	return s->sqlstate != NULL && strcmp(s->sqlstate, sqlstate) == 0;
}

/* Did the statement rewrite this relation? */
static bool
rewrote(const PgmStmtFacts *s, Oid relid)
{
	for (int i = 0; i < s->nrewrote; i++)
		if (s->rewrote[i].relid == relid)
			return true;
	return false;
}

void
pgm_judge_hazards(PgmStmtFacts *s)
{
	bool		touched_big = false;

	/*
	 * A lock that blocks writes on a big table, held while the statement
	 * ran: taken by it, or earlier in the same revision (a real run holds
	 * it until the step commits)
	 */
	for (int i = 0; i < s->nholds; i++)
		if (big(&s->holds[i]) && s->duration_ms >= pgm_hazard_min_lock_duration)
			add(s, "long_lock",
				"Keep the lock short: a low lock_timeout with retries (migrate_apply's lock_timeout and lock_retries), or a variant that takes a weaker lock (CREATE INDEX CONCURRENTLY; ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT).");

	for (int i = 0; i < s->nrewrote; i++)
	{
		if (!big(&s->rewrote[i]))
			continue;
		touched_big = true;
		if (s->shape.add_column_default)
			add(s, "volatile_default",
				"A volatile default is computed for every row, rewriting the table: add the column without it, SET DEFAULT for new rows, and backfill the old ones in batches.");
		add(s, "rewrite",
			"The table is rewritten under an ACCESS EXCLUSIVE lock: add a new column, backfill it in batches and swap, or choose a change that does not rewrite (varchar(n) to text or to a wider varchar, a constant default).");
	}

	for (int i = 0; i < s->nscans; i++)
	{
		PgmRelFact *r = &s->scans[i];

		if (!big(r) || r->mode < ShareLock)
			continue;
		touched_big = true;
		/* a rewrite reads the table, and so does an index build: said above and below */
		if (!rewrote(s, r->relid) && !s->shape.create_index)
			add(s, "full_scan_under_lock",
				"Validate without blocking writes: ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a later step; before SET NOT NULL, add and validate a CHECK (column IS NOT NULL).");
	}
	for (int i = 0; i < s->nlocks; i++)
		if (big(&s->locks[i]) && s->locks[i].mode >= ShareLock)
			touched_big = true;

	if (s->shape.create_index && touched_big)
		add(s, "index_without_concurrently",
			"Build the index with CREATE INDEX CONCURRENTLY, in a revision registered with transactional => false.");

	if (s->shape.add_column_not_null_no_default)
	{
		bool		has_rows = failed_with(s, "23502");

		for (int i = 0; i < s->nlocks && !has_rows; i++)
			if (!s->locks[i].created && (s->locks[i].rows_estimate > 0 || s->locks[i].size_bytes > 0))
				has_rows = true;
		if (has_rows)
			add(s, "not_null_without_default",
				"The existing rows have no value for it: add the column with a constant default, or nullable, backfill it, then SET NOT NULL.");
	}

	if (failed_with(s, "55P04"))
		add(s, "enum_value_used_same_transaction",
			"A value added to an enum cannot be used before the transaction that added it commits: add it in a revision of its own, before the one that uses it.");

	if (s->shape.views_on_dropped_column != NULL)
		add(s, "drop_column_used_by_view",
			"Views still use the column: drop or redefine them first, in the same revision, or keep the column.");
}
