-- expect: safe
-- twin: 009_numeric_rescale_big
-- why: numeric(10,2) to numeric(12,2) keeps the scale: no rewrite
-- setup
CREATE TABLE hz.big (id int PRIMARY KEY, n int NOT NULL, v varchar(20), t text, p numeric(10,2), parent int);
INSERT INTO hz.big SELECT g, g, 'v' || g % 100, 't' || g, g / 3.0, NULL FROM generate_series(1, 60000) g;
ANALYZE hz.big;
-- migration
ALTER TABLE hz.big ALTER COLUMN p TYPE numeric(12,2);
