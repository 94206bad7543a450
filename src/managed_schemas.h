/*-------------------------------------------------------------------------
 *
 * managed_schemas.h
 *	  Which schemas pg_migrate manages: the schema model, the fingerprint
 *	  and the DDL guard look at these and nothing else.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGM_MANAGED_SCHEMAS_H
#define PGM_MANAGED_SCHEMAS_H

extern bool pgm_schema_is_managed(Oid nspid);
extern bool pgm_schema_is_user_schema(Oid nspid);

#endif							/* PGM_MANAGED_SCHEMAS_H */
