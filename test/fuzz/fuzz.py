#!/usr/bin/env python3
"""Seeded input fuzzer for pg_migrate (issue 10).

Calls every SQL function and procedure of the extension (read from pg_proc
through pg_depend, so a new function is fuzzed without editing this file,
and cross-checked against the install script) and sets every pg_migrate.*
setting (pg_settings) with random and edge inputs, in a throwaway cluster
of its own.  Every revision it registers writes a side table,
fz_effects(token, direction), from its upgrade and downgrade SQL, so that
the version state can be cross-checked with what really ran.

Invariants (the names printed):
  no-crash              the server stays up; no "server closed the connection"
  no-internal-error     no SQLSTATE of class XX from a call, none in migrate_log
  sane-error            no error message with "(null)" in it
  no-hang               no call runs longer than the hang limit (default 8 s)
                        unless its SQL asked for it
  no-partial-apply      a failed function-mode call (upgrade, downgrade, stamp,
                        adopt, registration) leaves version state, side table,
                        registered revisions and the log's outcome rows unchanged
  state-matches-effects for every call: applied set after = applied set before
                        + revisions whose upgrade ran - those whose downgrade
                        ran, each at most once; a stamp runs no SQL
  started-has-outcome   every 'started' log row written by a call whose session
                        survived has its outcome row (same run, revision,
                        direction, attempt)
  user-data-intact      a table that only looks like an Alembic version table
                        (fz_canary) is never changed by pg_migrate
  registered-is-plannable a revision that registration accepted can be planned:
                        migrate_upgrade_sql(id) does not fail with 22003 or XX
  reentry-refused       a step whose SQL calls a pg_migrate function never
                        succeeds (README: refused with 0A000)

Usage: fuzz.py [--seed N] [--short | --seconds S | --iterations N] [--port P]
       (env PGM_FUZZ_SEED, PGM_FUZZ_SHORT=1).  Exit status 1 on any violation.
Run it through test/fuzz/run, which runs it as the postgres user.
"""
import argparse
import collections
import fcntl
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import psycopg2
import psycopg2.extensions
import psycopg2.extras

BINDIR = os.environ.get('PGM_BINDIR', '/usr/lib/postgresql/15/bin')
INVARIANTS = ['no-crash', 'no-internal-error', 'sane-error', 'no-hang', 'no-partial-apply',
              'state-matches-effects', 'started-has-outcome', 'user-data-intact',
              'registered-is-plannable', 'reentry-refused']


