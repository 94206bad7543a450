-- expect: safe
-- twin: 022_check_big
-- why: a CHECK on three rows
-- setup
CREATE TABLE hz.small (id int PRIMARY KEY, n int NOT NULL, v varchar(20));
INSERT INTO hz.small VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c');
-- migration
ALTER TABLE hz.small ADD CONSTRAINT n_positive CHECK (n > 0);
