-- privileges: what PUBLIC may do, and the grants the README documents
CREATE EXTENSION pg_migrate;
\set QUIET on
\i sql/fixture.inc
\set QUIET off

CREATE ROLE regress_nobody;
CREATE ROLE regress_migrator;
CREATE ROLE regress_reader;

-- the migration role (README, "Privileges")
GRANT EXECUTE ON FUNCTION
    migrate_revision(text, text[], text, text, text, text[], text[], interval, interval, boolean, text[]),
    migrate_revision(text, text, text, text, text, text[], text[], interval, interval, boolean, text[]),
    migrate_new(text, text, text, text, text[], text[]),
    migrate_merge(text[], text), migrate_merge(text, text),
    migrate_upgrade(text), migrate_downgrade(text), migrate_stamp(text, boolean),
    migrate_upgrade_sql(text, text), migrate_downgrade_sql(text, text),
    migrate_show(text)
    TO regress_migrator;
-- the catalog's schema first: without USAGE no grant on its tables reaches
GRANT USAGE ON SCHEMA pgmigrate TO regress_migrator, regress_reader;
GRANT SELECT, INSERT ON pgmigrate.migrate_revisions TO regress_migrator;
GRANT SELECT, INSERT, DELETE ON pgmigrate.migrate_version TO regress_migrator;
GRANT SELECT, INSERT ON pgmigrate.migrate_log TO regress_migrator;
GRANT SELECT, UPDATE ON pgmigrate.migrate_epoch TO regress_migrator;
-- (without the grant on the snapshots, 1.0's set, it migrates all the same)
GRANT USAGE ON SEQUENCE pgmigrate.migrate_revisions_seq, pgmigrate.migrate_log_seq, pgmigrate.migrate_epoch_seq, pgmigrate.migrate_run_seq TO regress_migrator;
GRANT EXECUTE ON PROCEDURE migrate_apply(text, boolean, boolean, boolean, interval, interval, interval, integer) TO regress_migrator;
GRANT CREATE ON SCHEMA public TO regress_migrator;

-- the read-only role: the columns without SQL bodies
GRANT SELECT (revision, down_revisions, depends_on, branch_labels, message, seq)
    ON pgmigrate.migrate_revisions TO regress_reader;
GRANT SELECT ON pgmigrate.migrate_version, pgmigrate.migrate_epoch TO regress_reader;

-- PUBLIC can call nothing that changes state or shows SQL
SET ROLE regress_nobody;
SELECT migrate_upgrade('heads');
SELECT migrate_downgrade('base');
SELECT migrate_stamp('heads');
SELECT migrate_revision('zzzz0001', NULL, 'SELECT 1');
SELECT migrate_new('x', 'SELECT 1');
SELECT migrate_merge('heads', 'x');
SELECT migrate_show('aaaa0001');
SELECT migrate_upgrade_sql('heads');
SELECT migrate_downgrade_sql('base');
-- the readers are callable but the tables are not readable
SELECT * FROM migrate_heads();
SELECT * FROM migrate_current();
SELECT * FROM pgmigrate.migrate_revisions;
RESET ROLE;

-- the reader sees the graph and the state, never the SQL
SET ROLE regress_reader;
SELECT * FROM migrate_heads();
SELECT * FROM migrate_current();
SELECT revision FROM migrate_history() LIMIT 3;
SELECT migrate_resolve('billing@head');
SELECT * FROM migrate_branches();
SELECT upgrade_sql FROM pgmigrate.migrate_revisions;
SELECT migrate_show('aaaa0001');
SELECT migrate_upgrade('heads');
RESET ROLE;

-- the migrator does everything, and its migrations run with its privileges
SET ROLE regress_migrator;
SELECT revision FROM migrate_upgrade('billing@head');
SELECT count(*) AS fingerprints_logged FROM pgmigrate.migrate_log l
WHERE l.fingerprint IS NOT NULL AND l.role = 'regress_migrator';
RESET ROLE;
SELECT count(*) AS snapshots FROM pgmigrate.migrate_schema_snapshots;
-- with it, as README.md grants it, its runs keep the snapshot of what they left
GRANT SELECT, INSERT ON pgmigrate.migrate_schema_snapshots TO regress_migrator;
SET ROLE regress_migrator;
SELECT revision FROM migrate_downgrade('cccc0004');
RESET ROLE;
SELECT count(*) AS snapshots FROM pgmigrate.migrate_schema_snapshots;
SET ROLE regress_migrator;
SELECT migrate_stamp('eeee0006');
SELECT revision FROM migrate_show('aaaa0001');
SELECT migrate_revision('zzzz0001', 'eeee0006', 'SELECT 1', 'SELECT 1', 'by the migrator');
SELECT migrate_new('also by the migrator', 'SELECT 1', 'SELECT 1', head => 'zzzz0001') IS NOT NULL AS registered;
SELECT registered_by FROM pgmigrate.migrate_revisions WHERE revision = 'zzzz0001';
SELECT DISTINCT role FROM pgmigrate.migrate_log;
-- a migration touching what the migrator may not touch fails as the migrator
RESET ROLE;
CREATE TABLE owned_by_superuser (id int);
SET ROLE regress_migrator;
SELECT migrate_revision('zzzz0002', 'zzzz0001', 'DROP TABLE owned_by_superuser', NULL, 'not allowed');
SELECT revision FROM migrate_upgrade('zzzz0002');
-- the catalog is append-only for it
DELETE FROM pgmigrate.migrate_revisions;
UPDATE pgmigrate.migrate_log SET direction = 'upgrade';
RESET ROLE;

SELECT count(*) FROM migrate_stamp('base');
DROP EXTENSION pg_migrate CASCADE;
DROP TABLE owned_by_superuser, t_aaaa0001, t_aaaa0002, t_bbbb0003, t_bbbb0004, t_cccc0003, t_cccc0004;
REVOKE CREATE ON SCHEMA public FROM regress_migrator;
DROP ROLE regress_nobody, regress_migrator, regress_reader;
