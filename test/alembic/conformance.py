#!/usr/bin/python3
"""Differential test: pg_migrate against Alembic 1.8 (python3-alembic).

For every revision graph (hand-made shapes, then seeded random DAGs) the
harness writes an Alembic versions directory and loads it with
alembic.script.ScriptDirectory, registers the same revisions in the same
order with migrate_revision() in a fresh pg_migrate, and asks both the same
questions:

  heads, bases, branches   get_heads/get_bases/is_branch_point vs
                           migrate_heads/migrate_bases/migrate_branches
  labels                   the branch labels each revision carries
                           (Revision.branch_labels vs migrate_history())
  history [range]          walk_revisions(base, head) vs migrate_history(range)
  resolve ident            get_revisions() (+N: _parse_upgrade_target,
                           -N: _parse_downgrade_target) vs migrate_resolve()
  upgrade target           ScriptDirectory._upgrade_revs() vs the steps of
                           migrate_upgrade_sql(target)
  upgrade_state target     the version rows after that upgrade (Alembic's
                           HeadMaintainer vs the script's migrate_version changes)
  downgrade[_state] target the same with _downgrade_revs / migrate_downgrade_sql
  upgrade_from from:target alembic upgrade from:target --sql (the start resolved
  downgrade_from ...       as MigrationContext.get_current_heads does offline) vs
                           migrate_upgrade_sql / migrate_downgrade_sql(target, from)
  stamp target             _stamp_revs() + HeadMaintainer vs migrate_stamp(target)
  stamp_purge target       the same after emptying the version table (alembic
                           stamp --purge) vs migrate_stamp(target, purge => true)

each from several starting states (sets of version rows, given to Alembic as
its current heads and written into migrate_version on the pg side, inside a
transaction that is rolled back).  A starting state is always "canonical":
no row is an ancestor of another through down_revision or depends_on.

Judging.  Both failing is an agreement (messages are not compared), except
that an XX000-class error from pg_migrate is never an agreement.  Sets are
compared as sets.  A plan or a history is compared as a set of steps plus
order: pg_migrate's sequence must run every revision after its ancestors
(upgrade) or before them (downgrade, history), through down_revision and
depends_on, or it is an unexplained difference.  Where both agree on the
steps, the order is judged by kind: the share of questions whose order is
exactly Alembic's (one of Alembic's orders, where a revision with several
depends_on makes its order follow PYTHONHASHSEED: _normalize_depends_on
turns a set into a tuple) is printed per kind, and the run fails if any
kind is below MIN_EXACT_ORDER (99%).  The differences pg_migrate makes on
purpose, and those where Alembic itself is limited (it cannot parse the form, raises MultipleHeads,
or fails internally with an assertion or a KeyError), are listed in
EXPECTED_DIFFERENCES and counted apart; where it can, an entry also checks
pg_migrate's answer against what Alembic means (its own functions, or the
graph), so that a wrong answer in the same situation stays unexplained.
Everything else that differs is an unexplained difference, printed with the
graph, the question and both answers (the first 50, --show N); an Alembic
internal failure that no entry explains is marked "alembic crash".  At the
end, the unexplained differences are grouped by question kind, identifier
form (REV, PREFIX, LABEL@-N, ...) and what differs, then the exact-order
rates and the counts.  Exit status 1 if there is any unexplained difference
or an exact-order rate below 99%.

Usage: conformance.py [--quick] [--seed S] [--graphs N] [--jobs J]
                      [--only NAME] [--json FILE] [--show N] [--show-graphs]
Connects with PGHOST/PGPORT/PGUSER; makes and drops databases alembic_conf_*.
Needs /usr/bin/python3 with python3-alembic (1.8) and python3-psycopg2, and
pg_migrate installed in the server.
"""
import os
import sys

# Alembic iterates sets of revision ids (label propagation, nextrev); fix the
# string hash so that a run is reproducible.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True          # no __pycache__ in the source tree

import argparse  # noqa: E402
import collections  # noqa: E402
import multiprocessing  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import psycopg2  # noqa: E402

from alembic_side import RELATIVE, AlembicModel, Answer  # noqa: E402
from graphs import corpus_graphs, handmade_graphs, random_graphs  # noqa: E402
from pg_side import PgDatabase, parse_script  # noqa: E402

BARE_RELATIVE = re.compile(r"^-\d+$")


# ---------------------------------------------------------------------------
# What pg_migrate does differently on purpose (README, "Differences from
# Alembic").  Each entry: reason, and a test (question, alembic answer,
# pg answer, extra) -> bool saying whether a difference is this one.
# ---------------------------------------------------------------------------

def target_of(q):
    """the target identifier of a question ('from:target' for the *_from kinds)"""
    if q.kind.endswith("_from"):
        return q.arg.split(":", 1)[1]
    return q.arg or ""


def _bare_minus_several_heads(q, a, p, extra):
    # (not the *_from kinds: Alembic's offline start is always one revision)
    return (q.kind in ("resolve", "downgrade", "stamp_purge") and BARE_RELATIVE.match(q.arg or "")
            and len(q.state) > 1 and not p.ok and p.code == "21000" and a.ok)


def _stamp_label_base(q, a, p, extra):
    return (q.kind == "stamp_purge" and re.match(r"^[A-Za-z0-9_]+@base$", q.arg or "")
            and not p.ok and p.code == "22023")


def _heads_relative(q, a, p, extra):
    return (re.match(r"^(?:[A-Za-z0-9_]+@)?heads[+-]\d+$", target_of(q))
            and not p.ok and p.code == "22023")


