-- verify: migrate_verify finds applied revisions edited after they ran and
-- schema drift (objects added, removed or changed outside migrations);
-- migrate_repair accepts an intentional edit or drift, with who and why.
CREATE EXTENSION pg_migrate;
CREATE SCHEMA app;
SET pg_migrate.managed_schemas = app;
\set VERBOSITY default

-- nothing applied, nothing recorded
SELECT * FROM migrate_verify();

SELECT migrate_revision('v1v1v1v1v1v1', NULL,
    'CREATE TABLE app.account (id int PRIMARY KEY, email text)', 'DROP TABLE app.account');
SELECT migrate_revision('v2v2v2v2v2v2', 'v1v1v1v1v1v1',
    'CREATE INDEX account_email ON app.account (email)', 'DROP INDEX app.account_email');
SELECT count(*) FROM migrate_upgrade('head');
-- the last step of the run recorded the fingerprint, and a snapshot of it
SELECT revision, checksum IS NOT NULL AS has_checksum, fingerprint IS NOT NULL AS has_fingerprint
FROM pgmigrate.migrate_log ORDER BY id;
SELECT count(*) AS snapshots, min(pg_catalog.jsonb_typeof(objects)) AS shape
FROM pgmigrate.migrate_schema_snapshots;
SELECT * FROM migrate_verify();

-- drift: a column added, a table created, an index dropped, a default changed
ALTER TABLE app.account ADD COLUMN nickname text;
CREATE TABLE app.scratch (x int);
DROP INDEX app.account_email;
ALTER TABLE app.account ALTER email SET DEFAULT 'nobody';
SELECT * FROM migrate_verify();
-- changes outside the managed schemas are not drift
CREATE TABLE public.elsewhere (x int);
SELECT count(*) AS drift_rows FROM migrate_verify() WHERE check_name = 'drift';
DROP TABLE public.elsewhere;

-- an applied revision edited with its checksum: edited; without: corrupt
UPDATE pgmigrate.migrate_revisions
SET upgrade_sql = 'CREATE TABLE app.account (id bigint PRIMARY KEY, email text)',
    checksum = migrate_checksum('CREATE TABLE app.account (id bigint PRIMARY KEY, email text)',
                                'DROP TABLE app.account')
WHERE revision = 'v1v1v1v1v1v1';
SELECT check_name, status, object FROM migrate_verify() WHERE check_name = 'checksum';
BEGIN;
UPDATE pgmigrate.migrate_revisions SET downgrade_sql = 'SELECT 1' WHERE revision = 'v2v2v2v2v2v2';
SELECT check_name, status, object, detail FROM migrate_verify() WHERE check_name = 'checksum';
ROLLBACK;

-- repair: accept the edit, then the drift
SELECT migrate_repair('v1v1v1v1v1v1', 'ids became bigint; every database was changed by hand');
SELECT migrate_repair(NULL, 'nickname and scratch were made by hand during incident 42')
    LIKE 'accepted the managed schemas as they are now, fingerprint %' AS repaired;
SELECT * FROM migrate_verify();
SELECT direction, revision, reason, role = current_user AS by_me, fingerprint IS NOT NULL AS has_fingerprint
FROM pgmigrate.migrate_log WHERE direction = 'repair' ORDER BY id;

-- steps that ran without recording a fingerprint: drift cannot be told
SELECT migrate_revision('v3v3v3v3v3v3', 'v2v2v2v2v2v2',
    'ALTER TABLE app.account ADD COLUMN age int', 'ALTER TABLE app.account DROP COLUMN age');
SET pg_migrate.log_fingerprint = off;
SELECT count(*) FROM migrate_upgrade('head');
RESET pg_migrate.log_fingerprint;
SELECT check_name, status FROM migrate_verify();
-- the next run records one again
SELECT count(*) FROM migrate_downgrade('-1');
SELECT count(*) FROM migrate_upgrade('head');
SELECT check_name, status FROM migrate_verify();

-- bad input: nothing is written
SELECT migrate_repair('nope', 'why');
SELECT migrate_repair('v3v3v3v3v3v3', NULL);
SELECT migrate_repair('v3v3v3v3v3v3', '  ');
SELECT count(*) FROM migrate_downgrade('v2v2v2v2v2v2');
SELECT migrate_repair('v3v3v3v3v3v3', 'not applied');
SELECT count(*) AS repair_rows FROM pgmigrate.migrate_log WHERE direction = 'repair';
-- the log stays append-only
UPDATE pgmigrate.migrate_log SET reason = 'rewritten' WHERE direction = 'repair';
-- under REPEATABLE READ, like every command that writes
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT migrate_repair(NULL, 'snapshot isolation');
ROLLBACK;

DROP SCHEMA app CASCADE;
DROP EXTENSION pg_migrate;
