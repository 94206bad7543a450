-- upgrade_downgrade: plans, ordering, version state, log, failures
CREATE EXTENSION pg_migrate;
\set QUIET on
\i sql/fixture.inc
\set QUIET off

-- two heads: 'head' is an error and applies nothing
SELECT * FROM migrate_upgrade();
SELECT * FROM applied_tables;

-- a branch head pulls in both parents of the merge, each branch in one run
SELECT revision, direction, message FROM migrate_upgrade('billing@head');
SELECT * FROM migrate_current();
SELECT * FROM applied_tables;
SELECT revision, direction, message FROM migrate_upgrade('heads');
SELECT * FROM migrate_current();
-- already there: nothing, and it says so
SELECT revision, direction, message FROM migrate_upgrade('heads');
SELECT revision, direction, message FROM migrate_upgrade('aaaa0002');

-- downgrades: -1 needs a branch when two heads are applied
SELECT * FROM migrate_downgrade('-1');
SELECT revision, direction FROM migrate_downgrade('billing@-1');
SELECT * FROM migrate_current();
-- below the merge: both its parents become heads again
SELECT revision, direction FROM migrate_downgrade('cccc0004');
SELECT * FROM migrate_current();
-- label@base, as in Alembic: everything applied above the base of the
-- label's lineage (aaaa0001) goes, ffff0002 before cccc0003 since it
-- depends on it, in Alembic's order; the other base's branch stays
SELECT revision, direction FROM migrate_downgrade('catalog@base');
SELECT * FROM migrate_current();
SELECT * FROM applied_tables;
SELECT count(*) FROM migrate_upgrade('bbbb0004');
-- a target that is not applied is not a downgrade target
SELECT * FROM migrate_downgrade('eeee0006');
-- relative to the applied head of a branch, past its base
SELECT revision, direction FROM migrate_downgrade('reports@-1');
SELECT * FROM migrate_current();
SELECT revision, direction FROM migrate_upgrade('+1');
SELECT revision, direction FROM migrate_downgrade('-2');
SELECT * FROM migrate_current();
SELECT revision, direction FROM migrate_downgrade('base');
SELECT * FROM migrate_downgrade('base');
SELECT * FROM applied_tables;

-- the log has one row per step, in order
SELECT count(*) AS log_rows, count(DISTINCT txid) > 1 AS several_transactions,
       bool_and(role = current_user) AS role_ok, bool_and(duration >= '0') AS durations_ok,
       bool_and(backend_pid = pg_backend_pid()) AS pid_ok
FROM pgmigrate.migrate_log;
SELECT revision, direction FROM pgmigrate.migrate_log ORDER BY id LIMIT 6;

-- the caller's transaction: a rollback undoes the steps, the state and the log
BEGIN;
SELECT count(*) FROM migrate_upgrade('aaaa0002');
SELECT * FROM migrate_current();
ROLLBACK;
SELECT * FROM migrate_current();
SELECT * FROM applied_tables;

-- a failing step rolls the whole call back and keeps the original error
SELECT migrate_revision('gggg0007', 'eeee0006', $$CREATE TABLE t_gggg0007 (id int);
INSERT INTO t_gggg0007 VALUES (1 / 0)$$, 'DROP TABLE t_gggg0007', 'fails');
SELECT count(*) FROM migrate_upgrade('gggg0007');
SELECT * FROM migrate_current();
SELECT * FROM applied_tables;
DO $$
BEGIN
    PERFORM migrate_upgrade('gggg0007');
EXCEPTION WHEN division_by_zero THEN
    RAISE NOTICE 'caught division_by_zero (SQLSTATE %)', SQLSTATE;
END $$;
-- the failed attempts are in the log, although their transactions rolled
-- back: a background worker wrote them
SELECT revision, direction, attempt, outcome, sqlstate, error_message, error_position,
       txid IS NULL AS no_txid, duration >= '0' AS timed, role = current_user AS role_ok
