-- expect: safe
-- twin: 018_index_big
-- why: an index on three rows is built at once
-- setup
CREATE TABLE hz.small (id int PRIMARY KEY, n int NOT NULL, v varchar(20));
INSERT INTO hz.small VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c');
-- migration
CREATE INDEX small_n ON hz.small (n);
