-- register_any_order: within a transaction, revisions may be registered in
-- any order (Alembic loads every file before it builds the graph); the
-- graph is validated once complete, by the first call that reads it or at
-- commit by the deferred constraint trigger migrate_revisions_graph_check.
CREATE EXTENSION pg_migrate;

-- files named by revision id (Alembic's <rev>_<slug>.py) sort children
-- before parents and a depends_on before its target
BEGIN;
SELECT migrate_revision('c3', 'b2', 'CREATE TABLE c3 ()', 'DROP TABLE c3', 'child first',
                        depends_on => '{x9}');
SELECT migrate_revision('b2', 'a1', 'CREATE TABLE b2 ()', 'DROP TABLE b2', 'middle');
SELECT migrate_revision('x9', 'a1', 'CREATE TABLE x9 ()', 'DROP TABLE x9', 'dependency, last file',
                        branch_labels => '{side}');
SELECT migrate_revision('a1', NULL, 'CREATE TABLE a1 ()', 'DROP TABLE a1', 'base, registered last');
-- re-registering one of them unchanged is still a no-op, forward edge and all
SELECT migrate_revision('c3', 'b2', 'CREATE TABLE c3 ()', 'DROP TABLE c3', 'child first',
                        depends_on => '{x9}');
COMMIT;
SELECT revision, down_revisions, message FROM migrate_history();
SELECT revision FROM migrate_upgrade('heads');
SELECT * FROM migrate_current();

-- a read before the graph is complete names the revision
BEGIN;
SELECT migrate_revision('e5', 'd4', 'SELECT 1', 'SELECT 1');
SELECT * FROM migrate_heads();
ROLLBACK;

-- a parent that never comes: the error is raised at COMMIT, and nothing stays
BEGIN;
SELECT migrate_revision('e5', 'd4', 'SELECT 1', 'SELECT 1');
COMMIT;
SELECT count(*) AS e5_registered FROM pgmigrate.migrate_revisions WHERE revision = 'e5';

-- in autocommit the statement's own commit checks it
SELECT migrate_revision('e5', 'nowhere', 'SELECT 1', 'SELECT 1');
SELECT migrate_revision('e5', 'c3', 'SELECT 1', 'SELECT 1', depends_on => '{nothing}');
SELECT count(*) AS e5_registered FROM pgmigrate.migrate_revisions WHERE revision = 'e5';

-- a cycle made by forward references
BEGIN;
SELECT migrate_revision('f6', 'g7', 'SELECT 1', 'SELECT 1');
SELECT migrate_revision('g7', 'f6', 'SELECT 1', 'SELECT 1');
COMMIT;
BEGIN;
SELECT migrate_revision('f6', 'c3', 'SELECT 1', 'SELECT 1', depends_on => '{g7}');
SELECT migrate_revision('g7', 'f6', 'SELECT 1', 'SELECT 1');
COMMIT;
SELECT count(*) AS cycle_registered FROM pgmigrate.migrate_revisions WHERE revision IN ('f6', 'g7');

-- SET CONSTRAINTS ... IMMEDIATE checks at once
BEGIN;
SELECT migrate_revision('h8', 'i9', 'SELECT 1', 'SELECT 1');
SET CONSTRAINTS pgmigrate.migrate_revisions_graph_check IMMEDIATE;
ROLLBACK;
BEGIN;
SELECT migrate_revision('h8', 'i9', 'SELECT 1', 'SELECT 1');
SELECT migrate_revision('i9', 'c3', 'SELECT 1', 'SELECT 1');
SET CONSTRAINTS ALL IMMEDIATE;
SELECT revision FROM migrate_heads();
ROLLBACK;

-- a savepoint rolled back takes its forward reference with it
BEGIN;
SAVEPOINT s;
SELECT migrate_revision('h8', 'i9', 'SELECT 1', 'SELECT 1');
ROLLBACK TO SAVEPOINT s;
SELECT migrate_revision('h8', 'c3', 'SELECT 1', 'SELECT 1');
COMMIT;
SELECT revision FROM migrate_heads();

-- the ordinary case is unchanged: parents first, errors at once
SELECT migrate_revision('j1', 'h8', 'SELECT 1', 'SELECT 1');
SELECT migrate_revision('j1', 'c3', 'SELECT 1', 'SELECT 1');
-- and queues no trigger event: the table can be altered in the same
-- transaction (a forward reference would block that until commit)
BEGIN;
SELECT migrate_revision('k2', 'j1', 'SELECT 1', 'SELECT 1');
ALTER TABLE pgmigrate.migrate_revisions DISABLE TRIGGER migrate_revisions_epoch;
ROLLBACK;

SELECT count(*) FROM migrate_downgrade('base');
DROP EXTENSION pg_migrate;
