-- expect: safe
-- twin: 001_int_to_bigint_big
-- why: three rows: the rewrite is instant
-- setup
CREATE TABLE hz.small (id int PRIMARY KEY, n int NOT NULL, v varchar(20));
INSERT INTO hz.small VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c');
-- migration
ALTER TABLE hz.small ALTER COLUMN n TYPE bigint;
