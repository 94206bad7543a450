#!/usr/bin/env bash
# Imports the sample Alembic project (test/alembic_project) with
# pg_migrate_import_alembic and checks that pg_migrate builds the same schema
# from the import as Alembic builds from the project:
#
#   database pgm_alembic_a: alembic upgrade head (Alembic 1.8, online)
#   database pgm_alembic_b: pg_migrate in schema pgm, the import loaded with
#                           psql (twice: a no-op), then upgraded to 'heads'
#
# then compares pg_dump --schema-only of schema public of both (without
# alembic_version), downgrades both to base, and checks that nothing is left.
# A scratch project in a temporary directory checks irreversible and empty
# downgrades, and the tool's errors (a bad revision id, a migration that reads
# the database, a COMMIT).  The last line is "alembic import: ok" or
# "alembic import: FAILED ..."; the exit status is non-zero on any failure.
#
# Connects with PGHOST, PGPORT and PGUSER from the environment (test/run
# exports them for its throwaway cluster); needs /usr/bin/python3 with
# python3-alembic and python3-psycopg2.  PGM_BINDIR picks the PostgreSQL
# binaries (default /usr/lib/postgresql/15/bin).
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BINDIR=${PGM_BINDIR:-/usr/lib/postgresql/15/bin}
PSQL=$BINDIR/psql
PG_DUMP=$BINDIR/pg_dump
PY=/usr/bin/python3
TOOL=$ROOT/pg_migrate_import_alembic
PROJECT=$ROOT/test/alembic_project
DB_A=pgm_alembic_a
DB_B=pgm_alembic_b
DB_C=pgm_alembic_c
# the revisions of the sample project the steps below name
LAST_TRANSACTIONAL=be3b8c6d5e77     # the merge below the CREATE INDEX CONCURRENTLY one
NONTRANSACTIONAL=cf4c9d7e6f88

export PYTHONDONTWRITEBYTECODE=1    # no __pycache__ in the sample project
WORK=$(mktemp -d /tmp/pgm_alembic_import.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
trap 'echo "alembic import: FAILED (line $LINENO: $BASH_COMMAND)"' ERR

step() { printf '\n--- %s\n' "$*"; }
fail() {
	echo "alembic import: FAILED: $*"
	exit 1
}
# psql on a database; b runs with search_path public, pgm so that the
# migration SQL creates its objects in public and finds migrate_* in pgm
on() {
	local db=$1
	shift
	if [ "$db" = "$DB_A" ]; then
		"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"
	else
		PGOPTIONS="${PGOPTIONS:-} -c search_path=public,pgm" "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"
	fi
}
val() { on "$1" -At -c "$2"; }
alembic() { ALEMBIC_DATABASE_URL="postgresql:///$DB_A" "$PY" -m alembic -c "$PROJECT/alembic.ini" "$@"; }
fresh_db() {
	"$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" \
		-c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
}
# the schema public, as pg_dump sees it, without comments, SET lines and the
# dump's random \restrict key
schema_of() {
	"$PG_DUMP" --schema-only --no-owner -n public "$@" |
		grep -vE '^(--|SET |SELECT pg_catalog\.set_config|\\restrict |\\unrestrict )' | sed '/^[[:space:]]*$/d'
}
registrations() {
	val "$DB_B" "SELECT count(*) || ' ' || md5(string_agg(revision || seq || registered_at || checksum
	             || transactional || coalesce(array_to_string(branch_labels, ','), ''), ';' ORDER BY seq))
	             FROM migrate_revisions"
}
user_objects() {
	val "$1" "SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace
	                    AND relname NOT IN ('alembic_version', 'alembic_version_pkc'))
	               + (SELECT count(*) FROM pg_type WHERE typnamespace = 'public'::regnamespace
	                    AND typrelid = 0 AND typelem = 0)
	               + (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace)"
}

step "import $PROJECT"
"$TOOL" -c "$PROJECT/alembic.ini" -o "$WORK/import.sql" 2>"$WORK/tool.err" ||
	{ cat "$WORK/tool.err"; fail "the import tool failed"; }
cat "$WORK/import.sql"
"$TOOL" -c "$PROJECT/alembic.ini" -o "$WORK/import2.sql" 2>/dev/null
cmp -s "$WORK/import.sql" "$WORK/import2.sql" || fail "two runs of the tool wrote different files"
"$TOOL" -c "$PROJECT/alembic.ini" --no-env 2>/dev/null >"$WORK/import_noenv.sql"
cmp -s "$WORK/import.sql" "$WORK/import_noenv.sql" || fail "--no-env wrote a different file"
n=$(grep -c '^SELECT migrate_revision(' "$WORK/import.sql")
scripts=$(find "$PROJECT/versions" -maxdepth 1 -name '*.py' | wc -l)
[ "$n" -eq "$scripts" ] || fail "$n registrations for $scripts scripts"
[ -z "$(find "$PROJECT" -name __pycache__)" ] || fail "the tool left __pycache__ in the project"

