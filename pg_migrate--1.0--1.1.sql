/* pg_migrate--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_migrate UPDATE TO '1.1'" to load this file. \quit

--
-- The catalog moves into a schema of the extension's own (see
-- pg_migrate--1.1.sql for why).  SET SCHEMA keeps every row, every column
-- default (a regclass constant follows its sequence), every sequence's
-- position, every index, constraint, trigger and grant: the objects are the
-- same, only their schema changes.  Owned sequences move with their tables.
-- Each ALTER TABLE takes an ACCESS EXCLUSIVE lock on its table until the
-- update commits, so a migration running in another session is waited for.
--
CREATE SCHEMA pgmigrate;
COMMENT ON SCHEMA pgmigrate IS 'pg_migrate''s catalog: revisions, version state, log';

ALTER TABLE @extschema@.migrate_revisions SET SCHEMA pgmigrate;
ALTER TABLE @extschema@.migrate_version SET SCHEMA pgmigrate;
ALTER TABLE @extschema@.migrate_epoch SET SCHEMA pgmigrate;
ALTER TABLE @extschema@.migrate_log SET SCHEMA pgmigrate;
ALTER SEQUENCE @extschema@.migrate_epoch_seq SET SCHEMA pgmigrate;
ALTER SEQUENCE @extschema@.migrate_run_seq SET SCHEMA pgmigrate;
ALTER FUNCTION @extschema@.migrate_bump_epoch() SET SCHEMA pgmigrate;
ALTER FUNCTION @extschema@.migrate_log_append_only() SET SCHEMA pgmigrate;

-- 1.1's log columns: the fingerprint of the managed schemas after a
-- successful step, the revision's checksum when the row was written, and
-- the reason of a repair (migrate_repair), a new direction
ALTER TABLE pgmigrate.migrate_log ADD COLUMN fingerprint text;
ALTER TABLE pgmigrate.migrate_log ADD COLUMN checksum text;
ALTER TABLE pgmigrate.migrate_log ADD COLUMN reason text;
ALTER TABLE pgmigrate.migrate_log DROP CONSTRAINT migrate_log_direction_check;
ALTER TABLE pgmigrate.migrate_log ADD CONSTRAINT migrate_log_direction_check
    CHECK (direction IN ('upgrade', 'downgrade', 'stamp', 'unstamp', 'repair'));

-- The per-object digests of each schema state a step left (and a repair
-- accepted), under its fingerprint: migrate_verify names what drifted.
CREATE TABLE pgmigrate.migrate_schema_snapshots (
    fingerprint     text PRIMARY KEY,
    taken_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    objects         jsonb NOT NULL          -- {"kind identity": digest of its definition}
);
SELECT pg_catalog.pg_extension_config_dump('pgmigrate.migrate_schema_snapshots', '');
REVOKE ALL ON pgmigrate.migrate_schema_snapshots FROM PUBLIC;
-- a role that may append to the log (a migration role, README "Security and
-- privileges") may keep the snapshots of what its steps left
DO $$
DECLARE
    grantee name;
BEGIN
    FOR grantee IN
        SELECT DISTINCT CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                             ELSE pg_catalog.quote_ident(r.rolname) END
        FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
        LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee
        WHERE c.oid OPERATOR(pg_catalog.=) 'pgmigrate.migrate_log'::pg_catalog.regclass
          AND a.privilege_type OPERATOR(pg_catalog.=) 'INSERT'
          AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
    LOOP
        EXECUTE pg_catalog.format('GRANT SELECT, INSERT ON pgmigrate.migrate_schema_snapshots TO %s', grantee);
    END LOOP;
END
$$;

-- its body named the tables by the old schema
CREATE OR REPLACE FUNCTION pgmigrate.migrate_bump_epoch()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE pgmigrate.migrate_epoch
       SET epoch = pg_catalog.nextval('pgmigrate.migrate_epoch_seq'::pg_catalog.regclass);
    RETURN NULL;
END
$$;

-- 1.0 did not dump the run sequence, so a restored database handed out
-- run_ids its log already had
SELECT pg_catalog.pg_extension_config_dump('pgmigrate.migrate_run_seq', '');

REVOKE ALL ON SCHEMA pgmigrate FROM PUBLIC;

-- Revisions registered in one transaction may come in any order, as Alembic
-- loads every file before it builds the graph: a parent or depends_on
-- target may be registered after the revision that names it.  The graph is
-- validated once it is complete, by the first call that reads it or at
-- commit by this trigger; it loads the graph only when a registration of
-- the transaction named a revision not registered yet (src/fn_graph_check.c).
-- The WHEN is evaluated as each row is inserted, so a registration whose
-- edges all name registered revisions queues no event at all.
CREATE FUNCTION pgmigrate.migrate_check_graph()
RETURNS trigger
AS 'MODULE_PATHNAME', 'migrate_check_graph'
LANGUAGE C;

CREATE FUNCTION pgmigrate.migrate_graph_check_pending()
RETURNS boolean
AS 'MODULE_PATHNAME', 'migrate_graph_check_pending'
LANGUAGE C VOLATILE;

CREATE CONSTRAINT TRIGGER migrate_revisions_graph_check
    AFTER INSERT ON pgmigrate.migrate_revisions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (pgmigrate.migrate_graph_check_pending())
    EXECUTE FUNCTION pgmigrate.migrate_check_graph();

-- From 1.1 on the C function behind each SQL function carries its SQL name
-- (migrate_upgrade, not pgm_upgrade): the same definitions as in
-- pg_migrate--1.1.sql, now pointing at those symbols.  The library keeps
-- 1.0's symbols as aliases (src/fn_1_0.c) for a database not yet updated.
-- (migrate_revision is made again below: 1.1 gave it allow_hazards)

CREATE OR REPLACE FUNCTION @extschema@.migrate_new(message text, upgrade_sql text, downgrade_sql text DEFAULT NULL,
                            head text DEFAULT NULL, branch_labels text[] DEFAULT '{}',
                            depends_on text[] DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_new'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.migrate_merge(revisions text[], message text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_merge'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.migrate_merge(revisions text, message text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_merge_single'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.migrate_upgrade(target text DEFAULT 'head')
RETURNS TABLE (revision text, direction text, message text, duration interval)
AS 'MODULE_PATHNAME', 'migrate_upgrade'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION @extschema@.migrate_downgrade(target text)
RETURNS TABLE (revision text, direction text, message text, duration interval)
AS 'MODULE_PATHNAME', 'migrate_downgrade'
LANGUAGE C VOLATILE;

CREATE OR REPLACE PROCEDURE @extschema@.migrate_apply(target text DEFAULT 'head',
                               downgrade boolean DEFAULT false,
                               single_transaction boolean DEFAULT false,
                               skip_if_locked boolean DEFAULT false,
                               lock_wait_timeout interval DEFAULT NULL,
                               lock_timeout interval DEFAULT NULL,
                               statement_timeout interval DEFAULT NULL,
                               lock_retries integer DEFAULT NULL)
AS 'MODULE_PATHNAME', 'migrate_apply'
LANGUAGE C;

CREATE OR REPLACE FUNCTION @extschema@.migrate_adopt_alembic(version_table text DEFAULT 'alembic_version')
RETURNS TABLE (revision text)
AS 'MODULE_PATHNAME', 'migrate_adopt_alembic'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION @extschema@.migrate_upgrade_sql(target text DEFAULT 'head', from_revision text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_upgrade_sql'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.migrate_downgrade_sql(target text, from_revision text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_downgrade_sql'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.migrate_current()
RETURNS TABLE (revision text)
AS 'MODULE_PATHNAME', 'migrate_current'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.migrate_current(verbose boolean)
RETURNS TABLE (revision text, branch_labels text[], message text, is_graph_head boolean)
AS 'MODULE_PATHNAME', 'migrate_current_verbose'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.migrate_heads()
RETURNS TABLE (revision text, branch_labels text[], message text)
AS 'MODULE_PATHNAME', 'migrate_heads'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.migrate_bases()
RETURNS TABLE (revision text, branch_labels text[], message text)
AS 'MODULE_PATHNAME', 'migrate_bases'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.migrate_branches()
RETURNS TABLE (revision text, next_revisions text[], message text)
AS 'MODULE_PATHNAME', 'migrate_branches'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.migrate_resolve(identifier text)
RETURNS text[]
AS 'MODULE_PATHNAME', 'migrate_resolve'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

--
-- Three functions change shape, which CREATE OR REPLACE cannot do, so they
-- are dropped and created again (the 1.0 library symbols they named stay in
-- the library, src/fn_1_0.c, with 1.0's behaviour):
--   migrate_stamp gains purge (default false): it now moves only the
--     branches the target is in line with, as alembic stamp does; purge =>
--     true is 1.0's behaviour, alembic stamp --purge.  1.0's pinned
--     search_path goes too: pg_migrate.alembic_version_table resolves under
--     the caller's search_path in every function that writes the version
--     state (1.0's migrate_stamp failed with 42P01 on an unqualified name).
--   migrate_history and migrate_show gain declared_branch_labels, and
--     migrate_show's branch_labels become the propagated ones.
-- A new function gets the default privileges, so each one's ACL is carried
-- over from the old one: the grants a user made (a migration role's EXECUTE
-- on migrate_stamp, a reader's on migrate_show) survive the update.
--
CREATE FUNCTION pg_temp.pgm_carry_acl(old_acl pg_catalog.aclitem[], fn pg_catalog.regprocedure)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    g record;
BEGIN
    IF old_acl IS NULL THEN
        RETURN;                 -- never granted or revoked: the default
    END IF;
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
    FOR g IN
        SELECT a.grantee, a.is_grantable
        FROM pg_catalog.aclexplode(old_acl) AS a
        JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) fn
        WHERE a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
          AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s%s', fn,
                       CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                            ELSE g.grantee::pg_catalog.regrole::pg_catalog.text END,
                       CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;

CREATE TABLE pg_temp.pgm_old_acl AS
SELECT p.proname::pg_catalog.text AS name, p.proacl AS acl
FROM pg_catalog.pg_proc p
WHERE p.oid OPERATOR(pg_catalog.=) ANY (ARRAY['@extschema@.migrate_stamp(text)'::pg_catalog.regprocedure,
                                              '@extschema@.migrate_history(text)'::pg_catalog.regprocedure,
                                              '@extschema@.migrate_show(text)'::pg_catalog.regprocedure])
UNION ALL
SELECT CASE WHEN p.proargtypes[1] OPERATOR(pg_catalog.=) 'pg_catalog.text[]'::pg_catalog.regtype
            THEN 'migrate_revision[]' ELSE 'migrate_revision' END, p.proacl
FROM pg_catalog.pg_proc p
WHERE p.oid OPERATOR(pg_catalog.=) ANY (ARRAY[
    '@extschema@.migrate_revision(text, text[], text, text, text, text[], text[], interval, interval, boolean)'::pg_catalog.regprocedure,
    '@extschema@.migrate_revision(text, text, text, text, text, text[], text[], interval, interval, boolean)'::pg_catalog.regprocedure]);

-- 1.1 gave migrate_revision a last argument, allow_hazards (the hazards its
-- revision may cause while it runs; the rewrite guard reads it): new
-- signatures, so dropped and made again, with their grants
DROP FUNCTION @extschema@.migrate_revision(text, text[], text, text, text, text[], text[], interval, interval, boolean);
DROP FUNCTION @extschema@.migrate_revision(text, text, text, text, text, text[], text[], interval, interval, boolean);
ALTER TABLE pgmigrate.migrate_revisions ADD COLUMN allow_hazards text[] NOT NULL DEFAULT '{}';

DROP FUNCTION @extschema@.migrate_stamp(text);
DROP FUNCTION @extschema@.migrate_history(text);
DROP FUNCTION @extschema@.migrate_show(text);

CREATE FUNCTION @extschema@.migrate_revision(revision text, down_revision text[], upgrade_sql text,
                                 downgrade_sql text DEFAULT NULL, message text DEFAULT '',
                                 branch_labels text[] DEFAULT '{}', depends_on text[] DEFAULT '{}',
                                 lock_timeout interval DEFAULT NULL, statement_timeout interval DEFAULT NULL,
                                 transactional boolean DEFAULT true, allow_hazards text[] DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_revision'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.migrate_revision(revision text, down_revision text, upgrade_sql text,
                                 downgrade_sql text DEFAULT NULL, message text DEFAULT '',
                                 branch_labels text[] DEFAULT '{}', depends_on text[] DEFAULT '{}',
                                 lock_timeout interval DEFAULT NULL, statement_timeout interval DEFAULT NULL,
                                 transactional boolean DEFAULT true, allow_hazards text[] DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_revision_single'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.migrate_stamp(target text, purge boolean DEFAULT false)
RETURNS TABLE (revision text)
AS 'MODULE_PATHNAME', 'migrate_stamp'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.migrate_history(range text DEFAULT NULL)
RETURNS TABLE (revision text, down_revisions text[], branch_labels text[],
               declared_branch_labels text[], message text,
               is_head boolean, is_base boolean, is_branch_point boolean,
               is_merge boolean, is_applied boolean)
AS 'MODULE_PATHNAME', 'migrate_history'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.migrate_show(identifier text)
RETURNS TABLE (revision text, down_revisions text[], depends_on text[], branch_labels text[],
               declared_branch_labels text[], message text, upgrade_sql text, downgrade_sql text,
               checksum text, registered_by name, registered_at timestamptz,
               is_head boolean, is_applied boolean, next_revisions text[])
AS 'MODULE_PATHNAME', 'migrate_show'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

SELECT pg_temp.pgm_carry_acl(o.acl, f.fn)
FROM pg_temp.pgm_old_acl o
JOIN (VALUES ('migrate_stamp', '@extschema@.migrate_stamp(text, boolean)'::pg_catalog.regprocedure),
             ('migrate_revision[]', '@extschema@.migrate_revision(text, text[], text, text, text, text[], text[], interval, interval, boolean, text[])'::pg_catalog.regprocedure),
             ('migrate_revision', '@extschema@.migrate_revision(text, text, text, text, text, text[], text[], interval, interval, boolean, text[])'::pg_catalog.regprocedure),
             ('migrate_history', '@extschema@.migrate_history(text)'::pg_catalog.regprocedure),
             ('migrate_show', '@extschema@.migrate_show(text)'::pg_catalog.regprocedure)) AS f(name, fn)
  ON f.name OPERATOR(pg_catalog.=) o.name;

DROP TABLE pg_temp.pgm_old_acl;
DROP FUNCTION pg_temp.pgm_carry_acl(pg_catalog.aclitem[], pg_catalog.regprocedure);

-- New in 1.1: a picture of the revision graph: Graphviz DOT, or a Mermaid flowchart
CREATE FUNCTION @extschema@.migrate_graph(format text DEFAULT 'dot', range text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_graph'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

-- The schema model of the managed schemas, and its fingerprint (SHA-256)
CREATE FUNCTION @extschema@.migrate_schema_objects(schemas text[] DEFAULT NULL)
RETURNS TABLE (kind text, identity text, definition text)
AS 'MODULE_PATHNAME', 'migrate_schema_objects'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.migrate_fingerprint(schemas text[] DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_fingerprint'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

-- Checksums of applied revisions and drift of the managed schemas, and the
-- log row that accepts an intentional edit or drift
CREATE FUNCTION @extschema@.migrate_verify()
RETURNS TABLE (check_name text, status text, object text, detail text)
AS 'MODULE_PATHNAME', 'migrate_verify'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.migrate_repair(revision text, reason text)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_repair'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.migrate_verify(), @extschema@.migrate_repair(text, text) FROM PUBLIC;

-- The stairway test: each pending step upgraded, downgraded and upgraded
-- again in a subtransaction that is always rolled back.  Runs migration
-- SQL, so no SET search_path: the caller's applies, as in migrate_upgrade.
CREATE FUNCTION @extschema@.migrate_check(target text DEFAULT 'head')
RETURNS TABLE (step integer, revision text, phase text, status text, object text, detail text)
AS 'MODULE_PATHNAME', 'migrate_check'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION @extschema@.migrate_check(text) FROM PUBLIC;

-- The pending plan run statement by statement on the real database and
-- rolled back: locks, rewrites, full scans, blocked sessions, hazards.
-- Runs migration SQL, so no SET search_path, as in migrate_upgrade.
CREATE FUNCTION @extschema@.migrate_rehearse(target text DEFAULT 'head')
RETURNS TABLE (step integer, revision text, statement integer, sql text, rehearsable boolean,
               duration interval, locks jsonb, rewrote text[], full_scans jsonb, blocked jsonb,
               rows bigint, sqlstate text, error text, hazards text[], suggestions text[])
AS 'MODULE_PATHNAME', 'migrate_rehearse'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION @extschema@.migrate_rehearse(text) FROM PUBLIC;

-- The DDL guard: event triggers that reject DDL on the managed schemas
-- outside pg_migrate runs, created disabled; migrate_guard(true) enables
-- them (superusers only).  A guardrail, not a security boundary (README).
CREATE FUNCTION pgmigrate.migrate_ddl_guard()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'migrate_ddl_guard'
LANGUAGE C;
CREATE EVENT TRIGGER pg_migrate_ddl_guard ON ddl_command_start
    EXECUTE FUNCTION pgmigrate.migrate_ddl_guard();
CREATE EVENT TRIGGER pg_migrate_ddl_guard_end ON ddl_command_end
    EXECUTE FUNCTION pgmigrate.migrate_ddl_guard();
CREATE EVENT TRIGGER pg_migrate_ddl_guard_drop ON sql_drop
    EXECUTE FUNCTION pgmigrate.migrate_ddl_guard();
ALTER EVENT TRIGGER pg_migrate_ddl_guard DISABLE;
ALTER EVENT TRIGGER pg_migrate_ddl_guard_end DISABLE;
ALTER EVENT TRIGGER pg_migrate_ddl_guard_drop DISABLE;

-- The rewrite guard: while a step of a real run runs, it aborts the rewrite
-- of a big table unless the revision allows it (pg_migrate.guard_rewrites)
CREATE FUNCTION pgmigrate.migrate_rewrite_guard()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'migrate_rewrite_guard'
LANGUAGE C;
CREATE EVENT TRIGGER pg_migrate_rewrite_guard ON table_rewrite
    EXECUTE FUNCTION pgmigrate.migrate_rewrite_guard();

CREATE FUNCTION @extschema@.migrate_guard(enable boolean)
RETURNS void
AS 'MODULE_PATHNAME', 'migrate_guard'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.migrate_guard(boolean) FROM PUBLIC;