# The entries below are about Alembic's own limits.  Each one checks pg_migrate's
# answer against what Alembic means (its own functions, or the graph) wherever
# that can be computed, so that a wrong answer in the same situation is still
# an unexplained difference.  extra holds the graph and the Alembic model.

PLAN_KINDS = ("upgrade", "downgrade", "upgrade_from", "downgrade_from")
ORDERED_KINDS = PLAN_KINDS + ("history",)
# the share of ordered questions whose order must be exactly Alembic's
MIN_EXACT_ORDER = 99.0
STAMP_KINDS = ("stamp", "stamp_purge")
RESERVED_SYMBOLS = ("head", "heads", "base", "current")


def _start_of(q, extra):
    """the version rows a plan starts from: the state, or for the *_from kinds
    Alembic's offline start (raises where Alembic cannot resolve it)"""
    if q.kind.endswith("_from"):
        return extra["model"].offline_start(q.arg.split(":", 1)[0])
    return tuple(q.state)


def _bit(mask, graph, rev):
    return bool(mask >> graph.index[rev] & 1)


def _valid_plan(graph, start, steps, down):
    """steps is a plan that can run from start: upgrade steps not applied
    yet, whose ancestors are applied or run first; downgrade steps applied,
    leaving nothing applied that needs them; each in a valid order."""
    if len(set(steps)) != len(steps) or order_problem(graph, steps, down):
        return False
    applied = graph.ancestors_of(start)
    mask = 0
    for x in steps:
        mask |= 1 << graph.index[x]
    if not down:
        after = applied | mask
        return not (mask & applied) and all(graph.anc[graph.index[x]] & ~after == 0 for x in steps)
    after = applied & ~mask
    return mask & ~applied == 0 and all(
        graph.anc[i] & mask == 0 for i in range(len(graph.revs)) if after >> i & 1)


def _stamp_grammar(q, a, p, extra):
    # K: alembic stamp resolves its target with get_revisions(): rev-N is
    # "Can't locate revision", a bare -N walks from the script's heads
    # (whatever Alembic then answers).  pg_migrate's stamp target is an
    # identifier like any other: it must be what Alembic's upgrade/downgrade
    # reading of it names (alembic_side.resolve, relative to the applied
    # state), stamped as those revisions, on the same branch as branch@rev
    # (with --purge for stamp_purge, which refuses a branch's base as
    # stamp_purge of label@base is refused).
    t = q.arg or ""
    m = RELATIVE.fullmatch(t)
    if q.kind not in STAMP_KINDS or not m:
        return False
    bare = m.group(1) is None and m.group(2) is None
    if not bare and (a.ok or a.cause != "ResolutionError"):
        return False
    model, purge = extra["model"], q.kind == "stamp_purge"
    named = model.resolve(t, q.state)
    if not named.ok:
        return matches(named, p)
    named = tuple(sorted(named.value))
    branch = m.group(1)
    if branch is None:
        idents = named
    elif not named:
        if purge:
            return not p.ok and p.code == "22023"
        idents = (branch + "@base",)
    else:
        idents = tuple("%s@%s" % (branch, x) for x in named)
    alt = model.stamp(idents, q.state, purge=purge)
    if matches(alt, p):
        return True
    # Alembic, given those revisions, may be limited in the same way as below
    try:
        anchor = model.branch_revision(idents[0]) if branch is not None else None
    except Exception:
        return False
    return not purge and _stamp_in_line_ok(extra["graph"], q.state, named, anchor, alt, p)


def _in_line(graph, x, y):
    """x is y, or above or below it, through down_revision and depends_on"""
    i, j = graph.index[x], graph.index[y]
    return i == j or bool(graph.anc[i] >> j & 1) or bool(graph.anc[j] >> i & 1)


def stamp_in_line(graph, state, named, branch):
    """The version rows alembic stamp means to leave (_stamp_revs), each
    named revision replacing only the rows in line with itself: a row is in
    line with the target when it is in line with a named revision or with
    the branch's revision (filter_for_lineage, with dependencies); base
    (named empty) drops those rows; otherwise a named revision that is not
    a row replaces the rows in line with it, or is added."""
    shares = list(named) + ([branch] if branch else [])
    in_line = {h for h in state if not shares or any(_in_line(graph, h, x) for x in shares)}
    rows = set(state)
    if not named:
        return frozenset(rows - in_line)
    for d in named:
        if d in in_line:
            continue
        rows -= {h for h in in_line if _in_line(graph, h, d)}
        rows.add(d)
    return frozenset(rows)


def _stamp_in_line_ok(graph, state, named, branch, a, p):
    """pg_migrate's rows are stamp_in_line(); Alembic failed inside its own
    code, or left the same rows less some rows of the starting state (one
    StampStep took them along)"""
    if not p.ok or p.value != stamp_in_line(graph, state, named, branch):
        return False
    if not a.ok:
        return a.internal
    return a.value - p.value <= set(named) and p.value - a.value <= set(state)


def _stamp_rows_in_line(q, a, p, extra):
    # R: _stamp_revs gives every row in line with the target or its branch
    # to each StampStep, whatever that row's relation to the step's
    # revision: a row in line only with the branch, or one that is itself a
    # later named revision (a head of 'heads'), is dropped, or the step
    # after fails (KeyError, AssertionError).  pg_migrate's rows must be
    # stamp_in_line() of what Alembic's get_revisions() names, and where
    # Alembic answered, its rows may differ only by rows of the starting
    # state that it dropped.
    if q.kind != "stamp" or RELATIVE.fullmatch(q.arg or ""):
        return False
    model = extra["model"]
    try:
        named = model.revisions(q.arg)
        branch = model.branch_revision(q.arg)
    except Exception:
        return False
    return _stamp_in_line_ok(extra["graph"], q.state, named, branch, a, p)


