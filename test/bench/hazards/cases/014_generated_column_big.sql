-- expect: rewrite
-- twin: 016_nullable_column_big
-- why: a stored generated column is computed for every row: rewrite
-- setup
CREATE TABLE hz.big (id int PRIMARY KEY, n int NOT NULL, v varchar(20), t text, p numeric(10,2), parent int);
INSERT INTO hz.big SELECT g, g, 'v' || g % 100, 't' || g, g / 3.0, NULL FROM generate_series(1, 60000) g;
ANALYZE hz.big;
-- migration
ALTER TABLE hz.big ADD COLUMN n2 bigint GENERATED ALWAYS AS (n * 2) STORED;
