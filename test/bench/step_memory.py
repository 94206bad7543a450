#!/usr/bin/python3
"""Backend memory over a long function-mode run (bug 4): is it flat?

Usage: test/bench/step_memory.py [--steps N] [--samples K] [--smoke]
       (default: 100,000 steps, 10 samples; --smoke: 200 steps, 4 samples)

Connects with the PG* environment and works in a database of its own,
bench_step_memory, made and dropped.  Registers a chain of N revisions by
one INSERT ... SELECT into migrate_revisions (as graph_scale.py does); each
revision's SQL is SELECT 1, except every (N / K)-th, whose SQL records into
a side table the backend's memory at that step, from
pg_backend_memory_contexts: the "SPI Proc" context of pg_migrate's SPI
connection (where the per-step allocations used to stay until the end of
the run) and the whole backend.  Then runs SELECT migrate_upgrade('head')
(function mode, one transaction) and prints the samples, and the growth
per step between the first and the last sample.  It fails only on errors,
never on the figures (test/bench/run --smoke runs it with tiny N).
"""
import argparse
import os
import subprocess
import sys
import time

PSQL = os.path.join(os.environ["PGM_BINDIR"], "psql") if os.environ.get("PGM_BINDIR") else "psql"
DB = "bench_step_memory"
SAMPLE_SQL = ("INSERT INTO public.step_memory SELECT %s,"
              " (SELECT pg_catalog.sum(used_bytes) FROM pg_catalog.pg_backend_memory_contexts"
              "  WHERE name = 'SPI Proc'),"
              " (SELECT pg_catalog.sum(used_bytes) FROM pg_catalog.pg_backend_memory_contexts)")


def psql(sql, db="postgres"):
    return subprocess.run([PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db],
                          input=sql, capture_output=True, text=True, check=True).stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int)
    ap.add_argument("--samples", type=int)
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    n = a.steps or (200 if a.smoke else 100000)
    k = a.samples or (4 if a.smoke else 10)
    every = max(1, n // k)

    try:
        psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        psql(f"CREATE DATABASE {DB}")
        psql(f"""
            CREATE EXTENSION pg_migrate;
            CREATE TABLE public.step_memory (step int, spi_proc bigint, backend bigint);
            INSERT INTO pgmigrate.migrate_revisions (revision, down_revisions, upgrade_sql, downgrade_sql, message, checksum)
            SELECT format('r%s', lpad(i::text, 8, '0')),
                   CASE WHEN i = 1 THEN '{{}}'::text[] ELSE ARRAY[format('r%s', lpad((i - 1)::text, 8, '0'))] END,
                   u, 'SELECT 1', 'step ' || i, migrate_checksum(u, 'SELECT 1')
            FROM generate_series(1, {n}) i,
                 LATERAL (SELECT CASE WHEN i % {every} = 0 OR i = 1
                                      THEN format($${SAMPLE_SQL}$$, i) ELSE 'SELECT 1' END) s(u)
            ORDER BY i;
            VACUUM ANALYZE pgmigrate.migrate_revisions;
        """, DB)
        t0 = time.monotonic()
        steps = psql("SET client_min_messages = warning; SELECT count(*) FROM migrate_upgrade('head')", DB)
        elapsed = time.monotonic() - t0
        rows = [tuple(int(x) for x in line.split("|"))
                for line in psql("SELECT step, spi_proc, backend FROM public.step_memory ORDER BY step", DB).split()]
    except subprocess.CalledProcessError as e:
        print(f"step memory: FAILED: {e.stderr.strip()}")
        return 1
    finally:
        subprocess.run([PSQL, "-X", "-q", "-d", "postgres", "-c", f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"],
                       capture_output=True)

    print(f"step memory: migrate_upgrade('head') over {int(steps):,} SELECT 1 steps, function mode, {elapsed:.1f} s")
    print(f"{'step':>10s} {'SPI Proc kB':>12s} {'backend kB':>12s}")
    for step, spi, backend in rows:
        print(f"{step:>10,d} {spi / 1024:>12,.0f} {backend / 1024:>12,.0f}")
    (s0, spi0, b0), (s1, spi1, b1) = rows[0], rows[-1]
    per = lambda a, b: (b - a) / max(1, s1 - s0)  # noqa: E731
    print(f"step memory: {per(spi0, spi1):,.0f} bytes per step in SPI Proc, {per(b0, b1):,.0f} in the backend,"
          f" between steps {s0:,} and {s1:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
