-- stairway: migrate_check upgrades, downgrades and upgrades again every
-- pending step in a subtransaction that is always rolled back, and names
-- what a downgrade fails to restore.
CREATE EXTENSION pg_migrate;
CREATE SCHEMA app;
SET pg_migrate.managed_schemas = app;
\set VERBOSITY default

-- nothing registered: nothing to check
SELECT * FROM migrate_check();

SELECT migrate_revision('s1s1s1s1s1s1', NULL,
    'CREATE TABLE app.account (id int PRIMARY KEY, email text)', 'DROP TABLE app.account');
-- its downgrade forgets the index
SELECT migrate_revision('s2s2s2s2s2s2', 's1s1s1s1s1s1',
    'ALTER TABLE app.account ADD COLUMN name text; CREATE INDEX account_email ON app.account (email)',
    'ALTER TABLE app.account DROP COLUMN name');
SELECT * FROM migrate_check();
-- it left nothing: no table, no log row, no version row
SELECT count(*) AS tables FROM pg_class WHERE relnamespace = 'app'::regnamespace;
SELECT count(*) AS log_rows FROM pgmigrate.migrate_log;
SELECT count(*) AS version_rows FROM pgmigrate.migrate_version;

-- fixed in a new chain: a column dropped too many, an irreversible step,
-- an empty downgrade of a step that changes the schema
DELETE FROM pgmigrate.migrate_revisions WHERE revision = 's2s2s2s2s2s2';
SELECT migrate_revision('s3s3s3s3s3s3', 's1s1s1s1s1s1',
    'ALTER TABLE app.account ADD COLUMN name text', 'ALTER TABLE app.account DROP COLUMN name, DROP COLUMN email');
SELECT migrate_revision('s4s4s4s4s4s4', 's3s3s3s3s3s3',
    'CREATE TABLE app.audit (at timestamptz)', NULL);
SELECT migrate_revision('s5s5s5s5s5s5', 's4s4s4s4s4s4',
    'CREATE TABLE app.later (x int)', '  ');
SELECT * FROM migrate_check();

-- from where the database is: only the pending steps
DELETE FROM pgmigrate.migrate_revisions WHERE revision IN ('s3s3s3s3s3s3', 's4s4s4s4s4s4', 's5s5s5s5s5s5');
SELECT migrate_revision('s6s6s6s6s6s6', 's1s1s1s1s1s1',
    'ALTER TABLE app.account ADD COLUMN name text', 'ALTER TABLE app.account DROP COLUMN name');
SELECT count(*) FROM migrate_upgrade('s1s1s1s1s1s1');
SELECT * FROM migrate_check();
-- a second head is reported
SELECT migrate_revision('b1b1b1b1b1b1', 's1s1s1s1s1s1', 'CREATE TABLE app.side (x int)', 'DROP TABLE app.side');
SELECT step, revision, phase, status, object FROM migrate_check('heads');
SELECT * FROM migrate_current();

-- a failing upgrade ends the check at its step
SELECT migrate_revision('f1f1f1f1f1f1', 'b1b1b1b1b1b1', 'ALTER TABLE app.nope ADD COLUMN x int', 'SELECT 1');
SELECT step, revision, phase, status, detail FROM migrate_check('f1f1f1f1f1f1');
-- migration SQL may not call pg_migrate, here neither
DELETE FROM pgmigrate.migrate_revisions WHERE revision = 'f1f1f1f1f1f1';
SELECT migrate_revision('r2r2r2r2r2r2', 'b1b1b1b1b1b1', 'SELECT count(*) FROM migrate_heads()', 'SELECT 1');
SELECT step, revision, phase, status, detail FROM migrate_check('r2r2r2r2r2r2');
DELETE FROM pgmigrate.migrate_revisions WHERE revision = 'r2r2r2r2r2r2';

-- bad input, each a clear error
SELECT migrate_revision('n1n1n1n1n1n1', 'b1b1b1b1b1b1',
    'CREATE INDEX CONCURRENTLY side_x ON app.side (x)', 'DROP INDEX CONCURRENTLY app.side_x',
    transactional => false);
SELECT * FROM migrate_check('n1n1n1n1n1n1');
DELETE FROM pgmigrate.migrate_revisions WHERE revision = 'n1n1n1n1n1n1';
SELECT * FROM migrate_check('nope');
SELECT * FROM migrate_check(NULL);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM migrate_check('heads');
ROLLBACK;
BEGIN READ ONLY;
SELECT * FROM migrate_check('heads');
ROLLBACK;
-- still nothing left behind: only what s1s1s1s1s1s1 made, the table and its key
SELECT relname FROM pg_class WHERE relnamespace = 'app'::regnamespace ORDER BY 1;
SELECT revision FROM migrate_current();

SELECT count(*) FROM migrate_downgrade('base');
DROP SCHEMA app CASCADE;
DROP EXTENSION pg_migrate;
