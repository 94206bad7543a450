#!/usr/bin/python3
"""Schema fingerprint cost: migrate_fingerprint() on 1,000 and 10,000 tables.

Usage: test/bench/fingerprint.py [--sizes 1000,10000] [--calls 5] [--smoke]
       (--smoke: 100 and 300 tables, 3 calls)

Connects with the PG* environment and works in a database of its own,
bench_fingerprint, made and dropped.  For each size N it builds a schema of
N tables, each with 10 columns, a primary key, 2 more indexes and a foreign
key to the table before it (the shape issue 12 names), then times in one
session:
  - migrate_fingerprint(), the first call (cold caches) and the median of
    --calls more;
  - migrate_schema_objects(), the model as rows;
  - pg_dump --schema-only of the same schema, the tool people diff for
    drift today: the baseline of the same run (its time includes process
    start-up and the connection, which is what a user of it pays).
It prints the figures, the ratio to pg_dump, the cost per table and, for
the last size against the first, how the cost per table grew (1.0 is
linear), then the targets: under 100 ms at 1,000 tables, linear growth to
10,000 (per-table cost within 1.5x).  It fails only on errors, never on the
figures, as the rest of test/bench does.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import psycopg2

BINDIR = os.environ.get("PGM_BINDIR", "")
PG_DUMP = os.path.join(BINDIR, "pg_dump") if BINDIR else "pg_dump"
DB = "bench_fingerprint"
BATCH = 200     # tables per transaction: the lock table of a default cluster holds a few thousand


def connect(db):
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    return conn


def build(cur, n):
    cur.execute("DROP SCHEMA IF EXISTS fp CASCADE; CREATE SCHEMA fp")
    for lo in range(1, n + 1, BATCH):
        hi = min(n, lo + BATCH - 1)
        cur.execute("""
            DO $$
            BEGIN
                FOR i IN %s..%s LOOP
                    EXECUTE format('CREATE TABLE fp.t%%s (id bigint PRIMARY KEY, parent bigint
                        REFERENCES fp.t%%s (id), c1 int NOT NULL DEFAULT 0, c2 text, c3 text DEFAULT ''x'',
                        c4 numeric(12,2), c5 timestamptz DEFAULT now(), c6 boolean, c7 varchar(40), c8 jsonb)',
                        i, greatest(i - 1, 1));
                    EXECUTE format('CREATE INDEX ON fp.t%%s (c1)', i);
                    EXECUTE format('CREATE INDEX ON fp.t%%s (c7, c2)', i);
                END LOOP;
            END
            $$""", (lo, hi))


def timed(cur, sql):
    t = time.perf_counter()
    cur.execute(sql)
    cur.fetchall()
    return (time.perf_counter() - t) * 1000


def measure(cur, n, calls):
    cur.execute("SET pg_migrate.managed_schemas = fp")
    first = timed(cur, "SELECT migrate_fingerprint()")
    warm = statistics.median(timed(cur, "SELECT migrate_fingerprint()") for _ in range(calls))
    rows = timed(cur, "SELECT count(*) FROM (SELECT * FROM migrate_schema_objects()) o")
    cur.execute("SELECT count(*) FROM migrate_schema_objects()")
    objects = cur.fetchone()[0]
    t = time.perf_counter()
    subprocess.run([PG_DUMP, "--schema-only", "--schema=fp", "-d", DB, "-f", os.devnull], check=True)
    dump = (time.perf_counter() - t) * 1000
    return {"n": n, "objects": objects, "first": first, "warm": warm, "rows": rows, "dump": dump}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes")
    ap.add_argument("--calls", type=int)
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    sizes = [int(s) for s in (a.sizes or ("100,300" if a.smoke else "1000,10000")).split(",")]
    calls = a.calls or (3 if a.smoke else 5)

    admin = connect("postgres")
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    admin.cursor().execute(f"CREATE DATABASE {DB}")
    results = []
    try:
        conn = connect(DB)
        cur = conn.cursor()
        cur.execute("CREATE EXTENSION pg_migrate")
        for n in sizes:
            t = time.perf_counter()
            build(cur, n)
            print(f"fingerprint: built {n} tables in {time.perf_counter() - t:.1f} s", flush=True)
            results.append(measure(cur, n, calls))
        conn.close()
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")

    print()
    print(f"{'tables':>7} {'objects':>8} {'first ms':>9} {'warm ms':>8} {'rows ms':>8}"
          f" {'pg_dump -s ms':>14} {'warm/pg_dump':>13} {'us/table':>9}")
    for r in results:
        print(f"{r['n']:>7} {r['objects']:>8} {r['first']:>9.1f} {r['warm']:>8.1f} {r['rows']:>8.1f}"
              f" {r['dump']:>14.1f} {r['warm'] / r['dump']:>13.3f} {1000 * r['warm'] / r['n']:>9.1f}")
    lo, hi = results[0], results[-1]
    growth = (hi["warm"] / hi["n"]) / (lo["warm"] / lo["n"])
    print(f"\ncost per table at {hi['n']} tables / at {lo['n']}: {growth:.2f} (1.00 is linear)")
    if not a.smoke:
        at1k = next((r for r in results if r["n"] == 1000), None)
        if at1k:
            print(f"target: 1,000 tables under 100 ms: {at1k['warm']:.1f} ms,"
                  f" {'met' if at1k['warm'] < 100 else 'MISSED'}")
        print(f"target: linear to {hi['n']} tables (per-table cost within 1.5x): {growth:.2f},"
              f" {'met' if growth <= 1.5 else 'MISSED'}")
    print("fingerprint: OK")


if __name__ == "__main__":
    try:
        main()
    except (psycopg2.Error, subprocess.CalledProcessError) as e:
        print(f"fingerprint: FAILED, {e}", file=sys.stderr)
        sys.exit(1)