ABSOLUTE_HEADS = re.compile(r"^(?:heads|([A-Za-z0-9_]+)@heads?)$")


def _downgrade_to_heads_form(q, a, p, extra):
    # L: _parse_downgrade_target reads an absolute target with rpartition('@')
    # and get_revision(symbol): 'heads' and 'x@head(s)' raise MultipleHeads or
    # lose the branch.  pg_migrate resolves them as an upgrade target is
    # resolved (get_revisions); the plan must be Alembic's downgrade rule
    # applied to those revisions: every applied revision at or above one of
    # their children, through down_revision and depends_on.
    if q.kind not in ("downgrade", "downgrade_from"):
        return False
    t = target_of(q)
    m = ABSOLUTE_HEADS.match(t)
    if not m:
        return False
    graph, model = extra["graph"], extra["model"]
    try:
        start = _start_of(q, extra)
        targets = model.revisions(t)
        if a.ok or a.stage or a.cause != "MultipleHeads":
            # Alembic answered, or refused the revision it read instead:
            # only where dropping the branch changes what the target names
            if not (a.ok or (not a.stage and a.cause == "RangeNotAncestorError")):
                return False
            if m.group(1) is None or set(model.revisions(t.rpartition("@")[2])) == set(targets):
                return False
    except Exception:
        return False
    applied = graph.ancestors_of(start)
    if not all(_bit(applied, graph, x) for x in targets):
        return not p.ok and p.code == "55000"      # not applied: not a downgrade target
    if not p.ok:
        return False
    roots = 0
    for x in targets:
        for c in graph.children[x]:
            roots |= 1 << graph.index[c]
    drop = [r.id for i, r in enumerate(graph.revs)
            if applied >> i & 1 and (graph.anc[i] | 1 << i) & roots]
    return set(p.value) == set(drop) and order_problem(graph, p.value, True) is None


MEMBER_RE = re.compile(r'^revision "([A-Za-z0-9_]+)" is not a member of branch "([A-Za-z0-9_]+)"')


def _branch_membership(q, a, p, extra):
    # P: Alembic checks branch@rev membership only in get_revisions(); its
    # downgrade target (rpartition) and the +N walks skip it.  pg_migrate's
    # refusal must name the revision the identifier names, and that revision
    # must indeed not share lineage (down_revision) with the branch.
    if q.kind not in ("resolve",) + PLAN_KINDS or not a.ok or p.ok or p.code != "22023":
        return False
    m = MEMBER_RE.match(p.err or "")
    mt = re.fullmatch(r"([A-Za-z0-9_]+)@([A-Za-z0-9_]+)([+-]\d+)?", target_of(q))
    if not m or not mt:
        return False
    rev, branch = m.groups()
    graph = extra["graph"]
    sym = mt.group(2)
    if mt.group(1) != branch or sym in RESERVED_SYMBOLS or rev not in graph.index:
        return False
    if not (sym == rev or graph.label_owner(sym) == rev or (len(sym) > 3 and rev.startswith(sym))):
        return False
    owner = graph.label_owner(branch) or (branch if branch in graph.index else None)
    return owner is not None and not graph.shares_lineage(rev, owner)


def _offline_several_start(q, a, p, extra):
    # Q: get_current_heads() offline takes one starting revision
    # (get_revision: MultipleHeads for 'heads').  pg_migrate's script must be
    # what Alembic plans online from those version rows (up to the other
    # documented differences).
    if q.kind not in ("upgrade_from", "downgrade_from") or a.ok or a.stage != "from" \
            or a.cause != "MultipleHeads" or not p.ok:
        return False
    f, t = q.arg.split(":", 1)
    graph, model = extra["graph"], extra["model"]
    try:
        start = graph.canonical_state(model.revisions(f))
    except Exception:
        return False
    kind = q.kind[:-len("_from")]
    plan, _ = model.upgrade(t, start) if kind == "upgrade" else model.downgrade(t, start)
    verdict, key, _ = judge(graph, Q(kind, t, start), plan, p, {"graph": graph, "model": model})
    return verdict == "agree" or (verdict == "documented" and key != "offline start from several revisions")


def _history_current_nothing_applied(q, a, p, extra):
    # M: command.history with nothing applied reads ':current' as ':heads'
    return (q.kind == "history" and q.arg == ":current" and not q.state
            and a.ok and set(a.value) == set(extra["graph"].ids()) and p.ok and p.value == [])


def _overlapping_targets(q, a, p, extra):
    # O: _get_ancestor_nodes(check=True) refuses targets of which one is an
    # ancestor of another; pg_migrate's plan must be the union: every
    # ancestor of a target (itself included) not applied yet.
    if q.kind not in ("upgrade", "upgrade_from") or a.ok or a.stage or a.cause != "RevisionError" \
            or "overlaps with other requested revisions" not in (a.err or "") or not p.ok:
        return False
    graph, model = extra["graph"], extra["model"]
    try:
        start = _start_of(q, extra)
        targets = model.upgrade_targets(target_of(q), start)
    except Exception:
        return False
    want = graph.ancestors_of(targets) & ~graph.ancestors_of(start)
    return set(p.value) == set(graph.ids_of_mask(want)) and order_problem(graph, p.value, False) is None


