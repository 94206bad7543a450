"""Revision graphs for the Alembic conformance harness.

A graph is a list of revisions in registration order, which is also the
order the Alembic script files are loaded in (parents usually come before
their children and their dependents, but need not: pg_migrate accepts a
registration order that names later revisions, as Alembic loads every file
before it builds the graph).  Every revision id and branch
label obeys pg_migrate's rule [A-Za-z0-9_]{1,128}, is not a reserved word
and is unique across ids and labels (both systems refuse a label equal to
an id).

Three sources:
  handmade_graphs()        fixed shapes, each aimed at one feature
  random_graphs(seed, n)   seeded random DAGs of 2..60 revisions, and every
                           sixth of them again in revision id order
  corpus_graphs()          the graphs of real projects (corpora/*.json,
                           made by extract_corpus.py from their version files)
"""
import random
import re

NAME_RE = re.compile(r"^[A-Za-z0-9_]{1,128}$")
RESERVED = {"head", "heads", "base", "current"}


class Rev:
    __slots__ = ("id", "parents", "labels", "deps")

    def __init__(self, id, parents=(), labels=(), deps=()):
        if isinstance(parents, str):
            parents = (parents,)
        self.id = id
        self.parents = tuple(parents or ())
        self.labels = tuple(labels or ())
        self.deps = tuple(deps or ())

    def describe(self):
        s = self.id
        s += " <- " + (",".join(self.parents) if self.parents else "(base)")
        if self.labels:
            s += " labels=" + ",".join(self.labels)
        if self.deps:
            s += " depends_on=" + ",".join(self.deps)
        return s


class Graph:
    """Revisions plus the closures the harness needs to judge answers."""

    def __init__(self, name, revs, full_questions=False):
        self.name = name
        self.revs = list(revs)
        self.full_questions = full_questions   # ask about every id (small graphs)
        self.by_id = {r.id: r for r in self.revs}
        self.index = {r.id: i for i, r in enumerate(self.revs)}
        self._validate()
        n = len(self.revs)
        self.children = {r.id: [] for r in self.revs}
        self.dependents = {r.id: [] for r in self.revs}
        for r in self.revs:
            for p in r.parents:
                self.children[p].append(r.id)
            for d in r.deps:
                self.dependents[d].append(r.id)
        # ancestors through parents and depends_on, as bit sets over index,
        # computed parents first (registration may name later revisions)
        order = self._parents_first()
        self.anc = [0] * n
        for i in order:
            r = self.revs[i]
            m = 0
            for p in r.parents + r.deps:
                j = self.index[p]
                m |= self.anc[j] | (1 << j)
            self.anc[i] = m
        # ancestors through down_revision only (Alembic's "lineage")
        self.panc = [0] * n
        for i in order:
            r = self.revs[i]
            m = 0
            for p in r.parents:
                j = self.index[p]
                m |= self.panc[j] | (1 << j)
            self.panc[i] = m

    def _parents_first(self):
        """indexes in an order where every revision follows its parents and
        depends_on (the graph is acyclic)"""
        out, state = [], {}
        for start in range(len(self.revs)):
            stack = [(start, 0)]
            while stack:
                i, k = stack.pop()
                if k == 0:
                    if state.get(i):
                        continue
                    state[i] = 1
                edges = self.revs[i].parents + self.revs[i].deps
                if k < len(edges):
                    stack.append((i, k + 1))
                    j = self.index[edges[k]]
                    assert state.get(j) != 1, (self.name, "cycle", self.revs[i].id)
                    if not state.get(j):
                        stack.append((j, 0))
                else:
                    state[i] = 2
                    out.append(i)
        return out

    def _validate(self):
        seen = set()
        labels = set()
        every = {r.id for r in self.revs}
        for r in self.revs:
            assert NAME_RE.match(r.id) and r.id not in RESERVED, r.id
            assert r.id not in seen and r.id not in labels, r.id
            for p in r.parents + r.deps:
                assert p in every, (self.name, r.id, p)
            assert len(set(r.parents)) == len(r.parents)
            assert len(set(r.deps)) == len(r.deps)
            seen.add(r.id)
            for lab in r.labels:
                assert NAME_RE.match(lab) and lab not in RESERVED, lab
                assert lab not in labels and lab not in seen, lab
                labels.add(lab)
        for lab in labels:
            assert lab not in seen, lab

    def ids(self):
        return [r.id for r in self.revs]

    def labels(self):
        return [lab for r in self.revs for lab in r.labels]

    def is_ancestor(self, a, b):
        """a is a strict ancestor of b (through parents and depends_on)"""
        return bool(self.anc[self.index[b]] >> self.index[a] & 1)

    def shares_lineage(self, a, b):
        """a lies above or below b (or is b) through down_revision edges, as
        Alembic's _shares_lineage(include_dependencies=False)"""
        i, j = self.index[a], self.index[b]
        return i == j or bool(self.panc[i] >> j & 1) or bool(self.panc[j] >> i & 1)

    def label_owner(self, label):
        """the revision that declares a branch label, or None"""
        for r in self.revs:
            if label in r.labels:
                return r.id
        return None

    def ancestors_of(self, ids):
        m = 0
        for x in ids:
            i = self.index[x]
            m |= self.anc[i] | (1 << i)
        return m

    def ids_of_mask(self, m):
        return [r.id for i, r in enumerate(self.revs) if m >> i & 1]

    def canonical_state(self, ids):
        """The version rows that stand for 'ids and all their ancestors':
        the members no other member descends from, in registration order."""
        ids = set(ids)
        return tuple(x for x in self.ids() if x in ids
                     and not any(y != x and self.is_ancestor(x, y) for y in ids))

    def describe(self):
        return "; ".join(r.describe() for r in self.revs)


