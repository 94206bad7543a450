-- expect: full_scan_under_lock
-- twin: 027_foreign_key_not_valid_big
-- why: a foreign key without NOT VALID checks every row under a lock that blocks writes
-- setup
CREATE TABLE hz.big (id int PRIMARY KEY, n int NOT NULL, v varchar(20), t text, p numeric(10,2), parent int);
INSERT INTO hz.big SELECT g, g, 'v' || g % 100, 't' || g, g / 3.0, NULL FROM generate_series(1, 60000) g;
ANALYZE hz.big;
UPDATE hz.big SET parent = 1 WHERE id % 10 = 0;
ANALYZE hz.big;
-- migration
ALTER TABLE hz.big ADD CONSTRAINT big_parent FOREIGN KEY (parent) REFERENCES hz.big (id);
