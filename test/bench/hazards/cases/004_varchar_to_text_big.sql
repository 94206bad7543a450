-- expect: safe
-- twin: 007_text_to_varchar_big
-- why: varchar(n) to text is binary-compatible: no rewrite, no scan
-- setup
CREATE TABLE hz.big (id int PRIMARY KEY, n int NOT NULL, v varchar(20), t text, p numeric(10,2), parent int);
INSERT INTO hz.big SELECT g, g, 'v' || g % 100, 't' || g, g / 3.0, NULL FROM generate_series(1, 60000) g;
ANALYZE hz.big;
-- migration
ALTER TABLE hz.big ALTER COLUMN v TYPE text;