# ---------------------------------------------------------------------------
# Hand-made shapes
# ---------------------------------------------------------------------------

def _g(name, spec):
    """spec: list of (id, parents, labels, deps) tuples, shorter tuples allowed"""
    revs = []
    for t in spec:
        t = tuple(t) + ((),) * (4 - len(t))
        revs.append(Rev(t[0], t[1] or (), t[2] or (), t[3] or ()))
    return Graph(name, revs, full_questions=True)


def handmade_graphs():
    G = []
    G.append(_g("linear", [
        ("1a2b3c4d5e6f", None),
        ("2b3c4d5e6f70", "1a2b3c4d5e6f"),
        ("3c4d5e6f7081", "2b3c4d5e6f70"),
        ("4d5e6f708192", "3c4d5e6f7081"),
        ("5e6f708192a3", "4d5e6f708192"),
    ]))
    G.append(_g("two_branches", [
        ("aa0000000001", None),
        ("aa0000000002", "aa0000000001"),
        ("bb0000000003", "aa0000000002"),
        ("bb0000000004", "bb0000000003"),
        ("cc0000000005", "aa0000000002"),
        ("cc0000000006", "cc0000000005"),
    ]))
    G.append(_g("diamond_merge", [
        ("d10000000000", None),
        ("d20000000000", "d10000000000"),
        ("d30000000000", "d10000000000"),
        ("d40000000000", ("d20000000000", "d30000000000")),
        ("d50000000000", "d40000000000"),
    ]))
    G.append(_g("three_way_merge", [
        ("e1e1e1e1e1e1", None),
        ("e2e2e2e2e2e2", "e1e1e1e1e1e1"),
        ("e3e3e3e3e3e3", "e1e1e1e1e1e1"),
        ("e4e4e4e4e4e4", "e1e1e1e1e1e1"),
        ("e5e5e5e5e5e5", ("e2e2e2e2e2e2", "e3e3e3e3e3e3", "e4e4e4e4e4e4")),
    ]))
    G.append(_g("several_bases", [
        ("f10000000000", None),
        ("f20000000000", "f10000000000"),
        ("f30000000000", None),
        ("f40000000000", "f30000000000"),
        ("f50000000000", None),
        ("f60000000000", "f40000000000"),
    ]))
    G.append(_g("branch_labels", [
        ("0a0000000001", None),
        ("0a0000000002", "0a0000000001"),
        ("0b0000000003", "0a0000000002", ["shop"]),
        ("0b0000000004", "0b0000000003"),
        ("0c0000000005", "0a0000000002"),
        ("0c0000000006", "0c0000000005", ["users"]),
        ("0d0000000007", None, ["audit"]),
        ("0d0000000008", "0d0000000007"),
    ]))
    # the README's graph: branch shop, a merge with SQL, a second base that
    # depends_on the first, and a merge of everything
    G.append(_g("readme", [
        ("1a2b3c4d5e6f", None),
        ("2b3c4d5e6f70", "1a2b3c4d5e6f"),
        ("3c4d5e6f7081", "2b3c4d5e6f70", ["shop"]),
        ("4d5e6f708192", "2b3c4d5e6f70"),
        ("5e6f708192a3", ("3c4d5e6f7081", "4d5e6f708192")),
        ("3882122181f0", "5e6f708192a3"),
        ("92670ff31e59", None, ["audit"], ["1a2b3c4d5e6f"]),
        ("70f56d2792ae", ("3882122181f0", "92670ff31e59")),
    ]))
    G.append(_g("depends_across_branches", [
        ("a1b2c3d4e5f6", None),
        ("a2b3c4d5e6f7", "a1b2c3d4e5f6"),
        ("b1c2d3e4f5a6", None, ["other"]),
        ("b2c3d4e5f6a7", "b1c2d3e4f5a6", None, ["a2b3c4d5e6f7"]),
        ("a3b4c5d6e7f8", "a2b3c4d5e6f7"),
        ("b3c4d5e6f7a8", "b2c3d4e5f6a7", None, ["a3b4c5d6e7f8"]),
    ]))
    # a head that another branch depends_on: still a head (no child), but
    # not a "real" head in Alembic's sense
    G.append(_g("depends_on_head", [
        ("c0ffee000001", None),
        ("c0ffee000002", "c0ffee000001"),
        ("dead00000001", None),
        ("c0ffee000003", "c0ffee000002", None, ["dead00000001"]),
    ]))
    G.append(_g("depends_within_branch", [
        ("9a0000000001", None),
        ("9a0000000002", "9a0000000001"),
        ("9b0000000003", "9a0000000002"),
        ("9c0000000004", "9a0000000002"),
        ("9b0000000005", "9b0000000003", None, ["9c0000000004"]),
        ("9c0000000006", "9c0000000004"),
    ]))
    # ids sharing prefixes of 4, 5 and 6 characters, a 3-character id that is
    # a prefix of others, and a label that shares a prefix with ids
    G.append(_g("shared_prefixes", [
        ("abc", None),
        ("abcd11111111", "abc"),
        ("abcd22222222", "abcd11111111"),
        ("abcde3333333", "abcd11111111"),
        ("abcdef444444", "abcde3333333"),
        ("abcdef555555", "abcd22222222", ["abcdlabel"]),
        ("bcde66666666", ("abcdef444444", "abcdef555555")),
    ]))
    # labels on a branch point, on a merge, below a branch point, and a
    # label whose descendants branch (Alembic's propagation walks down from
    # one of them)
    G.append(_g("label_placement", [
        ("7a0000000001", None, ["lbase"]),
        ("7a0000000002", "7a0000000001"),
        ("7b0000000003", "7a0000000002", ["lbranch"]),
        ("7b0000000004", "7b0000000003"),
        ("7b0000000005", "7b0000000004"),
        ("7c0000000006", "7b0000000004"),
        ("7d0000000007", "7a0000000002"),
        ("7e0000000008", ("7b0000000005", "7d0000000007"), ["lmerge"]),
        ("7e0000000009", "7e0000000008"),
    ]))
    G.append(_g("label_above_dependency", [
        ("6a0000000001", None),
        ("6a0000000002", "6a0000000001"),
        ("6b0000000003", None),
        ("6a0000000004", "6a0000000002", ["feat"], ["6b0000000003"]),
        ("6a0000000005", "6a0000000004"),
        ("6b0000000006", "6b0000000003", None, ["6a0000000002"]),
    ]))
    G.append(_g("single_revision", [
        ("0123456789ab", None, ["solo"]),
    ]))
    G.append(_g("non_hex_ids", [
        ("r0001_add_users", None),
        ("r0002_add_name", "r0001_add_users"),
        ("r0003_add_orders", "r0002_add_name", ["orders"]),
        ("r0004_add_index", "r0002_add_name"),
        ("r0005_join", ("r0003_add_orders", "r0004_add_index")),
    ]))
    # Minimal graphs, one per kind of difference the random graphs turned up
    # (the harness prints their differences first; see the report).
    G.append(_g("min_dependent_of_target", [
        ("t10000", None),
        ("t20000", "t10000"),
        ("t30000", "t20000"),
        ("u10000", "t10000", None, ["t20000"]),
    ]))
    G.append(_g("min_branch_downgrade", [
        ("c10000", None),
        ("c20000", "c10000"),
        ("s10000", "c20000", ["shop"]),
        ("s20000", "s10000"),
        ("o10000", "c20000"),
    ]))
    G.append(_g("min_two_bases", [
        ("a10000", None),
        ("a20000", "a10000"),
        ("b10000", None),
    ]))
    G.append(_g("min_label_below_merge", [
        ("m10000", None),
        ("m20000", "m10000"),
        ("s10000", "m20000", ["lab"]),
        ("o10000", "m10000"),
        ("mm0000", ("s10000", "o10000")),
    ]))
    G.append(_g("min_label_dependent", [
        ("k10000", None),
        ("k20000", "k10000", ["lab"]),
        ("j10000", None, None, ["k10000"]),
    ]))
    G.append(_g("min_dependency_covers_parent", [
        ("p10000", None),
        ("x10000", "p10000"),
        ("y10000", None, None, ["p10000"]),
    ]))
    G.append(_g("min_heads_overlap", [
        ("v10000", None, ["lab"]),
        ("v20000", "v10000"),
        ("v30000", "v10000", None, ["v20000"]),
    ]))
    return G


