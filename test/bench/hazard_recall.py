#!/usr/bin/python3
"""Hazard report against squawk: precision and recall on a corpus of
dangerous migrations and their safe twins (test/bench/hazards/cases).

Usage: test/bench/hazard_recall.py [--verbose]

Each case file has an `-- expect:` line (hazard codes, or `safe`), a
`-- setup` section and a `-- migration` section.  A case counts as
dangerous when it expects any hazard; a tool flags it when it reports
anything for it:
  - squawk (npm squawk-cli; installed into test/bench/.npm-squawk unless a
    squawk is on PATH) lints the migration section.  Counted are its
    safety rules: every rule but the style ones (STYLE_RULES below) and the
    two that ask for timeout settings, which fire on every statement
    (pg_migrate sets lock and statement timeouts itself).  The figures with
    every rule counted are printed too.
  - pg_migrate runs the setup in a fresh schema, registers the migration as
    a revision and reads migrate_rehearse()'s hazards, with
    pg_migrate.hazard_min_table_size = 1MB (the big tables of the corpus
    are about 4 MB) and the other settings at their defaults.
Prints a row per case, then precision and recall of each tool.  Connects
with the PG* environment, in a database of its own (bench_hazards, made and
dropped).  Exits non-zero on errors, and when pg_migrate's precision or
recall is not above squawk's.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "hazards", "cases")
DB = "bench_hazards"
STYLE_RULES = {
    "prefer-bigint-over-int", "prefer-bigint-over-smallint", "prefer-big-int", "prefer-identity",
    "prefer-robust-stmts", "prefer-text-field", "prefer-timestamptz", "prefer-timestamp-tz",
    "ban-char-field", "require-table-schema",
}
TIMEOUT_RULES = {"require-lock-timeout", "require-statement-timeout"}


def read_case(path):
    expect, section, setup, migration = None, None, [], []
    with open(path) as f:
        for line in f:
            if line.startswith("-- expect:"):
                expect = line.split(":", 1)[1].strip()
            elif line.strip() == "-- setup":
                section = setup
            elif line.strip() == "-- migration":
                section = migration
            elif section is not None:
                section.append(line)
    codes = set() if expect == "safe" else set(expect.split(","))
    return {"name": os.path.basename(path)[:-4], "expect": codes,
            "setup": "".join(setup).strip(), "migration": "".join(migration).strip()}


def squawk_binary():
    found = shutil.which("squawk")
    if found:
        return found
    prefix = os.path.join(HERE, ".npm-squawk")
    binary = os.path.join(prefix, "node_modules", ".bin", "squawk")
    if not os.path.exists(binary):
        subprocess.run(["npm", "install", "--prefix", prefix, "--no-package-lock", "--no-audit",
                        "--no-fund", "--loglevel=error", "squawk-cli"], check=True)
    return binary


def run_squawk(cases):
    binary = squawk_binary()
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    tmp = tempfile.mkdtemp(prefix="pgm_squawk_")
    try:
        for c in cases:
            with open(os.path.join(tmp, c["name"] + ".sql"), "w") as f:
                f.write(c["migration"] + "\n")
        out = subprocess.run([binary, "--reporter", "json"] + sorted(glob.glob(os.path.join(tmp, "*.sql"))),
                             capture_output=True, text=True)
        rules = {c["name"]: set() for c in cases}
        for v in json.loads(out.stdout or "[]"):
            rules[os.path.basename(v["file"])[:-4]].add(v["rule_name"])
        return version, rules
    finally:
        shutil.rmtree(tmp)


def run_pg_migrate(cases):
    admin = psycopg2.connect(dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    admin.cursor().execute(f"CREATE DATABASE {DB}")
    found = {}
    try:
        conn = psycopg2.connect(dbname=DB)
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("CREATE EXTENSION pg_migrate")
        cur.execute("SET pg_migrate.hazard_min_table_size = '1MB'")
        cur.execute("SET client_min_messages = error")
        for i, c in enumerate(cases):
            cur.execute("DROP SCHEMA IF EXISTS hz CASCADE; CREATE SCHEMA hz")
            if c["setup"]:
                cur.execute(c["setup"])
            rid = "hz%010d" % i
            cur.execute("SELECT migrate_revision(%s, NULL, %s, NULL)", (rid, c["migration"]))
            cur.execute("SELECT hazards, sqlstate FROM migrate_rehearse()")
            codes = set()
            for hazards, _ in cur.fetchall():
                codes |= set(hazards)
            found[c["name"]] = codes
            cur.execute("DELETE FROM pgmigrate.migrate_revisions WHERE revision = %s", (rid,))
        conn.close()
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    return found


def scores(cases, flagged):
    tp = sum(1 for c in cases if c["expect"] and flagged[c["name"]])
    fp = sum(1 for c in cases if not c["expect"] and flagged[c["name"]])
    fn = sum(1 for c in cases if c["expect"] and not flagged[c["name"]])
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return tp, fp, fn, precision, recall


def main():
    verbose = "--verbose" in sys.argv
    cases = [read_case(p) for p in sorted(glob.glob(os.path.join(CASES, "*.sql")))]
    version, sq_rules = run_squawk(cases)
    pgm = run_pg_migrate(cases)
    ignored = STYLE_RULES | TIMEOUT_RULES
    sq_safety = {n: r - ignored for n, r in sq_rules.items()}

    print(f"{'case':<34} {'expected':<34} {'squawk (safety rules)':<44} pg_migrate")
    for c in cases:
        n = c["name"]
        exp = ",".join(sorted(c["expect"])) or "safe"
        sq = ",".join(sorted(sq_safety[n])) or "-"
        pm = ",".join(sorted(pgm[n])) or "-"
        print(f"{n:<34} {exp:<34} {sq:<44} {pm}")
        if verbose:
            print(f"{'':<34} squawk, every rule: {','.join(sorted(sq_rules[n])) or '-'}")

    dangerous = sum(1 for c in cases if c["expect"])
    print(f"\n{len(cases)} cases, {dangerous} dangerous, {len(cases) - dangerous} safe; {version}")
    results = {}
    for label, flagged in (("squawk, safety rules", {n: bool(r) for n, r in sq_safety.items()}),
                           ("squawk, every rule", {n: bool(r) for n, r in sq_rules.items()}),
                           ("pg_migrate", {n: bool(r) for n, r in pgm.items()})):
        tp, fp, fn, p, r = scores(cases, flagged)
        results[label] = (p, r)
        print(f"{label:<22} precision {p:.2f} ({tp} of {tp + fp} flagged)   recall {r:.2f}"
              f" ({tp} of {tp + fn} dangerous)")
    pm_p, pm_r = results["pg_migrate"]
    sq_p, sq_r = results["squawk, safety rules"]
    ok = pm_p > sq_p and pm_r > sq_r
    print(f"target: pg_migrate above squawk on both: {'met' if ok else 'MISSED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    try:
        main()
    except (psycopg2.Error, subprocess.CalledProcessError) as e:
        print(f"hazard_recall: FAILED, {e}", file=sys.stderr)
        sys.exit(2)
