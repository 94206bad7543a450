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
# the database, a COMMIT, a file that does not load, a migration that fails
# for another reason).  The project test/alembic_import/indexes (tables with
# many indexes and constraints, sets where Alembic takes a tuple) is imported
# under several PYTHONHASHSEED values, which must give the same bytes, and
# is then loaded and upgraded in database pgm_alembic_d.  The last line is
# "alembic import: ok" or "alembic import: FAILED ..."; the exit status is
# non-zero on any failure.
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
DB_D=pgm_alembic_d
# a project whose output depended on hash order (see step "PYTHONHASHSEED")
INDEXES=$ROOT/test/alembic_import/indexes
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
# what is registered, through the functions (the catalog tables move between
# versions: the extension's schema in 1.0, pgmigrate in 1.1)
registrations() {
	val "$DB_B" "SELECT count(*) || ' ' || md5(string_agg(concat_ws(':', s.revision, s.registered_at, s.checksum,
	                 array_to_string(s.down_revisions, ','), array_to_string(s.depends_on, ','),
	                 array_to_string(s.branch_labels, ',')), ';' ORDER BY s.revision COLLATE \"C\"))
	             FROM migrate_history() h, LATERAL migrate_show(h.revision) s"
}
# the revisions table, for the one column no function shows (transactional)
revisions_table() {
	val "$1" "SELECT coalesce(to_regclass('pgmigrate.migrate_revisions'), to_regclass('pgm.migrate_revisions'))"
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

step "PYTHONHASHSEED: $INDEXES gives the same bytes on every run"
# SQLAlchemy keeps a table's indexes and constraints in sets of objects that
# hash by id(), and Alembic renders them in that order: CREATE INDEX after
# CREATE TABLE, ADD CONSTRAINT after ADD COLUMN, a column's CHECKs, the
# copies of batch_alter_table(recreate="always"); the project also declares
# branch_labels, down_revision and depends_on as sets of strings, whose order
# PYTHONHASHSEED changes.  Several runs (two of them with the same seed: the
# addresses change anyway) must write the same file.
n=0
for seed in 0 1 2 12345 random 0 random; do
	n=$((n + 1))
	PYTHONHASHSEED=$seed "$TOOL" -c "$INDEXES/alembic.ini" -o "$WORK/seed_$n.sql" 2>"$WORK/seed.err" ||
		{ cat "$WORK/seed.err"; fail "the import of $INDEXES failed (PYTHONHASHSEED=$seed)"; }
	if ! cmp "$WORK/seed_1.sql" "$WORK/seed_$n.sql"; then
		diff -u "$WORK/seed_1.sql" "$WORK/seed_$n.sql" | head -n 60 || true
		fail "PYTHONHASHSEED=$seed (run $n) wrote another file than PYTHONHASHSEED=0 (diff above)"
	fi
done
echo "$n runs, one file: $(md5sum <"$WORK/seed_1.sql" | cut -c1-32)"
# the order is the declared one: the columns' index=True in column order, then
# the sa.Index arguments as written
got=$(sed -n '/^-- a1b2c3d4e5f6:/,/downgrade_sql =>/s/^CREATE \(UNIQUE \)\?INDEX \([a-z_]*\) .*/\2/p' "$WORK/seed_1.sql" |
	tr '\n' ' ')
want="ix_shipments_carrier ix_shipments_tracking_no ix_shipments_origin ix_shipments_destination \
ix_shipments_shipped_at ix_shipments_route ix_shipments_open ix_shipments_carrier_time \
uq_shipments_carrier_tracking ix_shipments_lower_dest "
[ "$got" = "$want" ] || fail "CREATE INDEX order of a1b2c3d4e5f6: $got"
grep -q "CONSTRAINT ck_weight_pos CHECK (weight_g > 0) CONSTRAINT ck_weight_max" "$WORK/seed_1.sql" ||
	fail "the CHECK constraints of shipments.weight_g are not in their declared order"
grep -q "branch_labels => ARRAY\['carriers', 'fleet', 'logistics', 'partners', 'vendors'\]" "$WORK/seed_1.sql" ||
	fail "a set of branch labels is not imported sorted"
grep -q "down_revision => ARRAY\['b2c3d4e5f6a7', 'c3d4e5f6a7b8'\]" "$WORK/seed_1.sql" ||
	fail "a set of parents is not imported sorted"
[ -z "$(find "$INDEXES" -name __pycache__)" ] || fail "the tool left __pycache__ in $INDEXES"

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
[ "$(val "$DB_B" "SELECT string_agg(revision, ',') FROM $(revisions_table "$DB_B") WHERE NOT transactional")" = "$NONTRANSACTIONAL" ] ||
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
got=$(val "$DB_C" "SELECT string_agg(format('%s:%s:%s', s.revision,
                       CASE s.upgrade_sql WHEN '' THEN 'empty' ELSE 'sql' END,
                       CASE WHEN s.downgrade_sql IS NULL THEN 'irreversible'
                            WHEN s.downgrade_sql = '' THEN 'empty' ELSE 'sql' END), ' '
                       ORDER BY s.revision COLLATE \"C\")
                   FROM migrate_history() h, LATERAL migrate_show(h.revision) s")
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
# the advice about reading the database goes with database reads only
with_advice() {
	grep -q "a migration that reads the database" "$WORK/bad.err" || { cat "$WORK/bad.err"; fail "$1: no advice"; }
}
without_advice() {
	if grep -q "reads the database" "$WORK/bad.err"; then cat "$WORK/bad.err"; fail "$1: advice about reading the database"; fi
	if grep -q "^Traceback" "$WORK/bad.err"; then cat "$WORK/bad.err"; fail "$1: a traceback"; fi
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
with_advice 0004_reads.py
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
with_advice 0004_inspects.py
expect_error 0004_version.py "e4" "upgrade() cannot be rendered offline (line 11: .*it checks the server version" <<'EOF'
"""checks the server version"""
from alembic import op

revision = "e4"
down_revision = "e3"


def upgrade():
    bind = op.get_bind()
    op.execute("CREATE TABLE edge_v (id int)")
    if bind.dialect.server_version_info >= (15,):
        op.execute("ALTER TABLE edge_v ADD UNIQUE NULLS NOT DISTINCT (id)")


def downgrade():
    op.execute("DROP TABLE edge_v")
EOF
with_advice 0004_version.py
# a file that does not load names itself (there is no revision yet) and
# the line; no traceback, no advice
expect_error 0004_missing_module.py "could not load migration file [^ ]*/versions/0004_missing_module\.py" \
	"(line 4: import pgm_no_such_module): ModuleNotFoundError: No module named 'pgm_no_such_module'.  .* install the module 'pgm_no_such_module'" <<'EOF'
"""imports a module that is not installed"""
from alembic import op
import sqlalchemy as sa
import pgm_no_such_module

revision = "e4"
down_revision = "e3"


def upgrade():
    pgm_no_such_module.create(op, sa)


def downgrade():
    pass
EOF
without_advice 0004_missing_module.py
expect_error 0004_syntax_error.py "could not load migration file [^ ]*/versions/0004_syntax_error\.py" \
	"(line 9: op.execute(\"CREATE TABLE edge_s (id int)\"): SyntaxError: " <<'EOF'
"""does not compile"""
from alembic import op

revision = "e4"
down_revision = "e3"


def upgrade():
    op.execute("CREATE TABLE edge_s (id int)"


def downgrade():
    op.execute("DROP TABLE edge_s")
EOF
without_advice 0004_syntax_error.py
# an upgrade() or downgrade() that fails for a reason of its own
expect_error 0004_name_error.py "e4" "upgrade() failed (line 10: op.execute(\"DROP TABLE \" + tabel_name)): NameError: name 'tabel_name' is not defined" <<'EOF'
"""a typo"""
from alembic import op

revision = "e4"
down_revision = "e3"
table_name = "edge"


def upgrade():
    op.execute("DROP TABLE " + tabel_name)


def downgrade():
    pass
EOF
without_advice 0004_name_error.py
expect_error 0004_lazy_import.py "e4" "downgrade() failed (line 13: import pgm_no_such_module): ModuleNotFoundError: .* install the module" <<'EOF'
"""imports a module that is not installed, in downgrade()"""
from alembic import op

revision = "e4"
down_revision = "e3"


def upgrade():
    pass


def downgrade():
    import pgm_no_such_module
    pgm_no_such_module.undo(op)
EOF
without_advice 0004_lazy_import.py
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

step "database $DB_D: load the import of $INDEXES twice, upgrade, downgrade"
fresh_db "$DB_D"
on "$DB_D" -c "CREATE SCHEMA pgm" -c "CREATE EXTENSION pg_migrate SCHEMA pgm" -f "$WORK/seed_1.sql" >/dev/null
on "$DB_D" -f "$WORK/seed_2.sql" >/dev/null      # the same file: a no-op
on "$DB_D" -c "SELECT * FROM migrate_upgrade('heads')" >/dev/null
got=$(val "$DB_D" "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'")
[ "$got" -ge 18 ] || fail "$DB_D: $got indexes after the upgrade"
on "$DB_D" -c "SELECT * FROM migrate_downgrade('base')" >/dev/null
[ "$(user_objects "$DB_D")" = 0 ] || { schema_of "$DB_D"; fail "migrate_downgrade('base') left objects in $DB_D"; }
echo "$got indexes, then none"

"$PSQL" -X -q -d postgres -c "DROP DATABASE $DB_A" -c "DROP DATABASE $DB_B" -c "DROP DATABASE $DB_C" \
	-c "DROP DATABASE $DB_D"
echo
echo "alembic import: ok"