def _downgrade_nothing_to_do(q, a, p, extra):
    # _collect_downgrade_revisions raises RangeNotAncestorError ("Nothing to
    # drop") when the target is not a version row and nothing above it is
    # applied; pg_migrate plans nothing (a NOTICE).  The target (Alembic's
    # reading) must be applied, and no applied revision may lie at or above
    # one of its children (with a branch and several children, the children
    # below the branch's revision, as Alembic filters its roots).
    if q.kind not in ("downgrade", "downgrade_from") or a.ok or a.stage \
            or a.cause != "RangeNotAncestorError" or not p.ok or p.value:
        return False
    graph, model = extra["graph"], extra["model"]
    try:
        start = _start_of(q, extra)
        anchor, rev = model.downgrade_target(target_of(q), start)
    except Exception:
        return False
    if rev is None or rev in start:
        return False
    roots = graph.children[rev]
    if anchor is not None and len(roots) > 1:
        below = graph.panc[graph.index[anchor]] | 1 << graph.index[anchor]
        roots = [c for c in roots if _bit(below, graph, c)]
    mask = 0
    for c in roots:
        mask |= 1 << graph.index[c]
    applied = graph.ancestors_of(start)
    return _bit(applied, graph, rev) and not any(
        applied >> i & 1 and (graph.anc[i] | 1 << i) & mask for i in range(len(graph.revs)))


def _alembic_internal_failure(q, a, p, extra):
    # N: Alembic fails inside its own code (an assertion, a KeyError: never a
    # RevisionError refusal) where pg_migrate answers.  pg_migrate's answer
    # must still hold up: the set Alembic collected before its sort failed,
    # a plan that can run, the canonical version rows after a plan.
    if a.ok or not a.internal or not p.ok:
        return False
    graph = extra["graph"]
    if q.kind == "history":
        if a.intended is not None and set(p.value) != a.intended:
            return False
        return order_problem(graph, p.value, True) is None
    if q.kind in PLAN_KINDS:
        if a.intended is not None and set(p.value) != a.intended:
            return False
        try:
            start = _start_of(q, extra)
            if q.kind.startswith("up"):
                # what the upgrade aims at, as _parse_upgrade_target reads it
                # (e.g. ('base',), on which _collect_upgrade_revisions asserts)
                want = graph.ancestors_of(extra["model"].upgrade_targets(target_of(q), start))
                if set(p.value) != set(graph.ids_of_mask(want & ~graph.ancestors_of(start))):
                    return False
        except Exception:
            return False
        return _valid_plan(graph, start, p.value, q.kind.startswith("down"))
    if q.kind in ("upgrade_state", "downgrade_state") and "plan" in extra:
        applied = graph.ancestors_of(q.state)
        mask = 0
        for x in extra["plan"]:
            mask |= 1 << graph.index[x]
        after = applied | mask if q.kind == "upgrade_state" else applied & ~mask
        return p.value == frozenset(graph.canonical_state(graph.ids_of_mask(after)))
    # resolve: nothing of Alembic's to hold the answer against (stamp: see
    # _stamp_rows_in_line)
    return q.kind == "resolve"


def _minimal_rows_after_downgrade(q, a, p, extra):
    # Removing a revision brings back its parents and depends_on; Alembic's
    # HeadMaintainer checks each only against the rows already there, so
    # where one of them depends on another it writes back both (a row that
    # another row implies) and then refuses its own next 'upgrade heads'.
    # pg_migrate's rows are the minimal ones for the same applied set.
    if q.kind != "downgrade_state" or not (a.ok and p.ok):
        return False
    graph = extra["graph"]
    rows = sorted(a.value)
    return (frozenset(graph.canonical_state(rows)) == p.value and p.value != a.value
            and graph.ancestors_of(rows) == graph.ancestors_of(sorted(p.value)))


EXPECTED_DIFFERENCES = {
    "minimal rows after a downgrade": (
        "after a downgrade through depends_on pg_migrate keeps only the rows no other row implies; "
        "Alembic also writes back a row another row implies, and its next 'upgrade heads' then "
        "raises 'overlaps with other requested revisions'",
        _minimal_rows_after_downgrade),
    "bare -N with several applied heads": (
        "an error (21000) in pg_migrate; Alembic warns and walks from the first version row",
        _bare_minus_several_heads),
    "stamp of label@base with purge refused": (
        "README, migrate_stamp: label@base with purge => true is refused (22023), a purge "
        "names the whole state; alembic stamp --purge empties the table",
        _stamp_label_base),
    "stamp moves only rows in line with each target": (
        "migrate_stamp replaces, for each revision the target names, only the version rows "
        "in line with that revision; Alembic's _stamp_revs hands it every row in line with "
        "the target or its branch, drops a row in line only with the branch, and fails "
        "(KeyError, AssertionError) on the second of several revisions (heads)",
        _stamp_rows_in_line),
    "heads+N / heads-N refused": (
        "README, Errors: heads-1 is a malformed identifier (22023); Alembic walks from "
        "'heads' when there is only one",
        _heads_relative),
    "stamp target grammar": (
        "migrate_stamp resolves its target like every identifier (rev-N, base+N; bare -N "
        "relative to the applied state); Alembic's _stamp_revs cannot locate rev-N and reads "
        "a bare -N from the script heads",
        _stamp_grammar),
    "downgrade to heads / x@head(s)": (
        "pg_migrate resolves an absolute downgrade target as an upgrade target; Alembic's "
        "_parse_downgrade_target (rpartition('@'), get_revision) raises MultipleHeads or drops the branch",
        _downgrade_to_heads_form),
    "branch@rev membership checked": (
        "pg_migrate refuses branch@rev (22023) where rev does not share the branch's lineage; "
        "Alembic skips the check in downgrade targets and +N walks",
        _branch_membership),
    "offline start from several revisions": (
        "migrate_*_sql(target, from) accepts a start naming several revisions ('heads'); "
        "Alembic's offline get_current_heads raises MultipleHeads",
        _offline_several_start),
    "history :current with nothing applied": (
        "migrate_history(':current') with nothing applied lists nothing; Alembic's history "
        "reads an empty current as 'heads' and lists everything",
        _history_current_nothing_applied),
    "overlapping upgrade targets": (
        "pg_migrate upgrades to the union of targets of which one is an ancestor of another "
        "(x@heads); Alembic raises 'Requested revision ... overlaps'",
        _overlapping_targets),
    "downgrade with nothing to do": (
        "a downgrade with nothing to do is a no-op with a NOTICE; Alembic raises "
        "RangeNotAncestorError when the target is applied but not a version row",
        _downgrade_nothing_to_do),
    "Alembic fails internally": (
        "Alembic raises an internal error (AssertionError, KeyError; not a RevisionError) "
        "where pg_migrate answers consistently",
        _alembic_internal_failure),
}


