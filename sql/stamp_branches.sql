-- stamp_branches: migrate_stamp without purge moves only the version rows
-- in line with the target, as alembic stamp does; the other branches stay.
-- Each case shows the version rows after the stamp, then that an upgrade to
-- heads runs only what the stamp left unapplied: every upgrade creates a
-- table named after its revision, so a revision run twice fails with
-- "already exists".  What an upgrade runs is listed sorted (the order of
-- independent branches is not the point here).
CREATE EXTENSION pg_migrate;
SET client_min_messages = warning;
--
--   a1 [alpha] <- a2 <- a3
--   b1 [beta]  <- b2
--   r1 <- c1 [gamma] <- c2 <- m1 (merge)
--      <- d1 [delta] <- d2 <-'
--   e1 [eps] <- e2 (depends_on a2)
--
CREATE FUNCTION pg_temp.reg(id text, parents text[], labels text[] DEFAULT '{}', deps text[] DEFAULT '{}')
RETURNS text LANGUAGE sql AS $$
    SELECT migrate_revision(id, parents, format('CREATE TABLE t_%s ()', id),
                            format('DROP TABLE t_%s', id), '', labels, deps)
$$;
DO $$
BEGIN
    PERFORM pg_temp.reg('a1', NULL, '{alpha}');
    PERFORM pg_temp.reg('a2', '{a1}');
    PERFORM pg_temp.reg('a3', '{a2}');
    PERFORM pg_temp.reg('b1', NULL, '{beta}');
    PERFORM pg_temp.reg('b2', '{b1}');
    PERFORM pg_temp.reg('r1', NULL);
    PERFORM pg_temp.reg('c1', '{r1}', '{gamma}');
    PERFORM pg_temp.reg('c2', '{c1}');
    PERFORM pg_temp.reg('d1', '{r1}', '{delta}');
    PERFORM pg_temp.reg('d2', '{d1}');
    PERFORM pg_temp.reg('m1', '{c2,d2}');
    PERFORM pg_temp.reg('e1', NULL, '{eps}');
    PERFORM pg_temp.reg('e2', '{e1}', '{}', '{a2}');
END
$$;

-- the version rows, and the tables (what really ran)
CREATE VIEW state AS
    SELECT (SELECT coalesce(string_agg(revision, ' ' ORDER BY revision COLLATE "C"), '')
            FROM pgmigrate.migrate_version) AS version_rows,
           (SELECT coalesce(string_agg(substr(relname, 3), ' ' ORDER BY relname COLLATE "C"), '')
            FROM pg_class WHERE relname LIKE 't\_%' AND relkind = 'r') AS tables;
-- upgrade to heads; what it ran, sorted
CREATE FUNCTION pg_temp.upgrade_heads() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(revision, ' ' ORDER BY revision COLLATE "C"), '')
    FROM migrate_upgrade('heads')
$$;
-- back to nothing: no rows, no tables
CREATE FUNCTION pg_temp.reset() RETURNS void LANGUAGE plpgsql AS $$
DECLARE t regclass;
BEGIN
    PERFORM migrate_stamp('base');
    FOR t IN SELECT oid FROM pg_class WHERE relname LIKE 't\_%' AND relkind = 'r' LOOP
        EXECUTE format('DROP TABLE %s', t);
    END LOOP;
END
$$;

-- 1. two independent branches (issue 11): a2 on alpha, b2 on beta; b2 is
-- reverted by hand, then stamped down to b1.  Alpha's row stays.
SELECT count(*) FROM migrate_upgrade('a2');
SELECT count(*) FROM migrate_upgrade('b2');
DROP TABLE t_b2;
SELECT * FROM migrate_stamp('b1');
SELECT * FROM state;
SELECT pg_temp.upgrade_heads() AS ran;
SELECT * FROM state;
-- what the log says the stamp did
SELECT revision, direction FROM pgmigrate.migrate_log
WHERE direction IN ('stamp', 'unstamp') ORDER BY id;
SELECT pg_temp.reset();

-- 2. up one branch: a2 and a3 were applied by other means
SELECT count(*) FROM migrate_upgrade('a1');
SELECT count(*) FROM migrate_upgrade('b2');
CREATE TABLE t_a2 ();
CREATE TABLE t_a3 ();
SELECT * FROM migrate_stamp('alpha@head');
SELECT * FROM state;
SELECT pg_temp.upgrade_heads() AS ran;
SELECT pg_temp.reset();

