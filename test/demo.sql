-- pg_migrate demo: a small migration set with a branch and a merge, applied
-- step by step, inspected, partly undone, and rendered as an offline script.
--
-- Run by test/demo (and test/run) on a fresh database:
--     psql -X -v ON_ERROR_STOP=1 -e -f test/demo.sql
-- It runs top to bottom without errors; where it shows an error, a DO block
-- catches it and prints the message as a NOTICE.

\set VERBOSITY default
SET client_min_messages = notice;

\echo
\echo '=== 1. Install the extension'
CREATE EXTENSION pg_migrate;

\echo
\echo '=== 2. Register the revisions (parents first)'
\echo 'trunk:  a1b2c3d4e5f6  add users'
\echo '        +-- shop branch:  b2c3d4e5f6a7  add orders  ->  c3d4e5f6a7b8  add order totals'
\echo '        +-- trunk:        d4e5f6a7b8c9  index user emails'

SELECT migrate_revision('a1b2c3d4e5f6', NULL,
    $up$
    CREATE TABLE users (
        id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        email text NOT NULL
    );
    $up$,
    $down$
    DROP TABLE users;
    $down$,
    message => 'add users');

SELECT migrate_revision('b2c3d4e5f6a7', 'a1b2c3d4e5f6',
    $up$
    CREATE TABLE orders (
        id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id bigint NOT NULL REFERENCES users
    );
    $up$,
    $down$
    DROP TABLE orders;
    $down$,
    message => 'add orders',
    branch_labels => ARRAY['shop']);

SELECT migrate_revision('c3d4e5f6a7b8', 'b2c3d4e5f6a7',
    $up$
    ALTER TABLE orders ADD COLUMN total numeric(12,2) NOT NULL DEFAULT 0;
    $up$,
    $down$
    ALTER TABLE orders DROP COLUMN total;
    $down$,
    message => 'add order totals');

SELECT migrate_revision('d4e5f6a7b8c9', 'a1b2c3d4e5f6',
    $up$
    CREATE UNIQUE INDEX users_email_key ON users (lower(email));
    $up$,
    $down$
    DROP INDEX users_email_key;
    $down$,
    message => 'index user emails');

\echo
\echo '=== 3. Registration is idempotent: the same call again is a no-op ...'
SELECT migrate_revision('d4e5f6a7b8c9', 'a1b2c3d4e5f6',
    $up$
    CREATE UNIQUE INDEX users_email_key ON users (lower(email));
    $up$,
    $down$
    DROP INDEX users_email_key;
    $down$,
    message => 'index user emails');

\echo '... but the same id with different content is refused'
DO $$
BEGIN
    PERFORM migrate_revision('d4e5f6a7b8c9', 'a1b2c3d4e5f6',
        'CREATE INDEX users_email_idx ON users (email)',
        'DROP INDEX users_email_idx',
        message => 'index user emails');
EXCEPTION WHEN duplicate_object THEN
    RAISE NOTICE 'refused (%): %', SQLSTATE, SQLERRM;
END
$$;

\echo
\echo '=== 4. The graph: two heads, one branch point'
SELECT * FROM migrate_heads();
SELECT * FROM migrate_branches();
SELECT * FROM migrate_bases();
SELECT revision, down_revisions, branch_labels, message, is_head, is_branch_point, is_applied
FROM migrate_history();

\echo
\echo '=== 5. Identifiers resolve against the graph'
SELECT ident, migrate_resolve(ident) AS resolves_to
FROM unnest(ARRAY['heads', 'shop', 'shop@head', 'b2c3', 'base+1', 'c3d4e5f6a7b8-1', 'd4e5f6a7b8c9@head']) AS ident;

\echo
\echo '=== 6. Upgrade step by step to heads'
\echo '--- base+1 from an empty database: the one base'
SELECT * FROM migrate_upgrade('+1');
SELECT * FROM migrate_current();

\echo '--- "+1" again is ambiguous: a1b2c3d4e5f6 is a branch point'
DO $$
BEGIN
    PERFORM * FROM migrate_upgrade('+1');
EXCEPTION WHEN cardinality_violation THEN
    RAISE NOTICE 'refused (%): %', SQLSTATE, SQLERRM;
END
$$;