# ---------------------------------------------------------------------------
# Random DAGs
# ---------------------------------------------------------------------------

LABEL_POOL = ["shop", "shopping", "audit", "auditing", "billing", "billing_v2",
              "users", "feat_a", "feat_b", "feat_ab", "reports", "rep", "x1",
              "search", "search_v2", "ops", "legacy", "mobile", "api", "api_v2"]


def _random_id(rnd, used, prefixes):
    """An Alembic-style id; sometimes sharing a 4-7 character prefix with an
    existing id, sometimes not hex at all."""
    while True:
        r = rnd.random()
        if prefixes and r < 0.22:
            base = rnd.choice(prefixes)
            k = rnd.randint(4, 7)
            rid = base[:k] + "".join(rnd.choice("0123456789abcdef") for _ in range(12 - k))
        elif r < 0.27:
            rid = "r%03d_%s" % (rnd.randint(0, 999), rnd.choice(["users", "orders", "idx", "fix"]))
        elif r < 0.29:
            rid = "".join(rnd.choice("0123456789abcdef") for _ in range(rnd.randint(2, 3)))
        else:
            rid = "".join(rnd.choice("0123456789abcdef") for _ in range(12))
        if rid not in used and rid not in RESERVED:
            used.add(rid)
            prefixes.append(rid)
            return rid