FROM pgmigrate.migrate_log WHERE outcome <> 'success' ORDER BY id;
-- a syntax error keeps its position within the migration's SQL
SELECT migrate_revision('hhhh0007', 'eeee0006', 'CREATE TABLE t_hhhh0007 (id int); SELEC 1', NULL, 'typo');
SELECT count(*) FROM migrate_upgrade('hhhh0007');
-- transaction control is not allowed in migration SQL: refused when
-- registered, and when it runs (a row typed in by hand)
SELECT migrate_revision('iiii0007', 'eeee0006', 'COMMIT', NULL, 'commits');
INSERT INTO pgmigrate.migrate_revisions (revision, down_revisions, upgrade_sql, message, checksum)
VALUES ('iiii0007', '{eeee0006}', 'COMMIT', 'commits', migrate_checksum('COMMIT', NULL));
SELECT count(*) FROM migrate_upgrade('iiii0007');
SELECT * FROM migrate_current();

SELECT revision, outcome, sqlstate, error_position FROM pgmigrate.migrate_log
WHERE revision IN ('hhhh0007', 'iiii0007') ORDER BY id;
-- the log is append-only
UPDATE pgmigrate.migrate_log SET outcome = 'success';
DELETE FROM pgmigrate.migrate_log;
TRUNCATE pgmigrate.migrate_log;

-- several statements in one revision are fine
SELECT migrate_revision('jjjj0007', 'eeee0006',
    $$CREATE TABLE t_jjjj0007 (id int); INSERT INTO t_jjjj0007 VALUES (1), (2); CREATE INDEX ON t_jjjj0007 (id);$$,
    'DROP TABLE t_jjjj0007', 'several statements');
SELECT revision FROM migrate_upgrade('jjjj0007');
SELECT count(*) FROM t_jjjj0007;

-- irreversible: a downgrade through it fails before anything runs
SELECT migrate_revision('kkkk0008', 'jjjj0007', 'CREATE TABLE t_kkkk0008 (id int)', NULL, 'irreversible');
SELECT migrate_revision('llll0009', 'kkkk0008', 'CREATE TABLE t_llll0009 (id int)', 'DROP TABLE t_llll0009', 'above it');
SELECT revision FROM migrate_upgrade('llll0009');
SELECT * FROM migrate_downgrade('jjjj0007');
SELECT * FROM migrate_current();
SELECT * FROM applied_tables;
-- above it is fine
SELECT revision FROM migrate_downgrade('kkkk0008');
-- stamp past it, as the hint says
SELECT migrate_stamp('jjjj0007');
DROP TABLE t_kkkk0008;

-- an edited migration is caught by its checksum
UPDATE pgmigrate.migrate_revisions SET upgrade_sql = 'CREATE TABLE t_llll0009 (id int, evil int)' WHERE revision = 'llll0009';
SELECT count(*) FROM migrate_upgrade('llll0009');
UPDATE pgmigrate.migrate_revisions SET upgrade_sql = 'CREATE TABLE t_llll0009 (id int)' WHERE revision = 'llll0009';
-- a checksum that passed once is remembered for that row version only: an
-- edit after a successful check in this session is still caught, even with
-- the trigger that invalidates the cached graph disabled
SELECT octet_length(migrate_upgrade_sql('llll0009', 'jjjj0007')) > 0 AS checked;
ALTER TABLE pgmigrate.migrate_revisions DISABLE TRIGGER migrate_revisions_epoch;
UPDATE pgmigrate.migrate_revisions SET upgrade_sql = 'CREATE TABLE t_llll0009 (id int, evil int)' WHERE revision = 'llll0009';
SELECT octet_length(migrate_upgrade_sql('llll0009', 'jjjj0007')) > 0 AS checked;
SELECT count(*) FROM migrate_upgrade('llll0009');
UPDATE pgmigrate.migrate_revisions SET upgrade_sql = 'CREATE TABLE t_llll0009 (id int)' WHERE revision = 'llll0009';
ALTER TABLE pgmigrate.migrate_revisions ENABLE ALWAYS TRIGGER migrate_revisions_epoch;
SELECT octet_length(migrate_upgrade_sql('llll0009', 'jjjj0007')) > 0 AS checked;
-- and an edit by the transaction that registered the revision (same xmin)
BEGIN;
SELECT migrate_revision('kkkk0009', 'jjjj0007', 'CREATE TABLE t_kkkk0009 (id int)', 'DROP TABLE t_kkkk0009', 'edited');
SELECT octet_length(migrate_upgrade_sql('kkkk0009', 'jjjj0007')) > 0 AS checked;
ALTER TABLE pgmigrate.migrate_revisions DISABLE TRIGGER migrate_revisions_epoch;
UPDATE pgmigrate.migrate_revisions SET downgrade_sql = 'DROP TABLE t_kkkk0009 CASCADE' WHERE revision = 'kkkk0009';
SELECT octet_length(migrate_downgrade_sql('jjjj0007', 'kkkk0009')) > 0 AS checked;
ROLLBACK;

