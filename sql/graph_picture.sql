-- graph_picture: migrate_graph draws the revision graph as Graphviz DOT or
-- a Mermaid flowchart: heads, branch points, merges, branch labels,
-- depends_on (dashed), what is applied (filled) and the current version
-- rows (thick border); a range draws part of it; messages are escaped.
CREATE EXTENSION pg_migrate;
\pset format unaligned
\pset tuples_only on

-- an empty catalog: a graph with no nodes
SELECT migrate_graph();
SELECT migrate_graph('mermaid');

\set QUIET on
-- a1 -> b2 (shop) -> d4 ----+-> m5 (merge) -> e6 (nasty message)
--    \-> c3 ......(d4 depends on c3)
--         \---------------+
-- audit_log_table_first: a second base with a long id and a label
SELECT migrate_revision('a1a1a1a1a1a1', NULL, 'SELECT 1', 'SELECT 1', message => 'create users');
SELECT migrate_revision('b2b2b2b2b2b2', 'a1a1a1a1a1a1', 'SELECT 1', 'SELECT 1',
                        message => 'add orders', branch_labels => ARRAY['shop']);
SELECT migrate_revision('c3c3c3c3c3c3', 'a1a1a1a1a1a1', 'SELECT 1', 'SELECT 1', message => 'index emails');
SELECT migrate_revision('d4d4d4d4d4d4', 'b2b2b2b2b2b2', 'SELECT 1', 'SELECT 1',
                        message => 'order totals', depends_on => ARRAY['c3c3c3c3c3c3']);
SELECT migrate_revision('m5m5m5m5m5m5', ARRAY['d4d4d4d4d4d4', 'c3c3c3c3c3c3'], 'SELECT 1', 'SELECT 1',
                        message => 'merge shop');
SELECT migrate_revision('e6e6e6e6e6e6', 'm5m5m5m5m5m5', 'SELECT 1', 'SELECT 1',
                        message => E'say "hi" \\ back\\slash\\n\r\nline <b>2</b> | {braces} [x] (y) #35; &amp; `tick` %% end\ttab');
SELECT migrate_revision('audit_log_table_first', NULL, 'SELECT 1', NULL,
                        message => '', branch_labels => ARRAY['audit']);
-- applied: up to d4 (and c3, which it depends on)
SELECT count(*) FROM migrate_upgrade('d4d4d4d4d4d4');
\set QUIET off
SELECT revision FROM migrate_current() ORDER BY revision COLLATE "C";

-- the whole graph, DOT by default, in registration order
SELECT migrate_graph();
SELECT migrate_graph('mermaid');
-- the format's case does not matter
SELECT migrate_graph('DOT') = migrate_graph('dot') AS same;
-- the same text on every call
SELECT migrate_graph('mermaid') = migrate_graph('mermaid') AS same;

-- a range, as in migrate_history: revisions outside it that share an edge
-- with one inside are drawn as "..." placeholders (gray)
SELECT migrate_graph('dot', 'current:');
SELECT migrate_graph('mermaid', 'b2b2:d4d4');
-- one step below the applied head, up to the heads
SELECT migrate_graph('mermaid', '-1:');
SELECT migrate_graph(range => ':a1a1a1a1a1a1');
SELECT migrate_graph(range => 'audit@base:audit@head');
SELECT migrate_graph(range => ':') = migrate_graph() AS same;

-- everything applied: every node filled, the heads current
SELECT count(*) FROM migrate_upgrade('heads');
SELECT migrate_graph('mermaid');

-- errors
\set VERBOSITY default
SELECT migrate_graph('svg');
SELECT migrate_graph(NULL);
SELECT migrate_graph('dot', 'nope');
SELECT migrate_graph('dot', 'zzzz:');
SELECT migrate_graph('dot', 'e6e6:a1a1');
SELECT migrate_graph('dot', '-1:');

DROP EXTENSION pg_migrate;
