-- expect: safe
-- twin: 028_set_not_null_big
-- why: with a validated CHECK (t IS NOT NULL) the scan is skipped (PostgreSQL 12 on)
-- setup
CREATE TABLE hz.big (id int PRIMARY KEY, n int NOT NULL, v varchar(20), t text, p numeric(10,2), parent int);
INSERT INTO hz.big SELECT g, g, 'v' || g % 100, 't' || g, g / 3.0, NULL FROM generate_series(1, 60000) g;
ANALYZE hz.big;
ALTER TABLE hz.big ADD CONSTRAINT t_not_null CHECK (t IS NOT NULL);
-- migration
ALTER TABLE hz.big ALTER COLUMN t SET NOT NULL;
