-- faults: failures at the edges of a run (reliability findings 001, 002,
-- 003, 004, 007, 011 and 012).  Each gives a clear error with a deliberate
-- SQLSTATE, and nothing is lost: every attempt has its outcome row.
CREATE EXTENSION pg_migrate;
CREATE VIEW last_rows AS
    SELECT revision, direction, attempt, outcome, sqlstate FROM pgmigrate.migrate_log ORDER BY id DESC LIMIT 2;

-- 002: a step whose COMMIT fails (a deferred constraint) in CALL mode keeps
-- a failed row with the commit's error, beside its started row
SELECT migrate_revision('defer001', NULL,
    $$CREATE TABLE p (id int PRIMARY KEY);
      CREATE TABLE c (pid int REFERENCES p DEFERRABLE INITIALLY DEFERRED);
      INSERT INTO c VALUES (1)$$,
    'DROP TABLE c, p', 'fails at commit');
CALL migrate_apply('defer001');
SELECT * FROM last_rows;
SELECT * FROM migrate_current();
SELECT to_regclass('p') AS rolled_back;
-- in function mode the constraint fires with the step's own transaction
-- still open, as the caller's COMMIT would: the call succeeds and the
-- caller's COMMIT fails, taking the step with it
BEGIN;
SELECT revision FROM migrate_upgrade('defer001');
COMMIT;
SELECT * FROM migrate_current();

-- 003: a non-transactional step that calls pg_migrate is refused, in the
-- worker as in the session (1.0 hung: caller and worker waited on each other)
SELECT migrate_revision('reent001', NULL, 'SELECT count(*) FROM migrate_current()', 'SELECT 1',
                        'reads the state', transactional => false);
SELECT migrate_revision('reent002', NULL, $$SELECT count(*) FROM migrate_upgrade('head')$$, 'SELECT 1',
                        'migrates from a migration', transactional => false);
SET statement_timeout = '20s';
CALL migrate_apply('reent001');
SELECT * FROM last_rows;
CALL migrate_apply('reent002');
SELECT * FROM last_rows;
RESET statement_timeout;

-- 004: a cancel (here its statement_timeout) during a non-transactional
-- step keeps the failed row
SELECT migrate_revision('slow0001', NULL, 'SELECT pg_sleep(30)', 'SELECT 1', 'slow', transactional => false);
SET statement_timeout = '1s';
CALL migrate_apply('slow0001');
RESET statement_timeout;
SELECT * FROM last_rows;

-- 012: in function mode a failed step's row is written by a background
-- worker; a caller that holds a lock blocking that write gets its original
-- error at once, not a hang, and the row is kept in the server log instead
SELECT migrate_revision('div00001', NULL, 'SELECT 1 / 0', 'SELECT 1', 'fails');
BEGIN;
LOCK TABLE pgmigrate.migrate_log IN SHARE MODE;
SET LOCAL statement_timeout = '20s';
SELECT * FROM migrate_upgrade('div00001');
ROLLBACK;
SELECT revision, outcome, sqlstate FROM pgmigrate.migrate_log WHERE revision = 'div00001';
-- without the lock, the row is in the log
SELECT * FROM migrate_upgrade('div00001');
SELECT revision, outcome, sqlstate FROM pgmigrate.migrate_log WHERE revision = 'div00001';

-- found by test/fuzz: a step that fails in function mode while a
-- lock_timeout applies (the lock watchdog runs) crashed the backend in 1.0
-- (the watchdog's shared memory went with the rolled-back subtransaction)
SELECT migrate_revision('wdog0001', NULL, 'SELECT 1 / 0', 'SELECT 1', 'fails', lock_timeout => '1s');
SELECT * FROM migrate_upgrade('wdog0001');
SET pg_migrate.lock_timeout = '1s';
SELECT * FROM migrate_upgrade('div00001');
RESET pg_migrate.lock_timeout;
SELECT revision, outcome, sqlstate FROM pgmigrate.migrate_log WHERE revision = 'wdog0001';

-- 001: a COPY to the client that reached the catalog before 1.1 refused it
-- fails with a deliberate SQLSTATE, not XX000
INSERT INTO pgmigrate.migrate_revisions (revision, upgrade_sql, downgrade_sql, checksum)
VALUES ('copy0001', 'COPY (SELECT 1) TO STDOUT', NULL, migrate_checksum('COPY (SELECT 1) TO STDOUT', NULL));
SELECT * FROM migrate_upgrade('copy0001');
CALL migrate_apply('copy0001');
SELECT * FROM last_rows;

-- 011: a timeout beyond int4 milliseconds that reached the catalog before
-- 1.1 refused it is capped, not a 22003 on every plan through it
INSERT INTO pgmigrate.migrate_revisions (revision, upgrade_sql, downgrade_sql, checksum, lock_timeout)
VALUES ('tout0001', 'SELECT 1', 'SELECT 1', migrate_checksum('SELECT 1', 'SELECT 1'), '30 days');
SELECT revision FROM migrate_upgrade('tout0001');
SELECT length(migrate_downgrade_sql('base')) > 0 AS offline_ok;

-- 007: pg_migrate called from user code that runs inside a pg_migrate call
-- but outside migration SQL (a trigger on the Alembic version table, a
-- view that migrate_adopt_alembic reads) is refused like any nested call
CREATE TABLE av (version_num varchar(32) PRIMARY KEY);
CREATE FUNCTION av_trig() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM count(*) FROM migrate_heads();
    RETURN NULL;
END $$;
CREATE TRIGGER av_t AFTER INSERT ON av FOR EACH STATEMENT EXECUTE FUNCTION av_trig();
SELECT migrate_revision('plain001', NULL, 'SELECT 1', 'SELECT 1', 'plain');
SET pg_migrate.alembic_version_table = 'public.av';
CALL migrate_apply('plain001');
SELECT * FROM last_rows;
SELECT * FROM migrate_current();
SELECT * FROM migrate_stamp('base');
RESET pg_migrate.alembic_version_table;
CREATE FUNCTION vnum() RETURNS varchar LANGUAGE plpgsql AS $$
BEGIN
    PERFORM migrate_revision('nested01', NULL, 'SELECT 1', 'SELECT 1');
    RETURN 'div00001';
END $$;
CREATE VIEW av2 AS SELECT vnum() AS version_num;
SELECT * FROM migrate_adopt_alembic('public.av2');
SELECT count(*) AS nested_registered FROM pgmigrate.migrate_revisions WHERE revision = 'nested01';

DROP EXTENSION pg_migrate CASCADE;
DROP TABLE IF EXISTS av, c, p;
DROP VIEW IF EXISTS av2;
DROP FUNCTION av_trig(), vnum();
