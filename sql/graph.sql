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
SELECT revision FROM migrate_history('nope');
SELECT revision FROM migrate_history('nope:');

-- current and -3 are relative to what is applied
SELECT count(*) FROM migrate_upgrade('cccc0004');
SELECT revision, is_applied FROM migrate_history('current:');
SELECT revision FROM migrate_history('-2:');
SELECT revision FROM migrate_history(':current');

-- show: one revision, with its SQL
SELECT revision, down_revisions, depends_on, branch_labels, message, upgrade_sql, downgrade_sql,
       checksum = migrate_checksum(upgrade_sql, downgrade_sql) AS checksum_ok,
       registered_by, registered_at <= now() AS registered_before_now, is_head, is_applied, next_revisions
FROM migrate_show('dddd');
SELECT revision, down_revisions, depends_on, branch_labels, upgrade_sql, downgrade_sql,
       is_head, is_applied, next_revisions
FROM migrate_show('ffff0002');
SELECT revision, is_applied, next_revisions FROM migrate_show('catalog');
SELECT * FROM migrate_show('heads');
SELECT * FROM migrate_show(NULL);

SELECT count(*) FROM migrate_downgrade('base');
DROP EXTENSION pg_migrate CASCADE;
