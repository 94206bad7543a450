#!/usr/bin/python3
"""Graph calls against catalogs of N revisions, in two shapes.

Usage: test/bench/graph_scale.py [N ...] [--shapes linear,branchy]
                                 [--register-max N] [--reps N]
       (default: 10000 100000, both shapes)

Connects with the PG* environment (PGHOST, PGPORT, PGUSER) and works in
databases of its own, bench_graph_<shape>_<N>, made and dropped per size.
test/bench/run calls it (through run_graph_scale) with 10,000, 100,000 and
1,000,000 revisions; run standalone it prints the same tables.  It needs
/usr/bin/python3 with python3-psycopg2 (Debian), and reads the backend's
/proc/<pid>/status, so the server must run on this machine.

Shapes:
  linear   one chain r00000000 <- r00000001 <- ... <- abcdef123456 (head).
           Registered through `psql -f` of one file of migrate_revision()
           calls when N <= --register-max (timed: the registration figure),
           else by one INSERT ... SELECT into migrate_revisions ("bulk INSERT").
  branchy  blocks of 4 branches of 3 revisions each, forked from the block's
           root and merged by a 4-parent merge that roots the next block
           (a branch point and a merge every 13 revisions), then a linear
           tail of 20 revisions and abcdef123456 (so that head-10 is a
           plain walk).  Always by INSERT ... SELECT.

Per shape and size, in milliseconds (client wall clock around each
statement; results are counted in the server, only one row comes back):
  cold   the first graph call of a fresh session (loads the graph), median
         over fresh connections
  the graph calls on the backend's cached graph, median of --reps
  the first migrate_upgrade_sql('head', 'base') of a fresh session, median
         of 3: besides loading the graph it checks the checksum of every
         step's SQL (hashing all of it), which the backend then remembers
         per row version; not a graph call, so not in the 100 ms target
  migrate_revision() per call, on top of the N revisions
and the backend's peak memory (VmHWM from /proc; it counts the shared
buffers the backend touched, shown apart as RssShmem) and the size of
pg_migrate's graph cache context.  Between sizes it prints the log-log
slope of every call: about 1 is linear growth, about 2 quadratic; calls
that stay flat show about 0.  Only ratios within one run mean anything
on a noisy machine.
"""
import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg2

TAIL = 20                   # linear revisions after the last merge (branchy)
FANOUT, BRANCH_LEN = 4, 3   # branchy: branches per block, revisions per branch
BLOCK = FANOUT * BRANCH_LEN + 1
PREFIX_ID = "abcdef123456"  # the head; its prefix 'abcdef' is looked up

# (key, label, SQL).  Each returns one row, so the figures are server work.
CALLS = [
    ("heads", "migrate_heads()", "SELECT count(*) FROM migrate_heads()"),
    ("resolve_head", "migrate_resolve('head')", "SELECT migrate_resolve('head')"),
    ("resolve_prefix", "migrate_resolve('abcdef')", "SELECT migrate_resolve('abcdef')"),
    ("sql_from_base", "migrate_upgrade_sql('head', 'base')",
     "SELECT octet_length(migrate_upgrade_sql('head', 'base'))"),
    ("sql_from_head10", "migrate_upgrade_sql('head', 'head-10')",
     "SELECT octet_length(migrate_upgrade_sql('head', 'head-10'))"),
    ("history", "migrate_history()", "SELECT count(*) FROM migrate_history()"),
    ("current", "migrate_current()", "SELECT count(*) FROM migrate_current()"),
]
COLD = ("cold", "first call of a session (loads the graph)")
# Not a graph call but the first offline script of a session: it also hashes
# every step's SQL to check the checksums, which a backend then remembers
# per row version (the warm figure below skips that).
COLD_SQL = ("cold_sql", "first upgrade_sql from base of a session")
COLD_SQL_QUERY = "SELECT octet_length(migrate_upgrade_sql('head', 'base'))"
REGISTER_MORE = 200
# The server's own psql rather than Debian's pg_wrapper (test/bench/run sets PGM_BINDIR)
PSQL = os.path.join(os.environ["PGM_BINDIR"], "psql") if os.environ.get("PGM_BINDIR") else "psql"


def rid(i):
    return f"r{i:08d}"


def psql(sql, db="postgres"):
    subprocess.run([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db],
                   input=sql, capture_output=True, text=True, check=True)