# ---------------------------------------------------------------------------
# Questions
# ---------------------------------------------------------------------------

Q = collections.namedtuple("Q", "kind arg state")


def identifiers(graph, rnd):
    """(state-independent identifiers, state-dependent identifiers)"""
    ids = graph.ids()
    labels = graph.labels()
    sample = ids if graph.full_questions else rnd.sample(ids, min(len(ids), 10))
    few = sample if graph.full_questions else sample[:4]
    out = ["head", "heads", "base", "head-1", "head-2", "base+1", "base+2", "heads-1", "heads+1"]
    out += sample
    for x in sample:
        for k in (4, 5):
            if len(x) > k:
                out.append(x[:k])
    for x in few:
        if len(x) > 3:
            out.append(x[:3])
        out += [x + "@head", x + "@heads", x + "+1", x + "-1", x + "+2", x + "-2"]
    # prefixes shared by several ids (ambiguous unless narrowed)
    shared = sorted({a[:k] for a in ids for b in ids if a < b
                     for k in range(4, min(len(a), len(b)))
                     if a[:k] == b[:k] and (k == 4 or a[:k + 1] != b[:k + 1])})
    out += shared[:6]
    dependent = ["+1", "-1", "+2", "-2"]
    for lab in labels:
        out += [lab, lab + "@head", lab + "@heads", lab + "@base", lab + "@base+1", lab + "@head-1"]
        if len(lab) >= 5:
            out.append(lab[:-1])          # a prefix of a label, not of an id
        for x in rnd.sample(ids, min(2, len(ids))):
            out.append("%s@%s" % (lab, x))
        x = rnd.choice(ids)
        out += ["%s@%s+1" % (lab, x), "%s@%s-1" % (lab, x)]
        dependent += [lab + "@+1", lab + "@-1", lab + "@+2", lab + "@-2"]
    # dedupe, keeping the order
    seen = set()
    absolute = [x for x in out if not (x in seen or seen.add(x))]
    return absolute, dependent


def pick_states(graph, rnd, many):
    ids = graph.ids()
    states = [(), graph.canonical_state(ids)]
    if many:
        states += [graph.canonical_state([x]) for x in ids]
        for _ in range(6):
            states.append(graph.canonical_state(rnd.sample(ids, min(len(ids), rnd.randint(2, 3)))))
    else:
        for _ in range(3):
            states.append(graph.canonical_state(rnd.sample(ids, min(len(ids), rnd.randint(1, 3)))))
    out = []
    for s in states:
        if s not in out:
            out.append(s)
    return out


def offline_pairs(graph, rnd, absolute):
    """(from, target) pairs for migrate_upgrade_sql/migrate_downgrade_sql with
    an explicit from_revision (alembic upgrade|downgrade from:target --sql)"""
    ids = graph.ids()
    froms = ["base", "head", "heads"] + rnd.sample(ids, min(3, len(ids))) + graph.labels()[:1]
    targets = ["heads", "base", "+1", "-1"] + rnd.sample(absolute, min(4, len(absolute)))
    return [(f, t) for f in froms for t in targets]


def history_ranges(graph, rnd):
    ids = graph.ids()
    rs = [None, "base:heads", ":heads", "base:", ":"]
    for x in rnd.sample(ids, min(3, len(ids))):
        rs += [x + ":", ":" + x, x + ":heads"]
    for _ in range(4):
        a, b = rnd.choice(ids), rnd.choice(ids)
        rs.append("%s:%s" % (a, b))
    for lab in graph.labels()[:2]:
        rs += [lab + ":", ":" + lab]
    return rs


# ---------------------------------------------------------------------------
# Judging
# ---------------------------------------------------------------------------

def matches(a, p):
    """Equal answers for set-valued questions (both errors count as equal)"""
    if not a.ok and not p.ok:
        return not (p.code or "").startswith("XX")
    return a.ok and p.ok and a.value == p.value


def alembic_crashed(a):
    """An Alembic failure that is not one of its RevisionError/CommandError
    refusals: an assertion or a lookup failing inside Alembic itself."""
    return not a.ok and a.internal


