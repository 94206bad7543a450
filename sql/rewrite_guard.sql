-- rewrite_guard: with pg_migrate.guard_rewrites on, a step of a real run
-- that rewrites a big table is aborted unless its revision was registered
-- with allow_hazards => '{rewrite}'; rehearsals and checks only report it.
CREATE EXTENSION pg_migrate;
CREATE SCHEMA app;
SET pg_migrate.hazard_min_table_size = '64kB';
SET pg_migrate.guard_rewrites = on;
\set VERBOSITY default
CREATE TABLE app.big (id int PRIMARY KEY, n int);
INSERT INTO app.big SELECT g, g FROM generate_series(1, 5000) g;
CREATE TABLE app.small (id int PRIMARY KEY, n int);

SELECT migrate_revision('w1w1w1w1w1w1', NULL, 'ALTER TABLE app.small ALTER COLUMN n TYPE bigint', 'SELECT 1');
SELECT migrate_revision('w2w2w2w2w2w2', 'w1w1w1w1w1w1', 'ALTER TABLE app.big ALTER COLUMN n TYPE bigint', 'SELECT 1');
-- a small table may be rewritten; the big one may not
SELECT revision FROM migrate_upgrade('head');
SELECT revision FROM migrate_current();
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'app.big'::regclass AND attname = 'n';
SELECT revision, outcome, sqlstate FROM pgmigrate.migrate_log WHERE outcome <> 'success' ORDER BY id;
-- a rehearsal and a check report the rewrite, they do not abort it
SELECT statement, rewrote, hazards FROM migrate_rehearse();
SELECT step, status FROM migrate_check();

-- allowed at registration, it runs
DELETE FROM pgmigrate.migrate_revisions WHERE revision = 'w2w2w2w2w2w2';
SELECT migrate_revision('w3w3w3w3w3w3', 'w1w1w1w1w1w1', 'ALTER TABLE app.big ALTER COLUMN n TYPE bigint', 'SELECT 1',
                        allow_hazards => '{rewrite}');
SELECT revision FROM migrate_upgrade('head');
-- re-registering it without the allowance is another revision: refused
SELECT migrate_revision('w3w3w3w3w3w3', 'w1w1w1w1w1w1', 'ALTER TABLE app.big ALTER COLUMN n TYPE bigint', 'SELECT 1');
-- off: every rewrite goes through
SELECT migrate_revision('w4w4w4w4w4w4', 'w3w3w3w3w3w3', 'ALTER TABLE app.big ALTER COLUMN n TYPE numeric', 'SELECT 1');
SET pg_migrate.guard_rewrites = off;
SELECT revision FROM migrate_upgrade('head');

-- bad allowances
SELECT migrate_revision('w5w5w5w5w5w5', 'w4w4w4w4w4w4', 'SELECT 1', 'SELECT 1', allow_hazards => '{rewrites}');
SELECT migrate_revision('w5w5w5w5w5w5', 'w4w4w4w4w4w4', 'SELECT 1', 'SELECT 1', allow_hazards => '{rewrite,rewrite}');
SELECT migrate_revision('w5w5w5w5w5w5', 'w4w4w4w4w4w4', 'SELECT 1', 'SELECT 1', allow_hazards => NULL);
SELECT allow_hazards FROM pgmigrate.migrate_revisions ORDER BY seq;

DROP SCHEMA app CASCADE;
DROP EXTENSION pg_migrate;
