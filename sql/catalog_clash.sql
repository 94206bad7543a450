-- catalog_clash: pg_migrate's catalog cannot collide with users' objects.
-- Projects that moved from sqlalchemy-migrate to Alembic (CKAN, OpenStack)
-- still have sqlalchemy-migrate's table migrate_version, and their
-- migrations run DROP TABLE IF EXISTS migrate_version.
CREATE TABLE migrate_version (repository_id varchar(250) PRIMARY KEY, repository_path text, version integer);
INSERT INTO migrate_version VALUES ('ckan', '/srv/ckan/migration', 75);

-- 1.0 kept its catalog in the extension's schema, so it could not even be
-- installed here
CREATE EXTENSION pg_migrate VERSION '1.0';
-- 1.1 installs, and leaves the user's table alone
CREATE EXTENSION pg_migrate;
SELECT * FROM migrate_version;
SELECT count(*) AS pg_migrate_objects_in_public FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e' AND c.relnamespace = 'public'::regnamespace;

-- migrations that drop and create tables and sequences named like every
-- one pg_migrate 1.0 had, in function mode and in CALL mode
SELECT migrate_revision('ckan0001', NULL,
    $$DROP TABLE IF EXISTS migrate_version;
      CREATE TABLE migrate_revisions (revision text);
      CREATE TABLE migrate_version (revision text);
      CREATE TABLE migrate_log (id int);
      CREATE TABLE migrate_epoch (epoch bigint);
      CREATE SEQUENCE migrate_revisions_seq;
      CREATE SEQUENCE migrate_log_seq;
      CREATE SEQUENCE migrate_epoch_seq;
      CREATE SEQUENCE migrate_run_seq;
      INSERT INTO migrate_log VALUES (1)$$,
    $$DROP TABLE migrate_revisions, migrate_version, migrate_log, migrate_epoch;
      DROP SEQUENCE migrate_revisions_seq, migrate_log_seq, migrate_epoch_seq, migrate_run_seq;
      CREATE TABLE migrate_version (repository_id varchar(250) PRIMARY KEY, repository_path text, version integer)$$,
    'drop sqlalchemy-migrate''s table, create look-alikes');
SELECT migrate_revision('ckan0002', 'ckan0001',
    $$DROP TABLE migrate_revisions, migrate_version, migrate_log, migrate_epoch;
      DROP SEQUENCE migrate_revisions_seq, migrate_log_seq, migrate_epoch_seq, migrate_run_seq$$,
    $$CREATE TABLE migrate_revisions (revision text);
      CREATE TABLE migrate_version (revision text);
      CREATE TABLE migrate_log (id int);
      CREATE TABLE migrate_epoch (epoch bigint);
      CREATE SEQUENCE migrate_revisions_seq;
      CREATE SEQUENCE migrate_log_seq;
      CREATE SEQUENCE migrate_epoch_seq;
      CREATE SEQUENCE migrate_run_seq$$,
    'drop the look-alikes');
SELECT revision, direction FROM migrate_upgrade('ckan0001');
SELECT * FROM migrate_log;
SELECT * FROM migrate_current();
CALL migrate_apply('ckan0002');
SELECT * FROM migrate_current();
SELECT count(*) AS user_tables_left FROM pg_class
WHERE relnamespace = 'public'::regnamespace AND relname LIKE 'migrate\_%';
SELECT revision, direction FROM migrate_downgrade('base');
SELECT * FROM migrate_version;
-- pg_migrate's own state and log are where they were, complete
SELECT revision, direction, outcome FROM pgmigrate.migrate_log ORDER BY id;
SELECT count(*) AS heads_recorded FROM pgmigrate.migrate_version;

-- the catalog's schema is the extension's: a user cannot drop it, and
-- DROP EXTENSION takes it away
DROP SCHEMA pgmigrate CASCADE;
DROP EXTENSION pg_migrate;
SELECT count(*) AS catalog_schema_left FROM pg_namespace WHERE nspname = 'pgmigrate';
-- a schema of that name that is not the extension's is never taken for
-- its catalog: CREATE EXTENSION refuses to adopt it
CREATE SCHEMA pgmigrate;
CREATE EXTENSION pg_migrate;
DROP SCHEMA pgmigrate;
DROP TABLE migrate_version;
