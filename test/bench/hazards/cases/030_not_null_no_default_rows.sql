-- expect: not_null_without_default
-- twin: 031_not_null_no_default_empty
-- why: the existing rows have no value: it fails
-- setup
CREATE TABLE hz.small (id int PRIMARY KEY, n int NOT NULL, v varchar(20));
INSERT INTO hz.small VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c');
-- migration
ALTER TABLE hz.small ADD COLUMN required int NOT NULL;
