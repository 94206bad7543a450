-- expect: safe
-- twin: 030_not_null_no_default_rows
-- why: on an empty table there is no row to fail
-- setup
CREATE TABLE hz.empty (id int PRIMARY KEY, n int NOT NULL, v varchar(20));
-- migration
ALTER TABLE hz.empty ADD COLUMN required int NOT NULL;