-- 3. a new branch: nothing of beta's is applied, b1 was by other means
SELECT count(*) FROM migrate_upgrade('a2');
CREATE TABLE t_b1 ();
SELECT * FROM migrate_stamp('beta@b1');
SELECT * FROM state;
SELECT pg_temp.upgrade_heads() AS ran;
SELECT pg_temp.reset();

-- 4. labels: label@base drops only that branch's rows (beta reverted by
-- hand); label@head moves only that branch
SELECT count(*) FROM migrate_upgrade('a2');
SELECT count(*) FROM migrate_upgrade('b2');
DROP TABLE t_b1, t_b2;
SELECT * FROM migrate_stamp('beta@base');
SELECT * FROM state;
SELECT pg_temp.upgrade_heads() AS ran;
SELECT pg_temp.reset();
-- a label on a branch from a shared root: gamma@head leaves delta's row
SELECT count(*) FROM migrate_upgrade('c1');
SELECT count(*) FROM migrate_upgrade('d2');
CREATE TABLE t_c2 ();
SELECT * FROM migrate_stamp('gamma@c2');
SELECT * FROM state;
SELECT pg_temp.reset();

-- 5. a merge: stamping it replaces both parents' rows with one, and alpha's
-- row stays
SELECT count(*) FROM migrate_upgrade('a2');
SELECT count(*) FROM migrate_upgrade('c2');
SELECT count(*) FROM migrate_upgrade('d2');
CREATE TABLE t_m1 ();
SELECT * FROM migrate_stamp('m1');
SELECT * FROM state;
SELECT pg_temp.upgrade_heads() AS ran;
SELECT pg_temp.reset();

-- 6. depends_on: a row that the target depends on is in line with it.  e2
-- depends on a2: stamping e2 over a1 and e1 replaces both rows, and a2
-- counts as applied (it was, by other means)
SELECT count(*) FROM migrate_upgrade('a1');
SELECT count(*) FROM migrate_upgrade('e1');
CREATE TABLE t_a2 ();
CREATE TABLE t_e2 ();
SELECT * FROM migrate_stamp('e2');
SELECT * FROM state;
SELECT revision, is_applied FROM migrate_history('a1:a3');
SELECT pg_temp.upgrade_heads() AS ran;
-- and down again: e1 replaces e2 only; alpha's row a3 is not in line with e1
DROP TABLE t_e2;
SELECT * FROM migrate_stamp('e1');
SELECT * FROM state;
SELECT pg_temp.upgrade_heads() AS ran;
SELECT pg_temp.reset();

-- 7. heads: every branch moves to its head, the rows in line with each
-- replaced; base: no rows
SELECT count(*) FROM migrate_upgrade('a1');
SELECT count(*) FROM migrate_upgrade('c1');
SELECT * FROM migrate_stamp('heads');
SELECT * FROM state;
SELECT * FROM migrate_stamp('heads');
SELECT * FROM migrate_stamp('base');
SELECT * FROM state;
SELECT pg_temp.reset();

-- 8. with pg_migrate.alembic_version_table, the mirror follows
CREATE TABLE stamp_av (version_num varchar(32) NOT NULL PRIMARY KEY);
SET pg_migrate.alembic_version_table = 'stamp_av';
SELECT count(*) FROM migrate_upgrade('a2');
SELECT count(*) FROM migrate_upgrade('b2');
DROP TABLE t_b2;
SELECT * FROM migrate_stamp('b1');
SELECT version_num FROM stamp_av ORDER BY version_num COLLATE "C";
SELECT * FROM migrate_stamp('beta@base');
SELECT version_num FROM stamp_av ORDER BY version_num COLLATE "C";
SELECT * FROM migrate_stamp('b2', purge => true);
SELECT version_num FROM stamp_av ORDER BY version_num COLLATE "C";
RESET pg_migrate.alembic_version_table;
SELECT pg_temp.reset();
DROP TABLE stamp_av;

-- 9. purge => true replaces the whole state: alpha's row goes, and the
-- next upgrade runs a1 again
SELECT count(*) FROM migrate_upgrade('a2');
SELECT count(*) FROM migrate_upgrade('b2');
DROP TABLE t_b2;
SELECT * FROM migrate_stamp('b1', purge => true);
SELECT * FROM state;
SELECT pg_temp.upgrade_heads() AS ran;
SELECT pg_temp.reset();

DROP VIEW state;
DROP EXTENSION pg_migrate;
