-- apply: CALL migrate_apply commits step by step and keeps every attempt
CREATE EXTENSION pg_migrate;
\i sql/fixture.inc
SELECT migrate_revision('gggg0007', 'eeee0006',
    $$CREATE TABLE t_gggg0007 (id int); INSERT INTO t_gggg0007 VALUES (1 / 0)$$,
    'DROP TABLE t_gggg0007', 'fails');

-- a failure at one step keeps the steps before it
CALL migrate_apply('gggg0007');
SELECT * FROM migrate_current();
SELECT * FROM applied_tables;
SELECT revision, attempt, outcome, sqlstate, error_message, txid IS NOT NULL AS committed
FROM pgmigrate.migrate_log ORDER BY id;
-- one run id for the whole call
SELECT count(DISTINCT run_id) AS runs, count(DISTINCT txid) AS transactions FROM pgmigrate.migrate_log;

-- the next run resumes where it stopped (and fails again at the same step)
CALL migrate_apply('gggg0007');
SELECT revision, attempt, outcome FROM pgmigrate.migrate_log ORDER BY id DESC LIMIT 1;
-- 'heads' runs in Alembic's order: its walk lists the branches newest first
-- from the heads in registration order (ffff0002's, then gggg0007's) and an
-- upgrade runs the list backwards, so gggg0007 fails before the reports
-- branch starts; that branch then goes alone
CALL migrate_apply('heads');
SELECT * FROM migrate_current();
CALL migrate_apply('reports@head');
SELECT * FROM migrate_current();

-- downgrades, and nothing to do
CALL migrate_apply('billing@-1', downgrade => true);
CALL migrate_apply('dddd0005', downgrade => true);
CALL migrate_apply('dddd0005');
SELECT * FROM migrate_current();

-- inside a transaction block it cannot commit, and says what to do instead
BEGIN;
CALL migrate_apply('head');
ROLLBACK;
-- unless the whole plan runs in that one transaction
BEGIN;
CALL migrate_apply('eeee0006', single_transaction => true);
SELECT * FROM migrate_current();
ROLLBACK;
-- single_transaction outside a block: all steps or none
CALL migrate_apply('gggg0007', single_transaction => true);
SELECT * FROM migrate_current();
SELECT revision, outcome FROM pgmigrate.migrate_log ORDER BY id DESC LIMIT 1;

-- bad arguments
CALL migrate_apply(NULL);
CALL migrate_apply('head', downgrade => NULL);
CALL migrate_apply('heads', lock_timeout => '-1 s');
CALL migrate_apply('heads', lock_retries => -2);
BEGIN ISOLATION LEVEL REPEATABLE READ;
CALL migrate_apply('heads', single_transaction => true);
ROLLBACK;

-- non-transactional revisions: detected when registered, run by a worker
SELECT migrate_revision('hhhh0007', 'eeee0006', 'CREATE INDEX CONCURRENTLY t_e_idx ON t_eeee0006 (id)',
                        'DROP INDEX CONCURRENTLY t_e_idx', 'index');
SELECT migrate_revision('hhhh0007', 'eeee0006', 'VACUUM t_eeee0006', NULL, 'vacuum');
SELECT migrate_revision('hhhh0007', 'eeee0006', 'ALTER SYSTEM SET work_mem = ''8MB''', NULL, 'system');
SELECT migrate_revision('hhhh0007', 'eeee0006', 'REINDEX (CONCURRENTLY) TABLE t_eeee0006', NULL, 'reindex');
SELECT migrate_revision('hhhh0007', 'eeee0006', 'SELECT 1; COMMIT', NULL, 'commits');
SELECT migrate_revision('hhhh0007', 'eeee0006', 'CREATE INDEX CONCURRENTLY t_e_idx ON t_eeee0006 (id)',
                        'DROP INDEX CONCURRENTLY t_e_idx', 'index', transactional => false);
