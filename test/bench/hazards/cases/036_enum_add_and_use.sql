-- expect: enum_value_used_same_transaction
-- twin: 037_enum_add_only
-- why: a new enum value cannot be used before commit: it fails
-- setup
CREATE TYPE hz.state AS ENUM ('new');
CREATE TABLE hz.orders (id int, s hz.state);
-- migration
ALTER TYPE hz.state ADD VALUE 'paid';
UPDATE hz.orders SET s = 'paid';
