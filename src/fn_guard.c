/*-------------------------------------------------------------------------
 *
 * fn_guard.c
 *	  The DDL guard: migrate_guard(enable) turns on or off the event
 *	  triggers that reject DDL on the managed schemas outside pg_migrate
 *	  runs, and migrate_ddl_guard() is their function.
 *
 * A guardrail, not a security boundary: it keeps hands and tools from
 * changing the schema behind the migrations' back, but anyone may break
 * glass with SET pg_migrate.allow_ddl = on, a superuser may disable the
 * triggers, and what DDL cannot see (a direct catalog update) it does not
 * stop.
 *
 * The event triggers are created by the extension's scripts, disabled (the
 * extension is installed by a superuser, and only a superuser may create
 * an event trigger); migrate_guard only enables or disables them, so DROP
 * EXTENSION drops them and there is nothing to re-create.  Three of them:
 *  - ddl_command_start, the guard proper: rejects the common statements
 *	  on tables, indexes, views and sequences before any work is done,
 *	  resolving their schema from the parse tree (no lock is taken);
 *  - ddl_command_end and sql_drop, the backstops: every other command, as
 *	  pg_event_trigger_ddl_commands() and pg_event_trigger_dropped_objects()
 *	  report its objects' schemas (the command is then rolled back).
 * DDL run by pg_migrate itself (a step's SQL in this session or in its
 * background worker, a rehearsal, a check) passes, and so does
 * CREATE/ALTER/DROP EXTENSION and anything on temporary objects.
 *
 * The rewrite guard is another event trigger, on table_rewrite, always
 * enabled and idle unless pg_migrate.guard_rewrites is on: while a real
 * run's step runs in this session (not a rehearsal or check, which report
 * rewrites instead), it aborts the rewrite of a table of at least
 * pg_migrate.hazard_min_table_size unless the revision was registered
 * with allow_hazards => '{rewrite}'.  The steps of a non-transactional
 * revision run in a background worker, which it does not watch.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/namespace.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "storage/bufmgr.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "bgtask.h"
#include "managed_schemas.h"
#include "settings.h"
#include "step.h"

PG_FUNCTION_INFO_V1(migrate_guard);
PG_FUNCTION_INFO_V1(migrate_ddl_guard);
PG_FUNCTION_INFO_V1(migrate_rewrite_guard);

static const char *const guard_triggers[] = {
	"pg_migrate_ddl_guard", "pg_migrate_ddl_guard_end", "pg_migrate_ddl_guard_drop"
};

/* migrate_guard(enable boolean) -> void, for superusers */
Datum
migrate_guard(PG_FUNCTION_ARGS)
{
	bool		enable;
	int			rc;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("enable must not be null")));
	enable = PG_GETARG_BOOL(0);
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser to turn the DDL guard on or off"),
				 errdetail("The guard is a set of event triggers, which only a superuser may change.")));
	SPI_connect();
	for (size_t i = 0; i < lengthof(guard_triggers); i++)
	{
		rc = SPI_execute(psprintf("ALTER EVENT TRIGGER %s %s", guard_triggers[i],
								  enable ? "ENABLE" : "DISABLE"), false, 0);
		if (rc != SPI_OK_UTILITY)
			elog(ERROR, "SPI_execute failed altering event trigger %s: %s", guard_triggers[i],
				 SPI_result_code_string(rc));
	}
	SPI_finish();
	PG_RETURN_VOID();
}

static void
reject(const char *schema, CommandTag tag)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s in schema \"%s\" is not allowed outside pg_migrate", GetCommandTagName(tag), schema),
			 errdetail("The DDL guard is on (migrate_guard): the managed schemas change through migrations."),
			 errhint("Register a revision and apply it with migrate_upgrade() or CALL migrate_apply(), or break glass with SET pg_migrate.allow_ddl = on.")));
}

static void
check_namespace(Oid nsp, CommandTag tag)
{
	if (OidIsValid(nsp) && pgm_schema_is_managed(nsp))
		reject(get_namespace_name(nsp), tag);
}

/* The schema of a relation named by a statement: its own, or where it would be made */
static Oid
relation_namespace(RangeVar *rv, bool creating)
{
	Oid			relid;

	if (rv == NULL || rv->relpersistence == RELPERSISTENCE_TEMP)
		return InvalidOid;
	if (rv->schemaname)
		return get_namespace_oid(rv->schemaname, true);
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (OidIsValid(relid))
		return get_rel_namespace(relid);
	return creating ? RangeVarGetCreationNamespace(rv) : InvalidOid;
}

