-- expect: safe
-- twin: 001_int_to_bigint_big
-- why: the same change on an empty table costs nothing
-- setup
CREATE TABLE hz.empty (id int PRIMARY KEY, n int NOT NULL, v varchar(20));
-- migration
ALTER TABLE hz.empty ALTER COLUMN n TYPE bigint;