def random_graph(rnd, name, n):
    used = set()
    prefixes = []
    revs = []
    heads = []                     # revisions without children so far
    anc = {}                       # id -> set of ancestors (parents + deps)
    labels_left = LABEL_POOL[:]
    rnd.shuffle(labels_left)
    p_base = rnd.choice([0.0, 0.04, 0.1])
    p_merge = rnd.choice([0.05, 0.12, 0.2])
    p_branch = rnd.choice([0.1, 0.25, 0.4])
    p_dep = rnd.choice([0.0, 0.08, 0.15])
    p_label = rnd.choice([0.0, 0.06, 0.12])
    for i in range(n):
        rid = _random_id(rnd, used, prefixes)
        if i == 0 or rnd.random() < p_base:
            parents = ()
        elif len(heads) >= 2 and rnd.random() < p_merge:
            k = 3 if len(heads) >= 3 and rnd.random() < 0.2 else 2
            parents = tuple(rnd.sample(heads, k))
            # keep the merge's parents independent of each other
            if any(a != b and a in anc[b] for a in parents for b in parents):
                parents = parents[:1]
        elif rnd.random() < p_branch:
            parents = (rnd.choice(revs).id,)
        else:
            parents = (rnd.choice(heads),)
        mine = set()
        for p in parents:
            mine |= anc[p] | {p}
        deps = ()
        if i >= 2 and rnd.random() < p_dep:
            # revisions in other branches: not ancestors of this one, and not
            # ancestors of one another (a redundant depends_on makes Alembic's
            # own HeadMaintainer fail, so it tells nothing about pg_migrate)
            cands = [r.id for r in revs if r.id not in mine]
            rnd.shuffle(cands)
            want = 2 if rnd.random() < 0.2 else 1
            chosen = []
            for c in cands:
                if len(chosen) == want:
                    break
                if all(c not in anc[d] and d not in anc[c] for d in chosen):
                    chosen.append(c)
            deps = tuple(chosen)
        labels = ()
        if labels_left and rnd.random() < p_label:
            lab = labels_left.pop()
            if lab not in used:
                labels = (lab,)
                used.add(lab)
        for p in parents:
            if p in heads:
                heads.remove(p)
        heads.append(rid)
        for d in deps:
            mine = mine | anc[d] | {d}
        anc[rid] = mine
        revs.append(Rev(rid, parents, labels, deps))
    return Graph(name, revs, full_questions=n <= 12)


def random_graphs(seed, count):
    rnd = random.Random(seed)
    out = []
    for k in range(count):
        n = rnd.choice([rnd.randint(2, 12), rnd.randint(8, 30), rnd.randint(20, 60)])
        out.append(random_graph(rnd, "random_%d_%03d" % (seed, k), n))
    # Alembic's default file names start with the revision id, so a project
    # loads its files sorted by id: children before parents, a depends_on
    # before its target.  Every sixth graph also comes in that order.
    out += [Graph(g.name + "_by_id", sorted(g.revs, key=lambda r: r.id), g.full_questions)
            for g in out[::6]]
    return out


def corpus_graphs():
    """The revision graphs of real Alembic projects, in their load order"""
    import glob
    import json
    import os

    out = []
    here = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(here, "corpora", "*.json"))):
        with open(path) as f:
            doc = json.load(f)
        revs = [Rev(r["id"], r["parents"], r["labels"], r["deps"]) for r in doc["revisions"]]
        out.append(Graph("corpus_" + doc["source"], revs, full_questions=False))
    return out
