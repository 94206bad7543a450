"""The pg_migrate side of the conformance harness.

One database per worker (alembic_conf_<pid>_<n>, made and dropped by the
harness); between graphs the extension is dropped and created again.  The
questions about one starting state go to the server in one call of a
PL/pgSQL helper, conf_eval(), inside a transaction that is rolled back: it
sets migrate_version to the state's rows, then evaluates each question in a
subtransaction and returns its result or its SQLSTATE.  migrate_stamp() is
undone by its own subtransaction ('stamp' without purge, 'stamp_purge'
with purge => true).  Upgrade and downgrade questions return
the offline script (migrate_upgrade_sql / migrate_downgrade_sql with
from_revision NULL, i.e. from the state set above); the harness reads the
steps ('-- Running upgrade of <id>') and the migrate_version changes from it.
"""
import re

import psycopg2

from alembic_side import Answer

EVAL_FN = r"""
CREATE OR REPLACE FUNCTION public.conf_eval(state text[], kinds text[], args text[])
RETURNS TABLE (n int, ok boolean, code text, result text)
LANGUAGE plpgsql AS $f$
DECLARE
    i int;
    r text;
BEGIN
    DELETE FROM pgmigrate.migrate_version;
    INSERT INTO pgmigrate.migrate_version (scope, revision) SELECT 'default', s FROM unnest(state) AS s;
    FOR i IN 1 .. coalesce(array_length(kinds, 1), 0) LOOP
        BEGIN
            IF kinds[i] = 'resolve' THEN
                r := array_to_string(migrate_resolve(args[i]), ' ');
            ELSIF kinds[i] = 'upgrade' THEN
                r := migrate_upgrade_sql(args[i]);
            ELSIF kinds[i] = 'downgrade' THEN
                r := migrate_downgrade_sql(args[i]);
            ELSIF kinds[i] = 'upgrade_from' THEN          -- 'from:target'
                r := migrate_upgrade_sql(split_part(args[i], ':', 2), split_part(args[i], ':', 1));
            ELSIF kinds[i] = 'downgrade_from' THEN
                r := migrate_downgrade_sql(split_part(args[i], ':', 2), split_part(args[i], ':', 1));
            ELSIF kinds[i] = 'history' THEN
                SELECT coalesce(string_agg(h.rev, ' ' ORDER BY h.ord), '') INTO r
                FROM migrate_history(args[i]) WITH ORDINALITY
                     AS h(rev, d, l, dl, m, ih, ib, ibp, im, ia, ord);
            ELSIF kinds[i] IN ('stamp', 'stamp_purge') THEN
                BEGIN
                    SELECT coalesce(string_agg(s.revision, ' '), '') INTO r
                    FROM migrate_stamp(args[i], purge => kinds[i] = 'stamp_purge') AS s;
                    RAISE EXCEPTION 'undo stamp' USING ERRCODE = 'P0099';
                EXCEPTION WHEN SQLSTATE 'P0099' THEN
                    NULL;
                END;
            ELSE
                RAISE EXCEPTION 'unknown question kind %', kinds[i];
            END IF;
            n := i; ok := true; code := NULL; result := r;
            RETURN NEXT;
        EXCEPTION WHEN OTHERS THEN
            n := i; ok := false; code := SQLSTATE; result := SQLERRM;
            RETURN NEXT;
        END;
    END LOOP;
END
$f$;
"""

STEP_RE = re.compile(r"^-- Running (upgrade|downgrade) of (\w+)")
DEL_RE = re.compile(r"^DELETE FROM \S+\.migrate_version WHERE scope OPERATOR\(pg_catalog\.=\) "
                    r"'default' AND revision OPERATOR\(pg_catalog\.=\) '(\w+)';$")
INS_RE = re.compile(r"^INSERT INTO \S+\.migrate_version \(scope, revision\) VALUES "
                    r"\('default', '(\w+)'\);$")


def parse_script(script, state):
    """(steps, heads after) from an offline script started at 'state';
    with state None, (steps, None)."""
    steps = []
    heads = set(state or ())
    for line in script.splitlines():
        m = STEP_RE.match(line)
        if m:
            steps.append(m.group(2))
            continue
        if state is None:
            continue
        m = DEL_RE.match(line)
        if m:
            if m.group(1) not in heads:
                raise ValueError("script deletes %s, which is not a version row" % m.group(1))
            heads.remove(m.group(1))
            continue
        m = INS_RE.match(line)
        if m:
            if m.group(1) in heads:
                raise ValueError("script inserts %s twice" % m.group(1))
            heads.add(m.group(1))
    return steps, (None if state is None else frozenset(heads))


class PgDatabase:
    def __init__(self, dbname):
        self.dbname = dbname
        self.conn = psycopg2.connect(dbname=dbname)
        self.conn.autocommit = True

    def close(self):
        self.conn.close()

    def load(self, graph):
        """A fresh extension holding the graph's revisions, registered in order."""
        cur = self.conn.cursor()
        cur.execute("SET client_min_messages = warning")
        cur.execute("DROP EXTENSION IF EXISTS pg_migrate CASCADE")
        cur.execute("CREATE EXTENSION pg_migrate")
        cur.execute(EVAL_FN)
        stmts = []
        for r in graph.revs:
            if len(r.parents) <= 1:
                parent = cur.mogrify("%s::text", (r.parents[0] if r.parents else None,))
            else:
                parent = cur.mogrify("%s::text[]", (list(r.parents),))
            stmts.append(cur.mogrify(
                "SELECT migrate_revision(%s, " + parent.decode() +
                ", 'SELECT 1', 'SELECT 1', '', %s::text[], %s::text[]);",
                (r.id, list(r.labels), list(r.deps))).decode())
        cur.execute("BEGIN;\n" + "\n".join(stmts) + "\nCOMMIT;")
        cur.close()

    def _rows(self, sql):
        cur = self.conn.cursor()
        try:
            cur.execute(sql)
            return cur.fetchall()
        finally:
            cur.close()

    def heads(self):
        return Answer(True, frozenset(r[0] for r in self._rows("SELECT revision FROM migrate_heads()")))

    def bases(self):
        return Answer(True, frozenset(r[0] for r in self._rows("SELECT revision FROM migrate_bases()")))

    def branches(self):
        return Answer(True, frozenset((r[0], frozenset(r[1])) for r in
                                      self._rows("SELECT revision, next_revisions FROM migrate_branches()")))

    def labels(self):
        return Answer(True, {r[0]: frozenset(r[1]) for r in
                             self._rows("SELECT revision, branch_labels FROM migrate_history()")})

    def evaluate(self, state, questions):
        """questions: list of (kind, arg); kinds resolve, upgrade, downgrade,
        upgrade_from and downgrade_from ('from:target'), history, stamp,
        stamp_purge.  Returns one raw (ok, code, text) per question."""
        cur = self.conn.cursor()
        try:
            cur.execute("BEGIN")
            cur.execute("SELECT n, ok, code, result FROM public.conf_eval(%s::text[], %s::text[], %s::text[])",
                        (list(state), [q[0] for q in questions], [q[1] for q in questions]))
            rows = cur.fetchall()
        finally:
            cur.execute("ROLLBACK")
            cur.close()
        assert [r[0] for r in rows] == list(range(1, len(questions) + 1))
        return [(r[1], r[2], r[3]) for r in rows]
