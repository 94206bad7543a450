-- update_from_1_0: a 1.0 database, filled as a user's would be (revisions,
-- some applied, a log of several runs with failure and retry rows, an
-- adopted and mirrored alembic_version), served by this release's shared
-- library, then ALTER EXTENSION ... UPDATE: nothing is lost, every function
-- works on the data, and the result has exactly the objects of a fresh
-- CREATE EXTENSION (pg_stat_statements' oldextversions test is the model).
-- The pg_cron schedule and pg_dump of an updated database are TAP tests
-- (test/t/003_pg_cron.pl, test/t/001_dump_restore.pl).
CREATE EXTENSION pg_migrate VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate';
-- 1.0's catalog is in the extension's schema
SELECT count(*) AS catalog_tables_in_public FROM pg_class
WHERE relnamespace = 'public'::regnamespace AND relname LIKE 'migrate\_%' AND relkind IN ('r', 'S');

-- What every part of pg_migrate's catalog looks like: member objects, and
-- for each the definition that matters (columns, defaults, constraints,
-- indexes, triggers and whether they fire, function bodies and settings,
-- privileges, comments, what pg_dump keeps).
CREATE FUNCTION pg_temp.catalog_shape() RETURNS SETOF text LANGUAGE sql AS $$
    WITH ext AS (SELECT oid, extconfig FROM pg_extension WHERE extname = 'pg_migrate'),
    members AS (
        SELECT d.classid, d.objid FROM pg_depend d, ext
        WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
    )
    SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM members
    UNION ALL
    SELECT format('column %s.%s %s notnull=%s default=%s', c.oid::regclass, a.attname,
                  format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid))
    FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
    UNION ALL
    SELECT format('constraint %s %s %s', con.conrelid::regclass, con.conname, pg_get_constraintdef(con.oid))
    FROM members m JOIN pg_constraint con ON m.classid = 'pg_class'::regclass AND con.conrelid = m.objid
    UNION ALL
    SELECT format('index %s', pg_get_indexdef(i.indexrelid))
    FROM members m JOIN pg_index i ON m.classid = 'pg_class'::regclass AND i.indrelid = m.objid
    UNION ALL
    SELECT format('trigger %s enabled=%s', pg_get_triggerdef(t.oid), t.tgenabled)
    FROM members m JOIN pg_trigger t ON m.classid = 'pg_class'::regclass AND t.tgrelid = m.objid
    WHERE NOT t.tgisinternal
    UNION ALL
    SELECT format('acl %s %s', c.oid::regclass, c.relacl)
    FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
    UNION ALL
    SELECT format('sequence %s start=%s increment=%s cycle=%s owned_by=%s', s.seqrelid::regclass,
                  s.seqstart, s.seqincrement, s.seqcycle,
                  (SELECT pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) FROM pg_depend d
                   WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.deptype = 'a'))
    FROM members m JOIN pg_sequence s ON m.classid = 'pg_class'::regclass AND s.seqrelid = m.objid
    UNION ALL
    SELECT format('function %s acl=%s', pg_get_functiondef(p.oid), p.proacl)
    FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
    UNION ALL
    SELECT format('schema %s owner_is_me=%s acl=%s', n.nspname, n.nspowner = current_user::regrole, n.nspacl)
    FROM members m JOIN pg_namespace n ON m.classid = 'pg_namespace'::regclass AND n.oid = m.objid
    UNION ALL
    SELECT format('comment %s %s', pg_describe_object(m.classid, m.objid, 0), obj_description(m.objid))
    FROM members m WHERE obj_description(m.objid) IS NOT NULL
    UNION ALL
    SELECT format('dumped %s', t.oid::regclass) FROM ext, unnest(ext.extconfig) AS t(oid)
$$;

-- fill it as 1.0 would be filled
\i sql/fixture.inc
SELECT migrate_revision('gggg0007', 'eeee0006', 'CREATE TABLE t_gggg0007 (id int); SELECT 1 / 0',
                        'DROP TABLE t_gggg0007', 'fails at first');
