-- stamp_merge: setting the version state without running SQL, and merges
CREATE EXTENSION pg_migrate;
\set QUIET on
\i sql/fixture.inc
\set QUIET off

-- stamp with purge runs no SQL and replaces the whole state (alembic stamp
-- --purge; without purge, see stamp_branches)
SELECT migrate_stamp('bbbb0004', purge => true);
SELECT * FROM applied_tables;
SELECT migrate_stamp('heads', purge => true);
SELECT * FROM migrate_current();
SELECT migrate_stamp('cccc0004', purge => true);
SELECT * FROM migrate_current();
-- revisions in one branch: only the newest is a head
SELECT migrate_stamp('reports@head', true);
SELECT * FROM migrate_current();
SELECT migrate_stamp('base', purge => true);
SELECT * FROM migrate_current();
SELECT revision, direction FROM pgmigrate.migrate_log ORDER BY id;
-- errors
SELECT migrate_stamp('reports@base', purge => true);
SELECT migrate_stamp('nope');
SELECT migrate_stamp(NULL);
SELECT migrate_stamp('heads', NULL);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT migrate_stamp('heads');
ROLLBACK;

-- merge: a new revision with the given parents and no SQL
SELECT migrate_merge('heads', 'join everything') AS m \gset
SELECT down_revisions, upgrade_sql, downgrade_sql, message FROM pgmigrate.migrate_revisions WHERE revision = :'m';
SELECT revision = :'m' AS merged_head FROM migrate_heads();
-- (the merge's id is random: keep it out of the NOTICEs)
SET client_min_messages = warning;
SELECT count(*) FROM migrate_upgrade('head');
SELECT revision = :'m' AS at_merge FROM migrate_current();
-- downgrading below the merge restores both heads
SELECT count(*) FROM migrate_downgrade('eeee0006');
SELECT * FROM migrate_current();
SELECT count(*) FROM migrate_downgrade('base');
RESET client_min_messages;

-- merge errors: fewer than two, an ancestor, unknown, NULL
SELECT migrate_merge('head', 'one');
SELECT migrate_merge(ARRAY['eeee0006', 'bbbb0004'], 'ancestor');
SELECT migrate_merge(ARRAY['eeee0006', 'nope'], 'unknown');
SELECT migrate_merge(NULL::text[], 'x');
SELECT migrate_merge(ARRAY['bbbb0004', 'cccc0004'], NULL);
-- an array of identifiers of any form
\set VERBOSITY sqlstate
SELECT migrate_merge(ARRAY['billing@bbbb0004', 'catalog@head'], 'ancestor again');
\set VERBOSITY default
SELECT migrate_merge(ARRAY['bbbb0004', 'cccc0004'], 'second merge') IS NOT NULL AS merged;
SELECT count(*) AS heads FROM migrate_heads();

DROP EXTENSION pg_migrate CASCADE;
