-- rehearse: migrate_rehearse runs the pending plan statement by statement
-- on the real database, in a subtransaction that is always rolled back,
-- and reports what each statement did and its hazards.  Thresholds are
-- lowered so that a table of a few thousand rows counts as big.
CREATE EXTENSION pg_migrate;
CREATE SCHEMA app;
SET pg_migrate.managed_schemas = app;
SET pg_migrate.hazard_min_table_size = '64kB';
SET pg_migrate.hazard_min_lock_duration = '1h';
\set VERBOSITY default
CREATE TABLE app.big (id int PRIMARY KEY, v varchar(10), n int, c text);
INSERT INTO app.big SELECT g, 'v' || g % 1000, g, 'c' FROM generate_series(1, 5000) g;
CREATE TABLE app.small (id int PRIMARY KEY, n int);
INSERT INTO app.small VALUES (1, 1), (2, 2);
CREATE VIEW app.big_c AS SELECT id, c FROM app.big;
CREATE TYPE app.state2 AS ENUM ('new');
ANALYZE app.big, app.small;

-- a short form of each row: the statement, what it locked, rewrote and scanned, its hazards
CREATE FUNCTION report(target text DEFAULT 'head')
RETURNS TABLE (step int, stmt int, sql text, locks text, rewrote text[], scans text, sqlstate text, hazards text[])
LANGUAGE sql AS $$
    SELECT r.step, r.statement, pg_catalog.btrim(r.sql),
           (SELECT pg_catalog.string_agg((l->>'relation') || ' ' || (l->>'mode')
                   || CASE WHEN l ? 'created' THEN ' (created)' ELSE '' END, ', ')
            FROM pg_catalog.jsonb_array_elements(r.locks) l),
           r.rewrote,
           (SELECT pg_catalog.string_agg((l->>'relation') || ' under ' || (l->>'mode'), ', ')
            FROM pg_catalog.jsonb_array_elements(r.full_scans) l),
           r.sqlstate, r.hazards
    FROM migrate_rehearse(target) r
$$;

-- what must not change
CREATE TEMP TABLE before AS
SELECT migrate_fingerprint() AS fingerprint,
       (SELECT count(*) FROM app.big) AS big_rows,
       (SELECT sum(n) FROM app.big) AS big_sum,
       pg_relation_filenode('app.big') AS filenode,
       (SELECT count(*) FROM pgmigrate.migrate_version) AS version_rows,
       (SELECT count(*) FROM pgmigrate.migrate_log) AS log_rows;

-- nothing pending
SELECT * FROM report();

SELECT migrate_revision('e1e1e1e1e1e1', NULL, $$
    ALTER TABLE app.big ALTER COLUMN n TYPE bigint;
    ALTER TABLE app.big ALTER COLUMN v TYPE text;
    ALTER TABLE app.big ADD COLUMN k int DEFAULT 0;
    UPDATE app.small SET n = n + 1;
$$, NULL, message => 'rewrites and not');
SELECT migrate_revision('e2e2e2e2e2e2', 'e1e1e1e1e1e1', $$
    ALTER TABLE app.big ADD COLUMN at timestamptz DEFAULT clock_timestamp();
    CREATE INDEX big_n ON app.big (n);
    CREATE INDEX small_n ON app.small (n);
    CREATE TABLE app.fresh (id int PRIMARY KEY, n int);
    CREATE INDEX fresh_n ON app.fresh (n);
    ALTER TABLE app.fresh ALTER COLUMN n TYPE bigint;
$$, NULL, message => 'defaults and indexes');
SELECT * FROM report();

-- checks and NOT NULL: a full scan under a lock that blocks writes, unless NOT VALID then VALIDATE
SELECT migrate_revision('e3e3e3e3e3e3', 'e2e2e2e2e2e2', $$
    ALTER TABLE app.big ADD CONSTRAINT n_positive CHECK (n > 0);
    ALTER TABLE app.big ALTER COLUMN c SET NOT NULL;
$$, NULL);
SELECT migrate_revision('e4e4e4e4e4e4', 'e3e3e3e3e3e3', $$
    ALTER TABLE app.big ADD CONSTRAINT id_positive CHECK (id > 0) NOT VALID;
$$, NULL);
SELECT migrate_revision('e5e5e5e5e5e5', 'e4e4e4e4e4e4', $$
    ALTER TABLE app.big VALIDATE CONSTRAINT id_positive;
$$, NULL);
SELECT step, stmt, sql, scans, hazards FROM report() WHERE step >= 3;

-- scans of earlier transactions that the backend has not reported yet are not this statement's
CREATE TABLE app.big2 (id int PRIMARY KEY, v varchar(10));
INSERT INTO app.big2 SELECT g, 'v' FROM generate_series(1, 5000) g;
ANALYZE app.big2;
SELECT count(*) FROM app.big2;
SELECT migrate_revision('e5f5e5f5e5f5', 'e5e5e5e5e5e5', 'ALTER TABLE app.big2 ALTER COLUMN v TYPE text', NULL);
SELECT step, stmt, scans, hazards FROM report() WHERE step = 6;
DELETE FROM pgmigrate.migrate_revisions WHERE revision = 'e5f5e5f5e5f5';
DROP TABLE app.big2;