CREATE TABLE legacy_alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
INSERT INTO legacy_alembic_version VALUES ('aaaa0002');
SELECT * FROM migrate_adopt_alembic('legacy_alembic_version');
SET pg_migrate.alembic_version_table = 'public.legacy_alembic_version';
SELECT count(*) FROM migrate_upgrade('dddd0005');
SELECT count(*) FROM migrate_downgrade('bbbb0004');
CALL migrate_apply('eeee0006');
CALL migrate_apply('ffff0002');
-- a failed step in function mode (its row written by the log worker) and
-- in CALL mode (committed by the procedure)
SELECT count(*) FROM migrate_upgrade('gggg0007');
CALL migrate_apply('gggg0007');
-- a retry, as a lock timeout leaves it (a single session cannot block
-- itself; test/t/002_apply.pl makes real ones)
INSERT INTO migrate_log (run_id, scope, revision, direction, attempt, outcome, started_at, duration,
                         role, session_role, backend_pid, sqlstate, error_message)
SELECT nextval('migrate_run_seq'), 'default', 'gggg0007', 'upgrade', 1, 'retry', now(), '1 s',
       current_user, session_user, pg_backend_pid(), '55P03', 'canceling statement due to lock timeout';
SELECT * FROM migrate_current();
SELECT outcome, count(*) FROM migrate_log GROUP BY outcome ORDER BY outcome COLLATE "C";

-- 1.0's functions whose 1.1 shape or behaviour changed keep 1.0's behaviour
-- and result columns, served by this library (src/fn_1_0.c): migrate_stamp
-- replaces the whole state (the alembic_version mirror too), migrate_show
-- gives the declared labels, and neither it nor migrate_history has
-- declared_branch_labels
BEGIN;
SELECT revision FROM migrate_stamp('cccc0004');
SELECT version_num FROM legacy_alembic_version ORDER BY version_num COLLATE "C";
ROLLBACK;
SELECT * FROM migrate_history('ffff0001:ffff0002');
SELECT revision, branch_labels, is_head FROM migrate_show('ffff0002');
SELECT count(*) AS show_columns FROM (SELECT (migrate_show('ffff0002')).*) s,
     LATERAL json_object_keys(row_to_json(s)) k;