step "database $DB_A: alembic upgrade head"
fresh_db "$DB_A"
alembic upgrade head

step "database $DB_B: CREATE EXTENSION pg_migrate SCHEMA pgm, load the import twice"
fresh_db "$DB_B"
on "$DB_B" -c "CREATE SCHEMA pgm" -c "CREATE EXTENSION pg_migrate SCHEMA pgm"
on "$DB_B" -f "$WORK/import.sql" >/dev/null
before=$(registrations)
on "$DB_B" -f "$WORK/import.sql" >/dev/null
[ "$(registrations)" = "$before" ] || fail "loading the import again changed migrate_revisions"
echo "registered: $before; loading again changed nothing"

want=$(alembic heads 2>/dev/null | awk '{print $1}' | sort | tr '\n' ' ')
got=$(val "$DB_B" "SELECT revision FROM migrate_heads() ORDER BY 1" | tr '\n' ' ')
[ "$want" = "$got" ] || fail "heads: alembic says '$want', pg_migrate '$got'"
echo "heads: $got"
[ "$(val "$DB_B" "SELECT string_agg(revision, ',') FROM migrate_revisions WHERE NOT transactional")" = "$NONTRANSACTIONAL" ] ||
	fail "only $NONTRANSACTIONAL (autocommit_block) should be registered with transactional => false"

step "database $DB_B: upgrade"
# the non-transactional revision keeps the function from running the whole plan
if on "$DB_B" -c "SELECT * FROM migrate_upgrade('heads')" >"$WORK/refused.out" 2>&1; then
	fail "migrate_upgrade('heads') ran a non-transactional revision"
fi
grep -q "non-transactional" "$WORK/refused.out" || { cat "$WORK/refused.out"; fail "unexpected error"; }
on "$DB_B" -c "SELECT * FROM migrate_upgrade('$LAST_TRANSACTIONAL')"
on "$DB_B" -c "CALL migrate_apply('heads')"
a_version=$(val "$DB_A" "SELECT string_agg(version_num, ',' ORDER BY 1) FROM alembic_version")
b_version=$(val "$DB_B" "SELECT string_agg(revision, ',' ORDER BY 1) FROM migrate_current()")
[ "$a_version" = "$b_version" ] || fail "alembic_version is $a_version, migrate_current() $b_version"
echo "both at $b_version"

step "compare the schemas"
schema_of -T public.alembic_version "$DB_A" >"$WORK/a.sql"
schema_of "$DB_B" >"$WORK/b.sql"
[ "$(grep -c '^CREATE ' "$WORK/a.sql")" -gt 10 ] || { cat "$WORK/a.sql"; fail "the dump of $DB_A is too small"; }
if ! diff -u "$WORK/a.sql" "$WORK/b.sql"; then
	fail "the schema pg_migrate built differs from Alembic's (diff above: - alembic, + pg_migrate)"
fi
echo "identical: $(wc -l <"$WORK/a.sql") lines of pg_dump"

step "database $DB_B: registering again once applied is still a no-op"
before=$(registrations)
on "$DB_B" -f "$WORK/import.sql" >/dev/null
[ "$(registrations)" = "$before" ] || fail "loading the import again changed migrate_revisions"

step "downgrade both to base"
alembic downgrade base
on "$DB_B" -c "CALL migrate_apply('$LAST_TRANSACTIONAL', downgrade => true)"
on "$DB_B" -c "SELECT * FROM migrate_downgrade('base')"
[ "$(user_objects "$DB_A")" = 0 ] || fail "alembic downgrade base left objects in $DB_A"
[ "$(user_objects "$DB_B")" = 0 ] || { schema_of "$DB_B"; fail "migrate_downgrade('base') left objects in public"; }
[ "$(val "$DB_B" "SELECT count(*) FROM migrate_current()")" = 0 ] || fail "revisions still applied"
schema_of -T public.alembic_version "$DB_A" >"$WORK/a.sql"
schema_of "$DB_B" >"$WORK/b.sql"
diff -u "$WORK/a.sql" "$WORK/b.sql" || fail "the schemas differ after downgrading"
echo "public is empty in both"

step "scratch project: empty and irreversible downgrades"
EDGE=$WORK/edge
mkdir -p "$EDGE/versions"
cp "$PROJECT/alembic.ini" "$PROJECT/env.py" "$EDGE/"
cat >"$EDGE/versions/0001_e1.py" <<'EOF'
"""irreversible: downgrade raises NotImplementedError"""
from alembic import op

revision = "e1"
down_revision = None


def upgrade():
    op.execute("CREATE TABLE edge (id int PRIMARY KEY, note text)")


def downgrade():
    raise NotImplementedError("the data cannot be restored")
EOF
cat >"$EDGE/versions/0002_e2.py" <<'EOF'
"""empty both ways"""
revision = "e2"
down_revision = "e1"


def upgrade():
    pass


def downgrade():
    pass
