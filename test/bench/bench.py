#!/usr/bin/python3
"""pg_migrate benchmark suite (issue 5); started by test/bench/run.

Connects with the PG* environment (PGHOST, PGPORT, PGUSER: a superuser) to
a server with pg_migrate installed and max_locks_per_transaction high
enough for one transaction of N CREATE TABLEs (test/bench/run starts such
a cluster).  Two parts:

Chains: N migrations in a line, for each N and each kind
  A  CREATE TABLE t_i (id int PRIMARY KEY, v text)   down: DROP TABLE t_i
  B  SELECT 1                                        down: SELECT 1
applied to head and removed to base by every contender, on a database made
fresh for each (contender, kind, N, run).  Each figure is the wall clock of
the whole command(s) a user would run, start-up and connection included;
each contender's files are generated beforehand, untimed.  Contenders run
interleaved, one round at a time, so drift on a noisy machine hits all.

Graph scale: graph_scale.py at 10,000, 100,000 and 1,000,000 revisions.

It prints one table (median, min-max, ratio to the floor, per-step overhead
over the floor), the targets with pass/miss, writes results/last_run.txt,
results/last_run.json and results/chart.svg (gnuplot), and ends with one
line.  --smoke: N = 10 and 50, one run, graph at 1,000, results under
results/smoke/; it fails only on errors, not on targets.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import graph_scale  # noqa: E402

NODE_BIN = os.path.join(HERE, "node_modules", ".bin")
# The server's own psql, not Debian's pg_wrapper (a Perl script that adds
# ~20 ms to every start); test/bench/run sets PGM_BINDIR.
BINDIR = os.environ.get("PGM_BINDIR", "")
PSQL = graph_scale.PSQL
PYTHON = "/usr/bin/python3"
DBMATE_ARCH = {"x86_64": "x64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)

KINDS = {
    "A": ("CREATE TABLE", lambda i: f"CREATE TABLE t_{i} (id int PRIMARY KEY, v text);",
          lambda i: f"DROP TABLE t_{i};"),
    "B": ("SELECT 1", lambda i: "SELECT 1;", lambda i: "SELECT 1;"),
}

# The target figures of issue 5.
TARGET_STEP_MS = 0.05
TARGET_RATIO_1000 = 1.05
TARGET_GRAPH_MS = 100.0
TARGET_REGISTER_S = 60.0


class Failure(Exception):
    pass


def log(msg=""):
    print(msg, flush=True)


def pg_env():
    return {k: os.environ.get(k, "") for k in ("PGHOST", "PGPORT", "PGUSER")}


def psql_value(sql, db="postgres"):
    p = subprocess.run([PSQL, "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise Failure(f"psql: {p.stderr.strip()}")
    return p.stdout.strip()


def tail(path, lines=8):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip()
    except OSError:
        return ""


class Runner:
    """Runs timed commands, output to a log file, with a time limit."""

    def __init__(self, logdir, timeout):
        self.logdir = logdir
        self.timeout = timeout
        self.count = 0

    def run(self, cmd, cwd=None, env=None, timeout=None):
        self.count += 1
        path = os.path.join(self.logdir, f"cmd{self.count:06d}.log")
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        with open(path, "w") as out:
            out.write("$ " + " ".join(cmd) + "\n")
            out.flush()
            # A timer kills the command at the time limit, and the wait itself
            # blocks: subprocess.run(timeout=...) polls with sleeps of up to
            # 50 ms, which rounded every figure up to the next poll.
            limit = timeout or self.timeout
            expired = threading.Event()
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
            timer = threading.Timer(limit, lambda: (expired.set(), p.kill()))
            timer.start()
            try:
                p.wait()
            finally:
                timer.cancel()
            secs = time.perf_counter() - t0
            if expired.is_set():
                raise Failure(f"{os.path.basename(cmd[0])} timed out after {limit:.0f} s")
        if p.returncode != 0:
            raise Failure(f"{' '.join(cmd[:3])} ... exited {p.returncode}:\n{tail(path)}")
        os.unlink(path)
        return secs


# --------------------------------------------------------------------------
# Contenders.  Each generates its files for (kind, n) once, untimed; setup()
# prepares a fresh database, untimed; register(), up() and down() return
# wall-clock seconds.
# --------------------------------------------------------------------------

class Contender:
    key = ""
    label = ""
    note = ""
    has_register = False

    def __init__(self, runner, workdir):
        self.r = runner
        self.workdir = workdir

    def available(self):
        """None, or why this contender is skipped."""
        return None

    def version(self):
        return ""

    def dir(self, kind, n):
        d = os.path.join(self.workdir, self.key, f"{kind}{n}")
        if not os.path.isdir(d):
            os.makedirs(d)
            self.generate(d, kind, n)
        return d

    def generate(self, d, kind, n):
        pass

    def setup(self, db, kind, n):
        pass

    def register(self, db, kind, n):
        return None


def psql_cmd(db, *args):
    return [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, *args]


class Floor(Contender):
    key = "floor"
    label = "floor (psql -1 -f)"
    note = "one psql -1 -f of all the up (down) SQL: no bookkeeping at all"

    def version(self):
        return psql_value("SHOW server_version")

    def generate(self, d, kind, n):
        _, up, down = KINDS[kind]
        with open(os.path.join(d, "up.sql"), "w") as f:
            f.writelines(up(i) + "\n" for i in range(1, n + 1))
        with open(os.path.join(d, "down.sql"), "w") as f:
            f.writelines(down(i) + "\n" for i in range(n, 0, -1))

    def up(self, db, kind, n):
        return self.r.run(psql_cmd(db, "-1", "-f", os.path.join(self.dir(kind, n), "up.sql")))

    def down(self, db, kind, n):
        return self.r.run(psql_cmd(db, "-1", "-f", os.path.join(self.dir(kind, n), "down.sql")))


def rev_id(i):
    return f"r{i:06d}"


class PgMigrate(Contender):
    key = "pg_migrate"
    label = "pg_migrate"
    note = ("register: psql -f of one file of N migrate_revision() calls (autocommit), timed apart; "
            "up: SELECT * FROM migrate_upgrade('head'); down: SELECT * FROM migrate_downgrade('base'), "
            "each one psql -c, all steps in one transaction; CREATE EXTENSION is untimed setup")
    has_register = True
    up_sql = "SELECT * FROM migrate_upgrade('head')"
    down_sql = "SELECT * FROM migrate_downgrade('base')"

    def version(self):
        return psql_value("SELECT default_version FROM pg_available_extensions WHERE name = 'pg_migrate'")

    def available(self):
        if not self.version():
            return "the pg_migrate extension is not installed in this server"
        return None

    def generate(self, d, kind, n):
        _, up, down = KINDS[kind]
        with open(os.path.join(d, "register.sql"), "w") as f:
            for i in range(1, n + 1):
                parent = f"'{rev_id(i - 1)}'" if i > 1 else "NULL"
                f.write(f"SELECT migrate_revision('{rev_id(i)}', {parent},\n"
                        f"    $up$ {up(i)} $up$,\n    $down$ {down(i)} $down$,\n    message => 'step {i}');\n")

    def setup(self, db, kind, n):
        self.r.run(psql_cmd(db, "-c", "CREATE EXTENSION pg_migrate"))

    def register(self, db, kind, n):
        return self.r.run(psql_cmd(db, "-f", os.path.join(self.dir(kind, n), "register.sql")))

    def up(self, db, kind, n):
        return self.r.run(psql_cmd(db, "-c", self.up_sql))

    def down(self, db, kind, n):
        return self.r.run(psql_cmd(db, "-c", self.down_sql))


class PgMigrateApply(PgMigrate):
    # ---------------------------------------------------------------------
    # SLOT: CALL migrate_apply (per-step commits), not in pg_migrate yet.
    # Measured as soon as a procedure named migrate_apply exists in the
    # extension; adjust the two calls below to its final signature.
    # ---------------------------------------------------------------------
    key = "pg_migrate_apply"
    label = "pg_migrate CALL migrate_apply"
    note = ("CALL migrate_apply('head') / CALL migrate_apply('base', downgrade => true), one psql -c each: "
            "a commit per step")
    up_sql = "CALL migrate_apply('head')"
    down_sql = "CALL migrate_apply('base', downgrade => true)"

    def available(self):
        why = super().available()
        if why:
            return why
        db = "bench_probe_apply"
        psql_value(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        psql_value(f"CREATE DATABASE {db}")
        try:
            psql_value("CREATE EXTENSION pg_migrate", db)
            found = psql_value("SELECT 1 FROM pg_proc WHERE proname = 'migrate_apply'", db)
        finally:
            psql_value(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        if not found:
            return "procedure migrate_apply does not exist in pg_migrate yet"
        return None


ALEMBIC_ENV = '''\
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)


def run_migrations_online():
    engine = create_engine(os.environ["BENCH_DATABASE_URL"], poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("online mode only")
run_migrations_online()
'''

ALEMBIC_INI = '''\
[alembic]
script_location = %(here)s

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console
qualname =

[logger_sqlalchemy]
level = WARN
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
'''


class Alembic(Contender):
    key = "alembic"
    label = "alembic"
    note = ("online, psycopg2, the generated project's N version files each with op.execute(); "
            "`python3 -m alembic upgrade head` / `downgrade base`, interpreter start-up and script loading "
            "included (files byte-compiled beforehand); one transaction per command (its default)")

    def version(self):
        p = subprocess.run([PYTHON, "-c", "import alembic, sqlalchemy; print(alembic.__version__, "
                            "'sqlalchemy', sqlalchemy.__version__)"], capture_output=True, text=True)
        return p.stdout.strip()

    def available(self):
        p = subprocess.run([PYTHON, "-c", "import alembic, psycopg2, sqlalchemy"], capture_output=True, text=True)
        if p.returncode != 0:
            return "python3-alembic or python3-psycopg2 (Debian) is not installed"
        return None

    def generate(self, d, kind, n):
        _, up, down = KINDS[kind]
        with open(os.path.join(d, "alembic.ini"), "w") as f:
            f.write(ALEMBIC_INI)
        with open(os.path.join(d, "env.py"), "w") as f:
            f.write(ALEMBIC_ENV)
        os.makedirs(os.path.join(d, "versions"))
        for i in range(1, n + 1):
            parent = repr(rev_id(i - 1)) if i > 1 else "None"
            with open(os.path.join(d, "versions", f"{rev_id(i)}_step_{i}.py"), "w") as f:
                f.write(f'"""step {i}\n\nRevision ID: {rev_id(i)}\nRevises: {parent}\n"""\n'
                        f"from alembic import op\n\n"
                        f"revision = {rev_id(i)!r}\ndown_revision = {parent}\n"
                        f"branch_labels = None\ndepends_on = None\n\n\n"
                        f"def upgrade():\n    op.execute({up(i)!r})\n\n\n"
                        f"def downgrade():\n    op.execute({down(i)!r})\n")
        subprocess.run([PYTHON, "-m", "compileall", "-q", d], check=True, stdout=subprocess.DEVNULL)

    def url(self, db):
        e = pg_env()
        return f"postgresql+psycopg2://{e['PGUSER']}@/{db}?host={e['PGHOST']}&port={e['PGPORT']}"

    def cmd(self, db, kind, n, *args):
        d = self.dir(kind, n)
        return self.r.run([PYTHON, "-m", "alembic", "-c", os.path.join(d, "alembic.ini"), *args],
                          cwd=d, env={"BENCH_DATABASE_URL": self.url(db)})

    def up(self, db, kind, n):
        return self.cmd(db, kind, n, "upgrade", "head")

    def down(self, db, kind, n):
        return self.cmd(db, kind, n, "downgrade", "base")


class Dbmate(Contender):
    key = "dbmate"
    label = "dbmate"
    note = ("`dbmate --no-dump-schema migrate` (a transaction per migration); down: N runs of "
            "`dbmate rollback` (it rolls back one migration per command, and has no count option)")

    def bin(self):
        # npm's dbmate is a node wrapper around a Go binary that it ships per
        # platform; run the Go binary itself, as dbmate is normally installed
        # (the wrapper adds ~100 ms of node start-up to every command)
        native = os.path.join(HERE, "node_modules", "@dbmate", f"linux-{DBMATE_ARCH}", "bin", "dbmate")
        return native if os.access(native, os.X_OK) else os.path.join(NODE_BIN, "dbmate")

    def available(self):
        if not os.access(self.bin(), os.X_OK):
            return f"not installed in {os.path.relpath(NODE_BIN, HERE)} (npm install dbmate)"
        return None

    def version(self):
        p = subprocess.run([self.bin(), "--version"], capture_output=True, text=True)
        return p.stdout.strip().replace("dbmate version ", "")

    def generate(self, d, kind, n):
        _, up, down = KINDS[kind]
        m = os.path.join(d, "db", "migrations")
        os.makedirs(m)
        for i in range(1, n + 1):
            with open(os.path.join(m, f"{20000000000000 + i}_step_{i}.sql"), "w") as f:
                f.write(f"-- migrate:up\n{up(i)}\n\n-- migrate:down\n{down(i)}\n")

    def cmd(self, db, kind, n, *args):
        e = pg_env()
        url = f"postgres://{e['PGUSER']}@/{db}?socket={e['PGHOST']}&port={e['PGPORT']}&sslmode=disable"
        return [self.bin(), "--no-dump-schema", "-u", url, "-d", os.path.join(self.dir(kind, n), "db", "migrations"), *args]

    def up(self, db, kind, n):
        return self.r.run(self.cmd(db, kind, n, "migrate"))

    def down(self, db, kind, n):
        c = self.cmd(db, kind, n, "rollback")
        t0 = time.perf_counter()
        for _ in range(n):
            self.r.run(c)
        return time.perf_counter() - t0


class NodePgMigrate(Contender):
    key = "node_pg_migrate"
    label = "node-pg-migrate"
    note = ("SQL migration files; `node-pg-migrate up` and `node-pg-migrate down N`, "
            "--single-transaction (its default)")

    def bin(self):
        return os.path.join(NODE_BIN, "node-pg-migrate")

    def available(self):
        if not os.access(self.bin(), os.X_OK):
            return f"not installed in {os.path.relpath(NODE_BIN, HERE)} (npm install node-pg-migrate pg)"
        return None

    def version(self):
        try:
            with open(os.path.join(HERE, "node_modules", "node-pg-migrate", "package.json")) as f:
                return json.load(f)["version"]
        except (OSError, ValueError, KeyError):
            return ""

    def generate(self, d, kind, n):
        _, up, down = KINDS[kind]
        m = os.path.join(d, "migrations")
        os.makedirs(m)
        for i in range(1, n + 1):
            with open(os.path.join(m, f"{1000000000000 + i}_step-{i}.sql"), "w") as f:
                f.write(f"-- Up Migration\n{up(i)}\n-- Down Migration\n{down(i)}\n")

    def cmd(self, db, kind, n, *args):
        e = pg_env()
        d = self.dir(kind, n)
        url = f"postgres://{e['PGUSER']}@{e['PGHOST'].replace('/', '%2F')}:{e['PGPORT']}/{db}"
        return self.r.run([self.bin(), "-m", os.path.join(d, "migrations"), *args], cwd=d,
                          env={"DATABASE_URL": url})

    def up(self, db, kind, n):
        return self.cmd(db, kind, n, "up")

    def down(self, db, kind, n):
        return self.cmd(db, kind, n, "down", str(n))


class Sqitch(Contender):
    key = "sqitch"
    label = "sqitch"
    note = ("`sqitch deploy` / `sqitch revert -y` of a plan of N changes (a psql process per change); "
            "its first deploy also creates its registry schema")

    def available(self):
        if not shutil.which("sqitch"):
            return "sqitch (Debian) is not installed"
        p = subprocess.run(["perl", "-MDBD::Pg", "-e", "1"], capture_output=True)
        if p.returncode != 0:
            return "libdbd-pg-perl (Debian) is not installed"
        return None

    def version(self):
        p = subprocess.run(["sqitch", "--version"], capture_output=True, text=True)
        return p.stdout.strip().split()[-1] if p.stdout.strip() else ""

    def generate(self, d, kind, n):
        _, up, down = KINDS[kind]
        for sub in ("deploy", "revert", "verify"):
            os.makedirs(os.path.join(d, sub))
        with open(os.path.join(d, "sqitch.conf"), "w") as f:
            f.write("[core]\n\tengine = pg\n\tplan_file = sqitch.plan\n\ttop_dir = .\n"
                    f"[engine \"pg\"]\n\tclient = {shutil.which(PSQL) or PSQL}\n")
        with open(os.path.join(d, "sqitch.plan"), "w") as f:
            f.write("%syntax-version=1.0.0\n%project=bench\n\n")
            for i in range(1, n + 1):
                f.write(f"step_{i} 2024-01-01T00:00:00Z Bench <bench@example.com> # step {i}\n")
                # sqitch refuses two changes with the same deploy script
                # (unique script hash), hence the comment
                with open(os.path.join(d, "deploy", f"step_{i}.sql"), "w") as g:
                    g.write(f"-- step {i}\n{up(i)}\n")
                with open(os.path.join(d, "revert", f"step_{i}.sql"), "w") as g:
                    g.write(f"-- step {i}\n{down(i)}\n")

    def cmd(self, db, kind, n, *args):
        return self.r.run(["sqitch", *args, f"db:pg:{db}"], cwd=self.dir(kind, n),
                          env={"SQITCH_FULLNAME": "Bench", "SQITCH_EMAIL": "bench@example.com"})

    def up(self, db, kind, n):
        return self.cmd(db, kind, n, "deploy")

    def down(self, db, kind, n):
        return self.cmd(db, kind, n, "revert", "-y")


CONTENDERS = [Floor, PgMigrate, PgMigrateApply, Alembic, Dbmate, NodePgMigrate, Sqitch]


# --------------------------------------------------------------------------
# The chain benchmark
# --------------------------------------------------------------------------

def fresh_db(db):
    psql_value(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    psql_value(f"CREATE DATABASE {db}")
    # the first connection to a new database builds its relcache init file
    # (~20 ms); pay it here, untimed, for every contender alike
    psql_value("SELECT 1", db)


def count_tables(db):
    return int(psql_value("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                          " WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname ~ '^t_[0-9]+$'", db))


def run_chains(contenders, sizes, kinds, runs, budget, errors):
    """results[key][kind][n] = {'up': [s...], 'down': [...], 'register': [...]};
    skipped[key][kind][n] = reason."""
    results = {c.key: {k: {} for k in kinds} for c in contenders}
    skipped = {c.key: {k: {} for k in kinds} for c in contenders}
    once = set()        # (key, kind, n) measured once only: a command took longer than the budget
    db = "bench_chain"
    for run in range(runs):
        # each round starts one contender later, so that no contender always
        # follows the same neighbour (and the files it just dropped)
        order = contenders[run % len(contenders):] + contenders[:run % len(contenders)]
        for n in sizes:
            for kind in kinds:
                for c in order:
                    if n in skipped[c.key][kind] or (c.key, kind, n) in once:
                        continue
                    smaller = [m for m in results[c.key][kind] if m < n and results[c.key][kind][m]["up"]]
                    if run == 0 and smaller:
                        m = max(smaller)
                        rec = results[c.key][kind][m]
                        worst = max(max(rec[s]) for s in ("up", "down", "register") if rec[s])
                        predicted = worst * n / m
                        if predicted > budget:
                            reason = (f"skipped: one command predicted at ~{predicted:.0f} s from N={m:,} "
                                      f"(linear), over the {budget:.0f} s budget (--budget)")
                            for big in sizes:
                                if big >= n:
                                    skipped[c.key][kind][big] = reason
                            log(f"  {c.label}, {KINDS[kind][0]}, N={n:,}: {reason}")
                            continue
                    try:
                        fresh_db(db)
                        c.setup(db, kind, n)
                        c.dir(kind, n)                      # generate files, untimed
                        rec = results[c.key][kind].setdefault(n, {"up": [], "down": [], "register": []})
                        reg = c.register(db, kind, n)
                        up = c.up(db, kind, n)
                        if kind == "A" and count_tables(db) != n:
                            raise Failure(f"after upgrade {count_tables(db)} tables, expected {n}")
                        down = c.down(db, kind, n)
                        if kind == "A" and count_tables(db) != 0:
                            raise Failure(f"after downgrade {count_tables(db)} tables, expected 0")
                    except Failure as e:
                        reason = f"failed: {e}"
                        errors.append(f"{c.label}, {KINDS[kind][0]}, N={n:,}: {e}")
                        for big in sizes:
                            if big >= n:
                                skipped[c.key][kind][big] = reason.splitlines()[0]
                        results[c.key][kind].pop(n, None)
                        log(f"  {c.label}, {KINDS[kind][0]}, N={n:,}: {reason}")
                        continue
                    if run == 0 and runs > 1 and max(up, down, reg or 0) > budget:
                        once.add((c.key, kind, n))
                        log(f"  {c.label}, {KINDS[kind][0]}, N={n:,}: a command took longer than the "
                            f"{budget:.0f} s budget: measured once only")
                    if reg is not None:
                        rec["register"].append(reg)
                    rec["up"].append(up)
                    rec["down"].append(down)
                    extra = f"register {reg:.2f} s, " if reg is not None else ""
                    log(f"  run {run + 1}/{runs}  {KINDS[kind][0]:12s} N={n:<6,d} {c.label:30s} "
                        f"{extra}up {up:.3f} s, down {down:.3f} s")
    try:
        psql_value(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    except Failure:
        pass
    return results, skipped


def med(xs):
    return statistics.median(xs) if xs else None


def chain_table(contenders, sizes, kinds, results, skipped):
    lines = []
    rows_json = []
    hdr = (f"{'kind':13s}{'N':>7s}  {'contender':31s}{'step':12s}{'runs':>4s}{'median s':>10s}{'min-max s':>19s}"
           f"{'x floor':>9s}{'over floor ms/step':>20s}")
    for kind in kinds:
        for n in sizes:
            lines.append(hdr)
            floor = results["floor"][kind].get(n) if "floor" in results else None
            for c in contenders:
                rec = results[c.key][kind].get(n)
                if not rec or not rec["up"]:
                    why = skipped[c.key][kind].get(n, "not measured")
                    lines.append(f"{KINDS[kind][0]:13s}{n:>7,d}  {c.label:31s}{why}")
                    continue
                steps = (["register"] if rec["register"] else []) + ["up", "down"]
                if rec["register"]:
                    steps.append("register+up")
                for step in steps:
                    if step == "register+up":
                        xs = [a + b for a, b in zip(rec["register"], rec["up"])]
                        fl = floor["up"] if floor else None
                    elif step == "register":
                        xs = rec["register"]
                        fl = None
                    else:
                        xs = rec[step]
                        fl = floor[step] if floor else None
                    m = med(xs)
                    ratio = over = None
                    if fl:
                        ratio = m / med(fl)
                        over = (m - med(fl)) * 1000.0 / n
                    rng = f"{min(xs):.3f}-{max(xs):.3f}"
                    r_s = f"{ratio:.2f}" if ratio is not None else "-"
                    if step == "register":
                        o_s = f"({m * 1000.0 / n:.3f}/rev)"
                    else:
                        o_s = f"{over:+.3f}" if over is not None else "-"
                    lines.append(f"{KINDS[kind][0]:13s}{n:>7,d}  {c.label:31s}{step:12s}{len(xs):>4d}{m:>10.3f}{rng:>19s}"
                                 f"{r_s:>9s}{o_s:>20s}")
                    rows_json.append({"kind": kind, "n": n, "contender": c.key, "step": step,
                                      "median": m, "min": min(xs), "max": max(xs), "runs": len(xs),
                                      "ratio": ratio, "overhead_ms_per_step": over})
            lines.append("")
    return "\n".join(lines), rows_json


def chart(contenders, sizes, kinds, results, outdir, errors):
    """gnuplot: seconds against N, log-log, one panel per kind and direction."""
    gp = shutil.which("gnuplot")
    svg = os.path.join(outdir, "chart.svg")
    if not gp:
        log("chart: gnuplot not found (Debian gnuplot-nox), no chart written")
        return None
    blocks, panels = [], []
    for kind in kinds:
        for step in ("up", "down"):
            plots = []
            for idx, c in enumerate(contenders):
                pts = [(n, results[c.key][kind][n][step]) for n in sizes
                       if n in results[c.key][kind] and results[c.key][kind][n][step]]
                if not pts:
                    continue
                name = f"${c.key}_{kind}_{step}"
                blocks.append(f"{name} << EOD\n" + "".join(
                    f"{n} {med(xs):.6f} {min(xs):.6f} {max(xs):.6f}\n" for n, xs in pts) + "EOD\n")
                plots.append(f"{name} using 1:2:3:4 with yerrorlines ls {idx + 1} title '{c.label}'")
            direction = "upgrade to head" if step == "up" else "downgrade to base"
            if plots:
                panels.append(f"set title '{KINDS[kind][0]} chain: {direction}'\nplot " + ", \\\n     ".join(plots) + "\n")
    if not panels:
        return None
    cols = 2
    rows = (len(panels) + cols - 1) // cols
    height = 520 * rows
    png = os.path.join(outdir, "chart.png")
    script = [
        "set logscale xy", "set grid", "set key below font ',9' spacing 1.1",
        "set xtics (" + ", ".join(f"'{n:,}' {n}" for n in sizes) + ")",
        "set ylabel 'seconds'",
        "set format y '%g'", f"set xrange [{min(sizes) * 0.7}:{max(sizes) * 1.4}]",
        "set style line 1 lc rgb '#000000' lw 2 pt 7", "set style line 2 lc rgb '#d62728' lw 2 pt 5",
        "set style line 3 lc rgb '#ff7f0e' lw 2 pt 9", "set style line 4 lc rgb '#1f77b4' lw 2 pt 11",
        "set style line 5 lc rgb '#2ca02c' lw 2 pt 13", "set style line 6 lc rgb '#9467bd' lw 2 pt 4",
        "set style line 7 lc rgb '#8c564b' lw 2 pt 6",
    ] + blocks
    plot = [f"set multiplot layout {rows},{cols} title 'pg_migrate benchmark: chains of N migrations, "
            "wall clock of the whole command against N (median, bars min-max), "
            f"{datetime.date.today().isoformat()}, {os.cpu_count()} cores'"] + panels + ["unset multiplot"]
    script += [f"set terminal svg size 1200,{height} dynamic noenhanced font 'sans,11' background '#ffffff'",
               f"set output '{svg}'"] + plot
    script += [f"set terminal pngcairo size 1200,{height} noenhanced font 'sans,10' background '#ffffff'",
               f"set output '{png}'"] + plot + ["set output"]
    gpfile = os.path.join(outdir, "chart.gp")
    with open(gpfile, "w") as f:
        f.write("\n".join(script) + "\n")
    p = subprocess.run([gp, gpfile], capture_output=True, text=True)
    if p.returncode != 0:
        errors.append(f"gnuplot failed: {p.stderr.strip()[:300]}")
        return None
    return svg


# --------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------

def targets(sizes, kinds, results, graph, graph_sizes, smoke):
    out = []   # (status, text); status: pass, miss, n/a

    def add(ok, text):
        out.append((("pass" if ok else "miss") if ok is not None else "n/a", text))

    pgm, fl = results.get("pg_migrate", {}), results.get("floor", {})
    big = [n for n in sizes if n >= 1000]
    if big:
        n = max(big)
        for kind in kinds:
            for step in ("up", "down"):
                a, b = pgm.get(kind, {}).get(n), fl.get(kind, {}).get(n)
                if a and b and a[step] and b[step]:
                    over = (med(a[step]) - med(b[step])) * 1000.0 / n
                    add(over <= TARGET_STEP_MS, f"pg_migrate per-step overhead over the floor <= {TARGET_STEP_MS} ms: "
                        f"{over:+.4f} ms ({KINDS[kind][0]} chain, N={n:,}, {step})")
                else:
                    add(None, f"pg_migrate per-step overhead ({KINDS[kind][0]}, N={n:,}, {step}): not measured")
    else:
        add(None, f"pg_migrate per-step overhead over the floor <= {TARGET_STEP_MS} ms: needs N >= 1,000 (not run)")
    a, b = pgm.get("A", {}).get(1000), fl.get("A", {}).get(1000)
    if a and b and a["up"] and b["up"]:
        ratio = med(a["up"]) / med(b["up"])
        add(ratio <= TARGET_RATIO_1000, f"1,000-step CREATE TABLE chain within {TARGET_RATIO_1000}x of the floor: "
            f"{ratio:.3f}x (up; down {med(a['down']) / med(b['down']):.3f}x)")
    else:
        add(None, f"1,000-step CREATE TABLE chain within {TARGET_RATIO_1000}x of the floor: N=1,000 not run")
    if graph and 100000 in graph_sizes:
        worst = None
        for shape, by_n in graph.items():
            r = by_n.get(100000)
            if not r:
                continue
            for key, label in [graph_scale.COLD] + [(k, l) for k, l, _ in graph_scale.CALLS]:
                v = r.get(key, {})
                t = float("inf") if "error" in v else v.get("median")
                if t is not None and (worst is None or t > worst[0]):
                    worst = (t, f"{label}, {shape}")
        if worst:
            slow = []
            for shape, by_n in graph.items():
                r = by_n.get(100000, {})
                for key, label in [graph_scale.COLD] + [(k, l) for k, l, _ in graph_scale.CALLS]:
                    v = r.get(key, {})
                    if "error" in v or v.get("median", 0) >= TARGET_GRAPH_MS:
                        slow.append(f"{label} {shape} " + ("error" if "error" in v else f"{v['median']:.0f} ms"))
            add(worst[0] < TARGET_GRAPH_MS, f"every graph call on 100,000 revisions under {TARGET_GRAPH_MS:.0f} ms: "
                f"slowest {worst[0]:.1f} ms ({worst[1]})" + (f"; over: {', '.join(slow)}" if slow else ""))
        r = graph.get("linear", {}).get(100000)
        if r and r["setup"]["how"] == "psql -f":
            s = r["setup"]["seconds"]
            add(s < TARGET_REGISTER_S, f"registering 100,000 revisions through psql -f under {TARGET_REGISTER_S:.0f} s: "
                f"{s:.1f} s ({s * 1000.0 / r['setup']['revisions']:.3f} ms per revision)")
        else:
            add(None, "registering 100,000 revisions through psql -f: not run")
    else:
        add(None, f"every graph call on 100,000 revisions under {TARGET_GRAPH_MS:.0f} ms: 100,000 not run")
        add(None, f"registering 100,000 revisions through psql -f under {TARGET_REGISTER_S:.0f} s: 100,000 not run")
    return out


# --------------------------------------------------------------------------

def data_dir_line():
    """Where the cluster keeps its files, and on what file system."""
    d = psql_value("SHOW data_directory")
    try:
        fs = subprocess.run(["stat", "-f", "-c", "%T", d], capture_output=True, text=True,
                            check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        fs = "unknown file system"
    return f"{d} ({fs})"


def machine_line():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1048576:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({model}), {mem} memory, {platform.system()} {platform.release()}"


def build_line():
    """Which pg_migrate build is measured: the installed .so and the work tree."""
    parts = []
    try:
        libdir = subprocess.run([os.path.join(BINDIR, "pg_config") if BINDIR else "pg_config", "--pkglibdir"], capture_output=True, text=True).stdout.strip()
        so = os.path.join(libdir, "pg_migrate.so")
        st = os.stat(so)
        import hashlib
        with open(so, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:12]
        parts.append(f"{so} installed {datetime.datetime.fromtimestamp(st.st_mtime).astimezone():%Y-%m-%d %H:%M %Z}, "
                     f"sha256 {digest}")
    except OSError:
        pass
    root = os.path.dirname(os.path.dirname(HERE))
    p = subprocess.run(["git", "-C", root, "describe", "--always", "--dirty"], capture_output=True, text=True)
    if p.returncode == 0:
        parts.append(f"work tree {p.stdout.strip()}")
    return "; ".join(parts)


def load_line():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def parse_list(s):
    return [int(x.replace("_", "")) for x in s.split(",") if x]


def main():
    # a SIGTERM unwinds like an exception, so the work directory is removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description="pg_migrate benchmark suite (see test/bench/README.md)")
    ap.add_argument("--smoke", action="store_true", help="N = 10, 50; one run; graph at 1,000; results/smoke/")
    ap.add_argument("--sizes", help="chain lengths, comma-separated (default 100,1000,10000)")
    ap.add_argument("--runs", type=int, help="runs per figure (default 3)")
    ap.add_argument("--kinds", default="A,B", help="A (CREATE TABLE), B (SELECT 1); default A,B")
    ap.add_argument("--only", help="contenders, comma-separated: " + ",".join(c.key for c in CONTENDERS)
                    + " (the floor is always run)")
    ap.add_argument("--budget", type=float, help="skip a contender at an N where one command is predicted "
                    "(linearly from the N before) to take longer, seconds (default 300; smoke 3)")
    ap.add_argument("--timeout", type=float, help="kill a command after this many seconds (default 3 x budget; smoke 60)")
    ap.add_argument("--graph-sizes", help="graph scale sizes (default 10000,100000,1000000)")
    ap.add_argument("--no-chains", action="store_true")
    ap.add_argument("--no-graph", action="store_true")
    ap.add_argument("--results", help="output directory (default test/bench/results, smoke: results/smoke)")
    # handled by test/bench/run, accepted here so that it can pass everything on
    ap.add_argument("--no-install", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-cluster", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()

    started = time.perf_counter()
    smoke = a.smoke
    sizes = parse_list(a.sizes) if a.sizes else ([10, 50] if smoke else [100, 1000, 10000])
    runs = a.runs or (1 if smoke else 3)
    kinds = [k for k in a.kinds.split(",") if k]
    budget = a.budget or (3.0 if smoke else 300.0)
    timeout = a.timeout or (60.0 if smoke else 3 * budget)
    graph_sizes = parse_list(a.graph_sizes) if a.graph_sizes else ([1000] if smoke else [10000, 100000, 1000000])
    outdir = a.results or os.path.join(HERE, "results", "smoke" if smoke else "")
    outdir = os.path.normpath(outdir)
    os.makedirs(outdir, exist_ok=True)
    errors = []

    load0 = load_line()
    try:
        psql_value("SELECT 1")
    except Failure as e:
        log(f"cannot reach the server (PGHOST={os.environ.get('PGHOST', '')}, PGPORT={os.environ.get('PGPORT', '')}): {e}")
        log(f"bench{' smoke' if smoke else ''}: FAILED, no server")
        return 1
    head = [
        f"pg_migrate benchmark, {'smoke run' if smoke else 'full run'}, "
        f"{datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"machine: {machine_line()}",
        f"load average at start: {load0}",
        f"server: PostgreSQL {psql_value('SHOW server_version')}, fsync {psql_value('SHOW fsync')}, "
        f"max_locks_per_transaction {psql_value('SHOW max_locks_per_transaction')}, "
        f"shared_buffers {psql_value('SHOW shared_buffers')}; unix socket {os.environ.get('PGHOST', '')}",
        f"data directory: {data_dir_line()}",
        f"pg_migrate build: {build_line()}",
    ]
    for line in head:
        log(line)

    with tempfile.TemporaryDirectory(prefix="pgm_bench_") as work:
        logdir = os.path.join(work, "logs")
        os.makedirs(logdir)
        runner = Runner(logdir, timeout)
        contenders, skipped_contenders = [], []
        only = set(a.only.split(",")) | {"floor"} if a.only else None
        for cls in CONTENDERS:
            c = cls(runner, work)
            if only is not None and c.key not in only:
                continue
            try:
                why = c.available()
            except Failure as e:
                why = f"availability check failed: {e}"
            if why:
                skipped_contenders.append((c, why))
                log(f"contender {c.label}: skipped, {why}")
            else:
                contenders.append(c)
        versions = []
        for c in contenders:
            v = c.version()
            versions.append(f"{c.label} {v}".strip())
        log("contenders: " + "; ".join(versions))

        chain_text, rows_json, results, skipped = "", [], {}, {}
        if not a.no_chains:
            if not any(c.key == "floor" for c in contenders):
                errors.append("the floor is not runnable")
            log(f"\nchains: N = {', '.join(f'{n:,}' for n in sizes)}; kinds {', '.join(KINDS[k][0] for k in kinds)}; "
                f"{runs} run(s); budget {budget:.0f} s per command")
            results, skipped = run_chains(contenders, sizes, kinds, runs, budget, errors)
            chain_text, rows_json = chain_table(contenders, sizes, kinds, results, skipped)

        graph, graph_text, slopes = None, "", []
        if not a.no_graph:
            log(f"\ngraph scale: {', '.join(f'{n:,}' for n in graph_sizes)} revisions, linear and branchy")
            try:
                graph = graph_scale.run_graph_scale(sorted(graph_sizes), reps=3 if smoke else 7,
                                                    workdir=work, log=log)
                graph_text, slopes = graph_scale.format_tables(graph)
                for shape, by_n in graph.items():
                    for n, r in by_n.items():
                        for key, v in r.items():
                            if isinstance(v, dict) and "error" in v:
                                errors.append(f"graph {shape} {n:,}: {key}: {v['error']}")
            except Exception as e:          # noqa: BLE001 - report and go on to the summary
                errors.append(f"graph scale failed: {e}")
                log(f"graph scale failed: {e}")

    load1 = load_line()
    tg = targets(sizes, kinds, results, graph, graph_sizes, smoke) if not a.no_chains or graph else []
    svg = chart(contenders, sizes, kinds, results, outdir, errors) if results else None

    out = list(head)
    out.append(f"load average at end: {load1}")
    build1 = build_line()
    if build1 != head[-1].split(": ", 1)[1]:
        out.append(f"pg_migrate build at end: {build1} (it changed during the run)")
    out.append("")
    out.append("contenders (wall clock of the whole command(s), start-up and connection included):")
    for c in contenders:
        v = c.version()
        out.append(f"  {c.label} {v}: {c.note}")
    for c, why in skipped_contenders:
        out.append(f"  {c.label}: SKIPPED, {why}")
    if chain_text:
        out.append("")
        out.append(f"chains of N migrations, {runs} run(s) each on a fresh database; "
                   "x floor = median / floor median (same N, kind, direction); "
                   "over floor = (median - floor median) / N")
        out.append("")
        out.append(chain_text)
    if graph_text:
        out.append("graph scale: milliseconds, median (cold: first call of a fresh session, loading the graph; "
                   "the others: on the backend's cached graph); slope = log-log growth between sizes "
                   "(1 linear, 2 quadratic, 0 flat)")
        out.append("")
        out.append(graph_text)
        steep = [s for s in slopes if s["slope"] == s["slope"] and s["slope"] > 1.3 and (s["t2"] or 0) >= 1.0]
        if steep:
            out.append("superlinear growth (slope > 1.3 on calls of 1 ms or more): " + "; ".join(
                f"{s['call']} {s['shape']} {s['n1']:,}->{s['n2']:,}: {s['slope']:.2f}" for s in steep))
        else:
            out.append("no call grows faster than linearly (every slope <= 1.3 where the larger figure is >= 1 ms)")
        out.append("")
    out.append("targets" + (" (smoke: sizes too small to judge)" if smoke else "") + ":")
    for status, text in tg:
        out.append(f"  [{status}] {text}")
    if svg:
        out.append(f"chart: {os.path.relpath(svg, os.path.dirname(os.path.dirname(HERE)))}")
    if errors:
        out.append("")
        out.append("errors:")
        out.extend(f"  {e}" for e in errors)
    elapsed = time.perf_counter() - started
    out.append(f"\nwall time {elapsed:.0f} s")

    text = "\n".join(out) + "\n"
    with open(os.path.join(outdir, "last_run.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(outdir, "last_run.json"), "w") as f:
        json.dump({"head": head, "load_end": load1, "sizes": sizes, "kinds": kinds, "runs": runs,
                   "chains": results, "skipped": skipped, "rows": rows_json,
                   "graph": {s: {str(n): r for n, r in by_n.items()} for s, by_n in (graph or {}).items()},
                   "slopes": slopes, "targets": tg, "errors": errors}, f, indent=1, default=str)
    log("\n" + "=" * 100)
    log(text)
    npass = sum(1 for s, _ in tg if s == "pass")
    nmiss = sum(1 for s, _ in tg if s == "miss")
    if smoke:
        if errors:
            log(f"bench smoke: FAILED, {len(errors)} error(s), {elapsed:.0f} s")
            return 1
        log(f"bench smoke: OK, {len(contenders)} contender(s), graph at {', '.join(f'{n:,}' for n in graph_sizes)}, "
            f"{elapsed:.0f} s")
        return 0
    log(f"bench: targets {npass} passed, {nmiss} missed; {len(errors)} error(s); "
        f"results in {os.path.relpath(outdir, os.path.dirname(os.path.dirname(HERE)))}/")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
