-- adopt: taking over a database that Alembic manages, and keeping its
-- alembic_version table in step during a gradual move
CREATE EXTENSION pg_migrate;
\i sql/fixture.inc

-- what Alembic left: its version table with two heads
CREATE SCHEMA legacy;
CREATE TABLE legacy.alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
INSERT INTO legacy.alembic_version VALUES ('bbbb0004'), ('ffff0002');
SELECT * FROM migrate_adopt_alembic('legacy.alembic_version');
SELECT * FROM migrate_current();
SELECT revision, direction FROM pgmigrate.migrate_log ORDER BY id;
-- nothing ran
SELECT * FROM applied_tables;
-- an unregistered version is refused, and nothing changes
INSERT INTO legacy.alembic_version VALUES ('zzzz9999');
SELECT * FROM migrate_adopt_alembic('legacy.alembic_version');
SELECT * FROM migrate_current();
DELETE FROM legacy.alembic_version WHERE version_num = 'zzzz9999';
-- the table is found as the caller would find it
SELECT * FROM migrate_adopt_alembic();
SET search_path = legacy, public;
SELECT * FROM migrate_adopt_alembic();
RESET search_path;
SELECT * FROM migrate_adopt_alembic('no_such_table');
SELECT * FROM migrate_adopt_alembic(NULL);

-- keep alembic_version in step: upgrades, downgrades and stamps mirror it
SET pg_migrate.alembic_version_table = 'legacy.alembic_version';
SELECT migrate_stamp('base');
SELECT count(*) FROM legacy.alembic_version;
SELECT count(*) FROM migrate_upgrade('billing@head');
SELECT version_num FROM legacy.alembic_version ORDER BY 1;
SELECT count(*) FROM migrate_downgrade('cccc0004');
SELECT version_num FROM legacy.alembic_version ORDER BY 1;
CALL migrate_apply('heads');
SELECT version_num FROM legacy.alembic_version ORDER BY 1;
SELECT count(*) FROM migrate_downgrade('base');
SELECT count(*) FROM legacy.alembic_version;
SET pg_migrate.alembic_version_table = 'legacy.nope';
SELECT count(*) FROM migrate_upgrade('aaaa0001');
RESET pg_migrate.alembic_version_table;

-- an unqualified name resolves under the caller's search_path in every
-- function that writes the version state (1.0's migrate_stamp resolved it
-- under its own pinned search_path and failed with 42P01)
SET search_path = legacy, public;
SET pg_migrate.alembic_version_table = 'alembic_version';
SELECT * FROM migrate_stamp('aaaa0002');
SELECT version_num FROM legacy.alembic_version ORDER BY 1;
SELECT revision, direction FROM migrate_upgrade('bbbb0003');
SELECT version_num FROM legacy.alembic_version ORDER BY 1;
SELECT revision, direction FROM migrate_downgrade('aaaa0002');
SELECT version_num FROM legacy.alembic_version ORDER BY 1;
CALL migrate_apply('cccc0003');
SELECT version_num FROM legacy.alembic_version ORDER BY 1;
CALL migrate_apply('aaaa0002', downgrade => true);
SELECT version_num FROM legacy.alembic_version ORDER BY 1;
SELECT * FROM migrate_adopt_alembic();
SELECT version_num FROM legacy.alembic_version ORDER BY 1;
SELECT * FROM migrate_stamp('base');
SELECT count(*) FROM legacy.alembic_version;
-- and is not found where the caller would not find it
RESET search_path;
SELECT * FROM migrate_stamp('aaaa0002');
RESET pg_migrate.alembic_version_table;

-- only a table that can be Alembic's version table is kept in step, and
-- anything else is refused before any work starts (1.0 emptied whatever
-- it named, and failed with XX000 on catalogs and on views with rules)
SET pg_migrate.alembic_version_table = 'pg_class';
SELECT * FROM migrate_stamp('aaaa0002');
CREATE TABLE releases (version_num text, released_at timestamptz DEFAULT now());
INSERT INTO releases (version_num) VALUES ('v1.0'), ('v1.1');
SET pg_migrate.alembic_version_table = 'public.releases';
SELECT * FROM migrate_upgrade('aaaa0001');
CALL migrate_apply('aaaa0001');
SELECT version_num FROM releases ORDER BY 1;
SELECT * FROM migrate_current();
CREATE VIEW legacy.av AS SELECT * FROM legacy.alembic_version;
CREATE RULE av_del AS ON DELETE TO legacy.av DO INSTEAD NOTHING;
SET pg_migrate.alembic_version_table = 'legacy.av';
SELECT * FROM migrate_stamp('aaaa0002');
CREATE TABLE legacy.ruled (version_num varchar(32) PRIMARY KEY);
CREATE RULE ruled_ins AS ON INSERT TO legacy.ruled DO INSTEAD NOTHING;
SET pg_migrate.alembic_version_table = 'legacy.ruled';
SELECT * FROM migrate_stamp('aaaa0002');
-- a role that may not write it is refused too
CREATE ROLE regress_adopt_nowrite;
GRANT USAGE ON SCHEMA pgmigrate, legacy TO regress_adopt_nowrite;
GRANT SELECT, INSERT, DELETE ON ALL TABLES IN SCHEMA pgmigrate TO regress_adopt_nowrite;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA pgmigrate TO regress_adopt_nowrite;
GRANT SELECT ON legacy.alembic_version TO regress_adopt_nowrite;
GRANT EXECUTE ON FUNCTION migrate_stamp(text, boolean) TO regress_adopt_nowrite;
SET pg_migrate.alembic_version_table = 'legacy.alembic_version';
SET ROLE regress_adopt_nowrite;
SELECT * FROM migrate_stamp('aaaa0002');
RESET ROLE;
REVOKE ALL ON SCHEMA pgmigrate, legacy FROM regress_adopt_nowrite;
REVOKE ALL ON ALL TABLES IN SCHEMA pgmigrate FROM regress_adopt_nowrite;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA pgmigrate FROM regress_adopt_nowrite;
REVOKE ALL ON legacy.alembic_version FROM regress_adopt_nowrite;
REVOKE ALL ON FUNCTION migrate_stamp(text, boolean) FROM regress_adopt_nowrite;
DROP ROLE regress_adopt_nowrite;
-- Alembic's own shape is accepted
SELECT * FROM migrate_stamp('aaaa0002');
SELECT version_num FROM legacy.alembic_version;
SELECT * FROM migrate_stamp('base');
RESET pg_migrate.alembic_version_table;
DROP TABLE releases;

DROP EXTENSION pg_migrate CASCADE;
DROP SCHEMA legacy CASCADE;
