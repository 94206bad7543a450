-- schema_model: migrate_schema_objects and migrate_fingerprint read the
-- managed schemas into a normalized model.  It must not depend on OIDs,
-- physical column order, dropped columns, the caller's search_path or how
-- a partition was attached; it must see every modelled change; and
-- pg_migrate's own catalog and extension members are not part of it.
CREATE EXTENSION pg_migrate;
CREATE SCHEMA shop;
SET pg_migrate.managed_schemas = shop;

-- one build of the schema
CREATE FUNCTION build_shop(variant int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF variant = 1 THEN
        CREATE TABLE shop.customer (id bigint PRIMARY KEY, name text NOT NULL, email text);
    ELSE
        -- other physical order, a dropped column in between
        CREATE TABLE shop.customer (email text, junk int, name text NOT NULL, id bigint PRIMARY KEY);
        ALTER TABLE shop.customer DROP COLUMN junk;
    END IF;
    CREATE TYPE shop.state AS ENUM ('new', 'paid', 'sent');
    CREATE DOMAIN shop.money_amount AS numeric(12,2) CHECK (VALUE >= 0);
    CREATE TABLE shop.orders (
        id bigint GENERATED ALWAYS AS IDENTITY,
        customer_id bigint NOT NULL REFERENCES shop.customer (id),
        state shop.state NOT NULL DEFAULT 'new',
        total shop.money_amount,
        placed timestamptz DEFAULT now(),
        total_cents bigint GENERATED ALWAYS AS ((total * 100)::bigint) STORED,
        PRIMARY KEY (id, placed)
    ) PARTITION BY RANGE (placed);
    IF variant = 1 THEN
        CREATE TABLE shop.orders_2026 PARTITION OF shop.orders
            FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    ELSE
        CREATE TABLE shop.orders_2026 (LIKE shop.orders INCLUDING DEFAULTS INCLUDING GENERATED);
        ALTER TABLE shop.orders ATTACH PARTITION shop.orders_2026
            FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    END IF;
    CREATE INDEX orders_customer ON shop.orders (customer_id);
    CREATE VIEW shop.open_orders AS SELECT id, customer_id FROM shop.orders WHERE state <> 'sent';
    CREATE FUNCTION shop.order_count(c bigint) RETURNS bigint LANGUAGE sql STABLE
        AS 'SELECT count(*) FROM shop.orders WHERE customer_id = c';
    ALTER TABLE shop.customer ENABLE ROW LEVEL SECURITY;
    CREATE POLICY own ON shop.customer USING (email = current_user);
    COMMENT ON TABLE shop.customer IS 'who buys';
    COMMENT ON COLUMN shop.customer.email IS 'where to write';
END
$$;

SELECT build_shop(1);
SELECT kind, identity, definition FROM migrate_schema_objects()
WHERE kind NOT IN ('grant', 'owner')
ORDER BY kind COLLATE "C", identity COLLATE "C";
-- owners and grants name the role that ran this test: only their count
SELECT kind, count(*) FROM migrate_schema_objects() WHERE kind IN ('grant', 'owner') GROUP BY kind ORDER BY kind;
CREATE TEMP TABLE fp AS SELECT 'build 1' AS what, migrate_fingerprint() AS fingerprint;

-- the caller's search_path changes nothing
SET search_path = shop, public;
INSERT INTO fp SELECT 'shop first on the path', public.migrate_fingerprint();
SET search_path = pg_catalog;
INSERT INTO fp SELECT 'pg_catalog only', public.migrate_fingerprint();
RESET search_path;
-- nor do DateStyle or extra_float_digits (defaults are deparsed with them pinned)
SET datestyle = 'SQL, DMY';
SET extra_float_digits = 0;
INSERT INTO fp SELECT 'other datestyle', migrate_fingerprint();
RESET datestyle;
RESET extra_float_digits;

-- built again another way: other column order, a dropped column, CREATE + ATTACH
DROP SCHEMA shop CASCADE;
CREATE SCHEMA shop;
SELECT build_shop(2);
INSERT INTO fp SELECT 'build 2', migrate_fingerprint();
-- an explicit GRANT of what the owner already has is still the default
GRANT ALL ON shop.customer TO CURRENT_USER;
INSERT INTO fp SELECT 'owner granted its own rights', migrate_fingerprint();
SELECT what, fingerprint = (SELECT fingerprint FROM fp WHERE what = 'build 1') AS same,
       length(fingerprint) AS length
FROM fp;

-- every modelled change shows: one per statement, each undone
CREATE FUNCTION changes_fingerprint(ddl text, undo text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    before text := migrate_fingerprint();
    changed boolean;
BEGIN
    EXECUTE ddl;
    changed := migrate_fingerprint() <> before;
    EXECUTE undo;
    IF migrate_fingerprint() <> before THEN
        RAISE EXCEPTION 'undo of % did not restore the fingerprint', ddl;
    END IF;
    RETURN changed;
END
$$;
CREATE ROLE regress_model_reader;
SELECT ddl, changes_fingerprint(ddl, undo) FROM (VALUES
    ('ALTER TABLE shop.customer ADD COLUMN phone text', 'ALTER TABLE shop.customer DROP COLUMN phone'),
    ('ALTER TABLE shop.customer ALTER email SET NOT NULL', 'ALTER TABLE shop.customer ALTER email DROP NOT NULL'),
    ('ALTER TABLE shop.customer ALTER email SET DEFAULT ''x''', 'ALTER TABLE shop.customer ALTER email DROP DEFAULT'),
    ('ALTER TABLE shop.customer ALTER name TYPE varchar(200)', 'ALTER TABLE shop.customer ALTER name TYPE text'),
    ('CREATE INDEX customer_email ON shop.customer (email)', 'DROP INDEX shop.customer_email'),
    ('ALTER TABLE shop.customer ADD CONSTRAINT email_at CHECK (email LIKE ''%@%'') NOT VALID',
     'ALTER TABLE shop.customer DROP CONSTRAINT email_at'),
    ('ALTER TYPE shop.state RENAME VALUE ''sent'' TO ''shipped''', 'ALTER TYPE shop.state RENAME VALUE ''shipped'' TO ''sent'''),
    ('ALTER DOMAIN shop.money_amount SET DEFAULT 0', 'ALTER DOMAIN shop.money_amount DROP DEFAULT'),
    ('CREATE OR REPLACE VIEW shop.open_orders AS SELECT id, customer_id FROM shop.orders WHERE state = ''new''',
     'CREATE OR REPLACE VIEW shop.open_orders AS SELECT id, customer_id FROM shop.orders WHERE state <> ''sent'''),
    ('CREATE OR REPLACE FUNCTION shop.order_count(c bigint) RETURNS bigint LANGUAGE sql STABLE AS ''SELECT 0::bigint''',
     'CREATE OR REPLACE FUNCTION shop.order_count(c bigint) RETURNS bigint LANGUAGE sql STABLE AS ''SELECT count(*) FROM shop.orders WHERE customer_id = c'''),
    ('CREATE SEQUENCE shop.invoice_no', 'DROP SEQUENCE shop.invoice_no'),
    ('ALTER TABLE shop.customer FORCE ROW LEVEL SECURITY', 'ALTER TABLE shop.customer NO FORCE ROW LEVEL SECURITY'),
    ('ALTER POLICY own ON shop.customer USING (true)', 'ALTER POLICY own ON shop.customer USING (email = current_user)'),
    ('GRANT SELECT ON shop.customer TO regress_model_reader', 'REVOKE SELECT ON shop.customer FROM regress_model_reader'),
    ('GRANT UPDATE (email) ON shop.customer TO regress_model_reader', 'REVOKE UPDATE (email) ON shop.customer FROM regress_model_reader'),
    ('ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO regress_model_reader',
     'ALTER DEFAULT PRIVILEGES IN SCHEMA shop REVOKE SELECT ON TABLES FROM regress_model_reader'),
    ('COMMENT ON COLUMN shop.customer.email IS ''mail''', 'COMMENT ON COLUMN shop.customer.email IS ''where to write'''),
    ('ALTER TABLE shop.orders_2026 SET (fillfactor = 70)', 'ALTER TABLE shop.orders_2026 RESET (fillfactor)'),
    ('CREATE TRIGGER touch BEFORE UPDATE ON shop.customer FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()',
     'DROP TRIGGER touch ON shop.customer'),
    ('ALTER TABLE shop.customer OWNER TO regress_model_reader', 'ALTER TABLE shop.customer OWNER TO CURRENT_USER'),
    ('REVOKE EXECUTE ON FUNCTION shop.order_count(bigint) FROM PUBLIC',
     'GRANT EXECUTE ON FUNCTION shop.order_count(bigint) TO PUBLIC')
) AS c(ddl, undo);
-- privileges are the difference from the default ACL: granted, and revoked defaults
GRANT SELECT, UPDATE (email) ON shop.customer TO regress_model_reader WITH GRANT OPTION;
REVOKE EXECUTE ON FUNCTION shop.order_count(bigint) FROM PUBLIC;
SELECT kind, identity, definition FROM migrate_schema_objects() WHERE kind IN ('grant', 'revoke');
GRANT EXECUTE ON FUNCTION shop.order_count(bigint) TO PUBLIC;
REVOKE ALL ON shop.customer FROM regress_model_reader;
SELECT count(*) AS back_to_default FROM migrate_schema_objects() WHERE kind IN ('grant', 'revoke');

-- what is not part of it: other schemas, pg_migrate's catalog, extension members
CREATE TABLE public.elsewhere (x int);
SELECT count(*) AS outside_shop FROM migrate_schema_objects()
WHERE identity NOT LIKE '%shop%';
CREATE EXTENSION citext SCHEMA shop;
SELECT kind, identity, definition FROM migrate_schema_objects()
WHERE kind = 'extension' OR definition LIKE '%citext%' OR identity LIKE '%citext%';
DROP EXTENSION citext;
-- named explicitly, pg_migrate's schema is only the schema: its tables are members
SELECT kind, split_part(identity, ' TO ', 1) FROM migrate_schema_objects(ARRAY['pgmigrate'])
ORDER BY 1, 2;
-- the default set: every user schema but pg_migrate's own
RESET pg_migrate.managed_schemas;
SELECT DISTINCT split_part(identity, '.', 1) AS schema FROM migrate_schema_objects()
WHERE kind IN ('table', 'schema') ORDER BY 1;
SELECT migrate_fingerprint(ARRAY['shop']) = (SELECT fingerprint FROM fp WHERE what = 'build 1') AS explicit_list;

-- the last successful step of a call records the fingerprint it left behind
SET pg_migrate.managed_schemas = shop;
SELECT migrate_revision('aaaa00000001', NULL, 'ALTER TABLE shop.customer ADD COLUMN phone text',
                        'ALTER TABLE shop.customer DROP COLUMN phone');
SELECT migrate_revision('aaaa00000002', 'aaaa00000001', 'CREATE INDEX customer_phone ON shop.customer (phone)',
                        'DROP INDEX shop.customer_phone');
SELECT count(*) FROM migrate_upgrade('head');
SELECT revision, fingerprint IS NOT NULL AS logged, fingerprint = migrate_fingerprint() AS is_live
FROM pgmigrate.migrate_log WHERE direction = 'upgrade' AND outcome = 'success' ORDER BY id;
-- every step, on request; off: none
SET pg_migrate.log_fingerprint = step;
SELECT count(*) FROM migrate_downgrade('base');
SET pg_migrate.log_fingerprint = off;
SELECT count(*) FROM migrate_upgrade('aaaa00000001');
SELECT direction, revision, fingerprint IS NOT NULL AS logged,
       fingerprint = (SELECT fingerprint FROM fp WHERE what = 'build 1') AS as_built
FROM pgmigrate.migrate_log WHERE outcome = 'success' ORDER BY id;
RESET pg_migrate.log_fingerprint;
SELECT count(*) FROM migrate_downgrade('base');
SET pg_migrate.log_fingerprint = sometimes;

-- bad input
\set VERBOSITY default
SELECT migrate_fingerprint(ARRAY['no_such_schema']);
SELECT migrate_fingerprint(ARRAY['shop', NULL]);
SELECT migrate_fingerprint(ARRAY[['shop']]);
SET pg_migrate.managed_schemas = 'shop,,x';
-- an empty list is a model with nothing in it
SELECT count(*) FROM migrate_schema_objects(ARRAY[]::text[]);

DROP SCHEMA shop CASCADE;
DROP TABLE public.elsewhere;
DROP FUNCTION build_shop(int);
DROP FUNCTION changes_fingerprint(text, text);
DROP ROLE regress_model_reader;
DROP EXTENSION pg_migrate;
