/*-------------------------------------------------------------------------
 *
 * schema_model.c
 *	  The managed schemas read from the catalog into a normalized model:
 *	  one (kind, identity, definition) per object, and the fingerprint of
 *	  it, a SHA-256 of its canonical form.
 *
 * What makes it stable:
 *  - Definitions come from the server's own deparsers (pg_get_indexdef,
 *	  pg_get_constraintdef, pg_get_viewdef, pg_get_functiondef,
 *	  pg_get_triggerdef, pg_get_expr, format_type), run with search_path,
 *	  DateStyle, IntervalStyle, extra_float_digits and TimeZone pinned, so every name outside pg_catalog comes out
 *	  schema-qualified whatever the caller's search_path is, and constants
 *	  print the same way in every session.
 *  - No OID appears.  Columns are objects of their own, named by table and
 *	  column name: physical order and the holes dropped columns leave do not
 *	  show.  Composite types keep their attribute order, which is part of
 *	  the type.  Names the server generates (t_pkey, t_id_seq) are kept: two
 *	  databases built by the same DDL get the same ones.
 *  - What cannot be observed, or differs between identical databases, is
 *	  left out: attislocal and inhcount (PARTITION OF and CREATE + ATTACH
 *	  give the same model), the pg_attver column option this build stores,
 *	  and grantors.  Privileges are the difference between an object's ACL
 *	  and its default (acldefault), so an explicit GRANT of what the owner
 *	  already had changes nothing, and most objects have no privilege rows.
 *  - Extension member objects are not part of it (pg_migrate's own catalog
 *	  among them); an extension is one object, by name, with its version.
 *
 * The kinds: schema, owner, table, column, constraint, index, sequence,
 * view, materialized_view, function, procedure, aggregate, trigger, rule,
 * policy, enum, domain, composite_type, range_type, base_type, statistics,
 * grant, revoke, default_privileges, comment, extension.  Not modelled:
 * operators, operator classes and families, casts, collations,
 * conversions, text search objects, foreign servers and wrappers
 * (database-wide), publications, event triggers.
 *
 * One statement reads everything and sorts it (bytewise, COLLATE "C"); the
 * fingerprint is computed from the rows as they come, without building the
 * canonical text.  Catalog access is through SPI, like the rest of
 * pg_migrate; the pinned search_path is "pg_catalog, pg_temp", so that no
 * temporary object can stand in for a catalog name.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "compat.h"
#include "managed_schemas.h"
#include "schema_model.h"

/*
 * The relations, types and routines of the managed schemas ($1, an oid[]),
 * without extension members: every kind below selects from these.
 */
static const char *const model_with =
"WITH nsp AS ("
"  SELECT n.oid, n.nspowner, n.nspacl, pg_catalog.quote_ident(n.nspname) AS q"
"  FROM pg_catalog.pg_namespace n WHERE n.oid OPERATOR(pg_catalog.=) ANY ($1)"
"), members AS ("
"  SELECT d.classid, d.objid FROM pg_catalog.pg_depend d"
"  WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass"
"    AND d.deptype OPERATOR(pg_catalog.=) 'e'"
"), rel AS ("
"  SELECT c.oid, c.relkind, c.relowner, c.relacl, c.reloptions, c.relpersistence,"
"         c.relispartition, c.relpartbound, c.relrowsecurity, c.relforcerowsecurity,"
"         c.relreplident, c.relam,"
"         nsp.q OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname) AS q,"
"         CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view'"
"                        WHEN 'm' THEN 'materialized_view' ELSE 'table' END AS word"
"  FROM pg_catalog.pg_class c JOIN nsp ON nsp.oid OPERATOR(pg_catalog.=) c.relnamespace"
"  WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,f,v,m,S}'::pg_catalog.\"char\"[])"
"    AND NOT c.oid OPERATOR(pg_catalog.=) ANY (SELECT m.objid FROM members m"
"        WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass)"
"), typ AS ("
"  SELECT t.oid, t.typtype, t.typowner, t.typacl, t.typrelid, t.typbasetype, t.typtypmod,"
"         t.typcollation, t.typdefault, t.typnotnull, t.typinput, t.typoutput,"
"         nsp.q OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(t.typname) AS q"
"  FROM pg_catalog.pg_type t JOIN nsp ON nsp.oid OPERATOR(pg_catalog.=) t.typnamespace"
"  WHERE t.typtype OPERATOR(pg_catalog.=) ANY ('{b,c,d,e,r}'::pg_catalog.\"char\"[])"
"    AND (t.typrelid OPERATOR(pg_catalog.=) 0 OR EXISTS ("
"         SELECT FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) t.typrelid"
"           AND c.relkind OPERATOR(pg_catalog.=) 'c'))"
"    AND NOT EXISTS (SELECT FROM pg_catalog.pg_type a WHERE a.typarray OPERATOR(pg_catalog.=) t.oid)"
"    AND NOT t.oid OPERATOR(pg_catalog.=) ANY (SELECT m.objid FROM members m"
"        WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass)"
"), fn AS ("
"  SELECT p.oid, p.prokind, p.proowner, p.proacl,"
"         nsp.q OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(p.proname)"
"           OPERATOR(pg_catalog.||) '(' OPERATOR(pg_catalog.||)"
"           pg_catalog.pg_get_function_identity_arguments(p.oid) OPERATOR(pg_catalog.||) ')' AS q,"
"         CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END AS word"
"  FROM pg_catalog.pg_proc p JOIN nsp ON nsp.oid OPERATOR(pg_catalog.=) p.pronamespace"
"  WHERE NOT p.oid OPERATOR(pg_catalog.=) ANY (SELECT m.objid FROM members m"
"        WHERE m.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass)"
"), acls AS ("
"  SELECT 'schema ' OPERATOR(pg_catalog.||) nsp.q AS obj, nsp.nspacl AS acl,"
"         pg_catalog.acldefault('n', nsp.nspowner) AS dflt"
"  FROM nsp WHERE nsp.nspacl IS NOT NULL"
"  UNION ALL"
"  SELECT rel.word OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) rel.q, rel.relacl,"
"         pg_catalog.acldefault((CASE rel.relkind WHEN 'S' THEN 's' ELSE 'r' END)::pg_catalog.\"char\","
"                               rel.relowner)"
"  FROM rel WHERE rel.relacl IS NOT NULL"
"  UNION ALL"
"  SELECT 'column ' OPERATOR(pg_catalog.||) rel.q OPERATOR(pg_catalog.||) '.'"
"         OPERATOR(pg_catalog.||) pg_catalog.quote_ident(att.attname), att.attacl,"
"         pg_catalog.acldefault('c', rel.relowner)"
"  FROM rel JOIN pg_catalog.pg_attribute att ON att.attrelid OPERATOR(pg_catalog.=) rel.oid"
"  WHERE att.attacl IS NOT NULL AND att.attnum OPERATOR(pg_catalog.>) 0 AND NOT att.attisdropped"
"  UNION ALL"
"  SELECT fn.word OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) fn.q, fn.proacl,"
"         pg_catalog.acldefault('f', fn.proowner)"
"  FROM fn WHERE fn.proacl IS NOT NULL"
"  UNION ALL"
"  SELECT 'type ' OPERATOR(pg_catalog.||) typ.q, typ.typacl, pg_catalog.acldefault('T', typ.typowner)"
"  FROM typ WHERE typ.typacl IS NOT NULL"
")";