\echo '--- one step into the shop branch, by id'
SELECT * FROM migrate_upgrade('b2c3d4e5f6a7');
\echo '--- the rest of the shop branch'
SELECT * FROM migrate_upgrade('shop@head');
\echo '--- and every other head'
SELECT * FROM migrate_upgrade('heads');
SELECT * FROM migrate_current();

\echo '--- "head" (singular) is ambiguous while there are two heads'
DO $$
BEGIN
    PERFORM * FROM migrate_upgrade('head');
EXCEPTION WHEN cardinality_violation THEN
    RAISE NOTICE 'refused (%): %', SQLSTATE, SQLERRM;
END
$$;

\echo
\echo '=== 7. Merge the two heads, then add one more revision on top'
SELECT migrate_merge(ARRAY['heads'], 'merge shop into trunk') AS merge_id \gset
\echo merge revision: :merge_id

SELECT migrate_revision('e5f6a7b8c9d0', :'merge_id',
    $up$
    ALTER TABLE users ADD COLUMN display_name text;
    $up$,
    $down$
    ALTER TABLE users DROP COLUMN display_name;
    $down$,
    message => 'add users.display_name');

SELECT * FROM migrate_heads();
SELECT * FROM migrate_upgrade('head');
SELECT * FROM migrate_current();
SELECT revision, down_revisions, branch_labels, message, is_head, is_merge, is_applied
FROM migrate_history();
\echo '--- history of a range: from the merge up to the head'
SELECT revision, message FROM migrate_history(:'merge_id' || ':head');

\echo
\echo '=== 8. Downgrades'
\echo '--- "-1" from e5f6a7b8c9d0: one step down, unambiguous'
SELECT * FROM migrate_downgrade('-1');
SELECT * FROM migrate_current();

\echo '--- "-1" again would go down through the merge: ambiguous'
DO $$
BEGIN
    PERFORM * FROM migrate_downgrade('-1');
EXCEPTION WHEN cardinality_violation THEN
    RAISE NOTICE 'refused (%): %', SQLSTATE, SQLERRM;
END
$$;

\echo '--- down to a revision id: below the merge, both its parents are heads again'
SELECT * FROM migrate_downgrade('c3d4e5f6a7b8');
SELECT * FROM migrate_current();
\echo '--- shop@-1: one step down on the shop branch only'
SELECT * FROM migrate_downgrade('shop@-1');
SELECT * FROM migrate_current();
\echo '--- down to the first revision: the other branch goes too'
SELECT * FROM migrate_downgrade('a1b2c3d4e5f6');
SELECT * FROM migrate_current();
\echo '--- the tables left'
SELECT c.relname FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i')
  AND c.relname NOT LIKE 'migrate\_%'
ORDER BY c.relname COLLATE "C";

\echo
\echo '=== 9. Offline mode: the script an upgrade would run, applying nothing'
\pset format unaligned
\pset tuples_only on
SELECT migrate_upgrade_sql('head');
\echo '--- a downgrade script from a given state'
SELECT migrate_downgrade_sql('a1b2c3d4e5f6', from_revision => 'shop@head');
\pset format aligned
\pset tuples_only off
\echo '--- nothing was applied by that:'
SELECT * FROM migrate_current();

\echo
\echo '=== 10. Back to head, and one revision in full'
SELECT * FROM migrate_upgrade('head');
\x on
SELECT revision, down_revisions, depends_on, branch_labels, message, upgrade_sql, downgrade_sql,
       checksum, registered_by, is_head, is_applied, next_revisions
FROM migrate_show('shop');
\x off

\echo
\echo '=== 11. An edited migration does not run'
BEGIN;
UPDATE pgmigrate.migrate_revisions SET upgrade_sql = upgrade_sql || '-- edited'
WHERE revision = 'e5f6a7b8c9d0';
DO $$
BEGIN
    PERFORM * FROM migrate_downgrade('-1');
EXCEPTION WHEN data_corrupted THEN
    RAISE NOTICE 'refused (%): %', SQLSTATE, SQLERRM;
END
$$;
ROLLBACK;
SELECT * FROM migrate_current();

\echo
\echo '=== 12. The log'
SELECT revision, direction FROM pgmigrate.migrate_log ORDER BY id;