/* ddl_command_start: the statements whose schema the parse tree tells */
static void
check_parse_tree(Node *stmt, CommandTag tag)
{
	switch (nodeTag(stmt))
	{
		case T_CreateStmt:
			check_namespace(relation_namespace(((CreateStmt *) stmt)->relation, true), tag);
			break;
		case T_AlterTableStmt:
			check_namespace(relation_namespace(((AlterTableStmt *) stmt)->relation, false), tag);
			break;
		case T_IndexStmt:
			check_namespace(relation_namespace(((IndexStmt *) stmt)->relation, false), tag);
			break;
		case T_ViewStmt:
			check_namespace(relation_namespace(((ViewStmt *) stmt)->view, true), tag);
			break;
		case T_CreateTableAsStmt:
			check_namespace(relation_namespace(((CreateTableAsStmt *) stmt)->into->rel, true), tag);
			break;
		case T_CreateSeqStmt:
			check_namespace(relation_namespace(((CreateSeqStmt *) stmt)->sequence, true), tag);
			break;
		case T_CreateTrigStmt:
			check_namespace(relation_namespace(((CreateTrigStmt *) stmt)->relation, false), tag);
			break;
		case T_CreatePolicyStmt:
			check_namespace(relation_namespace(((CreatePolicyStmt *) stmt)->table, false), tag);
			break;
		case T_RenameStmt:
			check_namespace(relation_namespace(((RenameStmt *) stmt)->relation, false), tag);
			break;
		case T_DropStmt:
			{
				DropStmt   *ds = (DropStmt *) stmt;
				ListCell   *lc;

				if (ds->removeType != OBJECT_TABLE && ds->removeType != OBJECT_INDEX &&
					ds->removeType != OBJECT_VIEW && ds->removeType != OBJECT_MATVIEW &&
					ds->removeType != OBJECT_SEQUENCE && ds->removeType != OBJECT_FOREIGN_TABLE)
					break;
				foreach(lc, ds->objects)
					check_namespace(relation_namespace(makeRangeVarFromNameList((List *) lfirst(lc)), false),
									tag);
			}
			break;
		default:
			break;				/* the end and drop triggers see the rest */
	}
}

/* ddl_command_end and sql_drop: the schemas the command's objects are in */
static void
check_reported(const char *sql, CommandTag tag)
{
	int			rc;

	SPI_connect();
	rc = SPI_execute(sql, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed in the DDL guard: %s", SPI_result_code_string(rc));
	for (uint64 k = 0; k < SPI_processed; k++)
	{
		char	   *schema = SPI_getvalue(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 1);
		Oid			nsp = schema ? get_namespace_oid(schema, true) : InvalidOid;

		check_namespace(nsp, tag);
	}
	SPI_finish();
}

/* The function of the guard's event triggers */
Datum
migrate_ddl_guard(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("migrate_ddl_guard() must be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;

	/* pg_migrate's own runs, break glass, and extensions pass */
	if (pgm_allow_ddl || pgm_step_in_migration() || pgm_bgtask_serving() || creating_extension ||
		trigdata->tag == CMDTAG_CREATE_EXTENSION || trigdata->tag == CMDTAG_ALTER_EXTENSION ||
		trigdata->tag == CMDTAG_DROP_EXTENSION)
		PG_RETURN_VOID();

	if (strcmp(trigdata->event, "ddl_command_start") == 0)
		check_parse_tree(trigdata->parsetree, trigdata->tag);
	else if (strcmp(trigdata->event, "ddl_command_end") == 0)
		check_reported("SELECT DISTINCT c.schema_name FROM pg_catalog.pg_event_trigger_ddl_commands() c"
					   " WHERE c.schema_name IS NOT NULL AND NOT c.in_extension", trigdata->tag);
	else if (strcmp(trigdata->event, "sql_drop") == 0)
		check_reported("SELECT DISTINCT d.schema_name FROM pg_catalog.pg_event_trigger_dropped_objects() d"
					   " WHERE d.schema_name IS NOT NULL AND NOT d.is_temporary", trigdata->tag);
	PG_RETURN_VOID();
}

/* The function of the table_rewrite event trigger (the rewrite guard) */
Datum
migrate_rewrite_guard(PG_FUNCTION_ARGS)
{
	bool		may_rewrite;
	Oid			relid;
	Relation	rel;
	int64		size;
	char	   *name;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("migrate_rewrite_guard() must be called as an event trigger")));
	if (!pgm_guard_rewrites || !pgm_step_guarded(&may_rewrite) || may_rewrite)
		PG_RETURN_VOID();

	relid = DatumGetObjectId(DirectFunctionCall1(pg_event_trigger_table_rewrite_oid, (Datum) 0));
	rel = relation_open(relid, NoLock);	/* the rewriting command holds its lock */
	size = RELKIND_HAS_STORAGE(rel->rd_rel->relkind) ?
		(int64) RelationGetNumberOfBlocks(rel) * BLCKSZ : 0;
	name = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
									  RelationGetRelationName(rel));
	relation_close(rel, NoLock);
	if (size < (int64) pgm_hazard_min_table_size * 1024)
		PG_RETURN_VOID();
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("rewrite of table %s refused by pg_migrate's rewrite guard", name),
			 errdetail("The table has " INT64_FORMAT " kB, at least pg_migrate.hazard_min_table_size, and the revision does not allow a rewrite.", size / 1024),
			 errhint("If the rewrite is intended, register the revision with allow_hazards => '{rewrite}'; to let every rewrite through, SET pg_migrate.guard_rewrites = off.")));
	PG_RETURN_VOID();
}
