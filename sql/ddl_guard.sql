-- ddl_guard: migrate_guard(true) rejects DDL on the managed schemas outside
-- pg_migrate runs; pg_migrate's own runs, temporary objects, other schemas
-- and SET pg_migrate.allow_ddl = on pass.
CREATE EXTENSION pg_migrate;
CREATE SCHEMA app;
CREATE SCHEMA scratch;
SET pg_migrate.managed_schemas = app;
CREATE TABLE app.t (id int PRIMARY KEY, v text);
\set VERBOSITY default

-- off until a superuser turns it on
SELECT evtname, evtevent, evtenabled FROM pg_event_trigger WHERE evtname LIKE 'pg\_migrate\_ddl%' ORDER BY 1;
CREATE ROLE regress_guard_user;
GRANT USAGE ON SCHEMA public TO regress_guard_user;
GRANT EXECUTE ON FUNCTION migrate_guard(boolean) TO regress_guard_user;
SET ROLE regress_guard_user;
SELECT migrate_guard(true);
RESET ROLE;
SELECT migrate_guard(NULL);
SELECT migrate_guard(true);
SELECT evtname, evtenabled FROM pg_event_trigger WHERE evtname LIKE 'pg\_migrate\_ddl%' ORDER BY 1;

-- rejected: tables, indexes, views, qualified or through search_path
CREATE TABLE app.u (id int);
SET search_path = app, public;
CREATE TABLE u (id int);
RESET search_path;
ALTER TABLE app.t ADD COLUMN w int;
CREATE INDEX t_v ON app.t (v);
CREATE VIEW app.tv AS SELECT id FROM app.t;
DROP TABLE app.t;
-- and, by the backstops, what the parse tree does not tell
CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
COMMENT ON TABLE app.t IS 'no';
CREATE TYPE app.mood AS ENUM ('ok');
-- nothing of it happened
SELECT count(*) AS columns FROM pg_attribute WHERE attrelid = 'app.t'::regclass AND attnum > 0;
SELECT count(*) AS objects FROM pg_class WHERE relnamespace = 'app'::regnamespace;

-- allowed: other schemas, temporary tables
CREATE TABLE scratch.u (id int);
CREATE TEMP TABLE tmp (id int);
CREATE INDEX ON tmp (id);
DROP TABLE scratch.u, tmp;

-- allowed: pg_migrate's own runs, in this session and in its worker
SELECT migrate_revision('g1g1g1g1g1g1', NULL, 'ALTER TABLE app.t ADD COLUMN w int', 'ALTER TABLE app.t DROP COLUMN w');
SELECT migrate_revision('g2g2g2g2g2g2', 'g1g1g1g1g1g1',
    'CREATE INDEX CONCURRENTLY t_w ON app.t (w)', 'DROP INDEX CONCURRENTLY app.t_w',
    transactional => false);
SELECT status FROM migrate_check('g1g1g1g1g1g1');
SELECT statement, sqlstate FROM migrate_rehearse('g1g1g1g1g1g1');
SELECT count(*) FROM migrate_upgrade('g1g1g1g1g1g1');
CALL migrate_apply('head');
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'app.t'::regclass ORDER BY 1;

-- break glass
SET pg_migrate.allow_ddl = on;
CREATE INDEX t_v ON app.t (v);
DROP INDEX app.t_v;
RESET pg_migrate.allow_ddl;
-- glass mended: rejected again
DROP INDEX app.t_w;

-- off again
SELECT migrate_guard(false);
CREATE INDEX t_v ON app.t (v);
DROP INDEX app.t_v;

-- on, DROP EXTENSION still works, and takes the triggers with it
SELECT migrate_guard(true);
DROP EXTENSION pg_migrate;
SELECT count(*) AS triggers_left FROM pg_event_trigger WHERE evtname LIKE 'pg_migrate%';
DROP SCHEMA app CASCADE;
DROP SCHEMA scratch;
REVOKE USAGE ON SCHEMA public FROM regress_guard_user;
DROP ROLE regress_guard_user;
