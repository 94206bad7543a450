-- registration: migrate_revision, migrate_new and their checks
CREATE EXTENSION pg_migrate;

SELECT migrate_revision('a1b2c3d4e5f6', NULL, 'CREATE TABLE users (id bigint PRIMARY KEY)', 'DROP TABLE users', 'add users');
-- down_revision as a single text id, and as an array
SELECT migrate_revision('b2b2', 'a1b2c3d4e5f6', 'CREATE TABLE posts (id int)', 'DROP TABLE posts', 'add posts');
SELECT migrate_revision('c3c3', ARRAY['a1b2c3d4e5f6'], 'CREATE TABLE tags (id int)', NULL, 'add tags',
                        branch_labels => '{tagging}', depends_on => '{b2b2}');

SELECT revision, down_revisions, depends_on, branch_labels, message,
       downgrade_sql IS NULL AS irreversible, length(checksum) AS checksum_len, registered_by
FROM pgmigrate.migrate_revisions ORDER BY seq;

-- the checksum is the documented function of the SQL
SELECT count(*) AS checksums_ok FROM pgmigrate.migrate_revisions
WHERE checksum = migrate_checksum(upgrade_sql, downgrade_sql);

-- idempotent: the same revision with the same content is a no-op
SELECT migrate_revision('b2b2', 'a1b2c3d4e5f6', 'CREATE TABLE posts (id int)', 'DROP TABLE posts', 'add posts');
SELECT migrate_revision('c3c3', ARRAY['a1b2c3d4e5f6'], 'CREATE TABLE tags (id int)', NULL, 'add tags',
                        branch_labels => '{tagging}', depends_on => '{b2b2}');
SELECT count(*) FROM pgmigrate.migrate_revisions;

-- with different content, an error naming the fields
SELECT migrate_revision('b2b2', 'a1b2c3d4e5f6', 'CREATE TABLE posts (id bigint)', 'DROP TABLE posts', 'add posts');
SELECT migrate_revision('b2b2', NULL, 'CREATE TABLE posts (id int)', NULL, 'add posts!');

-- unknown parent, unknown dependency
SELECT migrate_revision('d4d4', 'nope', 'SELECT 1');
SELECT migrate_revision('d4d4', 'c3c3', 'SELECT 1', depends_on => '{nope}');
-- self-parent, self-dependency
SELECT migrate_revision('d4d4', 'd4d4', 'SELECT 1');
SELECT migrate_revision('d4d4', 'c3c3', 'SELECT 1', depends_on => '{d4d4}');
-- the same parent twice
SELECT migrate_revision('d4d4', ARRAY['c3c3', 'c3c3'], 'SELECT 1');
-- ids: empty, too long, bad characters, reserved words
SELECT migrate_revision('', NULL, 'SELECT 1');
SELECT migrate_revision(repeat('x', 129), NULL, 'SELECT 1');
SELECT migrate_revision(repeat('x', 128), NULL, 'SELECT 1') = repeat('x', 128) AS longest_id_ok;
SELECT migrate_revision('a-b', NULL, 'SELECT 1');
SELECT migrate_revision('a@b', NULL, 'SELECT 1');
SELECT migrate_revision('x''; DROP TABLE users; --', NULL, 'SELECT 1');
SELECT migrate_revision('héllo', NULL, 'SELECT 1');
SELECT migrate_revision('head', NULL, 'SELECT 1');
SELECT migrate_revision('Base', NULL, 'SELECT 1') AS case_matters;
-- several parents written as text: a hint to use an array
SELECT migrate_revision('d4d4', 'b2b2,c3c3', 'SELECT 1');
-- branch labels: duplicates, collisions with ids and keywords
SELECT migrate_revision('d4d4', 'c3c3', 'SELECT 1', branch_labels => '{tagging}');
SELECT migrate_revision('d4d4', 'c3c3', 'SELECT 1', branch_labels => '{b2b2}');
SELECT migrate_revision('d4d4', 'c3c3', 'SELECT 1', branch_labels => '{d4d4}');
SELECT migrate_revision('d4d4', 'c3c3', 'SELECT 1', branch_labels => '{heads}');
SELECT migrate_revision('d4d4', 'c3c3', 'SELECT 1', branch_labels => '{x,x}');
-- an id that is already a label
SELECT migrate_revision('tagging', 'c3c3', 'SELECT 1');
-- arrays with NULLs or two dimensions
SELECT migrate_revision('d4d4', ARRAY['c3c3', NULL], 'SELECT 1');
SELECT migrate_revision('d4d4', ARRAY[['c3c3']], 'SELECT 1');
SELECT migrate_revision('d4d4', 'c3c3', 'SELECT 1', branch_labels => NULL);
-- required values must not be NULL (22004); NULL downgrade means irreversible
SELECT migrate_revision(NULL, NULL, 'SELECT 1');
SELECT migrate_revision('d4d4', 'c3c3', NULL);
SELECT migrate_revision('d4d4', 'c3c3', 'SELECT 1', NULL, NULL);
-- nothing above was registered
SELECT count(*) FROM pgmigrate.migrate_revisions;

