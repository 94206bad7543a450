#!/usr/bin/python3
"""The cost of the safety checks against a plain upgrade of the same plan.

Usage: test/bench/safety.py [--steps N] [--rows N] [--runs 3] [--smoke]
       (default: two plans, 50 steps of 2,000 rows and 20 steps of 20,000;
        --smoke: 5 steps of 200 rows, 1 run)

Connects with the PG* environment and works in a database of its own,
bench_safety, made and dropped.  Registers a chain of --steps revisions;
step i creates a table of 10 columns, fills it with --rows rows and indexes
it, and its downgrade drops it.  Then, --runs times, from base each time:
  - migrate_upgrade('head'), the baseline (then downgraded to base, untimed);
  - migrate_check('head'), the stairway test: upgrade, downgrade, upgrade
    again per step, rolled back;
  - migrate_rehearse('head'), when the server has it.
It prints the median of each and its ratio to the upgrade's, and the
targets (issue 12): a rehearsal at most 1.2x, a check at most 3.5x.  The
check reads the schema's fingerprint twice per step, so its ratio is
highest for small steps on a growing schema; the two default plans show
both ends.  It
fails only on errors, never on the figures, as the rest of test/bench does.
"""
import argparse
import statistics
import sys
import time

import psycopg2

DB = "bench_safety"


def connect(db):
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    return conn


def timed(cur, sql):
    t = time.perf_counter()
    cur.execute(sql)
    cur.fetchall()
    return (time.perf_counter() - t) * 1000


def register(cur, steps, rows):
    prev = None
    for i in range(1, steps + 1):
        rid = "5afe%08d" % i
        up = (f"CREATE TABLE bench.t{i} (id bigint PRIMARY KEY, a int, b int, c text, d text,"
              f" e numeric, f timestamptz, g boolean, h int, k text);"
              f" INSERT INTO bench.t{i} SELECT g, g % 100, g % 7, 'x' || g, NULL, g * 1.5, now(),"
              f" g % 2 = 0, g, 'k' FROM generate_series(1, {rows}) g;"
              f" CREATE INDEX ON bench.t{i} (a, b)")
        cur.execute("SELECT migrate_revision(%s, %s, %s, %s)", (rid, prev, up, f"DROP TABLE bench.t{i}"))
        prev = rid


def bench(steps, rows, runs, smoke):
    admin = connect("postgres")
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    admin.cursor().execute(f"CREATE DATABASE {DB}")
    times = {"upgrade": [], "check": [], "rehearse": []}
    try:
        conn = connect(DB)
        cur = conn.cursor()
        cur.execute("CREATE EXTENSION pg_migrate")
        cur.execute("CREATE SCHEMA bench")
        cur.execute("SET pg_migrate.managed_schemas = bench")
        register(cur, steps, rows)
        cur.execute("SELECT count(*) FROM pg_proc WHERE proname = 'migrate_rehearse'")
        has_rehearse = cur.fetchone()[0] > 0
        for _ in range(runs):
            times["upgrade"].append(timed(cur, "SELECT * FROM migrate_upgrade('head')"))
            cur.execute("SELECT * FROM migrate_downgrade('base')")
            cur.fetchall()
            times["check"].append(timed(cur, "SELECT * FROM migrate_check('head')"))
            if has_rehearse:
                times["rehearse"].append(timed(cur, "SELECT * FROM migrate_rehearse('head')"))
        cur.execute("SELECT count(*) FROM migrate_check('head') WHERE status <> 'ok'")
        problems = cur.fetchone()[0]
        conn.close()
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    if problems:
        print(f"safety: FAILED, the check found {problems} problem(s) in the benchmark's own chain")
        sys.exit(1)

    base = statistics.median(times["upgrade"])
    print(f"\nsafety: {steps} steps of {rows} rows, median of {runs} run(s)")
    print(f"{'call':<28} {'ms':>10} {'x upgrade':>10}")
    print(f"{'migrate_upgrade (baseline)':<28} {base:>10.1f} {1.0:>10.2f}")
    for name in ("check", "rehearse"):
        if not times[name]:
            print(f"migrate_{name:<20} {'-':>10} {'-':>10}  (not in this server)")
            continue
        t = statistics.median(times[name])
        print(f"migrate_{name:<20} {t:>10.1f} {t / base:>10.2f}")
    if not smoke:
        for name, target in (("check", 3.5), ("rehearse", 1.2)):
            if times[name]:
                r = statistics.median(times[name]) / base
                print(f"target: migrate_{name} at most {target}x the upgrade: {r:.2f}x,"
                      f" {'met' if r <= target else 'MISSED'}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int)
    ap.add_argument("--rows", type=int)
    ap.add_argument("--runs", type=int)
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    runs = a.runs or (1 if a.smoke else 3)
    if a.smoke:
        plans = [(a.steps or 5, a.rows or 200)]
    elif a.steps or a.rows:
        plans = [(a.steps or 50, a.rows or 2000)]
    else:
        plans = [(50, 2000), (20, 20000)]
    for steps, rows in plans:
        bench(steps, rows, runs, a.smoke)
    print("safety: OK")


if __name__ == "__main__":
    try:
        main()
    except psycopg2.Error as e:
        print(f"safety: FAILED, {e}", file=sys.stderr)
        sys.exit(1)
