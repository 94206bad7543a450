-- expect: safe
-- twin: 018_index_big
-- why: an index on a table the migration creates blocks nobody
-- setup

-- migration
CREATE TABLE hz.fresh (id int PRIMARY KEY, n int);
CREATE INDEX fresh_n ON hz.fresh (n);