/*
 * One SELECT per kind, each giving (kind, identity, definition).  The
 * statement runs under search_path = pg_catalog, pg_temp, which is what
 * makes the deparsers qualify names; the operators are still spelled out.
 */
static const char *const model_kinds[] = {
	/* schema */
	"SELECT 'schema', nsp.q, '' FROM nsp",

	/* owner, of everything that has one */
	"SELECT 'owner', o.obj, pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(o.owner))"
	" FROM (SELECT 'schema ' OPERATOR(pg_catalog.||) nsp.q, nsp.nspowner FROM nsp"
	"       UNION ALL SELECT rel.word OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) rel.q, rel.relowner FROM rel"
	"       UNION ALL SELECT fn.word OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) fn.q, fn.proowner FROM fn"
	"       UNION ALL SELECT 'type ' OPERATOR(pg_catalog.||) typ.q, typ.typowner FROM typ) o(obj, owner)",

	/* table: kind, persistence, partitioning, inheritance, options, row security */
	"SELECT 'table', rel.q,"
	" CASE rel.relkind WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END"
	" OPERATOR(pg_catalog.||) CASE WHEN rel.relpersistence OPERATOR(pg_catalog.=) 'u' THEN ' UNLOGGED' ELSE '' END"
	" OPERATOR(pg_catalog.||) CASE WHEN rel.relkind OPERATOR(pg_catalog.=) 'p'"
	"      THEN ' PARTITION BY ' OPERATOR(pg_catalog.||) pg_catalog.pg_get_partkeydef(rel.oid) ELSE '' END"
	" OPERATOR(pg_catalog.||) COALESCE((SELECT CASE WHEN rel.relispartition"
	"      THEN ' PARTITION OF ' OPERATOR(pg_catalog.||) pg_catalog.min(i.inhparent::pg_catalog.regclass::pg_catalog.text)"
	"           OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) pg_catalog.pg_get_expr(rel.relpartbound, rel.oid)"
	"      ELSE ' INHERITS (' OPERATOR(pg_catalog.||) pg_catalog.string_agg(i.inhparent::pg_catalog.regclass::pg_catalog.text,"
	"           ', ' ORDER BY i.inhseqno) OPERATOR(pg_catalog.||) ')' END"
	"      FROM pg_catalog.pg_inherits i WHERE i.inhrelid OPERATOR(pg_catalog.=) rel.oid"
	"      HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 0), '')"
	" OPERATOR(pg_catalog.||) COALESCE((SELECT ' USING ' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(am.amname)"
	"      FROM pg_catalog.pg_am am WHERE am.oid OPERATOR(pg_catalog.=) rel.relam"
	"        AND am.amname OPERATOR(pg_catalog.<>) 'heap'), '')"
	" OPERATOR(pg_catalog.||) CASE WHEN rel.reloptions IS NULL THEN '' ELSE ' WITH ('"
	"      OPERATOR(pg_catalog.||) (SELECT pg_catalog.string_agg(o, ', ' ORDER BY o COLLATE \"C\")"
	"      FROM pg_catalog.unnest(rel.reloptions) o) OPERATOR(pg_catalog.||) ')' END"
	" OPERATOR(pg_catalog.||) CASE WHEN rel.relrowsecurity THEN ' ROW LEVEL SECURITY' ELSE '' END"
	" OPERATOR(pg_catalog.||) CASE WHEN rel.relforcerowsecurity THEN ' FORCE ROW LEVEL SECURITY' ELSE '' END"
	" OPERATOR(pg_catalog.||) CASE rel.relreplident WHEN 'f' THEN ' REPLICA IDENTITY FULL'"
	"      WHEN 'n' THEN ' REPLICA IDENTITY NOTHING' WHEN 'i' THEN ' REPLICA IDENTITY USING INDEX' ELSE '' END"
	" OPERATOR(pg_catalog.||) COALESCE((SELECT ' SERVER ' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(s.srvname)"
	"      OPERATOR(pg_catalog.||) COALESCE(' OPTIONS (' OPERATOR(pg_catalog.||)"
	"           pg_catalog.array_to_string(ft.ftoptions, ', ') OPERATOR(pg_catalog.||) ')', '')"
	"      FROM pg_catalog.pg_foreign_table ft"
	"      JOIN pg_catalog.pg_foreign_server s ON s.oid OPERATOR(pg_catalog.=) ft.ftserver"
	"      WHERE ft.ftrelid OPERATOR(pg_catalog.=) rel.oid), '')"
	" FROM rel WHERE rel.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,f}'::pg_catalog.\"char\"[])",

	/* column, by name */
	"SELECT 'column', rel.q OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(a.attname),"
	" pg_catalog.format_type(a.atttypid, a.atttypmod)"
	" OPERATOR(pg_catalog.||) CASE WHEN a.attcollation OPERATOR(pg_catalog.<>) t.typcollation"
	"      THEN ' COLLATE ' OPERATOR(pg_catalog.||) (SELECT pg_catalog.quote_ident(cn.nspname)"
	"           OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(co.collname)"
	"           FROM pg_catalog.pg_collation co"
	"           JOIN pg_catalog.pg_namespace cn ON cn.oid OPERATOR(pg_catalog.=) co.collnamespace"
	"           WHERE co.oid OPERATOR(pg_catalog.=) a.attcollation) ELSE '' END"
	" OPERATOR(pg_catalog.||) CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY'"
	"      WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END"
	" OPERATOR(pg_catalog.||) CASE WHEN NOT a.atthasdef THEN ''"
	"      ELSE (SELECT CASE WHEN a.attgenerated OPERATOR(pg_catalog.=) 's'"
	"                 THEN ' GENERATED ALWAYS AS (' OPERATOR(pg_catalog.||) pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)"
	"                      OPERATOR(pg_catalog.||) ') STORED'"
	"                 ELSE ' DEFAULT ' OPERATOR(pg_catalog.||) pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END"
	"            FROM pg_catalog.pg_attrdef ad WHERE ad.adrelid OPERATOR(pg_catalog.=) a.attrelid"
	"              AND ad.adnum OPERATOR(pg_catalog.=) a.attnum) END"
	" OPERATOR(pg_catalog.||) CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END"
	" OPERATOR(pg_catalog.||) CASE WHEN a.attstorage OPERATOR(pg_catalog.<>) t.typstorage"
	"      THEN ' STORAGE ' OPERATOR(pg_catalog.||) CASE a.attstorage WHEN 'p' THEN 'PLAIN'"
	"           WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END ELSE '' END"
	" OPERATOR(pg_catalog.||) CASE WHEN a.attoptions IS NULL"
	"      OR (pg_catalog.cardinality(a.attoptions) OPERATOR(pg_catalog.=) 1"
	"          AND a.attoptions[1] OPERATOR(pg_catalog.~~) 'pg\\_attver=%') THEN ''"
	"      ELSE COALESCE(' WITH ('"
	"      OPERATOR(pg_catalog.||) (SELECT pg_catalog.string_agg(o, ', ' ORDER BY o COLLATE \"C\")"
	"      FROM pg_catalog.unnest(a.attoptions) o WHERE o OPERATOR(pg_catalog.!~~) 'pg\\_attver=%')"
	"      OPERATOR(pg_catalog.||) ')', '') END"
	" FROM rel"
	" JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) rel.oid"
	" JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid"
	" WHERE rel.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,f}'::pg_catalog.\"char\"[])"
	"   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped",

	/* constraint, of a table or a domain (NOT VALID shows in its definition) */
	"SELECT 'constraint', COALESCE(rel.q, typ.q) OPERATOR(pg_catalog.||) '.'"
	"      OPERATOR(pg_catalog.||) pg_catalog.quote_ident(con.conname),"
	" pg_catalog.pg_get_constraintdef(con.oid)"
	" FROM pg_catalog.pg_constraint con"
	" LEFT JOIN rel ON con.conrelid OPERATOR(pg_catalog.<>) 0 AND rel.oid OPERATOR(pg_catalog.=) con.conrelid"
	" LEFT JOIN typ ON con.contypid OPERATOR(pg_catalog.<>) 0 AND typ.oid OPERATOR(pg_catalog.=) con.contypid"
	" WHERE rel.oid IS NOT NULL OR typ.oid IS NOT NULL",

	/*
	 * index, but not the ones behind a primary key, unique or exclusion
	 * constraint: the constraint's definition has theirs.  An invalid one
	 * (a CREATE INDEX CONCURRENTLY that failed) says so.
	 */
	"SELECT 'index', pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.'"
	"      OPERATOR(pg_catalog.||) pg_catalog.quote_ident(ic.relname),"
	" pg_catalog.pg_get_indexdef(i.indexrelid)"
	" OPERATOR(pg_catalog.||) CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END"
	" FROM rel"
	" JOIN pg_catalog.pg_index i ON i.indrelid OPERATOR(pg_catalog.=) rel.oid"
	" JOIN pg_catalog.pg_class ic ON ic.oid OPERATOR(pg_catalog.=) i.indexrelid"
	" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) ic.relnamespace"
	" WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_constraint con"
	"      WHERE con.conrelid OPERATOR(pg_catalog.=) i.indrelid"
	"        AND con.conindid OPERATOR(pg_catalog.=) i.indexrelid"
	"        AND con.contype OPERATOR(pg_catalog.=) ANY ('{p,u,x}'::pg_catalog.\"char\"[]))",

	/* sequence: its parameters and owning column, not its current value */
	"SELECT 'sequence', rel.q,"
	" 'AS ' OPERATOR(pg_catalog.||) pg_catalog.format_type(s.seqtypid, NULL)"
	" OPERATOR(pg_catalog.||) ' INCREMENT ' OPERATOR(pg_catalog.||) s.seqincrement"
	" OPERATOR(pg_catalog.||) ' MINVALUE ' OPERATOR(pg_catalog.||) s.seqmin"
	" OPERATOR(pg_catalog.||) ' MAXVALUE ' OPERATOR(pg_catalog.||) s.seqmax"
	" OPERATOR(pg_catalog.||) ' START ' OPERATOR(pg_catalog.||) s.seqstart"
	" OPERATOR(pg_catalog.||) ' CACHE ' OPERATOR(pg_catalog.||) s.seqcache"
	" OPERATOR(pg_catalog.||) CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END"
	" OPERATOR(pg_catalog.||) COALESCE((SELECT ' OWNED BY '"
	"      OPERATOR(pg_catalog.||) d.refobjid::pg_catalog.regclass::pg_catalog.text"
	"      OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(a.attname)"
	"      FROM pg_catalog.pg_depend d"
	"      JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) d.refobjid"
	"           AND a.attnum OPERATOR(pg_catalog.=) d.refobjsubid"
	"      WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
	"        AND d.objid OPERATOR(pg_catalog.=) rel.oid"
	"        AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
	"        AND d.deptype OPERATOR(pg_catalog.=) ANY ('{a,i}'::pg_catalog.\"char\"[])), '')"
	" FROM rel JOIN pg_catalog.pg_sequence s ON s.seqrelid OPERATOR(pg_catalog.=) rel.oid",

	/* view, materialized view: the query and the view options */
	"SELECT rel.word, rel.q,"
	" pg_catalog.pg_get_viewdef(rel.oid)"
	" OPERATOR(pg_catalog.||) CASE WHEN rel.reloptions IS NULL THEN '' ELSE ' WITH ('"
	"      OPERATOR(pg_catalog.||) (SELECT pg_catalog.string_agg(o, ', ' ORDER BY o COLLATE \"C\")"
	"      FROM pg_catalog.unnest(rel.reloptions) o) OPERATOR(pg_catalog.||) ')' END"
	" FROM rel WHERE rel.relkind OPERATOR(pg_catalog.=) ANY ('{v,m}'::pg_catalog.\"char\"[])",

	/* function, procedure: the CREATE statement the server writes */
	"SELECT fn.word, fn.q, pg_catalog.pg_get_functiondef(fn.oid)"
	" FROM fn WHERE fn.prokind OPERATOR(pg_catalog.<>) 'a'",

	/* aggregate: its support functions and state */
	"SELECT 'aggregate', fn.q,"
	" 'SFUNC ' OPERATOR(pg_catalog.||) ag.aggtransfn::pg_catalog.regprocedure::pg_catalog.text"
	" OPERATOR(pg_catalog.||) ' STYPE ' OPERATOR(pg_catalog.||) pg_catalog.format_type(ag.aggtranstype, NULL)"
	" OPERATOR(pg_catalog.||) CASE WHEN ag.aggfinalfn OPERATOR(pg_catalog.<>) 0"
	"      THEN ' FINALFUNC ' OPERATOR(pg_catalog.||) ag.aggfinalfn::pg_catalog.regprocedure::pg_catalog.text ELSE '' END"
	" OPERATOR(pg_catalog.||) CASE WHEN ag.aggcombinefn OPERATOR(pg_catalog.<>) 0"
	"      THEN ' COMBINEFUNC ' OPERATOR(pg_catalog.||) ag.aggcombinefn::pg_catalog.regprocedure::pg_catalog.text ELSE '' END"
	" OPERATOR(pg_catalog.||) COALESCE(' INITCOND ' OPERATOR(pg_catalog.||) pg_catalog.quote_literal(ag.agginitval), '')"
	" OPERATOR(pg_catalog.||) ' KIND ' OPERATOR(pg_catalog.||) ag.aggkind::pg_catalog.text"
	" FROM fn JOIN pg_catalog.pg_aggregate ag ON ag.aggfnoid OPERATOR(pg_catalog.=) fn.oid",

	/* trigger, the user's (not the internal ones behind foreign keys) */
	"SELECT 'trigger', rel.q OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(tg.tgname),"
	" pg_catalog.pg_get_triggerdef(tg.oid)"
	" OPERATOR(pg_catalog.||) CASE tg.tgenabled WHEN 'D' THEN ' DISABLED' WHEN 'R' THEN ' ENABLE REPLICA'"
	"      WHEN 'A' THEN ' ENABLE ALWAYS' ELSE '' END"
	" FROM rel JOIN pg_catalog.pg_trigger tg ON tg.tgrelid OPERATOR(pg_catalog.=) rel.oid"
	" WHERE NOT tg.tgisinternal",

	/* rule, other than a view's own */
	"SELECT 'rule', rel.q OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(ru.rulename),"
	" pg_catalog.pg_get_ruledef(ru.oid)"
	" FROM rel JOIN pg_catalog.pg_rewrite ru ON ru.ev_class OPERATOR(pg_catalog.=) rel.oid"
	" WHERE ru.rulename OPERATOR(pg_catalog.<>) '_RETURN'",

	/* policy: command, roles (sorted), expressions */
	"SELECT 'policy', rel.q OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(po.polname),"
	" CASE WHEN po.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END"
	" OPERATOR(pg_catalog.||) ' FOR ' OPERATOR(pg_catalog.||) CASE po.polcmd WHEN 'r' THEN 'SELECT'"
	"      WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END"
	" OPERATOR(pg_catalog.||) ' TO ' OPERATOR(pg_catalog.||) (SELECT pg_catalog.string_agg(CASE WHEN r OPERATOR(pg_catalog.=) 0"
	"      THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r)) END, ', '"
	"      ORDER BY CASE WHEN r OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
	"               ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r)) END COLLATE \"C\")"
	"      FROM pg_catalog.unnest(po.polroles) r)"
	" OPERATOR(pg_catalog.||) COALESCE(' USING (' OPERATOR(pg_catalog.||) pg_catalog.pg_get_expr(po.polqual, po.polrelid)"
	"      OPERATOR(pg_catalog.||) ')', '')"
	" OPERATOR(pg_catalog.||) COALESCE(' WITH CHECK (' OPERATOR(pg_catalog.||) pg_catalog.pg_get_expr(po.polwithcheck, po.polrelid)"
	"      OPERATOR(pg_catalog.||) ')', '')"
	" FROM rel JOIN pg_catalog.pg_policy po ON po.polrelid OPERATOR(pg_catalog.=) rel.oid",

	/* enum, its values in their order */
	"SELECT 'enum', typ.q,"
	" 'ENUM (' OPERATOR(pg_catalog.||) COALESCE((SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', '"
	"      ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e WHERE e.enumtypid OPERATOR(pg_catalog.=) typ.oid), '')"
	" OPERATOR(pg_catalog.||) ')'"
	" FROM typ WHERE typ.typtype OPERATOR(pg_catalog.=) 'e'",

	/* domain: base type, collation, default, NOT NULL (checks are constraints) */
	"SELECT 'domain', typ.q,"
	" pg_catalog.format_type(typ.typbasetype, typ.typtypmod)"
	" OPERATOR(pg_catalog.||) CASE WHEN typ.typcollation OPERATOR(pg_catalog.<>) bt.typcollation"
	"      THEN ' COLLATE ' OPERATOR(pg_catalog.||) (SELECT pg_catalog.quote_ident(cn.nspname)"
	"           OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(co.collname)"
	"           FROM pg_catalog.pg_collation co"
	"           JOIN pg_catalog.pg_namespace cn ON cn.oid OPERATOR(pg_catalog.=) co.collnamespace"
	"           WHERE co.oid OPERATOR(pg_catalog.=) typ.typcollation) ELSE '' END"
	" OPERATOR(pg_catalog.||) COALESCE(' DEFAULT ' OPERATOR(pg_catalog.||) typ.typdefault, '')"
	" OPERATOR(pg_catalog.||) CASE WHEN typ.typnotnull THEN ' NOT NULL' ELSE '' END"
	" FROM typ JOIN pg_catalog.pg_type bt ON bt.oid OPERATOR(pg_catalog.=) typ.typbasetype"
	" WHERE typ.typtype OPERATOR(pg_catalog.=) 'd'",

	/* composite type: its attributes, in their order */
	"SELECT 'composite_type', typ.q,"
	" '(' OPERATOR(pg_catalog.||) COALESCE((SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname)"
	"      OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) pg_catalog.format_type(a.atttypid, a.atttypmod), ', '"
	"      ORDER BY a.attnum) FROM pg_catalog.pg_attribute a"
	"      WHERE a.attrelid OPERATOR(pg_catalog.=) typ.typrelid AND a.attnum OPERATOR(pg_catalog.>) 0"
	"        AND NOT a.attisdropped), '') OPERATOR(pg_catalog.||) ')'"
	" FROM typ WHERE typ.typtype OPERATOR(pg_catalog.=) 'c'",

	/* range type */
	"SELECT 'range_type', typ.q,"
	" 'SUBTYPE ' OPERATOR(pg_catalog.||) pg_catalog.format_type(r.rngsubtype, NULL)"
	" OPERATOR(pg_catalog.||) CASE WHEN r.rngsubdiff OPERATOR(pg_catalog.<>) 0"
	"      THEN ' SUBTYPE_DIFF ' OPERATOR(pg_catalog.||) r.rngsubdiff::pg_catalog.regproc::pg_catalog.text ELSE '' END"
	" FROM typ JOIN pg_catalog.pg_range r ON r.rngtypid OPERATOR(pg_catalog.=) typ.oid",

	/* base type: its input and output functions */
	"SELECT 'base_type', typ.q,"
	" 'INPUT ' OPERATOR(pg_catalog.||) typ.typinput::pg_catalog.regproc::pg_catalog.text"
	" OPERATOR(pg_catalog.||) ' OUTPUT ' OPERATOR(pg_catalog.||) typ.typoutput::pg_catalog.regproc::pg_catalog.text"
	" FROM typ WHERE typ.typtype OPERATOR(pg_catalog.=) 'b'",

	/* extended statistics */
	"SELECT 'statistics', pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.'"
	"      OPERATOR(pg_catalog.||) pg_catalog.quote_ident(st.stxname),"
	" pg_catalog.pg_get_statisticsobjdef(st.oid)"
	" FROM pg_catalog.pg_statistic_ext st JOIN nsp ON nsp.oid OPERATOR(pg_catalog.=) st.stxnamespace"
	" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) st.stxnamespace",

	/*
	 * grant, revoke: how an object's ACL differs from the default one (its
	 * owner's full rights, and PUBLIC's EXECUTE on a function and USAGE on
	 * a type), one row per object and grantee, privileges sorted.  An
	 * object whose ACL is still the default has none, also when the default
	 * was granted explicitly; a revoked default is a revoke row.
	 */
	"SELECT CASE WHEN x.granted THEN 'grant' ELSE 'revoke' END,"
	" x.obj OPERATOR(pg_catalog.||) CASE WHEN x.granted THEN ' TO ' ELSE ' FROM ' END"
	"      OPERATOR(pg_catalog.||) CASE WHEN x.grantee OPERATOR(pg_catalog.=) 0"
	"      THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END,"
	" pg_catalog.string_agg(x.privilege_type OPERATOR(pg_catalog.||) CASE WHEN x.is_grantable"
	"      THEN ' WITH GRANT OPTION' ELSE '' END, ', ' ORDER BY x.privilege_type COLLATE \"C\")"
	" FROM (SELECT true AS granted, * FROM ("
	"         SELECT a.obj, e.grantee, e.privilege_type, e.is_grantable FROM acls a, pg_catalog.aclexplode(a.acl) e"
	"         EXCEPT"
	"         SELECT a.obj, e.grantee, e.privilege_type, e.is_grantable FROM acls a, pg_catalog.aclexplode(a.dflt) e) g"
	"       UNION ALL"
	"       SELECT false, * FROM ("
	"         SELECT a.obj, e.grantee, e.privilege_type, e.is_grantable FROM acls a, pg_catalog.aclexplode(a.dflt) e"
	"         EXCEPT"
	"         SELECT a.obj, e.grantee, e.privilege_type, e.is_grantable FROM acls a, pg_catalog.aclexplode(a.acl) e) r) x"
	" GROUP BY x.granted, x.obj, x.grantee",

	/* default privileges set for a managed schema */
	"SELECT 'default_privileges',"
	" 'FOR ROLE ' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(da.defaclrole))"
	" OPERATOR(pg_catalog.||) ' IN SCHEMA ' OPERATOR(pg_catalog.||) nsp.q"
	" OPERATOR(pg_catalog.||) ' ON ' OPERATOR(pg_catalog.||) CASE da.defaclobjtype WHEN 'r' THEN 'TABLES'"
	"      WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' END"
	" OPERATOR(pg_catalog.||) ' TO ' OPERATOR(pg_catalog.||) CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0"
	"      THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,"
	" pg_catalog.string_agg(a.privilege_type OPERATOR(pg_catalog.||) CASE WHEN a.is_grantable"
	"      THEN ' WITH GRANT OPTION' ELSE '' END, ', ' ORDER BY a.privilege_type COLLATE \"C\")"
	" FROM pg_catalog.pg_default_acl da JOIN nsp ON nsp.oid OPERATOR(pg_catalog.=) da.defaclnamespace,"
	"      pg_catalog.aclexplode(da.defaclacl) a"
	" GROUP BY da.defaclrole, nsp.q, da.defaclobjtype, a.grantee",

	/* comment, on anything above (pg_identify_object names it) */
	"SELECT 'comment', io.type OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) io.identity, d.description"
	" FROM pg_catalog.pg_description d,"
	"      pg_catalog.pg_identify_object(d.classoid, d.objoid, d.objsubid) io"
	" WHERE CASE d.classoid"
	"   WHEN 'pg_catalog.pg_namespace'::pg_catalog.regclass THEN d.objoid IN (SELECT nsp.oid FROM nsp)"
	"   WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN d.objoid IN (SELECT rel.oid FROM rel)"
	"   WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN d.objoid IN (SELECT fn.oid FROM fn)"
	"   WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN d.objoid IN (SELECT typ.oid FROM typ)"
	"   WHEN 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN d.objoid IN ("
	"        SELECT con.oid FROM pg_catalog.pg_constraint con"
	"        WHERE con.conrelid IN (SELECT rel.oid FROM rel) OR con.contypid IN (SELECT typ.oid FROM typ))"
	"   WHEN 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN d.objoid IN ("
	"        SELECT tg.oid FROM pg_catalog.pg_trigger tg WHERE tg.tgrelid IN (SELECT rel.oid FROM rel))"
	"   WHEN 'pg_catalog.pg_policy'::pg_catalog.regclass THEN d.objoid IN ("
	"        SELECT po.oid FROM pg_catalog.pg_policy po WHERE po.polrelid IN (SELECT rel.oid FROM rel))"
	"   WHEN 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN d.objoid IN ("
	"        SELECT ru.oid FROM pg_catalog.pg_rewrite ru WHERE ru.ev_class IN (SELECT rel.oid FROM rel))"
	"   WHEN 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass THEN d.objoid IN ("
	"        SELECT st.oid FROM pg_catalog.pg_statistic_ext st WHERE st.stxnamespace IN (SELECT nsp.oid FROM nsp))"
	"   ELSE false END",

	/* extension: by name, with its version, when it lives in a managed schema */
	"SELECT 'extension', pg_catalog.quote_ident(e.extname),"
	" 'VERSION ' OPERATOR(pg_catalog.||) pg_catalog.quote_literal(e.extversion)"
	" OPERATOR(pg_catalog.||) ' SCHEMA ' OPERATOR(pg_catalog.||) nsp.q"
	" FROM pg_catalog.pg_extension e JOIN nsp ON nsp.oid OPERATOR(pg_catalog.=) e.extnamespace"
	" WHERE e.extname OPERATOR(pg_catalog.<>) 'pg_migrate'",
};

