-- Found by test/fuzz (seeds 7 and 11, "no-crash"; not one of the 12 findings
-- in /work/shared/reliability-findings): a step that fails in function mode
-- (SELECT migrate_upgrade / migrate_downgrade, or CALL migrate_apply with
-- single_transaction => true) while a lock_timeout is in force for it (the
-- revision's lock_timeout, migrate_apply's argument or pg_migrate.lock_timeout,
-- i.e. while the lock watchdog runs) kills the backend with SIGSEGV; the
-- postmaster then restarts every session.  The same step in CALL mode fails
-- cleanly with its own error (22012).
-- Run: psql -X -v ON_ERROR_STOP=0 -d <empty database> -f repro-segv-lock-timeout.sql
\set VERBOSITY verbose
CREATE EXTENSION pg_migrate;
SELECT migrate_revision('a1', NULL, 'SELECT 1/0', 'SELECT 1', lock_timeout => '1s');
CALL migrate_apply('head');                    -- ERROR:  22012: division by zero (as it should)
SELECT * FROM migrate_upgrade('head');         -- server closed the connection unexpectedly
-- also without the revision's lock_timeout:
--   SET pg_migrate.lock_timeout = '1s'; SELECT * FROM migrate_upgrade('head');