def fresh_db(db):
    psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    psql(f"CREATE DATABASE {db}")
    psql("CREATE EXTENSION pg_migrate", db)


def bulk_linear(db, n):
    psql(f"""
        INSERT INTO pgmigrate.migrate_revisions (revision, down_revisions, upgrade_sql, downgrade_sql, message, checksum)
        SELECT format('r%s', lpad(i::text, 8, '0')),
               CASE WHEN i = 0 THEN '{{}}'::text[] ELSE ARRAY[format('r%s', lpad((i - 1)::text, 8, '0'))] END,
               'SELECT 1', 'SELECT 1', 'revision ' || i, migrate_checksum('SELECT 1', 'SELECT 1')
        FROM generate_series(0, {n - 2}) i ORDER BY i;
        SELECT migrate_revision('{PREFIX_ID}', '{rid(n - 2)}', 'SELECT 1', 'SELECT 1', 'the head');
        VACUUM ANALYZE pgmigrate.migrate_revisions;
    """, db)


def branchy_count(n):
    """Blocks, and the index of the first tail revision, for about n revisions."""
    blocks = max(1, (n - 2 - TAIL) // BLOCK)
    return blocks, blocks * BLOCK + 1


def bulk_branchy(db, n):
    blocks, m = branchy_count(n)
    last = m + TAIL - 1
    psql(f"""
        INSERT INTO pgmigrate.migrate_revisions (revision, down_revisions, upgrade_sql, downgrade_sql, message, checksum)
        SELECT format('r%s', lpad(i::text, 8, '0')),
               CASE WHEN i = 0 THEN '{{}}'::text[]
                    WHEN i >= {m} THEN ARRAY[format('r%s', lpad((i - 1)::text, 8, '0'))]
                    -- the merge that closes a block: the last revision of each branch
                    WHEN (i - 1) % {BLOCK} = {FANOUT * BRANCH_LEN} THEN
                        ARRAY(SELECT format('r%s', lpad(((i - 1) / {BLOCK} * {BLOCK} + f * {BRANCH_LEN} + {BRANCH_LEN})::text, 8, '0'))
                              FROM generate_series(0, {FANOUT - 1}) f ORDER BY f)
                    -- the first revision of a branch: the block's root (a branch point)
                    WHEN ((i - 1) % {BLOCK}) % {BRANCH_LEN} = 0 THEN
                        ARRAY[format('r%s', lpad(((i - 1) / {BLOCK} * {BLOCK})::text, 8, '0'))]
                    ELSE ARRAY[format('r%s', lpad((i - 1)::text, 8, '0'))]
               END,
               'SELECT 1', 'SELECT 1', 'revision ' || i, migrate_checksum('SELECT 1', 'SELECT 1')
        FROM generate_series(0, {last}) i ORDER BY i;
        SELECT migrate_revision('{PREFIX_ID}', '{rid(last)}', 'SELECT 1', 'SELECT 1', 'the head');
        VACUUM ANALYZE pgmigrate.migrate_revisions;
    """, db)


def register_linear(db, n, workdir):
    """Register a linear chain with `psql -f` of n migrate_revision() calls; seconds."""
    path = os.path.join(workdir, f"register_{n}.sql")
    with open(path, "w") as f:
        for i in range(n - 1):
            parent = f"'{rid(i - 1)}'" if i else "NULL"
            f.write(f"SELECT migrate_revision('{rid(i)}', {parent}, 'SELECT 1', 'SELECT 1', 'revision {i}');\n")
        f.write(f"SELECT migrate_revision('{PREFIX_ID}', '{rid(n - 2)}', 'SELECT 1', 'SELECT 1', 'the head');\n")
    t0 = time.perf_counter()
    subprocess.run([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f", path],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    secs = time.perf_counter() - t0
    os.unlink(path)
    psql("VACUUM ANALYZE pgmigrate.migrate_revisions", db)
    return secs


def connect(db):
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    return conn


def timed(cur, sql):
    t0 = time.perf_counter()
    cur.execute(sql)
    cur.fetchall()
    return (time.perf_counter() - t0) * 1000.0


def proc_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS", "RssAnon", "RssShmem"):
                    out[k] = int(v.split()[0]) / 1024.0      # MB
    except OSError:
        pass
    return out


def summary(times):
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "n": len(times)}


def measure(db, n, reps, log=print):
    """Every call on one catalog; returns {key: summary or {'error': ...}}."""
    res = {}
    colds = []
    for _ in range(max(3, reps // 2 + 1)):
        conn = connect(db)
        colds.append(timed(conn.cursor(), CALLS[0][2]))
        conn.close()
    res["cold"] = summary(colds)
    colds = []
    for _ in range(3):
        conn = connect(db)
        colds.append(timed(conn.cursor(), COLD_SQL_QUERY))
        conn.close()
    res["cold_sql"] = summary(colds)

    conn = connect(db)
    cur = conn.cursor()
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    res["mem_fresh"] = proc_status(pid)
    timed(cur, CALLS[0][2])                   # load the graph into this backend
    for key, label, sql in CALLS:
        try:
            times = [timed(cur, sql)]
            # a call of a second or more: 3 repetitions are enough
            times += [timed(cur, sql) for _ in range((reps if times[0] < 1000.0 else min(reps, 3)) - 1)]
            res[key] = summary(times)
        except psycopg2.Error as e:
            res[key] = {"error": str(e).strip().splitlines()[0]}
            log(f"    {label}: ERROR {res[key]['error']}")
    res["mem"] = proc_status(pid)
    cur.execute("SELECT coalesce(sum(total_bytes), 0) FROM pg_backend_memory_contexts"
                " WHERE name = 'pg_migrate revision graph'")
    res["mem"]["graph_cxt"] = float(cur.fetchone()[0]) / (1024.0 * 1024.0)

    # registration on top of n revisions, one call at a time (autocommit)
    times = []
    for i in range(REGISTER_MORE):
        parent = f"x{i - 1:06d}" if i else PREFIX_ID
        times.append(timed(cur, f"SELECT migrate_revision('x{i:06d}', '{parent}', 'SELECT 1', 'SELECT 1')"))
    res["register_more"] = summary(times)
    conn.close()
    return res


def run_graph_scale(sizes, shapes=("linear", "branchy"), register_max=100000, reps=7,
                    workdir=None, log=print, keep=False):
    """Returns {shape: {n: result}}; each result has 'setup' (how, seconds,
    revisions) and the measure() keys."""
    results = {}
    own_tmp = None
    if workdir is None:
        own_tmp = tempfile.TemporaryDirectory(prefix="pgm_graph_")
        workdir = own_tmp.name
    try:
        for shape in shapes:
            results[shape] = {}
            for n in sizes:
                db = f"bench_graph_{shape}_{n}"
                fresh_db(db)
                if shape == "linear" and n <= register_max:
                    how = "psql -f"
                    secs = register_linear(db, n, workdir)
                else:
                    how = "bulk INSERT"
                    t0 = time.perf_counter()
                    (bulk_linear if shape == "linear" else bulk_branchy)(db, n)
                    secs = time.perf_counter() - t0
                conn = connect(db)
                cur = conn.cursor()
                cur.execute("SELECT count(*), count(*) FILTER (WHERE cardinality(down_revisions) > 1)"
                            " FROM pgmigrate.migrate_revisions")
                count, merges = cur.fetchone()
                conn.close()
                log(f"  graph {shape} {n:,}: {count:,} revisions ({merges:,} merges) registered by {how} in {secs:.1f} s")
                r = measure(db, n, reps if n < 1000000 else max(3, reps // 2), log=log)
                r["setup"] = {"how": how, "seconds": secs, "revisions": count, "merges": merges}
                results[shape][n] = r
                if not keep:
                    psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    finally:
        if own_tmp:
            own_tmp.cleanup()
    return results


def slope(n1, t1, n2, t2):
    if t1 <= 0 or t2 <= 0:
        return float("nan")
    return math.log(t2 / t1) / math.log(n2 / n1)


def rows_for(results_shape, sizes):
    """(label, [cell per size], [slope per size pair], key) for the table."""
    rows = []

    def ms(key):
        cells, vals = [], []
        for n in sizes:
            r = results_shape[n].get(key, {})
            if "error" in r:
                cells.append("error")
                vals.append(None)
            else:
                cells.append(f"{r['median']:.2f}")
                vals.append(r["median"])
        return cells, vals

    for key, label in [COLD] + [(k, l) for k, l, _ in CALLS] + [COLD_SQL, ("register_more", "migrate_revision() per call, on top")]:
        cells, vals = ms(key)
        rows.append((label + " ms", cells, vals, key))
    return rows


def format_tables(results, log=print):
    """Print one table per shape; returns the text and the slope records."""
    lines = []
    slopes = []
    for shape, by_n in results.items():
        sizes = sorted(by_n)
        pairs = list(zip(sizes, sizes[1:]))
        head = f"{'graph, ' + shape:46s}" + "".join(f"{n:>13,d}" for n in sizes)
        head += "".join(f"{'slope ' + short(a) + '>' + short(b):>16s}" for a, b in pairs)
        lines.append(head)
        lines.append(f"{'registered by':46s}" + "".join(f"{by_n[n]['setup']['how']:>13s}" for n in sizes))
        cells = [f"{by_n[n]['setup']['seconds']:.1f}" for n in sizes]
        regsl = [slope(a, by_n[a]["setup"]["seconds"], b, by_n[b]["setup"]["seconds"])
                 if by_n[a]["setup"]["how"] == by_n[b]["setup"]["how"] else float("nan") for a, b in pairs]
        lines.append(f"{'  registration s (all revisions)':46s}" + "".join(f"{c:>13s}" for c in cells)
                     + "".join(f"{fmt_slope(s):>16s}" for s in regsl))
        if any(by_n[n]["setup"]["how"] == "psql -f" for n in sizes):
            cells = [f"{by_n[n]['setup']['seconds'] * 1000.0 / by_n[n]['setup']['revisions']:.3f}"
                     if by_n[n]["setup"]["how"] == "psql -f" else "-" for n in sizes]
            lines.append(f"{'  psql -f ms per revision':46s}" + "".join(f"{c:>13s}" for c in cells))
        for label, cells, vals, key in rows_for(by_n, sizes):
            sl = []
            for (a, b), (va, vb) in zip(pairs, zip(vals, vals[1:])):
                s = slope(a, va, b, vb) if va is not None and vb is not None else float("nan")
                sl.append(s)
                slopes.append({"shape": shape, "call": label, "key": key, "n1": a, "n2": b, "slope": s,
                               "t2": vb})
            lines.append(f"{label:46s}" + "".join(f"{c:>13s}" for c in cells)
                         + "".join(f"{fmt_slope(s):>16s}" for s in sl))
        for mkey, mlabel in (("VmHWM", "backend peak RSS (VmHWM) MB"),
                             ("RssShmem", "  of it shared memory (RssShmem) MB"),
                             ("graph_cxt", "graph cache context MB")):
            cells = [f"{by_n[n]['mem'].get(mkey, float('nan')):.1f}" for n in sizes]
            vals = [by_n[n]["mem"].get(mkey) for n in sizes]
            sl = [slope(a, va, b, vb) if va and vb else float("nan")
                  for (a, b), (va, vb) in zip(pairs, zip(vals, vals[1:]))]
            lines.append(f"{mlabel:46s}" + "".join(f"{c:>13s}" for c in cells)
                         + "".join(f"{fmt_slope(s):>16s}" for s in sl))
        fresh = [f"{by_n[n]['mem_fresh'].get('VmHWM', float('nan')):.1f}" for n in sizes]
        lines.append(f"{'fresh backend VmHWM MB (before any call)':46s}" + "".join(f"{c:>13s}" for c in fresh))
        lines.append("")
    text = "\n".join(lines)
    return text, slopes


def short(n):
    for div, suf in ((1000000, "M"), (1000, "k")):
        if n >= div and n % div == 0:
            return f"{n // div}{suf}"
    return str(n)


def fmt_slope(s):
    return "-" if s != s else f"{s:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[10000, 100000])
    ap.add_argument("--shapes", default="linear,branchy")
    ap.add_argument("--register-max", type=int, default=100000,
                    help="register linear catalogs up to this size through psql -f (timed)")
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args()
    shapes = [s for s in a.shapes.split(",") if s]
    results = run_graph_scale(sorted(a.sizes), shapes, a.register_max, a.reps)
    print(f"cores: {os.cpu_count()}, load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("milliseconds, median; cold = fresh session, the other calls on the cached graph")
    text, _ = format_tables(results)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