/* The whole statement, built once per backend */
static const char *
model_statement(void)
{
	static char *sql = NULL;

	if (sql == NULL)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		appendStringInfoString(&buf, model_with);
		appendStringInfoString(&buf, " SELECT k, i, d FROM (");
		for (size_t i = 0; i < lengthof(model_kinds); i++)
		{
			if (i > 0)
				appendStringInfoString(&buf, " UNION ALL ");
			appendStringInfoString(&buf, model_kinds[i]);
		}
		appendStringInfoString(&buf, ") AS o(k, i, d)"
							   " ORDER BY k COLLATE \"C\", i COLLATE \"C\"");
		sql = MemoryContextStrdup(TopMemoryContext, buf.data);
		pfree(buf.data);
	}
	return sql;
}

/*
 * The OIDs of the schemas named, in the order given; NULL names: the
 * managed schemas (pg_migrate.managed_schemas), by name.  A schema named
 * that does not exist is an error.
 */
Oid *
pgm_schema_oids(char **names, int nnames, int *n)
{
	Oid		   *oids;

	if (names != NULL)
	{
		oids = palloc(sizeof(Oid) * Max(nnames, 1));
		for (int i = 0; i < nnames; i++)
			oids[i] = get_namespace_oid(names[i], false);
		*n = nnames;
		return oids;
	}

	/* every schema, filtered by the managed rule (a few dozen rows at most) */
	{
		int			rc;
		int			cap = 16;

		*n = 0;
		oids = palloc(sizeof(Oid) * cap);
		SPI_connect();
		rc = SPI_execute("SELECT n.oid FROM pg_catalog.pg_namespace n"
						 " ORDER BY n.nspname COLLATE \"C\"", true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed reading pg_namespace: %s", SPI_result_code_string(rc));
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			bool		isnull;
			Oid			nsp = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[r],
															 SPI_tuptable->tupdesc, 1, &isnull));

			if (!pgm_schema_is_managed(nsp))
				continue;
			if (*n == cap)
			{
				cap *= 2;
				oids = repalloc(oids, sizeof(Oid) * cap);
			}
			oids[(*n)++] = nsp;
		}
		SPI_finish();
	}
	return oids;
}

