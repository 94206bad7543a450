-- graph: heads, bases, branch points, merges, history
CREATE EXTENSION pg_migrate;
\set QUIET on
\i sql/fixture.inc
\set QUIET off

SELECT * FROM migrate_heads();
SELECT * FROM migrate_bases();
SELECT * FROM migrate_branches();
SELECT * FROM migrate_history();

-- ranges: lower:upper, inclusive, either end optional
SELECT revision FROM migrate_history('bbbb0003:dddd0005');
SELECT revision FROM migrate_history('cccc0003:');
SELECT revision FROM migrate_history(':aaaa0002');
SELECT revision FROM migrate_history('base:reports@head');
SELECT revision FROM migrate_history('billing@base:billing@head');
SELECT revision FROM migrate_history('eeee0006-1:');
SELECT revision FROM migrate_history('ffff0001:eeee0006');
SELECT revision FROM migrate_history('current:');
SELECT revision FROM migrate_history(':current');
SELECT revision FROM migrate_history('nope');
SELECT revision FROM migrate_history('nope:');

-- current and -3 are relative to what is applied
SELECT count(*) FROM migrate_upgrade('cccc0004');
SELECT revision, is_applied FROM migrate_history('current:');
-- alembic current --verbose: which branch each applied head is on
SELECT * FROM migrate_current(verbose => true);
SELECT count(*) FROM migrate_upgrade('reports@head');
SELECT * FROM migrate_current(true);
SELECT * FROM migrate_current(NULL);
SELECT count(*) FROM migrate_downgrade('reports@base');
SELECT revision FROM migrate_history('-2:');
SELECT revision FROM migrate_history(':current');

-- show: one revision, with its SQL; branch_labels are the labels it
-- carries (propagated along its branch, as alembic show prints them),
-- declared_branch_labels those it was registered with
SELECT revision, down_revisions, depends_on, branch_labels, declared_branch_labels, message, upgrade_sql, downgrade_sql,
       checksum = migrate_checksum(upgrade_sql, downgrade_sql) AS checksum_ok,
       registered_by, registered_at <= now() AS registered_before_now, is_head, is_applied, next_revisions
FROM migrate_show('dddd');
SELECT revision, down_revisions, depends_on, branch_labels, declared_branch_labels, upgrade_sql, downgrade_sql,
       is_head, is_applied, next_revisions
FROM migrate_show('ffff0002');
SELECT revision, branch_labels, declared_branch_labels, is_applied, next_revisions FROM migrate_show('catalog');
-- show and history agree on every revision's labels
SELECT h.revision FROM migrate_history() h, LATERAL migrate_show(h.revision) s
WHERE h.branch_labels IS DISTINCT FROM s.branch_labels
   OR h.declared_branch_labels IS DISTINCT FROM s.declared_branch_labels;
SELECT * FROM migrate_show('heads');
SELECT * FROM migrate_show(NULL);

-- rows that come back out of registration order (an edited row moves to
-- the end of its page or table) give the same graph and the same scripts
CREATE TEMP TABLE before_edit AS
SELECT (SELECT array_agg(revision ORDER BY ordinality) FROM migrate_history() WITH ORDINALITY) AS history,
       (SELECT array_agg(revision ORDER BY ordinality) FROM migrate_heads() WITH ORDINALITY) AS heads,
       md5(migrate_upgrade_sql('heads', 'base')) AS upgrade_script,
       md5(migrate_downgrade_sql('base', 'heads')) AS downgrade_script;
UPDATE pgmigrate.migrate_revisions SET message = message
WHERE revision = 'eeee0006' OR seq IN (SELECT seq FROM pgmigrate.migrate_revisions ORDER BY seq LIMIT 3);
SELECT array_agg(seq ORDER BY ctid) = array_agg(seq ORDER BY seq) AS stored_in_seq_order FROM pgmigrate.migrate_revisions;
SELECT history = (SELECT array_agg(revision ORDER BY ordinality) FROM migrate_history() WITH ORDINALITY) AS same_history,
       heads = (SELECT array_agg(revision ORDER BY ordinality) FROM migrate_heads() WITH ORDINALITY) AS same_heads,
       upgrade_script = md5(migrate_upgrade_sql('heads', 'base')) AS same_upgrade_script,
       downgrade_script = md5(migrate_downgrade_sql('base', 'heads')) AS same_downgrade_script
FROM before_edit;

SELECT count(*) FROM migrate_downgrade('base');
DROP EXTENSION pg_migrate CASCADE;

-- the graph is cached between calls; every change to migrate_revisions,
-- committed, rolled back or typed in by hand, is seen by the next call
CREATE EXTENSION pg_migrate;
SELECT migrate_revision('cache01', NULL, 'SELECT 1', 'SELECT 1', 'one');
SELECT revision FROM migrate_heads();
SELECT migrate_revision('cache02', 'cache01', 'SELECT 1', 'SELECT 1', 'two');
SELECT revision FROM migrate_heads();
BEGIN;
SELECT migrate_revision('cache03', 'cache02', 'SELECT 1', 'SELECT 1', 'three');
SELECT revision FROM migrate_heads();
ROLLBACK;
SELECT revision FROM migrate_heads();
BEGIN;
SAVEPOINT s;
SELECT migrate_revision('cache03', 'cache01', 'SELECT 1', 'SELECT 1', 'three, elsewhere');
SELECT revision FROM migrate_heads();
ROLLBACK TO SAVEPOINT s;
SELECT revision FROM migrate_heads();
COMMIT;
UPDATE pgmigrate.migrate_revisions SET down_revisions = '{}' WHERE revision = 'cache02';
SELECT revision FROM migrate_bases();
UPDATE pgmigrate.migrate_revisions SET message = 'edited' WHERE revision = 'cache02';
SELECT revision, message FROM migrate_heads();
DELETE FROM pgmigrate.migrate_revisions WHERE revision = 'cache02';
SELECT revision FROM migrate_heads();
-- changes applied as a replica (logical replication) move the epoch too
SET session_replication_role = replica;
INSERT INTO pgmigrate.migrate_revisions (revision, down_revisions, upgrade_sql, checksum)
VALUES ('cache04', '{cache01}', 'SELECT 1', migrate_checksum('SELECT 1', NULL));
RESET session_replication_role;
SELECT revision FROM migrate_heads();
TRUNCATE pgmigrate.migrate_revisions CASCADE;
SELECT revision FROM migrate_heads();
DROP EXTENSION pg_migrate;
CREATE EXTENSION pg_migrate;
SELECT revision FROM migrate_heads();
DROP EXTENSION pg_migrate;
