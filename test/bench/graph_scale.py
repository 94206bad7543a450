#!/usr/bin/env python3
"""Graph calls against catalogs of N revisions (a linear chain).

Usage: test/bench/graph_scale.py [N ...]     (default: 10000 100000)

Connects with the PG* environment (PGHOST, PGPORT, PGUSER) and works in a
database of its own, bench_graph_scale, dropped and made again per N.  For
each N it prints, in milliseconds (median of 5 runs within one session):
  cold   the first graph call of a fresh session (loads the graph)
  warm   the same call again (the backend's cached graph)
and the other graph calls warm, plus registering 200 more revisions with
migrate_revision() through psql (per call).  Only ratios within one run
mean anything on a noisy machine; the growth from N to 10N should be ~10x
for the cold load and flat for the warm calls.
"""
import os
import re
import statistics
import subprocess
import sys

DB = "bench_graph_scale"
TIME = re.compile(r"^Time: ([0-9.]+) ms", re.M)


def psql(sql, db=DB, timing=False):
    script = ("\\timing on\n" if timing else "") + sql
    out = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db],
                         input=script, capture_output=True, text=True, check=True).stdout
    return [float(t) for t in TIME.findall(out)]


def setup(n):
    psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
    psql(f"CREATE DATABASE {DB}", db="postgres")
    psql(f"""
        CREATE EXTENSION pg_migrate;
        INSERT INTO migrate_revisions (revision, down_revisions, upgrade_sql, downgrade_sql, message, checksum)
        SELECT format('r%s', lpad(i::text, 8, '0')),
               CASE WHEN i = 0 THEN '{{}}'::text[] ELSE ARRAY[format('r%s', lpad((i - 1)::text, 8, '0'))] END,
               'SELECT 1', 'SELECT 1', 'revision ' || i, migrate_checksum('SELECT 1', 'SELECT 1')
        FROM generate_series(0, {n - 1}) i;
        -- a revision with a distinctive id, for the prefix lookup
        SELECT migrate_revision('abcdef123456', 'r{n - 1:08d}', 'SELECT 1', 'SELECT 1');
        VACUUM ANALYZE migrate_revisions;
    """)


CALLS = [
    ("migrate_heads()", "SELECT count(*) FROM migrate_heads()"),
    ("migrate_resolve('head')", "SELECT migrate_resolve('head')"),
    ("migrate_resolve(prefix)", "SELECT migrate_resolve('abcdef')"),
    ("migrate_upgrade_sql from head-10", "SELECT length(migrate_upgrade_sql('head', 'head-10'))"),
    ("migrate_history()", "SELECT count(*) FROM migrate_history()"),
    ("migrate_current()", "SELECT count(*) FROM migrate_current()"),
]


def measure(n):
    rows = []
    colds = []
    for _ in range(5):
        colds.append(psql(CALLS[0][1] + ";", timing=True)[0])
    rows.append(("first call of a session (graph load)", statistics.median(colds)))
    for name, sql in CALLS:
        times = psql((sql + ";\n") * 6, timing=True)[1:]
        rows.append((name + " (cached graph)", statistics.median(times)))
    reg = "".join(
        f"SELECT migrate_revision('x{i:06d}', '{'x%06d' % (i - 1) if i else 'abcdef123456'}', 'SELECT 1', 'SELECT 1');\n"
        for i in range(200))
    times = psql(reg, timing=True)
    rows.append(("migrate_revision() per call", statistics.median(times)))
    return rows


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [10000, 100000]
    results = {}
    for n in sizes:
        setup(n)
        results[n] = measure(n)
    print(f"cores: {os.cpu_count()}, load: {os.getloadavg()[0]:.2f}")
    header = f"{'call':44s}" + "".join(f"{n:>12,d}" for n in sizes)
    print(header + "   (ms, median)")
    for i, (name, _) in enumerate(results[sizes[0]]):
        print(f"{name:44s}" + "".join(f"{results[n][i][1]:12.2f}" for n in sizes))
    psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")


if __name__ == "__main__":
    main()
