-- expect: rewrite
-- twin: 005_varchar_widen_big
-- why: a narrower varchar must check every value: rewrite
-- setup
CREATE TABLE hz.big (id int PRIMARY KEY, n int NOT NULL, v varchar(20), t text, p numeric(10,2), parent int);
INSERT INTO hz.big SELECT g, g, 'v' || g % 100, 't' || g, g / 3.0, NULL FROM generate_series(1, 60000) g;
ANALYZE hz.big;
-- migration
ALTER TABLE hz.big ALTER COLUMN v TYPE varchar(10);