EOF
cat >"$EDGE/versions/0003_e3.py" <<'EOF'
"""writes through the bind, result unused; no downgrade() at all"""
from alembic import op
import sqlalchemy as sa

revision = "e3"
down_revision = "e2"
depends_on = "e1"


def upgrade():
    op.get_bind().execute(sa.text("INSERT INTO edge VALUES (1, 'it''s there')"))
EOF
"$TOOL" -c "$EDGE/alembic.ini" -o "$WORK/edge.sql" 2>"$WORK/edge.err" || { cat "$WORK/edge.err"; fail "edge import failed"; }
grep -q "revision e3 .* has no downgrade()" "$WORK/edge.err" || { cat "$WORK/edge.err"; fail "no warning for e3"; }
fresh_db "$DB_C"
on "$DB_C" -c "CREATE SCHEMA pgm" -c "CREATE EXTENSION pg_migrate SCHEMA pgm" -f "$WORK/edge.sql" >/dev/null
got=$(val "$DB_C" "SELECT string_agg(format('%s:%s:%s', revision,
                       CASE upgrade_sql WHEN '' THEN 'empty' ELSE 'sql' END,
                       CASE WHEN downgrade_sql IS NULL THEN 'irreversible'
                            WHEN downgrade_sql = '' THEN 'empty' ELSE 'sql' END), ' ' ORDER BY seq)
                   FROM migrate_revisions")
[ "$got" = "e1:sql:irreversible e2:empty:empty e3:sql:irreversible" ] || fail "edge registrations: $got"
on "$DB_C" -c "SELECT * FROM migrate_upgrade('heads')" >/dev/null
[ "$(val "$DB_C" "SELECT note FROM edge")" = "it's there" ] || fail "e3's INSERT did not run"
if on "$DB_C" -c "SELECT * FROM migrate_downgrade('e2')" >"$WORK/irrev.out" 2>&1; then
	fail "downgraded through an irreversible revision"
fi
grep -q 'irreversible revision "e3"' "$WORK/irrev.out" || { cat "$WORK/irrev.out"; fail "unexpected error"; }
echo "$got"

step "scratch project: errors name the revision"
# expect_error <file name> <revision> <text the error must contain>, the
# file's body on standard input: the project plus that file must fail
expect_error() {
	local file=$1 rev=$2 text=$3
	cat >"$EDGE/versions/$file"
	rm -f "$WORK/bad.sql"
	if "$TOOL" -c "$EDGE/alembic.ini" -o "$WORK/bad.sql" 2>"$WORK/bad.err"; then
		fail "$file: the tool succeeded"
	fi
	grep "error:" "$WORK/bad.err" | tail -n 1
	grep -q "error: .*$rev.*$text" "$WORK/bad.err" || { cat "$WORK/bad.err"; fail "$file: unexpected message"; }
	[ ! -e "$WORK/bad.sql" ] || fail "$file: an output file was written"
	rm -f "$EDGE/versions/$file"
}
expect_error 0004_bad_id.py "e4\.bad" "does not match \[A-Za-z0-9_\]{1,128}" <<'EOF'
"""an id pg_migrate cannot take"""
revision = "e4.bad"
down_revision = "e3"


def upgrade():
    pass


def downgrade():
    pass
EOF
expect_error 0004_bad_label.py "e4" "branch label 'e-4'" <<'EOF'
"""a label pg_migrate cannot take"""
revision = "e4"
down_revision = "e3"
branch_labels = ("e-4",)


def upgrade():
    pass


def downgrade():
    pass
EOF
expect_error 0004_reads.py "e4" "upgrade() cannot be rendered offline.*it uses the result of a statement" <<'EOF'
"""reads the database"""
from alembic import op
import sqlalchemy as sa

revision = "e4"
down_revision = "e3"


def upgrade():
    for (n,) in op.get_bind().execute(sa.text("SELECT id FROM edge")):
        op.execute("UPDATE edge SET note = 'seen' WHERE id = %d" % n)


def downgrade():
    pass
EOF
expect_error 0004_inspects.py "e4" "downgrade() cannot be rendered offline.*it inspects the database" <<'EOF'
"""inspects the database"""
from alembic import op
import sqlalchemy as sa

revision = "e4"
down_revision = "e3"


def upgrade():
    pass


def downgrade():
    if sa.inspect(op.get_bind()).has_table("edge"):
        op.drop_table("edge")
EOF
expect_error 0004_commit.py "e4" "transaction control statement" <<'EOF'
"""commits by hand"""
from alembic import op

revision = "e4"
down_revision = "e3"


def upgrade():
    op.execute("COMMIT")
    op.execute("CREATE INDEX CONCURRENTLY edge_note ON edge (note)")


def downgrade():
    op.execute("DROP INDEX edge_note")
EOF

"$PSQL" -X -q -d postgres -c "DROP DATABASE $DB_A" -c "DROP DATABASE $DB_B" -c "DROP DATABASE $DB_C"
echo
echo "alembic import: ok"
