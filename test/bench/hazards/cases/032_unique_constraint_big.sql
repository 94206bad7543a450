-- expect: full_scan_under_lock
-- twin: 033_unique_constraint_empty
-- why: ADD UNIQUE builds an index under ACCESS EXCLUSIVE
-- setup
CREATE TABLE hz.big (id int PRIMARY KEY, n int NOT NULL, v varchar(20), t text, p numeric(10,2), parent int);
INSERT INTO hz.big SELECT g, g, 'v' || g % 100, 't' || g, g / 3.0, NULL FROM generate_series(1, 60000) g;
ANALYZE hz.big;
-- migration
ALTER TABLE hz.big ADD CONSTRAINT big_t_key UNIQUE (t);
