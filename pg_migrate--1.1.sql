/* pg_migrate--1.1.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_migrate" to load this file. \quit

--
-- Catalog.  Four tables, their sequences and two trigger functions, all in
-- the schema pgmigrate, which the extension creates and owns: the names a
-- migration tool's tables have (migrate_version above all, sqlalchemy-migrate's
-- table, still present in projects that moved to Alembic) are names users'
-- own migrations create and drop, and nothing of theirs can reach a schema
-- that only this extension uses.  The functions stay in the extension's
-- schema (public by default), so they are called without qualification.
-- Every catalog table and sequence but the epoch is kept by pg_dump
-- (pg_extension_config_dump).  Privileges default to the owner; the README
-- shows the grants for a migration role and for a read-only role (USAGE on
-- the schema, and column grants that leave out the SQL bodies are enough for
-- the read-only functions).
--
CREATE SCHEMA pgmigrate;
COMMENT ON SCHEMA pgmigrate IS 'pg_migrate''s catalog: revisions, version state, log';

-- Registration order: a deterministic tie-break wherever the graph alone does
-- not order two revisions (Alembic uses the order its scripts were loaded).
CREATE SEQUENCE pgmigrate.migrate_revisions_seq;

-- The columns the graph is built from come first, seq among them: a
-- backend decodes each row only as far as the last column it reads, and
-- the SQL bodies, which it skips, can be long.
CREATE TABLE pgmigrate.migrate_revisions (
    revision        text PRIMARY KEY,
    seq             bigint NOT NULL UNIQUE
                    DEFAULT pg_catalog.nextval('pgmigrate.migrate_revisions_seq'::pg_catalog.regclass),
    down_revisions  text[] NOT NULL DEFAULT '{}',   -- empty: a base; several: a merge
    depends_on      text[] NOT NULL DEFAULT '{}',
    branch_labels   text[] NOT NULL DEFAULT '{}',
    message         text NOT NULL DEFAULT '',
    upgrade_sql     text NOT NULL,
    downgrade_sql   text,                           -- NULL: irreversible
    checksum        text NOT NULL,                  -- migrate_checksum(upgrade_sql, downgrade_sql)
    lock_timeout    interval,                       -- applied around this revision's SQL only
    statement_timeout interval,
    transactional   boolean NOT NULL DEFAULT true,  -- false: run statement by statement, outside
                                                    -- any transaction block (CALL migrate_apply only)
    registered_by   name NOT NULL DEFAULT CURRENT_USER,
    registered_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    allow_hazards   text[] NOT NULL DEFAULT '{}', -- hazards it may cause while it runs (rewrite guard)
    -- Same rule as the C check (src/identifier.c); kept here too so that
    -- rows restored by pg_dump or typed in by hand obey it.
    CONSTRAINT migrate_revisions_id_chars
        CHECK (revision OPERATOR(pg_catalog.~) '^[A-Za-z0-9_]{1,128}$')
);
ALTER SEQUENCE pgmigrate.migrate_revisions_seq OWNED BY pgmigrate.migrate_revisions.seq;
-- registration looks labels up without loading the graph
-- (fastupdate off: every registration looks labels up, and a pending list
-- would be scanned each time)
CREATE INDEX migrate_revisions_branch_labels ON pgmigrate.migrate_revisions USING gin (branch_labels)
    WITH (fastupdate = off);

-- The applied heads, as alembic_version holds them.  The scope key lets a
-- later release keep separate state per target schema or migration stream
-- without changing any function's signature; 1.0 uses scope 'default'.
CREATE TABLE pgmigrate.migrate_version (
    scope       text NOT NULL DEFAULT 'default',
    revision    text NOT NULL REFERENCES pgmigrate.migrate_revisions (revision),
    applied_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (scope, revision)
);

-- The epoch: a statement trigger gives it a new value on every change to
-- migrate_revisions, so a backend can keep the revision graph in memory
-- between calls and reload it only when the epoch it sees has moved
-- (src/catalog.c).  Values come from a sequence and never repeat, even
-- across rolled-back transactions.  Not dumped: CREATE EXTENSION makes the row.
CREATE SEQUENCE pgmigrate.migrate_epoch_seq;
CREATE TABLE pgmigrate.migrate_epoch (
    epoch   bigint NOT NULL,
    one_row boolean PRIMARY KEY DEFAULT true CHECK (one_row)
);
INSERT INTO pgmigrate.migrate_epoch (epoch)
    VALUES (pg_catalog.nextval('pgmigrate.migrate_epoch_seq'::pg_catalog.regclass));

CREATE FUNCTION pgmigrate.migrate_bump_epoch()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE pgmigrate.migrate_epoch
       SET epoch = pg_catalog.nextval('pgmigrate.migrate_epoch_seq'::pg_catalog.regclass);
    RETURN NULL;
END
$$;

CREATE TRIGGER migrate_revisions_epoch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pgmigrate.migrate_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION pgmigrate.migrate_bump_epoch();
-- also when changes arrive with session_replication_role = replica
-- (logical replication, some restore tools)
ALTER TABLE pgmigrate.migrate_revisions ENABLE ALWAYS TRIGGER migrate_revisions_epoch;

-- Revisions registered in one transaction may come in any order, as Alembic
-- loads every file before it builds the graph: a parent or depends_on
-- target may be registered after the revision that names it.  The graph is
-- validated once it is complete, by the first call that reads it or at
-- commit by this trigger; it loads the graph only when a registration of
-- the transaction named a revision not registered yet (src/fn_graph_check.c).
-- The WHEN is evaluated as each row is inserted, so a registration whose
-- edges all name registered revisions queues no event at all.
CREATE FUNCTION pgmigrate.migrate_check_graph()
RETURNS trigger
AS 'MODULE_PATHNAME', 'migrate_check_graph'
LANGUAGE C;

CREATE FUNCTION pgmigrate.migrate_graph_check_pending()
RETURNS boolean
AS 'MODULE_PATHNAME', 'migrate_graph_check_pending'
LANGUAGE C VOLATILE;

CREATE CONSTRAINT TRIGGER migrate_revisions_graph_check
    AFTER INSERT ON pgmigrate.migrate_revisions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (pgmigrate.migrate_graph_check_pending())
    EXECUTE FUNCTION pgmigrate.migrate_check_graph();

CREATE SEQUENCE pgmigrate.migrate_log_seq;
-- One value per call of upgrade, downgrade, stamp or apply: groups its rows.
CREATE SEQUENCE pgmigrate.migrate_run_seq;

-- One row per attempt of every step, failures included, and per revision
-- stamped.  Append-only (a trigger refuses UPDATE, DELETE and TRUNCATE).
-- Failed attempts survive the rollback of their step: in CALL mode they are
-- committed after it, in function mode a background worker writes them in a
-- transaction of its own (src/run_log.c).
CREATE TABLE pgmigrate.migrate_log (
    id              bigint PRIMARY KEY
                    DEFAULT pg_catalog.nextval('pgmigrate.migrate_log_seq'::pg_catalog.regclass),
    run_id          bigint NOT NULL,
    scope           text NOT NULL,
    revision        text NOT NULL,
    direction       text NOT NULL CHECK (direction IN ('upgrade', 'downgrade', 'stamp', 'unstamp', 'repair')),
    attempt         integer NOT NULL DEFAULT 1,
    -- started: written and committed before a step of CALL migrate_apply
    -- runs, so that an attempt cut short (backend killed, server crash) is
    -- still on record; the row of its outcome follows it
    outcome         text NOT NULL DEFAULT 'success'
                    CHECK (outcome IN ('started', 'success', 'failed', 'retry')),
    started_at      timestamptz NOT NULL,
    duration        interval NOT NULL,
    role            name NOT NULL,          -- current_user
    session_role    name NOT NULL,          -- session_user
    backend_pid     integer NOT NULL,
    txid            xid8,                   -- NULL when the step's transaction rolled back
    sqlstate        text,
    error_message   text,
    error_detail    text,
    error_position  integer,                -- character position in the step's SQL
    blockers        jsonb,                  -- sessions holding the lock a step timed out on
    fingerprint     text,                   -- migrate_fingerprint() after a successful step
    checksum        text,                   -- the revision's checksum when the row was written
    reason          text                    -- why, for a repair (migrate_repair)
);
ALTER SEQUENCE pgmigrate.migrate_log_seq OWNED BY pgmigrate.migrate_log.id;

-- The per-object digests of each schema state a step left (and a repair
-- accepted), under its fingerprint: migrate_verify names what drifted.
CREATE TABLE pgmigrate.migrate_schema_snapshots (
    fingerprint     text PRIMARY KEY,
    taken_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    objects         jsonb NOT NULL          -- {"kind identity": digest of its definition}
);

CREATE FUNCTION pgmigrate.migrate_log_append_only()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'migrate_log is append-only'
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = pg_catalog.format('%s on migrate_log is not allowed.', TG_OP),
              HINT = 'The log keeps every attempt; DROP EXTENSION removes it with the extension.';
END
$$;
CREATE TRIGGER migrate_log_append_only
    BEFORE UPDATE OR DELETE ON pgmigrate.migrate_log
    FOR EACH ROW EXECUTE FUNCTION pgmigrate.migrate_log_append_only();
CREATE TRIGGER migrate_log_no_truncate
    BEFORE TRUNCATE ON pgmigrate.migrate_log
    FOR EACH STATEMENT EXECUTE FUNCTION pgmigrate.migrate_log_append_only();
ALTER TABLE pgmigrate.migrate_log ENABLE ALWAYS TRIGGER migrate_log_append_only;
ALTER TABLE pgmigrate.migrate_log ENABLE ALWAYS TRIGGER migrate_log_no_truncate;

-- every sequence is dumped too: migrate_run_seq numbers the log's runs, and
-- a restored database must not hand out a run_id its log already has
SELECT pg_catalog.pg_extension_config_dump('pgmigrate.migrate_revisions', '');
SELECT pg_catalog.pg_extension_config_dump('pgmigrate.migrate_revisions_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pgmigrate.migrate_version', '');
SELECT pg_catalog.pg_extension_config_dump('pgmigrate.migrate_log', '');
SELECT pg_catalog.pg_extension_config_dump('pgmigrate.migrate_log_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pgmigrate.migrate_run_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pgmigrate.migrate_schema_snapshots', '');

REVOKE ALL ON SCHEMA pgmigrate FROM PUBLIC;
REVOKE ALL ON pgmigrate.migrate_revisions, pgmigrate.migrate_version, pgmigrate.migrate_log,
              pgmigrate.migrate_epoch, pgmigrate.migrate_schema_snapshots FROM PUBLIC;
REVOKE ALL ON SEQUENCE pgmigrate.migrate_revisions_seq, pgmigrate.migrate_log_seq,
                       pgmigrate.migrate_epoch_seq, pgmigrate.migrate_run_seq FROM PUBLIC;

--
-- The checksum stored with each revision: SHA-256 of the upgrade SQL and the
-- downgrade SQL, each prefixed with its length so that no two pairs collide.
-- The apply engine recomputes it before running a step (src/catalog.c).
--
CREATE FUNCTION migrate_checksum(upgrade_sql text, downgrade_sql text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
-- No SET search_path, so that the planner can inline it (it runs for every
-- step checked); every name and operator in it is qualified instead.
-- STABLE, not IMMUTABLE: convert_to() is stable, and the planner refuses to
-- inline a function declared less volatile than its body.
AS $$
    SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
        pg_catalog.length(upgrade_sql)::pg_catalog.text OPERATOR(pg_catalog.||) ':'
        OPERATOR(pg_catalog.||) upgrade_sql OPERATOR(pg_catalog.||) ';'
        OPERATOR(pg_catalog.||) COALESCE(pg_catalog.length(downgrade_sql)::pg_catalog.text
                                         OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) downgrade_sql,
                                         'irreversible'),
        'UTF8')), 'hex')
$$;

--
-- Registration
--
CREATE FUNCTION migrate_revision(revision text, down_revision text[], upgrade_sql text,
                                 downgrade_sql text DEFAULT NULL, message text DEFAULT '',
                                 branch_labels text[] DEFAULT '{}', depends_on text[] DEFAULT '{}',
                                 lock_timeout interval DEFAULT NULL, statement_timeout interval DEFAULT NULL,
                                 transactional boolean DEFAULT true, allow_hazards text[] DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_revision'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

-- The common case: one parent (or NULL for a base) given as plain text.
CREATE FUNCTION migrate_revision(revision text, down_revision text, upgrade_sql text,
                                 downgrade_sql text DEFAULT NULL, message text DEFAULT '',
                                 branch_labels text[] DEFAULT '{}', depends_on text[] DEFAULT '{}',
                                 lock_timeout interval DEFAULT NULL, statement_timeout interval DEFAULT NULL,
                                 transactional boolean DEFAULT true, allow_hazards text[] DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_revision_single'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION migrate_new(message text, upgrade_sql text, downgrade_sql text DEFAULT NULL,
                            head text DEFAULT NULL, branch_labels text[] DEFAULT '{}',
                            depends_on text[] DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_new'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION migrate_merge(revisions text[], message text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_merge'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION migrate_merge(revisions text, message text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_merge_single'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

--
-- Applying.  These two run the user's migration SQL, so they must not pin
-- search_path: the SQL resolves names exactly as it would in the caller's
-- session.  Every statement pg_migrate builds for itself is schema-qualified.
--
CREATE FUNCTION migrate_upgrade(target text DEFAULT 'head')
RETURNS TABLE (revision text, direction text, message text, duration interval)
AS 'MODULE_PATHNAME', 'migrate_upgrade'
LANGUAGE C VOLATILE;

CREATE FUNCTION migrate_downgrade(target text)
RETURNS TABLE (revision text, direction text, message text, duration interval)
AS 'MODULE_PATHNAME', 'migrate_downgrade'
LANGUAGE C VOLATILE;

-- Production runs: commits after each step (its version-state change and
-- log row commit with it), records failed attempts durably, retries steps
-- that time out on a lock, and runs non-transactional revisions (CREATE
-- INDEX CONCURRENTLY, ...) in a background worker.  Procedures that commit
-- may not carry SET clauses, and this one runs migration SQL anyway.
CREATE PROCEDURE migrate_apply(target text DEFAULT 'head',
                               downgrade boolean DEFAULT false,
                               single_transaction boolean DEFAULT false,
                               skip_if_locked boolean DEFAULT false,
                               lock_wait_timeout interval DEFAULT NULL,
                               lock_timeout interval DEFAULT NULL,
                               statement_timeout interval DEFAULT NULL,
                               lock_retries integer DEFAULT NULL)
AS 'MODULE_PATHNAME', 'migrate_apply'
LANGUAGE C;

-- Set the version rows to the target, running no SQL: only the branches
-- the target is in line with move (alembic stamp), or with purge the rows
-- become exactly what it names (alembic stamp --purge).
-- No pinned search_path either: with pg_migrate.alembic_version_table set,
-- stamping rewrites that table, whose name (and whose triggers) resolve as
-- the caller's session would resolve them, exactly as in migrate_upgrade.
CREATE FUNCTION migrate_stamp(target text, purge boolean DEFAULT false)
RETURNS TABLE (revision text)
AS 'MODULE_PATHNAME', 'migrate_stamp'
LANGUAGE C VOLATILE;

-- Take over a database that Alembic manages: stamp the versions its
-- version table holds (each must be registered).  No pinned search_path:
-- the table name is resolved as the caller would resolve it; the function's
-- own statements are schema-qualified like all of pg_migrate's.
CREATE FUNCTION migrate_adopt_alembic(version_table text DEFAULT 'alembic_version')
RETURNS TABLE (revision text)
AS 'MODULE_PATHNAME', 'migrate_adopt_alembic'
LANGUAGE C VOLATILE;

-- Offline mode: the script that would run, applying nothing.
CREATE FUNCTION migrate_upgrade_sql(target text DEFAULT 'head', from_revision text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_upgrade_sql'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION migrate_downgrade_sql(target text, from_revision text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_downgrade_sql'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

--
-- Inspection.  None of these waits for a running migration.
--
CREATE FUNCTION migrate_current()
RETURNS TABLE (revision text)
AS 'MODULE_PATHNAME', 'migrate_current'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

-- alembic current --verbose: each applied head with the branch labels it
-- carries, its message, and whether it is also a head of the graph
CREATE FUNCTION migrate_current(verbose boolean)
RETURNS TABLE (revision text, branch_labels text[], message text, is_graph_head boolean)
AS 'MODULE_PATHNAME', 'migrate_current_verbose'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION migrate_heads()
RETURNS TABLE (revision text, branch_labels text[], message text)
AS 'MODULE_PATHNAME', 'migrate_heads'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION migrate_bases()
RETURNS TABLE (revision text, branch_labels text[], message text)
AS 'MODULE_PATHNAME', 'migrate_bases'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION migrate_branches()
RETURNS TABLE (revision text, next_revisions text[], message text)
AS 'MODULE_PATHNAME', 'migrate_branches'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

-- branch_labels: the labels each revision carries, propagated along its
-- branch as Alembic does; declared_branch_labels: those it was registered with
CREATE FUNCTION migrate_history(range text DEFAULT NULL)
RETURNS TABLE (revision text, down_revisions text[], branch_labels text[],
               declared_branch_labels text[], message text,
               is_head boolean, is_base boolean, is_branch_point boolean,
               is_merge boolean, is_applied boolean)
AS 'MODULE_PATHNAME', 'migrate_history'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION migrate_resolve(identifier text)
RETURNS text[]
AS 'MODULE_PATHNAME', 'migrate_resolve'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION migrate_show(identifier text)
RETURNS TABLE (revision text, down_revisions text[], depends_on text[], branch_labels text[],
               declared_branch_labels text[], message text, upgrade_sql text, downgrade_sql text, checksum text,
               registered_by name, registered_at timestamptz,
               is_head boolean, is_applied boolean, next_revisions text[])
AS 'MODULE_PATHNAME', 'migrate_show'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

-- A picture of the revision graph: Graphviz DOT, or a Mermaid flowchart
CREATE FUNCTION migrate_graph(format text DEFAULT 'dot', range text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_graph'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

-- The schema model of the managed schemas, and its fingerprint (SHA-256)
CREATE FUNCTION migrate_schema_objects(schemas text[] DEFAULT NULL)
RETURNS TABLE (kind text, identity text, definition text)
AS 'MODULE_PATHNAME', 'migrate_schema_objects'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION migrate_fingerprint(schemas text[] DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_fingerprint'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

-- Checksums of applied revisions and drift of the managed schemas, and the
-- log row that accepts an intentional edit or drift
CREATE FUNCTION migrate_verify()
RETURNS TABLE (check_name text, status text, object text, detail text)
AS 'MODULE_PATHNAME', 'migrate_verify'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION migrate_repair(revision text, reason text)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_repair'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

-- The stairway test: each pending step upgraded, downgraded and upgraded
-- again in a subtransaction that is always rolled back.  Runs migration
-- SQL, so no SET search_path: the caller's applies, as in migrate_upgrade.
CREATE FUNCTION migrate_check(target text DEFAULT 'head')
RETURNS TABLE (step integer, revision text, phase text, status text, object text, detail text)
AS 'MODULE_PATHNAME', 'migrate_check'
LANGUAGE C VOLATILE;

-- The pending plan run statement by statement on the real database and
-- rolled back: locks, rewrites, full scans, blocked sessions, hazards.
-- Runs migration SQL, so no SET search_path, as in migrate_upgrade.
CREATE FUNCTION migrate_rehearse(target text DEFAULT 'head')
RETURNS TABLE (step integer, revision text, statement integer, sql text, rehearsable boolean,
               duration interval, locks jsonb, rewrote text[], full_scans jsonb, blocked jsonb,
               rows bigint, sqlstate text, error text, hazards text[], suggestions text[])
AS 'MODULE_PATHNAME', 'migrate_rehearse'
LANGUAGE C VOLATILE;

-- The DDL guard: event triggers that reject DDL on the managed schemas
-- outside pg_migrate runs, created disabled; migrate_guard(true) enables
-- them (superusers only).  A guardrail, not a security boundary (README).
CREATE FUNCTION pgmigrate.migrate_ddl_guard()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'migrate_ddl_guard'
LANGUAGE C;
CREATE EVENT TRIGGER pg_migrate_ddl_guard ON ddl_command_start
    EXECUTE FUNCTION pgmigrate.migrate_ddl_guard();
CREATE EVENT TRIGGER pg_migrate_ddl_guard_end ON ddl_command_end
    EXECUTE FUNCTION pgmigrate.migrate_ddl_guard();
CREATE EVENT TRIGGER pg_migrate_ddl_guard_drop ON sql_drop
    EXECUTE FUNCTION pgmigrate.migrate_ddl_guard();
ALTER EVENT TRIGGER pg_migrate_ddl_guard DISABLE;
ALTER EVENT TRIGGER pg_migrate_ddl_guard_end DISABLE;
ALTER EVENT TRIGGER pg_migrate_ddl_guard_drop DISABLE;

-- The rewrite guard: while a step of a real run runs, it aborts the rewrite
-- of a big table unless the revision allows it (pg_migrate.guard_rewrites)
CREATE FUNCTION pgmigrate.migrate_rewrite_guard()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'migrate_rewrite_guard'
LANGUAGE C;
CREATE EVENT TRIGGER pg_migrate_rewrite_guard ON table_rewrite
    EXECUTE FUNCTION pgmigrate.migrate_rewrite_guard();

CREATE FUNCTION migrate_guard(enable boolean)
RETURNS void
AS 'MODULE_PATHNAME', 'migrate_guard'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

-- A pg_cron job that runs CALL migrate_apply(target) on a schedule.  It
-- skips quietly when another migration holds the lock, so overlapping runs
-- never queue up.  Needs pg_cron in this database (its cron.database_name);
-- otherwise the error's hint gives the call to make from that database.
CREATE FUNCTION migrate_schedule(job_name text, schedule text, target text DEFAULT 'head')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    command text;
    job bigint;
BEGIN
    IF job_name IS NULL OR schedule IS NULL OR target IS NULL THEN
        RAISE EXCEPTION 'job_name, schedule and target must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    command := 'CALL @extschema@.migrate_apply(' || pg_catalog.quote_literal(target)
               || ', skip_if_locked => true)';
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
            USING ERRCODE = 'undefined_object',
                  DETAIL = 'migrate_schedule() creates a pg_cron job, and pg_cron lives in the database named by cron.database_name.',
                  HINT = pg_catalog.format('Add pg_cron to shared_preload_libraries and CREATE EXTENSION pg_cron, or run this in the pg_cron database: SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                                           job_name, schedule, command, pg_catalog.current_database());
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job USING job_name, schedule, command;
    RETURN job;
END
$$;

-- Is a migration running in this database, where, for how long, and what
-- does it wait on?  Works from any session; never waits.
CREATE FUNCTION migrate_status()
RETURNS TABLE (running boolean, pid integer, role name, activity text,
               transaction_started timestamptz, running_for interval, state text,
               wait_event_type text, wait_event text, blocked_by integer[],
               waiting_migrators integer[])
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH lk AS (
        SELECT l.pid, l.granted
        FROM pg_catalog.pg_locks l
        WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'
          AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
                                                 WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
          AND l.classid OPERATOR(pg_catalog.=) 1885826407::pg_catalog.oid
          AND l.objid OPERATOR(pg_catalog.=) 1::pg_catalog.oid
          AND l.objsubid OPERATOR(pg_catalog.=) 2::pg_catalog.int2
    ), waiting AS (
        SELECT pg_catalog.array_agg(lk.pid ORDER BY lk.pid) AS pids FROM lk WHERE NOT lk.granted
    )
    SELECT true, a.pid, a.usename, a.query, a.xact_start,
           pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) a.query_start,
           a.state, a.wait_event_type, a.wait_event, pg_catalog.pg_blocking_pids(a.pid),
           COALESCE(w.pids, '{}')
    FROM lk JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) lk.pid, waiting w
    WHERE lk.granted
    UNION ALL
    SELECT false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, COALESCE(w.pids, '{}')
    FROM waiting w
    WHERE NOT EXISTS (SELECT FROM lk WHERE lk.granted)
$$;

-- Everything that changes state or reveals migration SQL is for the owner
-- unless granted (README, "Privileges").
REVOKE ALL ON FUNCTION
    migrate_revision(text, text[], text, text, text, text[], text[], interval, interval, boolean, text[]),
    migrate_revision(text, text, text, text, text, text[], text[], interval, interval, boolean, text[]),
    migrate_new(text, text, text, text, text[], text[]),
    migrate_merge(text[], text),
    migrate_merge(text, text),
    migrate_upgrade(text),
    migrate_downgrade(text),
    migrate_stamp(text, boolean),
    migrate_adopt_alembic(text),
    migrate_upgrade_sql(text, text),
    migrate_downgrade_sql(text, text),
    migrate_show(text),
    migrate_verify(),
    migrate_repair(text, text),
    migrate_check(text),
    migrate_rehearse(text),
    migrate_guard(boolean)
FROM PUBLIC;
REVOKE ALL ON PROCEDURE
    migrate_apply(text, boolean, boolean, boolean, interval, interval, interval, integer)
FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_schedule(text, text, text) FROM PUBLIC;
