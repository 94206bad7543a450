-- identifiers: Alembic's grammar, resolved by migrate_resolve()
CREATE EXTENSION pg_migrate;
\set QUIET on
\i sql/fixture.inc
\set QUIET off

-- resolve many identifiers, showing an error's SQLSTATE and message in place
CREATE FUNCTION pg_temp.try(ident text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN migrate_resolve(ident)::text;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

SELECT i AS identifier, pg_temp.try(i) AS resolves_to
FROM unnest(ARRAY[
    'heads', 'head', 'base', 'current',
    'aaaa0001', 'eeee0006', 'eeee', 'aaaa', 'bbbb000', 'zzzz', 'a', 'AAAA0001',
    'billing', 'catalog', 'reports',
    'billing@head', 'catalog@head', 'reports@head', 'reports@heads', 'aaaa0002@head',
    'billing@bbbb0004', 'billing@cccc0004', 'nope@head', 'billing@nope', 'billing@bbbb', 'billing@cccc',
    'billing@aaaa0001', 'reports@cccc0003', 'billing@base', 'aaaa0002@base',
    'head-1', 'reports@head-1', 'reports@head-2', 'reports@head-3',
    'eeee0006-1', 'eeee0006-2', 'bbbb0004-2', 'bbbb0004-3', 'bbbb0004-4',
    'aaaa0001+1', 'aaaa0002+1', 'bbbb0003+1', 'bbbb0003+3', 'eeee0006+1', 'eeee0006+0',
    'base+1', 'reports@base+1', 'reports@base+2', 'billing@aaaa0002+1', 'base-1',
    'heads-1', '+1', '-1', 'catalog@+1',
    'head-99999999999', 'head-2147483648', 'eeee0006-2147483647',
    '', '@', '@head', 'billing@', 'a@b@c', '+', '-', '+-1', '1+', 'head--1', 'head+x',
    'hé', 'x''y', 'a;b', E'tab\there'
]) WITH ORDINALITY AS t(i, n)
ORDER BY n;

-- the messages in full, with detail and hint
SELECT migrate_resolve('head');
SELECT migrate_resolve('aaaa');
SELECT migrate_resolve('abc');
SELECT migrate_resolve('aaaa0002+1');
SELECT migrate_resolve('dddd0005-1');
SELECT migrate_resolve(NULL);
SELECT * FROM migrate_show('billing@base');

-- relative to what is applied: +N / -N walk from the applied head
SELECT count(*) FROM migrate_upgrade('bbbb0003');
SELECT migrate_resolve('current'), migrate_resolve('-1'), migrate_resolve('+1'), migrate_resolve('-2');
SELECT migrate_resolve('-3');
SELECT count(*) FROM migrate_upgrade('reports@head');
SELECT migrate_resolve('current');
SELECT migrate_resolve('-1');
SELECT migrate_resolve('billing@-1'), migrate_resolve('reports@-1'), migrate_resolve('billing@+1');

SELECT count(*) FROM migrate_downgrade('base');
DROP EXTENSION pg_migrate CASCADE;

-- messages fit the graph: a prefix matched through a branch label says
-- which label matched, and a graph without labels is never told to use one
CREATE EXTENSION pg_migrate;
SELECT migrate_revision('abcd1111', NULL, 'SELECT 1', 'SELECT 1', branch_labels => '{xyzlabel}');
SELECT migrate_revision('xyzz2222', NULL, 'SELECT 1', 'SELECT 1');
SELECT migrate_resolve('xyz1');
SELECT migrate_resolve('xyz');
DROP EXTENSION pg_migrate;
CREATE EXTENSION pg_migrate;
SELECT migrate_revision('root0001', NULL, 'SELECT 1', 'SELECT 1');
SELECT migrate_revision('left0002', 'root0001', 'SELECT 1', 'SELECT 1');
SELECT migrate_revision('rght0002', 'root0001', 'SELECT 1', 'SELECT 1');
SELECT count(*) FROM migrate_upgrade('root0001');
SELECT migrate_resolve('+1');
SELECT count(*) FROM migrate_upgrade('heads');
SELECT migrate_resolve('-1');
SELECT migrate_resolve('left0002@-1');
DROP EXTENSION pg_migrate;
