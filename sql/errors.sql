-- errors: bad input of every kind gives an error, never a crash; a damaged
-- catalog is reported as such (XX001)
CREATE EXTENSION pg_migrate;
\set QUIET on
\i sql/fixture.inc
\set QUIET off
\set VERBOSITY default

-- absurd identifiers
SELECT migrate_resolve(repeat('a', 1000000));
SELECT migrate_resolve(repeat('@', 1000));
SELECT migrate_resolve('head-' || repeat('9', 1000));
SELECT migrate_resolve(E'\u0001\u0002');
SELECT migrate_resolve(E'aaaa0001\n');
SELECT migrate_resolve('aaaa0001 ');
SELECT migrate_resolve('aaaa:0001');
SELECT count(*) FROM migrate_upgrade('base+2147483647');
SELECT count(*) FROM migrate_upgrade(repeat('x', 200) || '@head');
SELECT * FROM migrate_history(':::');
SELECT * FROM migrate_history('base:head:heads');

-- huge migration SQL runs
SELECT migrate_revision('big1', NULL,
    'CREATE TABLE t_big1 (id int);' || repeat(' INSERT INTO t_big1 VALUES (1);', 20000),
    'DROP TABLE t_big1', 'big');
SELECT count(*) FROM migrate_upgrade('big1');
SELECT count(*) FROM t_big1;
SELECT count(*) FROM migrate_downgrade('base');

-- an empty upgrade SQL is a valid no-op step (merges use it)
SELECT migrate_revision('empty1', NULL, '', '', 'nothing');
SELECT revision, direction FROM migrate_upgrade('empty1');
SELECT revision, direction FROM migrate_downgrade('base');
-- comments only, semicolons only
SELECT migrate_revision('empty2', NULL, '-- nothing here', ';;;', 'comments');
SELECT revision, direction FROM migrate_upgrade('empty2');
SELECT revision, direction FROM migrate_downgrade('base');

-- a damaged catalog: a cycle typed in by hand
BEGIN;
UPDATE pgmigrate.migrate_revisions SET down_revisions = '{aaaa0002}' WHERE revision = 'aaaa0001';
SELECT * FROM migrate_heads();
ROLLBACK;
-- a parent that does not exist
BEGIN;
UPDATE pgmigrate.migrate_revisions SET down_revisions = '{gone}' WHERE revision = 'aaaa0002';
SELECT * FROM migrate_current();
ROLLBACK;
-- a label declared twice
BEGIN;
UPDATE pgmigrate.migrate_revisions SET branch_labels = '{billing}' WHERE revision = 'cccc0003';
SELECT migrate_resolve('billing@head');
ROLLBACK;
-- ids that break the rules cannot be typed in either
\set VERBOSITY terse
INSERT INTO pgmigrate.migrate_revisions (revision, upgrade_sql, checksum) VALUES ('bad-id', '', '');
-- the version state refers to registered revisions only
INSERT INTO pgmigrate.migrate_version (revision) VALUES ('unregistered');
\set VERBOSITY default
-- everything still works afterwards
SELECT * FROM migrate_heads();

-- calling the C functions with the wrong arguments
SELECT migrate_revision('x', NULL);
SELECT migrate_upgrade(1);

DROP EXTENSION pg_migrate CASCADE;
