-- expect: full_scan_under_lock
-- twin: 029_set_not_null_with_check_big
-- why: SET NOT NULL scans the table under ACCESS EXCLUSIVE
-- setup
CREATE TABLE hz.big (id int PRIMARY KEY, n int NOT NULL, v varchar(20), t text, p numeric(10,2), parent int);
INSERT INTO hz.big SELECT g, g, 'v' || g % 100, 't' || g, g / 3.0, NULL FROM generate_series(1, 60000) g;
ANALYZE hz.big;
-- migration
ALTER TABLE hz.big ALTER COLUMN t SET NOT NULL;