-- a lock that blocks writes, held while a statement runs long
SET pg_migrate.hazard_min_lock_duration = '200ms';
SELECT migrate_revision('e6e6e6e6e6e6', 'e5e5e5e5e5e5', $$
    LOCK TABLE app.big IN SHARE MODE;
    SELECT pg_sleep(0.3);
$$, NULL);
SELECT step, stmt, sql, locks, hazards FROM report() WHERE step = 6;
SET pg_migrate.hazard_min_lock_duration = '1h';

-- a view on a dropped column; ADD COLUMN NOT NULL without a default on rows: it fails
SELECT migrate_revision('e7e7e7e7e7e7', 'e6e6e6e6e6e6', $$
    ALTER TABLE app.big DROP COLUMN c CASCADE;
$$, NULL);
SELECT step, stmt, sql, sqlstate, hazards FROM report() WHERE step = 7;
-- (the NOTICE of the cascade, from here on, is not repeated)
SET client_min_messages = warning;
SELECT migrate_revision('e8e8e8e8e8e8', 'e7e7e7e7e7e7', $$
    CREATE TABLE app.empty (id int);
    ALTER TABLE app.empty ADD COLUMN x int NOT NULL;
    ALTER TABLE app.small ADD COLUMN x int NOT NULL;
    ALTER TABLE app.small ADD COLUMN never int;
$$, NULL);
SELECT migrate_revision('e9e9e9e9e9e9', 'e8e8e8e8e8e8', 'SELECT 1', NULL, message => 'never reached');
-- the first error ends the rehearsal: nothing of step 8 after it, nothing of step 9
SELECT r.step, r.statement, r.sqlstate, r.error, r.hazards, r.rows IS NULL AS no_rows, r.suggestions[1] IS NOT NULL AS suggested
FROM migrate_rehearse() r WHERE r.step >= 8;

-- an enum value added and used in the same transaction
DELETE FROM pgmigrate.migrate_revisions WHERE revision IN ('e8e8e8e8e8e8', 'e9e9e9e9e9e9');
SELECT migrate_revision('eaeaeaeaeaea', 'e7e7e7e7e7e7', $$
    CREATE TYPE app.state AS ENUM ('new');
    ALTER TYPE app.state ADD VALUE 'paid';
$$, NULL);
SELECT step, stmt, sqlstate, hazards FROM report() WHERE step = 8;
DELETE FROM pgmigrate.migrate_revisions WHERE revision = 'eaeaeaeaeaea';
SELECT migrate_revision('ebebebebebeb', 'e7e7e7e7e7e7', $$
    ALTER TYPE app.state2 ADD VALUE 'paid';
    SELECT 'paid'::app.state2;
$$, NULL);
SELECT step, stmt, sqlstate, hazards FROM report() WHERE step = 8;

-- a non-transactional step is not rehearsable; the rehearsal goes on
DELETE FROM pgmigrate.migrate_revisions WHERE revision = 'ebebebebebeb';
SELECT migrate_revision('ecececececec', 'e7e7e7e7e7e7',
    'CREATE INDEX CONCURRENTLY big_id2 ON app.big (id)', 'DROP INDEX CONCURRENTLY app.big_id2',
    transactional => false);
SELECT migrate_revision('edededededed', 'ecececececec', 'CREATE TABLE app.after_nontx (x int)', NULL);
SELECT r.step, r.statement, r.rehearsable, r.duration IS NULL AS no_duration, r.sqlstate
FROM migrate_rehearse() r WHERE r.step >= 8;

-- SQL that commits (a row typed into the catalog: registration refuses it)
INSERT INTO pgmigrate.migrate_revisions (revision, down_revisions, upgrade_sql, checksum)
VALUES ('eeeeeeeeeeee', '{edededededed}', 'CREATE TABLE app.t1 (x int); COMMIT',
        migrate_checksum('CREATE TABLE app.t1 (x int); COMMIT', NULL));
SELECT r.step, r.statement, btrim(r.sql) AS sql, r.sqlstate, r.error FROM migrate_rehearse() r WHERE r.step >= 10;
DELETE FROM pgmigrate.migrate_revisions WHERE revision = 'eeeeeeeeeeee';

-- nothing persisted: schema, data, version state, log
SELECT migrate_fingerprint() = b.fingerprint AS same_schema,
       (SELECT count(*) FROM app.big) = b.big_rows AS same_rows,
       (SELECT sum(n) FROM app.big) = b.big_sum AS same_data,
       pg_relation_filenode('app.big') = b.filenode AS same_file,
       (SELECT count(*) FROM pgmigrate.migrate_version) = b.version_rows AS same_version,
       (SELECT count(*) FROM pgmigrate.migrate_log) - b.log_rows AS log_rows_added
FROM before b;
SELECT count(*) AS tables_left FROM pg_class WHERE relname IN ('fresh', 'empty', 'after_nontx', 't1');

-- a rehearsal up to a target, from where the database is
SELECT count(*) FROM migrate_upgrade('e1e1e1e1e1e1');
SELECT step, stmt, sql FROM report('e2e2e2e2e2e2');

-- bad input
SELECT * FROM migrate_rehearse('nope');
SELECT * FROM migrate_rehearse(NULL);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM migrate_rehearse();
ROLLBACK;
SET pg_migrate.hazard_min_table_size = -1;
SET pg_migrate.rehearse_lock_timeout = -1;

DROP FUNCTION report(text);
DROP SCHEMA app CASCADE;
DROP EXTENSION pg_migrate;
