-- expect: safe
-- twin: 032_unique_constraint_big
-- why: the same on an empty table
-- setup
CREATE TABLE hz.empty (id int PRIMARY KEY, n int NOT NULL, v varchar(20));
-- migration
ALTER TABLE hz.empty ADD CONSTRAINT empty_v_key UNIQUE (v);