-- registration reads the catalog after its lock: READ COMMITTED only
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT migrate_revision('d4d4', 'c3c3', 'SELECT 1');
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT migrate_new('x', 'SELECT 1', head => 'c3c3');
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT migrate_merge('heads', 'x');
ROLLBACK;

-- huge SQL and odd unicode in bodies and messages are fine
SELECT migrate_revision('e5e5', 'c3c3', 'SELECT 1 /* ' || repeat('é', 100000) || ' */', NULL,
                        E'emoji \u263a and a ''quote''; and a semicolon');
SELECT length(upgrade_sql), message FROM pgmigrate.migrate_revisions WHERE revision = 'e5e5';

-- migrate_new: a 12-hex id on top of the single head
DROP EXTENSION pg_migrate;
CREATE EXTENSION pg_migrate;
SELECT migrate_new('first', 'SELECT 1') AS first \gset
SELECT :'first' ~ '^[0-9a-f]{12}$' AS new_id_ok;
SELECT down_revisions FROM pgmigrate.migrate_revisions WHERE revision = :'first';
SELECT migrate_new('second', 'SELECT 2', 'SELECT 2') AS second \gset
SELECT down_revisions = ARRAY[:'first'] AS on_top_of_head FROM pgmigrate.migrate_revisions WHERE revision = :'second';
-- with two heads it needs to be told which
SELECT migrate_revision('f6f6', :'first', 'SELECT 1', 'SELECT 1', 'second branch', '{side}');
-- (random ids in messages: show the SQLSTATE only)
\set VERBOSITY sqlstate
SELECT migrate_new('ambiguous', 'SELECT 1');
\set VERBOSITY default
SELECT migrate_new('on the side', 'SELECT 1', head => 'side@head') AS third \gset
SELECT down_revisions FROM pgmigrate.migrate_revisions WHERE revision = :'third';
-- head must be a head; 'base' starts a new base
\set VERBOSITY sqlstate
SELECT migrate_new('not a head', 'SELECT 1', head => :'first');
\set VERBOSITY default
SELECT migrate_new('new base', 'SELECT 1', head => 'base') AS fourth \gset
SELECT down_revisions FROM pgmigrate.migrate_revisions WHERE revision = :'fourth';
SELECT migrate_new(NULL, 'SELECT 1');
SELECT migrate_new('x', NULL);
SELECT count(*) FROM pgmigrate.migrate_revisions;

-- COPY to or from the client cannot run inside the server: refused when
-- registered (1.0 took it, and every run then failed with XX000), in either
-- body and in either mode; COPY with a server file is the user's business
SELECT migrate_revision('copy0001', NULL, 'COPY (SELECT 1) TO STDOUT', NULL);
SELECT migrate_revision('copy0001', NULL, 'CREATE TABLE c (id int); COPY c FROM STDIN', 'DROP TABLE c');
SELECT migrate_revision('copy0001', NULL, 'CREATE TABLE c (id int)', 'COPY c TO STDOUT; DROP TABLE c');
SELECT migrate_revision('copy0001', NULL, 'COPY pg_class FROM stdin', NULL, transactional => false);
SELECT migrate_revision('copy0001', NULL, $$COPY (SELECT 1) TO '/dev/null'$$, NULL);
SELECT count(*) FROM pgmigrate.migrate_revisions WHERE revision = 'copy0001';

-- timeouts PostgreSQL cannot take (2^31 ms or more) are refused when
-- registered: 1.0 took them, and every plan through the revision then
-- failed with 22003 for good
SELECT migrate_revision('tout0001', NULL, 'SELECT 1', 'SELECT 1', lock_timeout => '30 days');
SELECT migrate_revision('tout0001', NULL, 'SELECT 1', 'SELECT 1', statement_timeout => '100 years');
SELECT migrate_revision('tout0001', NULL, 'SELECT 1', 'SELECT 1', lock_timeout => '-1 s');
SELECT migrate_revision('tout0001', NULL, 'SELECT 1', 'SELECT 1', lock_timeout => '24 days',
                        statement_timeout => '2147483646 ms');
SELECT revision, lock_timeout, statement_timeout FROM migrate_upgrade_sql('tout0001') AS s(x),
       pgmigrate.migrate_revisions WHERE revision = 'tout0001';

DROP EXTENSION pg_migrate;