-- isolation level and read-only transactions
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM migrate_upgrade('heads');
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT count(*) FROM migrate_downgrade('base');
ROLLBACK;
BEGIN READ ONLY;
SELECT count(*) FROM migrate_upgrade('heads');
ROLLBACK;
-- readers are fine under REPEATABLE READ
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM migrate_current();
COMMIT;

-- re-entrancy: a migration that calls pg_migrate is refused
SELECT migrate_revision('mmmm0010', 'jjjj0007', $$SELECT migrate_downgrade('base')$$, NULL, 'reentrant');
SELECT count(*) FROM migrate_upgrade('mmmm0010');
SELECT migrate_revision('nnnn0010', 'jjjj0007', $$SELECT migrate_revision('oooo', NULL, 'SELECT 1')$$, NULL, 'registers');
SELECT count(*) FROM migrate_upgrade('nnnn0010');
-- even the read-only functions
SELECT migrate_revision('pppp0010', 'jjjj0007', $$CREATE TABLE t_snap AS SELECT * FROM migrate_current()$$, NULL, 'reads');
SELECT count(*) FROM migrate_upgrade('pppp0010');
-- and the session is not left in a bad state
SELECT * FROM migrate_current();

-- NULL targets
SELECT * FROM migrate_upgrade(NULL);
SELECT * FROM migrate_downgrade(NULL);

SELECT count(*) FROM migrate_downgrade('base');
SELECT * FROM applied_tables;
DROP EXTENSION pg_migrate CASCADE;

-- Version rows after a downgrade through depends_on stay minimal.  y
-- depends on x, and z has x as parent and y as dependency; removing z
-- brings back x and y, and x is implied by y, so y alone is the row.
-- (Alembic writes back both, then refuses its own next 'upgrade heads':
-- "Requested revision y overlaps with other requested revisions x".)
CREATE EXTENSION pg_migrate;
SELECT migrate_revision('p', NULL, 'SELECT 1', 'SELECT 1');
SELECT migrate_revision('x', 'p', 'SELECT 1', 'SELECT 1');
SELECT migrate_revision('y', 'p', 'SELECT 1', 'SELECT 1', depends_on => '{x}');
SELECT migrate_revision('z', 'x', 'SELECT 1', 'SELECT 1', depends_on => '{y}');
SELECT count(*) FROM migrate_upgrade('z');
SELECT revision, direction FROM migrate_downgrade('x');
SELECT revision FROM pgmigrate.migrate_version ORDER BY revision;
-- the offline script writes the same rows: y back, x not
SELECT migrate_downgrade_sql('x', 'z') LIKE '%VALUES (''default'', ''y'')%' AS writes_y_back,
       migrate_downgrade_sql('x', 'z') LIKE '%VALUES (''default'', ''x'')%' AS writes_x_back;
SELECT revision FROM migrate_upgrade('heads');
SELECT revision FROM pgmigrate.migrate_version ORDER BY revision;
DROP EXTENSION pg_migrate;