def order_problem(graph, seq, newest_first):
    """None if seq runs every revision after (or, newest_first, before) its
    ancestors in seq, through parents and depends_on; else a description."""
    if len(set(seq)) != len(seq):
        return "a revision appears twice"
    members = 0
    for x in seq:
        members |= 1 << graph.index[x]
    done = 0
    for x in (reversed(seq) if newest_first else seq):
        i = graph.index[x]
        missing = graph.anc[i] & members & ~done
        if missing:
            return "%s comes %s its ancestor %s" % (
                x, "after" if newest_first else "before", graph.ids_of_mask(missing)[0])
        done |= 1 << i
    return None


def _alembic_could_order(p, extra):
    """Where Alembic's order follows PYTHONHASHSEED (a revision with several
    normalized depends_on), is pg_migrate's order one of the orders Alembic
    gives under some hash seed?"""
    model, recompute = extra.get("model"), extra.get("recompute")
    if model is None or recompute is None:
        return False
    for _ in model.hash_variants():
        alt = recompute()
        if alt.ok and alt.value == p.value:
            return True
    return False


def judge(graph, q, a, p, extra):
    """-> ('agree' | 'documented' | 'unexplained', key or pattern, note)"""
    note = ""
    if not a.ok or not p.ok:
        if matches(a, p):
            return "agree", None, ""
        if p.code and p.code.startswith("XX"):
            pattern = "pg internal error"
        elif p.ok and alembic_crashed(a):
            pattern = "alembic crash, pg ok"
        else:
            pattern = "alembic error, pg ok" if p.ok else "alembic ok, pg error"
    elif q.kind in ("upgrade", "downgrade", "upgrade_from", "downgrade_from", "history"):
        down = not q.kind.startswith("upgrade")
        pg_bad = order_problem(graph, p.value, down)
        if set(a.value) != set(p.value):
            pattern = "different steps" if q.kind != "history" else "different revisions"
        elif pg_bad:
            pattern = "pg order violates the graph"
            note = pg_bad
        else:
            # the same steps in a valid order: the order itself is judged by
            # the exact-order rate of each kind (summary), not one by one
            extra["order"] = "exact" if a.value == p.value or _alembic_could_order(p, extra) else "other"
            return "agree", None, ""
    else:
        if a.value == p.value:
            return "agree", None, ""
        pattern = "different values"
    for key, (reason, test) in EXPECTED_DIFFERENCES.items():
        if test(q, a, p, extra):
            return "documented", key, ""
    return "unexplained", pattern, note


def ident_form(graph, ident):
    """'label@+N', 'REV-N', 'PREFIX', ... for grouping differences"""
    if ident is None:
        return "-"
    ids = set(graph.ids())
    labels = set(graph.labels())

    def cls(tok):
        if tok in ("", "head", "heads", "base", "current"):
            return tok
        if tok in ids:
            return "REV"
        if tok in labels:
            return "LABEL"
        if any(x.startswith(tok) for x in ids):
            return "PREFIX"
        if any(x.startswith(tok) for x in labels):
            return "LABELPREFIX"
        return "NAME"

    if ":" in ident:
        lo, hi = ident.split(":", 1)
        return ident_form(graph, lo or "") + ":" + ident_form(graph, hi or "")
    m = re.match(r"^(?:([^@]*)@)?([^+-]*)([+-])?(\d+)?$", ident)
    if not m:
        return "?"
    branch, sym, sign, _ = m.groups()
    return (cls(branch) + "@" if branch is not None else "") + cls(sym) + (sign + "N" if sign else "")


# ---------------------------------------------------------------------------
# One graph
# ---------------------------------------------------------------------------

def pg_answer(kind, raw, state):
    okay, code, text = raw
    if not okay:
        return Answer(False, err=text, code=code)
    if kind in ("resolve",) + STAMP_KINDS:
        return Answer(True, frozenset(text.split()))
    if kind == "history":
        return Answer(True, text.split())
    raise AssertionError(kind)


