-- search_path: pg_migrate's own statements never resolve through the
-- caller's search_path; the migration SQL always does.
CREATE SCHEMA pgm;
CREATE EXTENSION pg_migrate SCHEMA pgm;
CREATE SCHEMA app;
CREATE SCHEMA evil;

-- a trap for every name pg_migrate's statements use, if they were unqualified
CREATE FUNCTION evil.hijacked() RETURNS text LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'hijacked'; END $$;
CREATE FUNCTION evil.texteq_trap(text, text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'hijacked operator ='; END $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq_trap);
CREATE FUNCTION evil.texttime_trap(timestamptz, timestamptz) RETURNS interval LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'hijacked operator -'; END $$;
CREATE OPERATOR evil.- (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.texttime_trap);
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked now'; END $$;
CREATE FUNCTION evil.sha256(bytea) RETURNS bytea LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked sha256'; END $$;
CREATE FUNCTION evil.encode(bytea, text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked encode'; END $$;
CREATE FUNCTION evil.nextval(regclass) RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked nextval'; END $$;
CREATE FUNCTION evil.pg_backend_pid() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked pid'; END $$;
CREATE FUNCTION evil.pg_current_xact_id() RETURNS xid8 LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked xid'; END $$;
CREATE FUNCTION evil.pg_advisory_xact_lock(int, int) RETURNS void LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked lock'; END $$;
CREATE FUNCTION evil.length(text) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked length'; END $$;
CREATE FUNCTION evil.convert_to(text, name) RETURNS bytea LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked convert_to'; END $$;
-- and tables named like the catalog
CREATE TABLE evil.migrate_revisions (revision text);
CREATE TABLE evil.migrate_version (revision text);
CREATE TABLE evil.migrate_log (revision text);

-- evil first, even before pg_catalog
SET search_path = evil, app, pg_catalog, pgm;
SELECT pgm.migrate_revision('aaaa0001', NULL, 'CREATE TABLE users (id int)', 'DROP TABLE users', 'users');
SELECT pgm.migrate_revision('bbbb0002', 'aaaa0001', 'CREATE TABLE posts (id int)', 'DROP TABLE posts', 'posts',
                            '{blog}');
SELECT pgm.migrate_revision('cccc0003', 'bbbb0002', 'CREATE TABLE comments (id int)', 'DROP TABLE comments', 'comments');
SELECT revision, direction FROM pgm.migrate_upgrade('head');
SELECT * FROM pgm.migrate_current();
SELECT revision FROM pgm.migrate_heads();
SELECT revision FROM pgm.migrate_history();
SELECT pgm.migrate_resolve('blog@head') IS NOT NULL AS resolved;
SELECT pgm.migrate_upgrade_sql('head', 'base') IS NOT NULL AS rendered;
SELECT revision, direction FROM pgm.migrate_downgrade('aaaa0001');
SELECT pgm.migrate_stamp('base');
SELECT pgm.migrate_stamp('aaaa0001');
SELECT revision FROM pgm.migrate_show('aaaa');
SELECT pgm.migrate_new('later', 'SELECT 1', head => 'cccc0003') IS NOT NULL AS registered;
SELECT pgm.migrate_merge('heads', 'nothing to merge');
-- the evil tables were never touched
SELECT (SELECT count(*) FROM evil.migrate_revisions) + (SELECT count(*) FROM evil.migrate_version)
     + (SELECT count(*) FROM evil.migrate_log) AS evil_rows;
RESET search_path;

-- the migration SQL resolved names through the caller's search_path: the
-- unqualified CREATE TABLE went into "evil", the first schema on the path
-- (posts and comments were created there too, then downgraded)
SELECT n.nspname COLLATE "C", c.relname COLLATE "C"
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname IN ('users', 'posts', 'comments') ORDER BY 1, 2;

-- with a search_path that starts with app, the tables go to app
SELECT pgm.migrate_stamp('base');
DROP TABLE evil.users;
SET search_path = app, pgm;
SELECT revision, direction FROM migrate_upgrade('cccc0003');
RESET search_path;
SELECT n.nspname COLLATE "C", c.relname COLLATE "C"
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname IN ('users', 'posts', 'comments') ORDER BY 1, 2;

-- the schema name is quoted where it needs to be
DROP EXTENSION pg_migrate;
CREATE SCHEMA "Odd Schema";
CREATE EXTENSION pg_migrate SCHEMA "Odd Schema";
SELECT "Odd Schema".migrate_revision('aaaa0001', NULL, 'SELECT 1', 'SELECT 1');
SELECT revision FROM "Odd Schema".migrate_upgrade('head');
SELECT "Odd Schema".migrate_upgrade_sql('head', 'base');
DROP EXTENSION pg_migrate;

DROP SCHEMA pgm, app, evil, "Odd Schema" CASCADE;