-- an unparsable body is left for the step to report
SELECT migrate_revision('iiii0008', 'hhhh0007', 'SELEC 1', NULL, 'typo');
-- function mode and single transactions refuse non-transactional steps
SELECT * FROM migrate_upgrade('hhhh0007');
CALL migrate_apply('hhhh0007', single_transaction => true);
CALL migrate_apply('hhhh0007');
SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indrelid = 't_eeee0006'::regclass;
SELECT revision, outcome FROM pgmigrate.migrate_log ORDER BY id DESC LIMIT 1;
CALL migrate_apply('eeee0006', downgrade => true);
SELECT count(*) FROM pg_index WHERE indrelid = 't_eeee0006'::regclass;
-- a failing non-transactional step reports the error of its statement
SELECT migrate_revision('jjjj0007', 'eeee0006', 'VACUUM no_such_table', NULL, 'vacuums nothing',
                        transactional => false);
CALL migrate_apply('jjjj0007');
SELECT revision, outcome, sqlstate, error_message FROM pgmigrate.migrate_log ORDER BY id DESC LIMIT 1;

-- per-revision timeouts are part of the revision, compared on re-registration
SELECT migrate_revision('kkkk0007', 'eeee0006', 'SELECT pg_sleep(0.3)', 'SELECT 1', 'slow',
                        statement_timeout => '100ms', lock_timeout => '1s');
SELECT migrate_revision('kkkk0007', 'eeee0006', 'SELECT pg_sleep(0.3)', 'SELECT 1', 'slow',
                        statement_timeout => '0.1 s', lock_timeout => '1000 ms');
SELECT migrate_revision('kkkk0007', 'eeee0006', 'SELECT pg_sleep(0.3)', 'SELECT 1', 'slow',
                        statement_timeout => '200ms', lock_timeout => '1s');
SELECT migrate_revision('kkkk0008', 'eeee0006', 'SELECT 1', NULL, 'x', statement_timeout => '-1s');
SELECT lock_timeout, statement_timeout, transactional FROM pgmigrate.migrate_revisions WHERE revision = 'kkkk0007';
-- the revision's statement_timeout applies around its SQL only
CALL migrate_apply('kkkk0007');
SELECT revision, outcome, sqlstate, error_message FROM pgmigrate.migrate_log ORDER BY id DESC LIMIT 1;
SHOW statement_timeout;
SELECT revision, outcome FROM pgmigrate.migrate_log ORDER BY id DESC LIMIT 1;
-- a run's timeout applies where the revision sets none, and so does the setting
SELECT migrate_revision('llll0007', 'eeee0006', 'SELECT pg_sleep(0.3)', 'SELECT 1', 'slow too');
CALL migrate_apply('llll0007', statement_timeout => '50ms');
SET pg_migrate.statement_timeout = '50ms';
SELECT count(*) FROM migrate_upgrade('llll0007');
RESET pg_migrate.statement_timeout;
-- the session's own statement_timeout still bounds the whole call
SET statement_timeout = '100ms';
SELECT count(*) FROM migrate_upgrade('llll0007');
RESET statement_timeout;
SELECT count(*) FROM migrate_upgrade('llll0007');
SELECT revision, attempt, outcome, sqlstate FROM pgmigrate.migrate_log WHERE revision = 'llll0007' ORDER BY id;

-- scheduling needs pg_cron in this database
SELECT migrate_schedule('migrate', '*/5 * * * *');
SELECT migrate_schedule(NULL, '* * * * *');

-- nobody else is migrating
SELECT running, pid, waiting_migrators FROM migrate_status();

-- misspelled settings are caught
SET pg_migrate.lock_timout = '1s';

SELECT count(*) FROM migrate_stamp('base');
DROP EXTENSION pg_migrate CASCADE;
DROP TABLE t_aaaa0001, t_aaaa0002, t_bbbb0003, t_bbbb0004, t_cccc0003, t_cccc0004, t_dddd0005,
    t_eeee0006, t_ffff0001, t_ffff0002;