def run_graph(graph, db, tmproot, seed, quick):
    rnd = random.Random("%s:%s" % (seed, graph.name))
    out = {"name": graph.name, "n": len(graph.revs), "describe": graph.describe(),
           "records": [], "order": {}, "order_examples": []}
    gdir = tempfile.mkdtemp(prefix=graph.name + "_", dir=tmproot)

    def record(q, a, p, extra=None, recompute=None):
        extra = dict(extra or {}, graph=graph, model=model, recompute=recompute)
        verdict, key, note = judge(graph, q, a, p, extra)
        if "order" in extra:
            tally = out["order"].setdefault(q.kind, [0, 0])
            tally[1] += 1
            if extra["order"] == "exact":
                tally[0] += 1
            elif len(out["order_examples"]) < 3:
                out["order_examples"].append("%s: %s %r from %s: alembic=%r pg=%r" % (
                    graph.name, q.kind, q.arg, fmt_state(q.state), a, p))
        out["records"].append((verdict, key, q, repr(a), repr(p), note,
                               ident_form(graph, q.arg), a.ok, p.ok))
        return verdict

    model = None
    try:
        try:
            model = AlembicModel(graph, gdir)
        except Exception as e:
            out["records"].append(("unexplained", "alembic cannot load the graph",
                                    Q("load", None, ()), "%s: %s" % (type(e).__name__, e), "", "", "-",
                                    False, True))
            return out
        try:
            db.load(graph)
        except psycopg2.Error as e:
            out["records"].append(("unexplained", "pg_migrate refuses the graph",
                                   Q("load", None, ()), "loaded", "%s: %s" % (e.pgcode, e.pgerror), "",
                                   "-", True, False))
            return out

        for kind in ("heads", "bases", "branches", "labels"):
            record(Q(kind, None, ()), getattr(model, kind)(), getattr(db, kind)())

        absolute, dependent = identifiers(graph, rnd)
        many = graph.full_questions and not quick
        states = pick_states(graph, rnd, many)
        ranges = history_ranges(graph, rnd)
        for si, state in enumerate(states):
            qs = []
            if si == 0:
                qs += [Q("history", r, state) for r in ranges]
                qs += [Q("resolve", x, state) for x in absolute]
                qs += [Q(k + "_from", "%s:%s" % (f, t), state)
                       for f, t in offline_pairs(graph, rnd, absolute) for k in ("upgrade", "downgrade")]
            qs += [Q("history", r, state) for r in ("current:", ":current")]
            qs += [Q("resolve", x, state) for x in dependent]
            if graph.full_questions:
                targets = absolute + dependent
            else:
                targets = rnd.sample(absolute, min(len(absolute), 24)) + dependent
            qs += [Q("upgrade", t, state) for t in targets]
            qs += [Q("downgrade", t, state) for t in targets]
            stamps = ["heads", "base"] + rnd.sample(absolute, min(len(absolute), 6)) + ["-1"]
            qs += [Q(k, t, state) for t in stamps for k in STAMP_KINDS]

            raws = db.evaluate(state, [(q.kind, q.arg) for q in qs])
            for q, raw in zip(qs, raws):
                if q.kind in ("upgrade_from", "downgrade_from"):
                    f, t = q.arg.split(":", 1)
                    a_plan, _ = model.offline(q.kind[:-5], f, t)
                    if raw[0]:
                        p_plan = Answer(True, parse_script(raw[2], None)[0])
                    else:
                        p_plan = Answer(False, err=raw[2], code=raw[1])
                    record(q, a_plan, p_plan,
                           recompute=lambda: model.offline(q.kind[:-5], f, t)[0])
                    continue
                if q.kind in ("upgrade", "downgrade"):
                    if q.kind == "upgrade":
                        a_plan, a_state = model.upgrade(q.arg, state)
                    else:
                        a_plan, a_state = model.downgrade(q.arg, state)
                    if raw[0]:
                        try:
                            steps, after = parse_script(raw[2], state)
                            p_plan, p_state = Answer(True, steps), Answer(True, after)
                        except ValueError as e:
                            p_plan = p_state = Answer(False, err="harness: %s" % e, code="XXHARNESS")
                    else:
                        p_plan = p_state = Answer(False, err=raw[2], code=raw[1])
                    verdict = record(q, a_plan, p_plan, recompute=lambda: (
                        model.upgrade if q.kind == "upgrade" else model.downgrade)(q.arg, state)[0])
                    # the version rows after a plan are a question of their own
                    # where both ran the same plan (else they differ anyway)
                    if verdict == "agree" and a_plan.ok and p_plan.ok:
                        record(Q(q.kind + "_state", q.arg, state), a_state, p_state,
                               {"plan": p_plan.value, "alembic_plan": a_plan.value})
                    continue
                p = pg_answer(q.kind, raw, state)
                if q.kind == "resolve":
                    a = model.resolve(q.arg, state)
                    record(q, a, p)
                elif q.kind == "history":
                    record(q, model.history(q.arg, state), p,
                           recompute=lambda: model.history(q.arg, state))
                elif q.kind in STAMP_KINDS:
                    record(q, model.stamp(q.arg, state, purge=q.kind == "stamp_purge"), p)
        return out
    finally:
        shutil.rmtree(gdir, ignore_errors=True)


# ---------------------------------------------------------------------------
# Workers
# ---------------------------------------------------------------------------

_worker = {}


def _init_worker(dbqueue, tmproot, seed, quick):
    _worker["db"] = PgDatabase(dbqueue.get())
    _worker["tmp"] = tmproot
    _worker["seed"] = seed
    _worker["quick"] = quick


def _work(graph):
    try:
        return run_graph(graph, _worker["db"], _worker["tmp"], _worker["seed"], _worker["quick"])
    except Exception as e:
        import traceback
        return {"name": graph.name, "n": len(graph.revs), "describe": graph.describe(),
                "records": [("unexplained", "harness crash", Q("crash", None, ()),
                             traceback.format_exc(), "", str(e), "-", False, False)],
                "order": {}, "order_examples": []}


