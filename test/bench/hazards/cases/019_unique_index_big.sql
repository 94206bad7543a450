-- expect: index_without_concurrently
-- twin: 020_index_new_table
-- why: the same for a unique index
-- setup
CREATE TABLE hz.big (id int PRIMARY KEY, n int NOT NULL, v varchar(20), t text, p numeric(10,2), parent int);
INSERT INTO hz.big SELECT g, g, 'v' || g % 100, 't' || g, g / 3.0, NULL FROM generate_series(1, 60000) g;
ANALYZE hz.big;
-- migration
CREATE UNIQUE INDEX big_t ON hz.big (t);
