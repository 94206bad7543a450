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

-- pg_migrate.alembic_version_table resolves under the caller's search_path
-- in every function that writes the version state; 1.0's migrate_stamp
-- pinned its own and failed with 42P01 on an unqualified name.
ALTER FUNCTION @extschema@.migrate_stamp(text) RESET search_path;
