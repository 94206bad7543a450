-- offline: migrate_upgrade_sql / migrate_downgrade_sql return the script
-- that would run, applying nothing
CREATE EXTENSION pg_migrate;
\set QUIET on
\i sql/fixture.inc
\set QUIET off

SELECT migrate_upgrade_sql('billing@head');
-- nothing was applied
SELECT * FROM migrate_current();
SELECT * FROM applied_tables;

-- from a given state, to a given target
SELECT migrate_upgrade_sql('eeee0006', 'cccc0004');
SELECT migrate_upgrade_sql('heads', 'heads');
SELECT migrate_upgrade_sql('reports@head', 'base');

-- the script runs in psql and leaves the same state as the online call
SELECT migrate_upgrade_sql('heads') AS script \gset
\set QUIET on
:script
\set QUIET off
SELECT * FROM migrate_current();
SELECT * FROM applied_tables;

-- downgrade scripts, from the current state or a given one
SELECT migrate_downgrade_sql('billing@-1');
SELECT migrate_downgrade_sql('cccc0004', 'eeee0006');
SELECT migrate_downgrade_sql('aaaa0002') AS script \gset
\set QUIET on
:script
\set QUIET off
SELECT * FROM migrate_current();
SELECT * FROM applied_tables;

-- irreversible revisions are refused offline too; SQL bodies are kept as written
SELECT migrate_revision('gggg0007', 'eeee0006', E'-- a comment on the last line, no semicolon\nCREATE TABLE t_gggg0007 (id int) -- trailing', NULL,
                        E'two\nlines');
SELECT migrate_upgrade_sql('gggg0007', 'eeee0006');
SELECT migrate_downgrade_sql('eeee0006', 'gggg0007');

-- errors
SELECT migrate_upgrade_sql(NULL);
SELECT migrate_upgrade_sql('head');
SELECT migrate_upgrade_sql('heads', 'nope');
SELECT migrate_downgrade_sql('eeee0006', 'aaaa0002');
SELECT migrate_upgrade_sql('heads', 'reports@base');

DROP EXTENSION pg_migrate CASCADE;
DROP TABLE t_aaaa0001, t_aaaa0002, t_ffff0001;