-- grants on the functions the update drops and creates again carry over
-- (migrate_history's default ACL stays the default: see the shape below)
CREATE ROLE regress_update_reader;
GRANT EXECUTE ON FUNCTION migrate_show(text), migrate_stamp(text) TO regress_update_reader;
GRANT EXECUTE ON FUNCTION migrate_revision(text, text, text, text, text, text[], text[], interval, interval, boolean)
    TO regress_update_reader;
-- a migration role as 1.0's README granted it: it may append to the log
CREATE ROLE regress_update_migrator;
GRANT SELECT, INSERT ON migrate_log TO regress_update_migrator;

-- what must survive, row for row
CREATE TEMP TABLE before_revisions AS SELECT * FROM migrate_revisions;
CREATE TEMP TABLE before_version AS SELECT * FROM migrate_version;
CREATE TEMP TABLE before_log AS SELECT * FROM migrate_log;
CREATE TEMP TABLE before_epoch AS SELECT * FROM migrate_epoch;
CREATE TEMP TABLE before_seqs AS
    SELECT 'revisions' AS seq, last_value FROM migrate_revisions_seq
    UNION ALL SELECT 'log', last_value FROM migrate_log_seq
    UNION ALL SELECT 'run', last_value FROM migrate_run_seq
    UNION ALL SELECT 'epoch', last_value FROM migrate_epoch_seq;
CREATE TEMP TABLE before_alembic AS SELECT * FROM legacy_alembic_version;

ALTER EXTENSION pg_migrate UPDATE TO '1.1';
SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate';
-- the catalog left public: nothing of pg_migrate's but its functions is there
SELECT count(*) AS catalog_tables_in_public FROM pg_class
WHERE relnamespace = 'public'::regnamespace AND relname LIKE 'migrate\_%' AND relkind IN ('r', 'S');
SELECT count(*) AS helpers_in_public FROM pg_proc
WHERE pronamespace = 'public'::regnamespace AND proname IN ('migrate_bump_epoch', 'migrate_log_append_only');

-- every row, both ways (the log's 1.0 columns: 1.1 added the fingerprint,
-- NULL in every row written before)
-- (and the revisions' 1.0 columns: 1.1 added allow_hazards, '{}' in every old row)
CREATE TEMP TABLE after_revisions AS
    SELECT revision, seq, down_revisions, depends_on, branch_labels, message, upgrade_sql,
           downgrade_sql, checksum, lock_timeout, statement_timeout, transactional,
           registered_by, registered_at
    FROM pgmigrate.migrate_revisions;
SELECT count(*) AS old_rows_allowing_hazards FROM pgmigrate.migrate_revisions WHERE allow_hazards <> '{}';
CREATE TEMP TABLE after_log AS
    SELECT id, run_id, scope, revision, direction, attempt, outcome, started_at, duration, role,
           session_role, backend_pid, txid, sqlstate, error_message, error_detail, error_position,
           blockers
    FROM pgmigrate.migrate_log;
SELECT count(*) AS old_rows_with_fingerprint FROM pgmigrate.migrate_log WHERE fingerprint IS NOT NULL;
SELECT 'revisions' AS t, count(*) FROM (TABLE before_revisions EXCEPT ALL TABLE after_revisions
    UNION ALL (TABLE after_revisions EXCEPT ALL TABLE before_revisions)) d
UNION ALL
SELECT 'version', count(*) FROM (TABLE before_version EXCEPT ALL TABLE pgmigrate.migrate_version
    UNION ALL (TABLE pgmigrate.migrate_version EXCEPT ALL TABLE before_version)) d
UNION ALL
SELECT 'log', count(*) FROM (TABLE before_log EXCEPT ALL TABLE after_log
    UNION ALL (TABLE after_log EXCEPT ALL TABLE before_log)) d
UNION ALL
SELECT 'epoch', count(*) FROM (TABLE before_epoch EXCEPT ALL TABLE pgmigrate.migrate_epoch
    UNION ALL (TABLE pgmigrate.migrate_epoch EXCEPT ALL TABLE before_epoch)) d;
SELECT count(*) AS rows_kept FROM pgmigrate.migrate_log;
-- sequences keep their positions
SELECT b.seq, b.last_value = a.last_value AS kept
FROM before_seqs b JOIN (
    SELECT 'revisions' AS seq, last_value FROM pgmigrate.migrate_revisions_seq
    UNION ALL SELECT 'log', last_value FROM pgmigrate.migrate_log_seq
    UNION ALL SELECT 'run', last_value FROM pgmigrate.migrate_run_seq
    UNION ALL SELECT 'epoch', last_value FROM pgmigrate.migrate_epoch_seq) a USING (seq)
ORDER BY b.seq COLLATE "C";
-- checksums still verify
SELECT count(*) AS checksums_ok FROM pgmigrate.migrate_revisions
WHERE checksum = migrate_checksum(upgrade_sql, downgrade_sql);
-- the log is still append-only
UPDATE pgmigrate.migrate_log SET outcome = 'success';

-- the grants as they were, on the new signatures
SELECT f, has_function_privilege('regress_update_reader', f, 'EXECUTE') AS reader,
       has_function_privilege('public', f, 'EXECUTE') AS public
FROM unnest(ARRAY['migrate_show(text)', 'migrate_stamp(text, boolean)', 'migrate_history(text)',
                   'migrate_revision(text, text, text, text, text, text[], text[], interval, interval, boolean, text[])',
                   'migrate_revision(text, text[], text, text, text, text[], text[], interval, interval, boolean, text[])']) AS f
ORDER BY f COLLATE "C";
-- the library's 1.1 functions now: propagated labels beside the declared ones
SELECT revision, branch_labels, declared_branch_labels FROM migrate_show('ffff0002');
SELECT revision, branch_labels, declared_branch_labels FROM migrate_history('ffff0001:ffff0002');
REVOKE ALL ON FUNCTION migrate_show(text), migrate_stamp(text, boolean),
    migrate_revision(text, text, text, text, text, text[], text[], interval, interval, boolean, text[])
    FROM regress_update_reader;
DROP ROLE regress_update_reader;
-- a role that may append to the log may keep snapshots too; others may not
SELECT r, has_table_privilege(r, 'pgmigrate.migrate_schema_snapshots', 'INSERT') AS insert_snapshots
FROM unnest(ARRAY['regress_update_migrator', 'public']) AS r ORDER BY r COLLATE "C";
REVOKE ALL ON pgmigrate.migrate_log, pgmigrate.migrate_schema_snapshots FROM regress_update_migrator;
DROP ROLE regress_update_migrator;

-- every function works on the updated data
SELECT * FROM migrate_current();
SELECT * FROM migrate_current(true);
SELECT * FROM migrate_heads();
SELECT revision, is_applied FROM migrate_history() ORDER BY revision COLLATE "C";
SELECT migrate_resolve('billing@head');
SELECT revision, checksum = migrate_checksum(upgrade_sql, downgrade_sql) AS checksum_ok
FROM migrate_show('gggg0007');
SELECT * FROM migrate_branches();
SELECT * FROM migrate_bases();
SELECT length(migrate_upgrade_sql('heads', 'base')) > 0 AS offline_ok;
SELECT running FROM migrate_status();
-- the failing revision is fixed the 1.0 way: a new one on top of eeee0006
SELECT migrate_revision('hhhh0007', 'eeee0006', 'CREATE TABLE t_hhhh0007 (id int)',
                        'DROP TABLE t_hhhh0007', 'fixed');
SELECT revision, direction FROM migrate_upgrade('hhhh0007');
SELECT revision, direction FROM migrate_downgrade('eeee0006');
CALL migrate_apply('hhhh0007');
-- the Alembic table is still kept in step
SELECT version_num FROM legacy_alembic_version ORDER BY version_num COLLATE "C";
SELECT count(*) FROM migrate_downgrade('aaaa0002');
SELECT revision FROM migrate_stamp('hhhh0007');
SELECT version_num FROM legacy_alembic_version ORDER BY version_num COLLATE "C";
SELECT revision FROM migrate_stamp('base');
-- new runs continue the old numbering: no run_id is handed out twice
SELECT count(*) AS reused_run_ids FROM pgmigrate.migrate_log l
WHERE l.run_id IN (SELECT run_id FROM before_log) AND l.id NOT IN (SELECT id FROM before_log);
SELECT min(run_id) > (SELECT max(run_id) FROM before_log) AS runs_continue
FROM pgmigrate.migrate_log WHERE id NOT IN (SELECT id FROM before_log);
RESET pg_migrate.alembic_version_table;

-- exactly the objects, definitions and grants of a fresh CREATE EXTENSION
CREATE TEMP TABLE updated_shape AS SELECT * FROM pg_temp.catalog_shape() AS s(line);
DROP EXTENSION pg_migrate;
CREATE EXTENSION pg_migrate;
SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate';
CREATE TEMP TABLE fresh_shape AS SELECT * FROM pg_temp.catalog_shape() AS s(line);
SELECT count(*) > 100 AS shape_is_detailed FROM fresh_shape;
SELECT * FROM (
    SELECT 'only after update' AS where_, line FROM (TABLE updated_shape EXCEPT ALL TABLE fresh_shape) d
    UNION ALL
    SELECT 'only when fresh', line FROM (TABLE fresh_shape EXCEPT ALL TABLE updated_shape) d) diff
ORDER BY where_ COLLATE "C", line COLLATE "C";

DROP EXTENSION pg_migrate;
DROP TABLE legacy_alembic_version;
DROP VIEW applied_tables;
DO $$
DECLARE t regclass;
BEGIN
    FOR t IN SELECT oid FROM pg_class WHERE relname LIKE 't\_%' AND relkind = 'r' LOOP
        EXECUTE format('DROP TABLE %s', t);
    END LOOP;
END
$$;
