-- expect: safe
-- twin: 026_foreign_key_big
-- why: NOT VALID skips the check of the existing rows
-- setup
CREATE TABLE hz.big (id int PRIMARY KEY, n int NOT NULL, v varchar(20), t text, p numeric(10,2), parent int);
INSERT INTO hz.big SELECT g, g, 'v' || g % 100, 't' || g, g / 3.0, NULL FROM generate_series(1, 60000) g;
ANALYZE hz.big;
-- migration
ALTER TABLE hz.big ADD CONSTRAINT big_parent FOREIGN KEY (parent) REFERENCES hz.big (id) NOT VALID;