class Cluster:
    """A throwaway cluster in a temporary directory."""

    def __init__(self, port):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix='pg_migrate_fuzz.')
        self.data = os.path.join(self.dir, 'data')
        self.sock = self.dir
        subprocess.run([BINDIR + '/initdb', '-D', self.data, '-U', 'postgres', '-A', 'trust',
                        '--no-sync'], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(self.data, 'postgresql.conf'), 'a') as f:
            f.write(f"port = {port}\nunix_socket_directories = '{self.sock}'\n"
                    "listen_addresses = ''\nfsync = off\nmax_worker_processes = 16\n"
                    "max_locks_per_transaction = 256\nlog_min_messages = warning\n"
                    "log_line_prefix = '%m [%p] %b '\nrestart_after_crash = on\n")
        self.start()

    def start(self):
        # the shared install lock, only while the server starts, and for at
        # most 10 s: test/run may hold it for minutes, and the library is only
        # loaded by CREATE EXTENSION and the first call anyway
        lk = None
        try:
            lk = open('/tmp/pgm_install.lock')
            deadline = time.time() + 10
            while True:
                try:
                    fcntl.flock(lk, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.time() > deadline:
                        print('/tmp/pgm_install.lock busy for 10 s: starting without it', flush=True)
                        lk.close()
                        lk = None
                        break
                    time.sleep(0.2)
        except OSError:
            lk = None
        try:
            subprocess.run([BINDIR + '/pg_ctl', '-D', self.data, '-l',
                            os.path.join(self.dir, 'server.log'), '-w', 'start'],
                           check=True, stdout=subprocess.DEVNULL)
        finally:
            if lk:
                lk.close()

    def stop(self, keep_log=None):
        subprocess.run([BINDIR + '/pg_ctl', '-D', self.data, '-m', 'fast', '-w', 'stop'],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if keep_log:
            try:
                shutil.copy(os.path.join(self.dir, 'server.log'), keep_log)
            except OSError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def connect(self, dbname='fuzz'):
        c = psycopg2.connect(host=self.sock, port=self.port, user='postgres', dbname=dbname,
                             application_name='pgm_fuzz')
        c.autocommit = True
        return c


class Fuzzer:
    def __init__(self, args):
        self.seed = args.seed
        self.rng = random.Random(self.seed)
        self.hang_limit = args.hang_limit
        self.violations = {k: 0 for k in INVARIANTS}
        self.checked = {k: 0 for k in INVARIANTS}
        self.first = {}
        self.findings = {}
        self.allowed = {}
        self.seen = set()
        self.history = []    # this session's statements since the epoch began, for a repro
        self.sqlstates = {}
        self.calls = {}
        self.iter = 0
        self.epoch = 0
        self.cluster = Cluster(args.port)
        admin = self.cluster.connect('postgres')
        admin.cursor().execute('CREATE DATABASE fuzz')
        admin.close()
        self.conn = None
        self.reset()

    # --- reporting ---------------------------------------------------------
    # what the known defects (/work/shared/reliability-findings) look like here
    HINTS = [
        (r'no-crash', 'NONE: NEW, a backend crash (SIGSEGV: a failing step in function mode or '
                      'single_transaction while a lock_timeout is in force; test/fuzz/repro-segv-lock-timeout.sql)'),
        (r'SPI_ERROR_COPY', '001 COPY to/from the client -> XX000'),
        (r'exited before finishing', '005 terminated worker -> XX000'),
        (r'SPI_prepare failed|SPI_ERROR_ARGUMENT|\bzz\d', '007 nested call (trigger on the version table) clobbers per-call state'),
        (r'started-has-outcome.*(23503|deferred|fz_c)', '002 failed COMMIT of a step not logged'),
        (r'started-has-outcome.*XX001', '002-like: the version-state check after the step fails unlogged'),
        (r'started-has-outcome.*(42P01|42601|42602|3F000|alembic)', '002/007-like: failure after the step SQL (recording, version table) not logged'),
        (r'started-has-outcome.*XX000', '001/007: its XX000 failure is not logged either'),
        (r'reentry-refused', '003 non-transactional step not covered by the re-entry guard'),
        (r'no-hang.*LOCK TABLE pgmigrate.migrate_log', '012 log worker deadlock not detected'),
        (r'no-hang.*non-transactional.*migrate_\w+\(', '003 nested migration in a worker hangs'),
        (r'no-hang', '003/012 family: the caller waits for its own worker, which waits for a lock the caller holds'),
        (r'started-has-outcome.*57014', '004 cancel of a non-transactional step not logged'),
        (r'SPI_OK_REWRITTEN', '006 version table with DO INSTEAD rules -> XX000'),
        (r'\(null\)|nested', '007 nested call clobbers per-call state'),
        (r'pg_class tuple|user-data-intact', '008 alembic_version_table not validated'),
        (r'registered-is-plannable.*22003', '011 huge timeout blocks every plan'),
    ]

    def hint(self, inv, text):
        for pat, name in self.HINTS:
            if re.search(pat, inv + ' ' + text):
                return f' [looks like finding {name}]'
        return ' [not one of the 12 known findings?]'

    @staticmethod
    def edits_version_state(cur, eff, tokens, logmax):
        """Whether the SQL of a step that ran writes pg_migrate's version
        state: a step with an effect token, or any step the call logged
        (a revision without a token leaves no effect to find it by)."""
        revs = [tokens[t] for t, _ in eff if t in tokens]
        cur.execute("SELECT DISTINCT revision FROM pgmigrate.migrate_log WHERE id > %s", [logmax])
        revs += [r for (r,) in cur.fetchall()]
        if not revs:
            return False
        cur.execute("""SELECT bool_or(coalesce(upgrade_sql, '') || coalesce(downgrade_sql, '')
                                      ~* '(delete|truncate|update|insert)[^;]*pgmigrate\\.migrate_version')
                       FROM pgmigrate.migrate_revisions WHERE revision = ANY (%s)""", [revs])
        return bool(cur.fetchone()[0])

    def violation(self, inv, text):
        key = (inv, re.sub(r'\d+', 'N', text)[:200])
        if key in self.seen:
            self.violations[inv] += 1
            return
        self.seen.add(key)
        self.violations[inv] += 1
        self.first.setdefault(inv, (self.iter, text))
        h = self.hint(inv, text)
        self.first.setdefault(inv, (self.iter, text))
        self.findings[h] = self.findings.get(h, 0) + 1
        print(f'VIOLATION {inv} (seed {self.seed}, iteration {self.iter}): {text}{h}', flush=True)

    # --- the environment -----------------------------------------------------
    def reset(self):
        """A fresh extension, side tables and traps (every epoch)."""
        self.epoch += 1
        if self.conn is None or self.conn.closed:
            self.conn = self.cluster.connect()
        cur = self.conn.cursor()
        if self.conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            cur.execute('ROLLBACK')
        cur.execute("RESET ALL")
        self.history = []
        self.env_sql = """
            SET client_min_messages = warning;
            DROP EXTENSION IF EXISTS pg_migrate CASCADE;
            DROP SCHEMA IF EXISTS fz CASCADE;
            DROP FUNCTION IF EXISTS public.fz_trig() CASCADE;
            DO $$ DECLARE r record; BEGIN
              FOR r IN SELECT c.relname, c.relkind FROM pg_class c
                       WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'S')
              LOOP EXECUTE format('DROP %s IF EXISTS public.%I CASCADE',
                     CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, r.relname);
              END LOOP; END $$;
            CREATE EXTENSION pg_migrate;
            CREATE TABLE public.fz_effects (id bigserial PRIMARY KEY, token text, direction text,
                                            at timestamptz DEFAULT clock_timestamp());
            CREATE TABLE public.fz_t (id int);
            CREATE TABLE public.fz_data (v int);
            INSERT INTO public.fz_data SELECT g FROM generate_series(1, 2000) g;
            -- looks like an Alembic version table, but is user data (finding 008)
            CREATE TABLE public.fz_canary (version_num text, note text);
            INSERT INTO public.fz_canary VALUES ('v1.0', 'keep'), ('v1.1', 'keep');
            -- a real Alembic version table
            CREATE TABLE public.fz_av (version_num varchar(32) PRIMARY KEY);
            -- a view whose DELETE/INSERT a rule rewrites (finding 006)
            CREATE TABLE public.fz_av0 (version_num varchar(32) PRIMARY KEY);
            CREATE VIEW public.fz_av_view AS SELECT * FROM public.fz_av0;
            CREATE RULE fz_av_del AS ON DELETE TO public.fz_av_view DO INSTEAD NOTHING;
            CREATE RULE fz_av_ins AS ON INSERT TO public.fz_av_view DO INSTEAD NOTHING;
            -- a version table whose trigger calls pg_migrate again (finding 007)
            CREATE TABLE public.fz_av_trig (version_num varchar(32) PRIMARY KEY);
            CREATE SEQUENCE public.fz_seq;
            CREATE FUNCTION public.fz_trig() RETURNS trigger LANGUAGE plpgsql AS $f$
            BEGIN
              PERFORM migrate_revision('zz' || nextval('public.fz_seq'), NULL, 'SELECT 1', 'SELECT 1');
              PERFORM count(*) FROM migrate_heads();
              RETURN NULL;
            END $f$;
            CREATE TRIGGER fz_av_t AFTER INSERT ON public.fz_av_trig
              FOR EACH STATEMENT EXECUTE FUNCTION public.fz_trig();
            -- deferred constraint: the commit of a step fails (finding 002)
            CREATE TABLE public.fz_p (id int PRIMARY KEY);
            CREATE TABLE public.fz_c (pid int REFERENCES public.fz_p DEFERRABLE INITIALLY DEFERRED);
        """
        cur.execute(self.env_sql)
        cur.execute(f"SET statement_timeout = '{int(self.hang_limit * 1000) + 5000}ms'")
        self.tokens = {}          # token -> revision id (once registered)
        self.token_tx = {}
        self.read_catalog()

    def read_catalog(self):
        cur = self.conn.cursor()
        cur.execute("""SELECT p.proname, p.prokind, p.pronargs, p.pronargdefaults,
                              coalesce(p.proargnames, '{}'), p.proargtypes::regtype[]::text[]
                       FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                       JOIN pg_extension e ON e.oid = d.refobjid AND d.deptype = 'e'
                       WHERE e.extname = 'pg_migrate' AND p.prorettype <> 'trigger'::regtype
                       ORDER BY 1, 3""")
        self.functions = cur.fetchall()
        cur.execute("SELECT migrate_checksum('', '')")   # loads the library: its settings exist
        cur.execute("SELECT count(*) FROM migrate_heads()")
        cur.execute("SELECT name, vartype, min_val, max_val FROM pg_settings WHERE name LIKE 'pg_migrate.%' ORDER BY 1")
        self.settings = cur.fetchall()

    # --- inputs ------------------------------------------------------------
    def known_ids(self):
        cur = self.conn.cursor()
        cur.execute("SELECT revision FROM pgmigrate.migrate_revisions ORDER BY seq")
        return [r[0] for r in cur.fetchall()]

    def ident(self):
        r = self.rng
        ids = self.known_ids()
        labels = ['lbl', 'shop', 'core']
        edge = [None, '', 'head', 'heads', 'base', 'current', 'head-2147483648', 'head-2147483647',
                'head-1', 'head+1', 'head+2147483648', '+1', '-1', '+0', '-0', '+2147483648',
                '-99999999999999999999', '@', 'a@b@c', '@head', 'x@', 'lbl@head', 'lbl@base',
                'lbl@heads', 'core@head-1', 'heads-1', 'x+', 'x+1a', 'x--1', 'ünïcödé', '日本',
                '\U0001F600', "a'b", 'a"b', "'; DROP TABLE public.fz_canary; --", '%s%n%x',
                '\\', ' ', ' head', 'head ', 'a' * 128, 'a' * 129, 'b' * 100000, 'HEAD', 'Base',
                'a-b', 'a_b', '0', '00000000000000000000', 'e' * 2000 + '@head']
        c = r.random()
        if ids and c < 0.35:
            x = r.choice(ids)
            return r.choice([x, x[:max(1, len(x) // 2)], x + '@head', 'lbl@' + x, x + '+1', x + '-1',
                             x.upper(), x + '@' + x])
        if c < 0.75:
            return r.choice(edge)
        if c < 0.85:
            return r.choice(labels)
        n = r.randint(1, 12)
        return ''.join(r.choice('abcdef0123456789_@+-') for _ in range(n))

    def new_id(self):
        r = self.rng
        c = r.random()
        if c < 0.8:
            return 'r%d_%d' % (self.epoch, r.randint(0, 60))
        return self.ident()

    def fragment(self, tx):
        r = self.rng
        frags = ['', 'SELECT 1', 'SELECT 1;;;', '-- a comment', '/* unterminated', "SELECT 'unterminated",
                 'COPY (SELECT 1) TO STDOUT', 'COPY public.fz_t FROM STDIN', "COPY public.fz_t TO '/dev/null'",
                 'COMMIT', 'ROLLBACK', 'BEGIN', 'SAVEPOINT s', 'RELEASE SAVEPOINT s', 'END',
                 'START TRANSACTION', 'PREPARE TRANSACTION \'x\'', '\\set x 1', '\\gexec', '\\q', '\\! ls',
                 'DO $$BEGIN PERFORM 1; END$$', 'DO $$BEGIN COMMIT; END$$', 'DO $$BEGIN ROLLBACK; END$$',
                 "DO $$BEGIN PERFORM * FROM migrate_upgrade('head'); END$$",
                 "SELECT * FROM migrate_upgrade('head')", "SELECT * FROM migrate_downgrade('base')",
                 'SELECT count(*) FROM migrate_current()', "CALL migrate_apply('head')",
                 "SELECT migrate_revision('nested', NULL, 'SELECT 1')", 'SELECT * FROM migrate_status()',
                 'VACUUM', 'VACUUM public.fz_t', 'CHECKPOINT', "ALTER SYSTEM SET work_mem = '4MB'",
                 'CREATE INDEX CONCURRENTLY IF NOT EXISTS fz_idx ON public.fz_data (v)',
                 'DROP INDEX CONCURRENTLY IF EXISTS public.fz_idx', 'REINDEX TABLE CONCURRENTLY public.fz_data',
                 'SELECT 1/0', 'SELECT pg_sleep(0.2)', 'CREATE TABLE IF NOT EXISTS public.fz_obj ()',
                 'SET search_path = pg_catalog', 'RESET ALL', 'SET LOCAL statement_timeout = 1',
                 "SELECT set_config('pg_migrate.alembic_version_table', 'public.fz_canary', false)",
                 'LISTEN fz', 'NOTIFY fz', 'PREPARE fzp AS SELECT 1', 'DEALLOCATE ALL', 'DISCARD ALL',
                 'LOCK TABLE pgmigrate.migrate_log IN SHARE MODE', 'LOCK TABLE pgmigrate.migrate_version',
                 'INSERT INTO public.fz_c VALUES (1)', 'SELECT repeat(\'x\', 100000000)',
                 'EXPLAIN ANALYZE SELECT 1', 'SELECT txid_current()', 'SET ROLE NONE',
                 'CREATE TEMP TABLE fz_tmp (x int)', 'SELECT * FROM pg_stat_activity LIMIT 0',
                 'SELECT 1; ' * 2000, 'DECLARE c CURSOR FOR SELECT 1', 'FETCH ALL FROM c',
                 'SELECT pg_advisory_lock(1885826407, 1)', "SELECT pg_advisory_xact_lock(1885826407, 2)",
                 'TRUNCATE pgmigrate.migrate_log', 'DELETE FROM pgmigrate.migrate_version',
                 "UPDATE pgmigrate.migrate_revisions SET message = 'x'", 'SELECT E\'\\\\x\'',
                 "SELECT 'ünïcödé 日本 \U0001F600'"]
        picks = [r.choice(frags) for _ in range(r.choice([0, 1, 1, 1, 2, 3]))]
        # a newline after each: '-- a comment' must not swallow what follows
        return ';\n'.join(p for p in picks if p)

    def revision_sql(self, token, direction, tx):
        effect = f"INSERT INTO public.fz_effects (token, direction) VALUES ('{token}', '{direction}')"
        frag = self.fragment(tx)
        if self.rng.random() < 0.05:
            return self.rng.choice([None, '', ';', frag])
        # non-transactional: the effect last, so that it runs only if all else did
        if not tx:
            return (frag + ';\n' if frag else '') + effect
        return effect + (';\n' + frag if frag else '')

    def interval(self):
        return self.rng.choice([None, '0', '1 ms', '0.001 ms', '100 ms', '-1 s', '1 s', '24 days',
                                '24 days 20:31:23.647', '24 days 20:31:23.648', '25 days', '30 days',
                                '1 mon', '100 years', '-100 years', '178000000 years', '-178000000 years',
                                '1 microsecond', '2147483647 ms', '2147483648 ms'])

    def array(self):
        r = self.rng
        ids = self.known_ids()
        c = r.random()
        if c < 0.3:
            return '{}'
        if c < 0.6 and ids:
            return '{' + ','.join(r.sample(ids, min(len(ids), r.randint(1, 3)))) + '}'
        return r.choice([None, '{NULL}', '{a,a}', '{{a},{b}}', '{""}', '{lbl}', '{core,shop}', '{head}',
                         '{base}', '{' + 'a' * 129 + '}', '{"a b"}', '{ü}', '{lbl,lbl}', '[2:3]={a,b}'])

    def value(self, typ, name):
        r = self.rng
        if typ == 'text':
            if name in ('upgrade_sql', 'downgrade_sql'):
                return None    # set by the caller
            if name in ('revision',):
                return self.new_id()
            if name in ('message',):
                return r.choice([None, '', 'msg', 'ü' * 10, "it's", 'x' * 100000, '\\', '%s'])
            if name == 'version_table':
                return r.choice(['public.fz_av', 'fz_av', 'public.fz_av_view', 'public.fz_av_trig',
                                 'public.fz_canary', 'nonexistent', None, '', 'pg_catalog.pg_class',
                                 '"weird name"', 'a.b.c.d', 'fz_av; DROP TABLE public.fz_canary',
                                 'pgmigrate.migrate_version', 'alembic_version'])
            if name in ('job_name', 'schedule'):
                return r.choice([None, '', 'job', '* * * * *', 'bogus'])
            return self.ident()
        if typ == 'text[]':
            return self.array()
        if typ == 'interval':
            return self.interval()
        if typ == 'boolean':
            return r.choice([None, True, False, False])
        if typ == 'integer':
            return r.choice([None, 0, 1, 3, -1, 1000, 1001, 2147483647, -2147483648])
        return None

    def setting_value(self, name, vartype):
        r = self.rng
        if vartype == 'string':
            return r.choice(['', 'public.fz_av', 'fz_av', 'public.fz_av_view', 'public.fz_av_trig',
                             'public.fz_canary', 'nonexistent', '"weird name"', 'a.b.c.d',
                             'pgmigrate.migrate_version', 'fz_av; DROP TABLE public.fz_canary',
                             'x' * 10000, 'ü'])
        return r.choice(['0', '1', '-1', '100', '100ms', '1s', '1min', '1d', '24d', '25d', '2147483647',
                         '2147483648', '-2147483649', 'abc', '', '1e10', '0.5', '3600000', '3600001',
                         '1000', '1001', 'NaN'])

    # --- state -------------------------------------------------------------
    def snapshot(self, cur):
        cur.execute("SELECT coalesce(array_agg(revision ORDER BY revision), '{}') FROM pgmigrate.migrate_version")
        version = tuple(cur.fetchone()[0])
        cur.execute("""WITH RECURSIVE a(rev) AS (
                         SELECT revision FROM pgmigrate.migrate_version
                         UNION SELECT unnest(r.down_revisions || r.depends_on)
                         FROM a JOIN pgmigrate.migrate_revisions r ON r.revision = a.rev)
                       SELECT coalesce(array_agg(rev ORDER BY rev), '{}') FROM a""")
        applied = set(cur.fetchone()[0])
        cur.execute("SELECT coalesce(max(id), 0) FROM public.fz_effects")
        effects = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM pgmigrate.migrate_revisions")
        nrev = cur.fetchone()[0]
        cur.execute("SELECT coalesce(max(id), 0) FROM pgmigrate.migrate_log")
        logmax = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM pgmigrate.migrate_log WHERE outcome <> 'started'")
        outcomes = cur.fetchone()[0]
        cur.execute("SELECT string_agg(version_num || ':' || coalesce(note, ''), ',' ORDER BY version_num) FROM public.fz_canary")
        canary = cur.fetchone()[0]
        return dict(version=version, applied=applied, effects=effects, nrev=nrev, logmax=logmax,
                    outcomes=outcomes, canary=canary)

    def is_tx(self, cur, rev):
        cur.execute("SELECT transactional FROM pgmigrate.migrate_revisions WHERE revision = %s", [rev])
        row = cur.fetchone()
        return bool(row and row[0])

    def token_map(self, cur):
        cur.execute("""SELECT revision, (regexp_match(upgrade_sql, 'VALUES \\(''(fzt[0-9]+)''')) [1],
                              (regexp_match(coalesce(downgrade_sql, ''), 'VALUES \\(''(fzt[0-9]+)''')) [1],
                              downgrade_sql IS NULL
                       FROM pgmigrate.migrate_revisions""")
        m = {}
        self.untracked = set()
        for rev, up, down, irreversible in cur.fetchall():
            if up:
                m[up] = rev
            if down:
                m.setdefault(down, rev)
            if not up or (not down and not irreversible):
                self.untracked.add(rev)   # its SQL writes no effect row (fuzzed away)
        return m

    # --- one call ------------------------------------------------------------
    def build_valid_revision(self):
        """A well-formed registration on top of a head, so that the graph grows
        and the fuzzed SQL fragments and timeouts really run."""
        r = self.rng
        cur = self.conn.cursor()
        cur.execute("SELECT revision FROM pgmigrate.migrate_revisions r WHERE NOT EXISTS "
                    "(SELECT FROM pgmigrate.migrate_revisions c WHERE r.revision = ANY (c.down_revisions))")
        heads = [x[0] for x in cur.fetchall()]
        self.nrev_counter = getattr(self, 'nrev_counter', 0) + 1
        rev = 'v%d_%d' % (self.epoch, self.nrev_counter)
        parent = r.choice(heads) if heads and r.random() < 0.9 else None
        tx = r.random() < 0.65
        token = 'fzt%d' % r.randint(0, 10 ** 9)
        up = self.revision_sql(token, 'upgrade', tx)
        down = self.revision_sql(token, 'downgrade', tx) if r.random() < 0.9 else None
        lt = self.interval() if r.random() < 0.15 else None
        st = self.interval() if r.random() < 0.15 else None
        params = [rev, parent, up, down, lt, st, tx]
        sql = ("SELECT migrate_revision(%s, %s::text, %s, %s, lock_timeout => %s::interval, "
               "statement_timeout => %s::interval, transactional => %s)")
        return dict(name='migrate_revision', sql=sql, params=params, changing=True, token=token, tx=tx, call=False)

    def build_apply(self):
        r = self.rng
        ids = self.known_ids()
        t = r.choice(['head', 'heads', 'heads', 'base', '+1', '-1'] + ids[-4:])
        down = t in ('base', '-1') or r.random() < 0.2
        if r.random() < 0.6:
            sql = "CALL migrate_apply(%s, downgrade => %s)"
            return dict(name='migrate_apply', sql=sql, params=[t, down], changing=True, token=None, tx=True, call=True)
        sql = "SELECT * FROM migrate_downgrade(%s)" if down else "SELECT * FROM migrate_upgrade(%s)"
        return dict(name='migrate_downgrade' if down else 'migrate_upgrade', sql=sql, params=[t], changing=True,
                    token=None, tx=True, call=False)

    def build_call(self):
        r = self.rng
        c = r.random()
        if c < 0.3:
            return self.build_valid_revision()
        if c < 0.55:
            return self.build_apply()
        fn = r.choice(self.functions)
        name, kind, nargs, ndefaults, argnames, argtypes = fn
        # mostly valid-looking registrations, so the graph grows
        if name in ('migrate_revision', 'migrate_new') and r.random() < 0.3:
            fn = r.choice([f for f in self.functions if f[0] in ('migrate_upgrade', 'migrate_downgrade',
                                                                'migrate_apply', 'migrate_stamp')])
            name, kind, nargs, ndefaults, argnames, argtypes = fn
        token = 'fzt%d' % r.randint(0, 10 ** 9)
        tx = True
        vals = {}
        for i, (an, at) in enumerate(zip(argnames, argtypes)):
            if an == 'transactional':
                tx = r.random() < 0.7
                vals[an] = tx if r.random() < 0.95 else None
        for i, (an, at) in enumerate(zip(argnames, argtypes)):
            if an in vals:
                continue
            if an == 'upgrade_sql':
                vals[an] = self.revision_sql(token, 'upgrade', tx)
            elif an == 'downgrade_sql':
                vals[an] = self.revision_sql(token, 'downgrade', tx) if r.random() < 0.9 else None
            elif an == 'down_revision':
                ids = self.known_ids()
                if at == 'text':
                    vals[an] = r.choice([None] + ids[-3:] + [self.ident()]) if r.random() < 0.9 else self.ident()
                else:
                    vals[an] = self.array()
            elif an == 'target' and name in ('migrate_upgrade', 'migrate_downgrade', 'migrate_apply') and r.random() < 0.5:
                ids = self.known_ids()
                vals[an] = r.choice(['head', 'heads', 'base', '+1', '-1'] + ids[-5:])
            else:
                vals[an] = self.value(at, an)
        # which arguments to pass: positionally a prefix that covers the
        # required ones, or by name the required ones and some defaults
        required = nargs - ndefaults
        parts, params = [], []
        if r.random() < 0.5:
            upto = r.randint(required, nargs)
            chosen = [(i, False) for i in range(upto)]
        else:
            chosen = [(i, True) for i in range(nargs) if i < required or r.random() < 0.5]
            r.shuffle(chosen)
        for i, named in chosen:
            an = argnames[i]
            v = vals[an]
            cast = '' if argtypes[i] == 'text' and v is not None else '::' + argtypes[i]
            parts.append((f'{an} => ' if named else '') + f'%s{cast}')
            params.append(v)
        if r.random() < 0.02:     # too many / wrong arguments
            parts.append('%s')
            params.append('extra')
        args = ', '.join(parts)
        if kind == 'p':
            sql = f'CALL {name}({args})'
        elif name in ('migrate_revision', 'migrate_new', 'migrate_merge', 'migrate_checksum',
                      'migrate_resolve', 'migrate_upgrade_sql', 'migrate_downgrade_sql', 'migrate_schedule'):
            sql = f'SELECT {name}({args})'
        else:
            sql = f'SELECT * FROM {name}({args})'
        changing = name in ('migrate_revision', 'migrate_new', 'migrate_merge', 'migrate_upgrade',
                            'migrate_downgrade', 'migrate_stamp', 'migrate_adopt_alembic', 'migrate_apply')
        return dict(name=name, sql=sql, params=params, changing=changing, token=token, tx=tx,
                    call=(kind == 'p'))

    def run_one(self):
        r = self.rng
        cur = self.conn.cursor()
        # settings: sometimes change one for the session
        if r.random() < 0.15 and self.settings:
            name, vartype, _, _ = r.choice(self.settings)
            v = self.setting_value(name, vartype)
            self.exec_checked(f"SET {name} = %s", [v], what=f'SET {name} = {v!r}')
            if r.random() < 0.3:
                self.exec_checked(f"RESET {name}", [], what=f'RESET {name}')
        if r.random() < 0.05:
            self.exec_checked("SET statement_timeout = %s", [r.choice(['100ms', '1s', '0'])], what='SET statement_timeout')
            if r.random() < 0.5:
                self.exec_checked(f"SET statement_timeout = '{int(self.hang_limit * 1000) + 5000}ms'", [], what='')
        c = self.build_call()
        # function-mode calls: sometimes inside a transaction with a prelude
        prelude = []
        if not c['call'] and r.random() < 0.2:
            prelude = [r.choice(['SET TRANSACTION ISOLATION LEVEL REPEATABLE READ',
                                 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'SET TRANSACTION READ ONLY',
                                 'LOCK TABLE pgmigrate.migrate_log IN SHARE MODE', 'SAVEPOINT s1',
                                 "SET LOCAL pg_migrate.alembic_version_table = 'pg_catalog.pg_class'",
                                 "SET LOCAL pg_migrate.alembic_version_table = 'public.fz_av'",
                                 'SELECT 1'])]
        if c['call'] and r.random() < 0.05:
            prelude = ['SELECT 1']    # CALL migrate_apply in a transaction block: 25001
        self.calls[c['name']] = self.calls.get(c['name'], 0) + 1
        before = self.snapshot(cur)
        tokens_before = self.token_map(cur)
        ok, state, err, elapsed, lost = self.execute(c, prelude)
        self.check_call(c, prelude, ok, state, err, elapsed, lost, before, tokens_before)

    def record(self, cur, sql, params):
        try:
            text = cur.mogrify(sql, params).decode('utf-8', 'replace')
        except Exception:
            text = sql
        self.history.append(text)

    def exec_checked(self, sql, params, what):
        cur = self.conn.cursor()
        self.record(cur, sql, params)
        try:
            cur.execute(sql, params)
        except psycopg2.Error as e:
            if e.pgcode and e.pgcode.startswith('XX'):
                self.checked['no-internal-error'] += 1
                self.violation('no-internal-error', f'{what}: SQLSTATE {e.pgcode}: {e.pgerror.strip()[:300]}')
            if self.conn.closed:
                self.reconnect(f'{what}')

    def execute(self, c, prelude):
        cur = self.conn.cursor()
        timer = threading.Timer(self.hang_limit, self.conn.cancel)
        t0 = time.time()
        err = None
        state = None
        ok = False
        lost = False
        try:
            timer.start()
            if prelude:
                self.record(cur, 'BEGIN', [])
                cur.execute('BEGIN')
                for p in prelude:
                    self.record(cur, p, [])
                    cur.execute(p)
            self.record(cur, c['sql'], c['params'])
            cur.execute(c['sql'], c['params'])
            try:
                cur.fetchall()
            except psycopg2.ProgrammingError:
                pass
            if prelude:
                self.record(cur, 'COMMIT', [])
                cur.execute('COMMIT')
            ok = True
        except psycopg2.OperationalError as e:
            err = e
            state = e.pgcode
            if self.conn.closed or 'server closed the connection' in str(e) or 'terminat' in str(e):
                lost = True
        except psycopg2.Error as e:
            err = e
            state = e.pgcode
        except (ValueError, UnicodeError) as e:
            err = e
        finally:
            timer.cancel()
        elapsed = time.time() - t0
        if not lost and not self.conn.closed:
            try:
                if self.conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                    self.record(cur, 'ROLLBACK', [])
                    self.conn.cursor().execute('ROLLBACK')
            except psycopg2.Error:
                lost = True
        if self.conn.closed:
            lost = True
        return ok, state, err, elapsed, lost

    def reconnect(self, what):
        self.checked['no-crash'] += 1
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                self.conn = self.cluster.connect()
                break
            except psycopg2.OperationalError:
                time.sleep(0.2)
        else:
            print(f'server did not come back (seed {self.seed}, iteration {self.iter})', flush=True)
            raise SystemExit(2)
        self.violation('no-crash', f'{what}: connection lost')
        path = f'/tmp/pg_migrate_fuzz_crash_{self.seed}_{self.iter}.sql'
        try:
            with open(path, 'w') as f:
                f.write(f'-- pg_migrate fuzzer, seed {self.seed}, iteration {self.iter}: the session lost its\n'
                        f'-- connection at the last statement.  Run in an empty database:\n'
                        f'--   psql -X -v ON_ERROR_STOP=0 -d x -f {os.path.basename(path)}\n')
                f.write(self.env_sql.strip() + '\n')
                for h in self.history:
                    f.write(h + ';\n')
            print(f'  the statements of this session since its epoch began, as a script: {path}')
        except OSError:
            pass
        self.history = []
        self.conn.cursor().execute(f"SET statement_timeout = '{int(self.hang_limit * 1000) + 5000}ms'")

    def check_call(self, c, prelude, ok, state, err, elapsed, lost, before, tokens_before):
        what = c['sql'][:160] + (' params=' + repr([str(p)[:60] if p is not None else None for p in c['params']])[:300])
        if prelude:
            what = 'BEGIN; ' + '; '.join(prelude) + '; ' + what
        msg = (getattr(err, 'pgerror', None) or str(err or '')).strip()
        self.sqlstates[state or ('ok' if ok else 'client')] = self.sqlstates.get(state or ('ok' if ok else 'client'), 0) + 1
        self.checked['no-crash'] += 1
        if lost:
            self.reconnect(what + f' ({msg[:200]})')
            return
        self.checked['no-internal-error'] += 1
        if state == 'XX001' and 'changed under a running migration' in msg:
            # documented: the migration SQL itself edited pgmigrate.migrate_version
            self.allowed['XX001 documented (migration SQL edited the version state)'] = \
                self.allowed.get('XX001 documented (migration SQL edited the version state)', 0) + 1
        elif state and state.startswith('XX'):
            self.violation('no-internal-error', f'{c["name"]}: SQLSTATE {state}: {msg.splitlines()[0][:200] if msg else ""} [{what}]')
        self.checked['sane-error'] += 1
        if '(null)' in msg:
            self.violation('sane-error', f'{c["name"]}: SQLSTATE {state}: message contains "(null)": {msg.splitlines()[0][:200]} [{what}]')
        self.checked['no-hang'] += 1
        if elapsed >= self.hang_limit - 0.05 and state == '57014':
            running = ''
            try:
                cur = self.conn.cursor()
                cur.execute("""SELECT l.revision, r.transactional,
                                      CASE WHEN l.direction = 'downgrade' THEN r.downgrade_sql ELSE r.upgrade_sql END
                               FROM pgmigrate.migrate_log l JOIN pgmigrate.migrate_revisions r USING (revision)
                               WHERE l.id > %s AND l.outcome = 'started' ORDER BY l.id DESC LIMIT 1""", [before['logmax']])
                row = cur.fetchone()
                if row:
                    body = re.sub(r"INSERT INTO public.fz_effects[^;]*;?", '', row[2] or '').strip()
                    running = (f' in {"transactional" if row[1] else "non-transactional"} revision {row[0]} '
                               f'(SQL {body[:120]!r})')
            except psycopg2.Error:
                pass
            self.violation('no-hang', f'{c["name"]}: ran {elapsed:.1f} s until cancelled (57014){running} [{what}]')
        cur = self.conn.cursor()
        after = self.snapshot(cur)
        # XX in the log
        cur.execute("SELECT id, revision, outcome, sqlstate, error_message FROM pgmigrate.migrate_log WHERE id > %s AND sqlstate LIKE 'XX%%'",
                    [before['logmax']])
        for row in cur.fetchall():
            if row[3] == 'XX001' and 'changed under a running migration' in (row[4] or ''):
                continue
            self.violation('no-internal-error', f'{c["name"]}: migrate_log id {row[0]} ({row[1]} {row[2]}) has SQLSTATE {row[3]}: {(row[4] or "")[:150]} [{what}]')
        # started-has-outcome (the session survived)
        self.checked['started-has-outcome'] += 1
        cur.execute("""SELECT s.id, s.revision, s.direction, s.attempt, s.run_id FROM pgmigrate.migrate_log s
                       WHERE s.id > %s AND s.outcome = 'started'
                         AND NOT EXISTS (SELECT FROM pgmigrate.migrate_log o WHERE o.id > s.id AND o.run_id = s.run_id
                                         AND o.revision = s.revision AND o.direction = s.direction
                                         AND o.attempt = s.attempt AND o.outcome <> 'started')""", [before['logmax']])
        for row in cur.fetchall():
            self.violation('started-has-outcome', f'{c["name"]} failed with {state}: started row {row[0]} ({row[1]} {row[2]} attempt {row[3]}) has no outcome row [{what}]')
        # user-data-intact
        self.checked['user-data-intact'] += 1
        if after['canary'] != before['canary']:
            self.violation('user-data-intact', f'{c["name"]} ({"ok" if ok else state}) changed public.fz_canary: {before["canary"]} -> {after["canary"]} [{what}]')
            cur.execute("DELETE FROM public.fz_canary; INSERT INTO public.fz_canary VALUES ('v1.0', 'keep'), ('v1.1', 'keep')")
            after['canary'] = before['canary']
        # effects of this call
        tokens = self.token_map(cur)
        cur.execute("SELECT token, direction FROM public.fz_effects WHERE id > %s ORDER BY id", [before['effects']])
        eff = cur.fetchall()
        # no-partial-apply
        function_mode = c['changing'] and not c['call']
        if function_mode and not ok:
            self.checked['no-partial-apply'] += 1
            changed = [k for k in ('version', 'effects', 'nrev', 'outcomes') if before[k] != after[k]]
            # a failed attempt's own log row is written autonomously: allow failed rows only
            if 'outcomes' in changed:
                cur.execute("SELECT count(*) FROM pgmigrate.migrate_log WHERE id > %s AND outcome NOT IN ('failed', 'retry')",
                            [before['logmax']])
                if cur.fetchone()[0] == 0:
                    changed.remove('outcomes')
            if changed:
                self.violation('no-partial-apply', f'{c["name"]} failed with {state} but changed {", ".join(changed)} [{what}]')
        # state-matches-effects
        self.checked['state-matches-effects'] += 1
        expected = set(before['applied'])
        seen = {}
        problems = []
        # a migration whose SQL edited pgmigrate.migrate_version itself (the
        # documented XX001) has made the state what it is: not pg_migrate's
        if state == 'XX001' and 'changed under a running migration' in msg:
            eff = []
            expected = set(after['applied'])
        # ... and so has one that ran SQL writing it without pg_migrate
        # noticing (a new base leaves no head to check): the user's doing
        if self.edits_version_state(cur, eff, tokens, before['logmax']) and (
                eff or set(after['applied']) != set(before['applied'])):
            self.allowed['migration SQL wrote pgmigrate.migrate_version'] = \
                self.allowed.get('migration SQL wrote pgmigrate.migrate_version', 0) + 1
            eff = []
            expected = set(after['applied'])
        for tok, d in eff:
            rev = tokens.get(tok)
            if rev is None:
                problems.append(f'effect of unknown token {tok} ({d})')
                continue
            seen[(rev, d)] = seen.get((rev, d), 0) + 1
            if d == 'upgrade':
                if rev in expected:
                    problems.append(f'upgrade of {rev} ran although it was applied')
                expected.add(rev)
            else:
                if rev not in expected:
                    problems.append(f'downgrade of {rev} ran although it was not applied')
                expected.discard(rev)
        for (rev, d), n in seen.items():
            if n > 1:
                problems.append(f'{d} of {rev} ran {n} times in one call')
        if c['name'] in ('migrate_stamp', 'migrate_adopt_alembic'):
            if eff:
                problems.append('a stamp ran migration SQL')
        elif expected - self.untracked == after['applied'] - self.untracked:
            pass
        elif expected != after['applied'] and not ok and all(
                not self.is_tx(cur, rev) for rev in (expected ^ after['applied']) - self.untracked):
            # a failed call after a non-transactional step ran but before it was
            # recorded: the README allows it (such steps must be repeatable)
            self.allowed['non-tx step ran, call failed before recording it'] = \
                self.allowed.get('non-tx step ran, call failed before recording it', 0) + 1
        else:
            problems.append(f'applied set {sorted(after["applied"])} but effects say {sorted(expected)} '
                            f'(before {sorted(before["applied"])})')
        if problems:
            involved = sorted(set(before['applied']) | set(after['applied']) | expected)
            cur.execute("SELECT revision, down_revisions, depends_on FROM pgmigrate.migrate_revisions "
                        "WHERE revision = ANY (%s) ORDER BY seq", [involved])
            graph = ', '.join(f'{r}<-{list(d)}' + (f' depends {list(dep)}' if dep else '') for r, d, dep in cur.fetchall())
            self.violation('state-matches-effects', f'{c["name"]} ({"ok" if ok else state}): ' + '; '.join(problems)
                           + f'; migrate_version {list(before["version"])} -> {list(after["version"])}; graph: {graph} [{what}]')
        # reentry-refused: a step that calls pg_migrate must not succeed
        if ok and eff:
            self.checked['reentry-refused'] += 1
            for tok, d in eff:
                rev = tokens.get(tok)
                if rev is None:
                    continue
                cur.execute("SELECT CASE WHEN %s = 'upgrade' THEN upgrade_sql ELSE downgrade_sql END, transactional "
                            "FROM pgmigrate.migrate_revisions WHERE revision = %s", [d, rev])
                row = cur.fetchone()
                body = re.sub(r"INSERT INTO public.fz_effects[^;]*", '', row[0] or '')
                # migrate_status() and migrate_checksum() are plain SQL that
                # shares nothing with a running call: allowed (README)
                m = re.search(r'\bmigrate_(?!status\b|checksum\b)\w+\s*\(', body)
                if m:
                    self.violation('reentry-refused', f'{c["name"]} succeeded, and the {d} of '
                                   f'{"transactional" if row[1] else "non-transactional"} revision {rev} calling '
                                   f'{m.group(0)}) ran: {body.strip()[:150]!r}')
        # registered-is-plannable
        if ok and c['name'] in ('migrate_revision', 'migrate_new', 'migrate_merge') and after['nrev'] > before['nrev']:
            cur.execute("SELECT revision FROM pgmigrate.migrate_revisions ORDER BY seq DESC LIMIT %s",
                        [after['nrev'] - before['nrev']])
            for (rev,) in cur.fetchall():
                self.checked['registered-is-plannable'] += 1
                try:
                    cur.execute("SELECT migrate_upgrade_sql(%s)", [rev])
                except psycopg2.Error as e:
                    if e.pgcode and (e.pgcode == '22003' or e.pgcode.startswith('XX')):
                        cur.execute("SELECT lock_timeout::text, statement_timeout::text FROM pgmigrate.migrate_revisions WHERE revision = %s", [rev])
                        lt = cur.fetchone()
                        self.violation('registered-is-plannable', f'revision {rev} was accepted (lock_timeout {lt[0]}, '
                                       f'statement_timeout {lt[1]}) but migrate_upgrade_sql fails: SQLSTATE {e.pgcode}: '
                                       f'{e.pgerror.strip().splitlines()[0]}')
                        self.poisoned = True

    # --- the run -----------------------------------------------------------
    def run(self, iterations, seconds):
        t0 = time.time()
        self.poisoned = False
        while self.iter < iterations and time.time() - t0 < seconds:
            self.iter += 1
            if self.iter % 80 == 0 or self.poisoned:
                self.poisoned = False
                self.reset()
            try:
                self.run_one()
            except psycopg2.Error as e:
                # a harness query failed: the state is unusable; start a new epoch
                print(f'note: harness query failed at iteration {self.iter}: {str(e).strip()[:300]}', flush=True)
                if self.conn.closed:
                    self.reconnect('harness query')
                try:
                    self.conn.cursor().execute('ROLLBACK')
                except psycopg2.Error:
                    pass
                self.reset()
        return time.time() - t0


def main():
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))   # still stops the cluster
    ap = argparse.ArgumentParser()
    ap.add_argument('--seed', type=int, default=int(os.environ['PGM_FUZZ_SEED']) if os.environ.get('PGM_FUZZ_SEED') else None)
    ap.add_argument('--short', action='store_true', default=bool(os.environ.get('PGM_FUZZ_SHORT')))
    ap.add_argument('--seconds', type=float)
    ap.add_argument('--iterations', type=int)
    ap.add_argument('--port', type=int, default=int(os.environ.get('PGM_FUZZ_PORT') or '55475'))
    ap.add_argument('--hang-limit', type=float, default=8.0)
    ap.add_argument('--install-script', default=os.environ.get('PGM_FUZZ_INSTALL_SCRIPT'))
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(2 ** 31)
    if args.short and args.seconds is None and args.iterations is None:
        args.seconds = 60
    if args.seconds is None and args.iterations is None:
        args.iterations = 5000
    iterations = args.iterations if args.iterations is not None else 10 ** 9
    seconds = args.seconds if args.seconds is not None else 1e12
    print(f'pg_migrate input fuzzer: seed {args.seed} '
          f'({"%d iterations" % args.iterations if args.iterations else "%.0f s" % seconds}), port {args.port}', flush=True)
    fz = Fuzzer(args)
    status = 1     # until the run ends normally
    try:
        names = sorted({f[0] for f in fz.functions})
        print(f'functions and procedures fuzzed ({len(names)}): {", ".join(names)}')
        print(f'settings fuzzed: {", ".join(s[0] for s in fz.settings)}')
        if args.install_script and os.path.exists(args.install_script):
            script = open(args.install_script).read()
            declared = set(re.findall(r'CREATE (?:FUNCTION|PROCEDURE) (?:pgmigrate\.)?(\w+)\(', script))
            declared -= {'migrate_bump_epoch', 'migrate_log_append_only'}
            missing = declared - set(names)
            if missing:
                print(f'note: declared in {args.install_script} but not installed: {", ".join(sorted(missing))}')
        elapsed = fz.run(iterations, seconds)
        print(f'\nseed {args.seed}: {fz.iter} iterations in {elapsed:.0f} s, {fz.epoch} epochs')
        print('calls: ' + ', '.join(f'{k} {v}' for k, v in sorted(fz.calls.items())))
        print('SQLSTATEs: ' + ', '.join(f'{k} {v}' for k, v in sorted(fz.sqlstates.items(), key=lambda x: -x[1])))
        for inv in INVARIANTS:
            first = fz.first.get(inv)
            res = 'ok' if fz.violations[inv] == 0 else 'FAILED'
            print(f'invariant {inv}: {res}: {fz.violations[inv]} violation(s) in {fz.checked[inv]} check(s)'
                  + (f' (first at seed {args.seed} iteration {first[0]})' if first else ''))
        if fz.allowed:
            print('README-allowed outcomes seen: ' + ', '.join(f'{k}: {v}' for k, v in sorted(fz.allowed.items())))
        if fz.findings:
            print('violations by known finding: ' + ', '.join(f'{k.strip(" []")}: {v}' for k, v in sorted(fz.findings.items())))
        if any(fz.violations.values()):
            print(f'FAILED: seed {args.seed}; reproduce with test/fuzz/run --seed {args.seed} --iterations {fz.iter}')
        else:
            status = 0
    finally:
        keep = '/tmp/pg_migrate_fuzz_last.log' if status else None
        try:
            fz.conn.close()
        except Exception:
            pass
        fz.cluster.stop(keep_log=keep)
    sys.exit(status)


if __name__ == '__main__':
    main()
