-- expect: volatile_default,rewrite
-- twin: 011_constant_default_big
-- why: clock_timestamp() is evaluated per row: the table is rewritten
-- setup
CREATE TABLE hz.big (id int PRIMARY KEY, n int NOT NULL, v varchar(20), t text, p numeric(10,2), parent int);
INSERT INTO hz.big SELECT g, g, 'v' || g % 100, 't' || g, g / 3.0, NULL FROM generate_series(1, 60000) g;
ANALYZE hz.big;
-- migration
ALTER TABLE hz.big ADD COLUMN created timestamptz DEFAULT clock_timestamp();