def admin(sql):
    conn = psycopg2.connect(dbname=os.environ.get("PGDATABASE_ADMIN", "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def fmt_state(state):
    return "{" + ", ".join(state) + "}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="a few hand-made graphs and ~20 random ones")
    ap.add_argument("--seed", type=int, default=1885826407)
    ap.add_argument("--graphs", type=int, default=None,
                    help="number of random graphs (default 300, --quick 20)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--only", default=None, help="run only the graphs whose name contains this")
    ap.add_argument("--json", metavar="FILE", default=None,
                    help="also write every unexplained difference to FILE as JSON")
    ap.add_argument("--show-graphs", action="store_true",
                    help="print every graph's revisions, not only those with differences")
    ap.add_argument("--show", type=int, default=50, metavar="N",
                    help="print the first N unexplained differences in full (default 50, "
                    "-1 for all); the summary counts them all")
    args = ap.parse_args()

    ngraphs = args.graphs if args.graphs is not None else (20 if args.quick else 300)
    graphs = handmade_graphs()
    if args.quick:
        graphs = [g for g in graphs if g.name in
                  ("linear", "two_branches", "diamond_merge", "branch_labels", "readme",
                   "depends_on_head", "shared_prefixes")]
    graphs += random_graphs(args.seed, ngraphs)
    graphs += corpus_graphs()
    if args.only:
        graphs = [g for g in graphs if args.only in g.name]

    started = time.time()
    jobs = max(1, min(args.jobs, len(graphs)))
    dbs = ["alembic_conf_%d_%d" % (os.getpid(), k) for k in range(jobs)]
    tmproot = tempfile.mkdtemp(prefix="alembic_conf_")
    for d in dbs:
        admin("DROP DATABASE IF EXISTS %s" % d)
        admin("CREATE DATABASE %s" % d)
    results = []
    try:
        ctx = multiprocessing.get_context("fork")
        dbqueue = ctx.Queue()
        for d in dbs:
            dbqueue.put(d)
        if jobs == 1:
            _init_worker(dbqueue, tmproot, args.seed, args.quick)
            results = [_work(g) for g in graphs]
            _worker["db"].close()
        else:
            with ctx.Pool(jobs, _init_worker, (dbqueue, tmproot, args.seed, args.quick)) as pool:
                results = list(pool.imap(_work, graphs, chunksize=1))
                pool.close()
                pool.join()
    finally:
        for d in dbs:
            try:
                admin("DROP DATABASE IF EXISTS %s WITH (FORCE)" % d)
            except psycopg2.Error as e:
                print("could not drop %s: %s" % (d, e), file=sys.stderr)
        shutil.rmtree(tmproot, ignore_errors=True)

    counts = collections.Counter()
    documented = collections.Counter()
    groups = collections.OrderedDict()
    order = collections.OrderedDict((k, [0, 0]) for k in ORDERED_KINDS)
    order_examples = []
    shown = 0
    for res in results:
        for k, (exact, n) in res["order"].items():
            order[k][0] += exact
            order[k][1] += n
        order_examples += res["order_examples"]
        unexplained = [r for r in res["records"] if r[0] == "unexplained"]
        for r in res["records"]:
            counts[r[0]] += 1
            if r[0] == "documented":
                documented[r[1]] += 1
        room = len(unexplained) if args.show < 0 else max(0, min(len(unexplained), args.show - shown))
        if room or args.show_graphs:
            print("== graph %s (%d revisions): %d unexplained" % (res["name"], res["n"], len(unexplained)))
            print("   revisions: " + res["describe"])
        for k, (verdict, key, q, a, p, note, form, a_ok, p_ok) in enumerate(unexplained):
            if k < room:
                print("   UNEXPLAINED %s %s from %s [%s]: alembic=%s pg=%s%s" % (
                    q.kind, "-" if q.arg is None else repr(q.arg), fmt_state(q.state), key, a, p,
                    " (%s)" % note if note else ""))
            gk = (q.kind, form, key)
            if gk not in groups:
                groups[gk] = [0, "%s: %s %r from %s: alembic=%s pg=%s" % (
                    res["name"], q.kind, q.arg, fmt_state(q.state), a, p)]
            groups[gk][0] += 1
        shown += room

    if args.json:
        import json
        with open(args.json, "w") as f:
            json.dump([{"graph": res["name"], "revisions": res["describe"],
                        "differences": [{"kind": q.kind, "arg": q.arg, "state": list(q.state),
                                         "what": key, "form": form, "alembic": a, "pg": p,
                                         "note": note}
                                        for verdict, key, q, a, p, note, form, a_ok, p_ok in res["records"]
                                        if verdict == "unexplained"]}
                       for res in results], f, indent=1)

    total = sum(counts.values())
    if counts["unexplained"] > shown:
        print("... %d more unexplained differences not printed (--show N, or --json FILE for all)"
              % (counts["unexplained"] - shown))
    print()
    if groups:
        print("unexplained differences by kind (question, identifier form, what differs): count, first example")
        for (kind, form, key), (n, example) in sorted(groups.items(), key=lambda kv: -kv[1][0]):
            print("  %-16s %-22s %-28s %6d  %s" % (kind, form, key, n, example[:300]))
        print()
    if documented:
        print("documented differences (EXPECTED_DIFFERENCES):")
        for key, n in documented.most_common():
            print("  %-36s %6d  %s" % (key, n, EXPECTED_DIFFERENCES[key][0]))
        print()
    low = []
    print("exact order (the same steps in Alembic's sequence, of the questions where both agree on the steps):")
    for k, (exact, n) in order.items():
        rate = 100.0 * exact / n if n else 100.0
        print("  %-16s %6d of %6d  %6.2f%%" % (k, exact, n, rate))
        if rate < MIN_EXACT_ORDER:
            low.append(k)
    for ex in order_examples[:args.show if args.show >= 0 else None][:10]:
        print("  e.g. " + ex[:400])
    corpora = [res for res in results if res["name"].startswith("corpus_")]
    if corpora:
        print("exact order on the real projects' graphs (test/alembic/corpora):")
        for res in corpora:
            cells = ["%s %d/%d" % (k, e, n) for k, (e, n) in res["order"].items() if n]
            print("  %-22s %4d revisions: %s" % (res["name"][7:], res["n"], ", ".join(cells)))
    if low:
        print("exact order below %.0f%% for: %s" % (MIN_EXACT_ORDER, ", ".join(low)))
    print("graphs: %d" % len(results))
    print("questions: %d" % total)
    print("agreements: %d" % counts["agree"])
    print("documented differences: %d" % counts["documented"])
    print("unexplained differences: %d" % counts["unexplained"])
    print("time: %.1f s" % (time.time() - started))
    return 1 if counts["unexplained"] or low or not total else 0


if __name__ == "__main__":
    sys.exit(main())