/*
 * Settings pinned while the catalog is read, so that the deparsers give
 * the same text in every session (pg_dump pins the same ones).
 */
static int
pin_output_settings(void)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("datestyle", "ISO, YMD", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("intervalstyle", "postgres", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("extra_float_digits", "3", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("quote_all_identifiers", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	/* a timestamptz partition bound or default prints in the session's zone */
	(void) set_config_option("timezone", "UTC", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

static SPIPlanPtr model_plan = NULL;

/*
 * A generic plan, made for a caller that reads the model many times in a
 * row on a schema that changes little meanwhile (migrate_check: twice per
 * step), which would otherwise spend half its time planning.  Only held
 * between pgm_schema_model_hold() and pgm_schema_model_release(): kept for
 * good, a plan made on a small schema goes on being used on a big one.
 */
static SPIPlanPtr held_plan = NULL;
static bool holding = false;

/* Run the model's statement; the rows are in SPI_tuptable, sorted */
static void
run_model_statement(const Oid *schemas, int nschemas)
{
	Datum		arg;
	Oid			argtype = OIDARRAYOID;
	Datum	   *elems = palloc(sizeof(Datum) * Max(nschemas, 1));
	int			rc;

	for (int i = 0; i < nschemas; i++)
		elems[i] = ObjectIdGetDatum(schemas[i]);
	arg = PointerGetDatum(construct_array(elems, nschemas, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
	/*
	 * Prepared once per backend (parsed and analysed once).  Not
	 * read-only: a fresh snapshot, which sees what the running step did.
	 */
	if (holding)
	{
		if (held_plan == NULL)
		{
			SPIPlanPtr	plan = SPI_prepare_cursor(model_statement(), 1, &argtype,
												  CURSOR_OPT_GENERIC_PLAN);

			if (plan == NULL || SPI_keepplan(plan) != 0)
				elog(ERROR, "could not prepare the schema model: %s", SPI_result_code_string(SPI_result));
			held_plan = plan;
		}
		rc = SPI_execute_plan(held_plan, &arg, NULL, false, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_plan failed reading the schema model: %s",
				 SPI_result_code_string(rc));
		return;
	}
	if (model_plan == NULL)
	{
		/*
		 * Planned anew at every call, with the statistics of the moment: a
		 * generic plan made when the schema was small goes on nesting
		 * loops at 10,000 tables (4.7 s instead of 0.8 s).  Only the parse
		 * analysis is saved.
		 */
		SPIPlanPtr	plan = SPI_prepare_cursor(model_statement(), 1, &argtype,
											  CURSOR_OPT_CUSTOM_PLAN);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for the schema model: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed for the schema model");
		model_plan = plan;
	}
	rc = SPI_execute_plan(model_plan, &arg, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed reading the schema model: %s",
			 SPI_result_code_string(rc));
}

static char *
column_text(HeapTuple tuple, TupleDesc desc, int col)
{
	char	   *s = SPI_getvalue(tuple, desc, col);

	return s ? s : pstrdup("");
}

/*
 * Read the model of the given schemas.  The objects are allocated in the
 * caller's memory context.
 */
PgmSchemaModel
pgm_schema_model_read(const Oid *schemas, int nschemas)
{
	MemoryContext caller = CurrentMemoryContext;
	PgmSchemaModel m = {0, NULL};
	int			nest;

	SPI_connect();
	nest = pin_output_settings();
	run_model_statement(schemas, nschemas);
	AtEOXact_GUC(true, nest);

	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		m.n = (int) SPI_processed;
		m.objects = palloc(sizeof(PgmSchemaObject) * Max(m.n, 1));
		for (int r = 0; r < m.n; r++)
		{
			HeapTuple	t = SPI_tuptable->vals[r];
			TupleDesc	d = SPI_tuptable->tupdesc;

			m.objects[r].kind = column_text(t, d, 1);
			m.objects[r].identity = column_text(t, d, 2);
			m.objects[r].definition = column_text(t, d, 3);
		}
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return m;
}

/* A definition's digest in a snapshot: 16 hex digits of its SHA-256 */
#define DIGEST_HEX 16

static void
append_digest(StringInfo digests, const char *kind, int kindlen, const char *identity,
			  int identlen, const char *def, int deflen)
{
	PgmSha256	ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char		hex[DIGEST_HEX + 1];
	char	   *key = palloc(kindlen + identlen + 2);

	memcpy(key, kind, kindlen);
	key[kindlen] = ' ';
	memcpy(key + kindlen + 1, identity, identlen);
	key[kindlen + identlen + 1] = '\0';

	pgm_sha256_init(&ctx);
	pgm_sha256_update(&ctx, (const uint8 *) def, deflen);
	pgm_sha256_final(&ctx, digest);
	hex_encode((const char *) digest, DIGEST_HEX / 2, hex);
	hex[DIGEST_HEX] = '\0';

	appendStringInfoChar(digests, digests->len > 1 ? ',' : ' ');
	escape_json(digests, key);
	appendStringInfo(digests, ": \"%s\"", hex);
	pfree(key);
}

/*
 * The fingerprint of the given schemas: SHA-256, in hex, of every object's
 * kind, identity and definition, each ended by a NUL byte (none of them
 * can hold one), in the model's order.  Written to out
 * (PGM_FINGERPRINT_LEN bytes).  With 'digests', also a snapshot of the
 * state: a JSON object from "kind identity" to a digest of the
 * definition, from which migrate_verify can name what changed.
 */
void
pgm_schema_fingerprint(const Oid *schemas, int nschemas, char *out, StringInfo digests)
{
	PgmSha256	ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	int			nest;

	SPI_connect();
	nest = pin_output_settings();
	run_model_statement(schemas, nschemas);
	AtEOXact_GUC(true, nest);

	if (digests)
	{
		resetStringInfo(digests);
		appendStringInfoChar(digests, '{');
	}
	pgm_sha256_init(&ctx);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		const char *field[3];
		int			len[3];

		for (int c = 0; c < 3; c++)
		{
			bool		isnull;
			Datum		v = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c + 1, &isnull);
			text	   *t = isnull ? NULL : DatumGetTextPP(v);

			field[c] = t ? VARDATA_ANY(t) : "";
			len[c] = t ? VARSIZE_ANY_EXHDR(t) : 0;
			pgm_sha256_update(&ctx, (const uint8 *) field[c], len[c]);
			pgm_sha256_update(&ctx, (const uint8 *) "", 1);
		}
		/* the buffer grows in its own (the caller's) context: repalloc keeps it */
		if (digests)
			append_digest(digests, field[0], len[0], field[1], len[1], field[2], len[2]);
	}
	pgm_sha256_final(&ctx, digest);
	if (digests)
		appendStringInfoString(digests, digests->len > 1 ? " }" : "}");
	SPI_finish();

	hex_encode((const char *) digest, PG_SHA256_DIGEST_LENGTH, out);
	out[PGM_FINGERPRINT_LEN - 1] = '\0';
}

/*
 * How two snapshots (pgm_schema_fingerprint's digests) differ: the objects
 * of 'now' that 'then' lacks ("added"), those of 'then' that 'now' lacks
 * ("removed"), and those in both with another definition ("changed"),
 * sorted by object.
 */
PgmDigestChange *
pgm_schema_digest_diff(const char *now, const char *then, int *n)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	PgmDigestChange *out;
	int			rc;

	values[0] = CStringGetTextDatum(now);
	values[1] = CStringGetTextDatum(then);
	SPI_connect();
	rc = SPI_execute_with_args("SELECT COALESCE(l.key, r.key),"
							   " CASE WHEN r.key IS NULL THEN 'added' WHEN l.key IS NULL THEN 'removed'"
							   "      ELSE 'changed' END"
							   " FROM pg_catalog.jsonb_each_text($1::pg_catalog.jsonb) l"
							   " FULL JOIN pg_catalog.jsonb_each_text($2::pg_catalog.jsonb) r"
							   "      ON l.key OPERATOR(pg_catalog.=) r.key"
							   " WHERE l.value IS DISTINCT FROM r.value"
							   " ORDER BY COALESCE(l.key, r.key) COLLATE \"C\"",
							   2, types, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed comparing snapshots: %s", SPI_result_code_string(rc));
	*n = (int) SPI_processed;
	out = MemoryContextAlloc(caller, sizeof(PgmDigestChange) * Max(*n, 1));
	for (int k = 0; k < *n; k++)
	{
		char	   *object = SPI_getvalue(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 1);
		char	   *change = SPI_getvalue(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 2);

		out[k].object = MemoryContextStrdup(caller, object);
		out[k].change = strcmp(change, "added") == 0 ? "added" :
			strcmp(change, "removed") == 0 ? "removed" : "changed";
	}
	SPI_finish();
	return out;
}

/* Plan the model's statement once for the reads until the release */
void
pgm_schema_model_hold(void)
{
	pgm_schema_model_release();
	holding = true;
}

void
pgm_schema_model_release(void)
{
	holding = false;
	if (held_plan != NULL)
	{
		SPI_freeplan(held_plan);
		held_plan = NULL;
	}
}
