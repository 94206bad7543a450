-- setup: the extension installs, its objects are where they should be, and
-- its catalog tables are marked for pg_dump.
CREATE EXTENSION pg_migrate;

-- every object is named migrate_*; the catalog (tables, sequences, trigger
-- functions) is in the extension's own schema pgmigrate, the functions
-- users call are in the extension's schema
SELECT pg_describe_object(classid, objid, 0) COLLATE "C" AS object
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_migrate')
ORDER BY 1;

-- catalog tables and sequences are dumped with the database
SELECT c.relname COLLATE "C" AS config_table
FROM pg_extension e, unnest(e.extconfig) AS t(oid) JOIN pg_class c ON c.oid = t.oid
WHERE e.extname = 'pg_migrate'
ORDER BY 1;

-- not relocatable, not trusted
SELECT extrelocatable FROM pg_extension WHERE extname = 'pg_migrate';
SELECT version, trusted, superuser, relocatable FROM pg_available_extension_versions
WHERE name = 'pg_migrate' ORDER BY version COLLATE "C";
SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate';

-- no SECURITY DEFINER anywhere; only the functions that run migration SQL
-- (and migrate_adopt_alembic and migrate_stamp, which resolve a table name
-- as their caller does,
-- and migrate_checksum, kept inlinable: every name in it is qualified)

SELECT p.proname COLLATE "C" AS proname, p.prosecdef, p.proconfig
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_migrate') AND d.deptype = 'e'
ORDER BY 1, pg_get_function_identity_arguments(p.oid) COLLATE "C";

-- none of them is STRICT: a NULL argument must raise an error, not return NULL
SELECT count(*) AS strict_functions
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_migrate') AND p.proisstrict;

-- an empty catalog answers every reader
SELECT * FROM migrate_current();
SELECT * FROM migrate_heads();
SELECT * FROM migrate_history();
SELECT migrate_resolve('heads');
SELECT * FROM migrate_upgrade('head');

DROP EXTENSION pg_migrate;
