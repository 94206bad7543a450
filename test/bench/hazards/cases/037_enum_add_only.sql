-- expect: safe
-- twin: 036_enum_add_and_use
-- why: adding the value alone is fine
-- setup
CREATE TYPE hz.state AS ENUM ('new');
-- migration
ALTER TYPE hz.state ADD VALUE 'paid';
