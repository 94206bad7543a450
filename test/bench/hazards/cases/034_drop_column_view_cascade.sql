-- expect: drop_column_used_by_view
-- twin: 035_drop_column_unused
-- why: CASCADE drops the view that uses the column
-- setup
CREATE TABLE hz.big (id int PRIMARY KEY, n int NOT NULL, v varchar(20), t text, p numeric(10,2), parent int);
INSERT INTO hz.big SELECT g, g, 'v' || g % 100, 't' || g, g / 3.0, NULL FROM generate_series(1, 60000) g;
ANALYZE hz.big;
CREATE VIEW hz.big_t AS SELECT id, t FROM hz.big;
-- migration
ALTER TABLE hz.big DROP COLUMN t CASCADE;
