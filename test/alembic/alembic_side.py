"""The Alembic side of the conformance harness: one revision graph written as
an Alembic versions directory, loaded with alembic.script.ScriptDirectory,
and asked the harness's questions through Alembic's own code paths.  No
database is involved.

Load order: Alembic reads a versions directory with os.listdir(), whose
order the file system decides.  Alembic's tie-breaks (heads order, the
topological sort of iterate_revisions) follow the load order, so the harness
makes it deterministic: files are named NNNN_<rev>.py and listed sorted,
which is the registration order used on the pg_migrate side.

Every answer is an Answer: ok with a value, or an error: the exception's
type and message, the type of its root cause (Alembic's commands wrap a
RevisionError in a CommandError), whether it is an internal failure (an
assertion, a KeyError, ... raised inside Alembic's code rather than one of
its RevisionError/CommandError refusals), where an offline command failed
('from' when resolving its starting revision), and, where Alembic computed
the set of revisions before failing to order them, that set.
"""
import itertools
import os
import sys
import warnings

sys.dont_write_bytecode = True

import alembic  # noqa: E402
from alembic.runtime.migration import HeadMaintainer  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from alembic.script import revision as alembic_revision  # noqa: E402
from alembic.script.base import Script  # noqa: E402
from alembic.util import CommandError  # noqa: E402

warnings.simplefilter("ignore")       # "downgrade -1 from multiple heads is ambiguous", ...

_orig_list_py_dir = Script._list_py_dir.__func__


def _sorted_list_py_dir(cls, scriptdir, path):
    return sorted(_orig_list_py_dir(cls, scriptdir, path))


Script._list_py_dir = classmethod(_sorted_list_py_dir)

RELATIVE = alembic_revision._relative_destination
ALEMBIC_DIR = os.path.dirname(os.path.abspath(alembic.__file__)) + os.sep
THIS_FILE = os.path.abspath(__file__)
# _SetHeads mirrors these HeadMaintainer methods line for line
MIRRORED = ("_insert_version", "_delete_version", "_update_version")


class Answer:
    __slots__ = ("ok", "value", "err", "code", "cause", "internal", "stage", "intended")

    def __init__(self, ok, value=None, err=None, code=None, cause=None, internal=False,
                 stage=None, intended=None):
        self.ok = ok
        self.value = value
        self.err = err
        self.code = code            # pg_migrate's SQLSTATE
        self.cause = cause          # Alembic: the root exception's type name
        self.internal = internal    # Alembic: failed inside its own code
        self.stage = stage          # Alembic offline: 'from' = resolving the start
        self.intended = intended    # Alembic: the revisions it collected before failing

    def __repr__(self):
        if self.ok:
            return fmt_value(self.value)
        return "ERROR(%s%s)" % (self.code + " " if self.code else "", (self.err or "")[:160])


def fmt_value(v):
    if isinstance(v, frozenset):
        return "{" + ", ".join(sorted(str(x) for x in v)) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (k, fmt_value(v[k])) for k in sorted(v)) + "}"
    return str(v)


def ok(v):
    return Answer(True, v)


def _root(e):
    while e.__cause__ is not None:
        e = e.__cause__
    return e


def _failed_in(e):
    """(file, function) of the innermost frame of e's traceback"""
    tb = e.__traceback__
    if tb is None:
        return None, None
    while tb.tb_next is not None:
        tb = tb.tb_next
    return os.path.abspath(tb.tb_frame.f_code.co_filename), tb.tb_frame.f_code.co_name


def is_internal(e):
    """An exception that is not one of Alembic's refusals (RevisionError,
    CommandError) and was raised inside Alembic's code (or in _SetHeads'
    copies of HeadMaintainer's methods), not in the harness."""
    root = _root(e)
    if isinstance(root, (alembic_revision.RevisionError, CommandError)):
        return False
    path, fn = _failed_in(root)
    return bool(path) and (path.startswith(ALEMBIC_DIR) or (path == THIS_FILE and fn in MIRRORED))


def err(e, stage=None, intended=None):
    msg = str(e).replace("\n", " ")
    root = _root(e)
    name = type(e).__name__
    if root is not e:
        name += "(%s)" % type(root).__name__
    return Answer(False, err="%s%s: %s" % ("from: " if stage else "", name, msg),
                  cause=type(root).__name__, internal=is_internal(e), stage=stage,
                  intended=intended)


def _sort_failed(e):
    """Alembic collected the revisions, then its topological sort failed"""
    return isinstance(e, AssertionError) and _failed_in(e)[1] == "_topological_sort"


class _SetHeads(HeadMaintainer):
    """Alembic's HeadMaintainer.update_to_step() with the version table
    replaced by a set: the branch/merge/unmerge decisions are Alembic's own,
    only the SQL against alembic_version is left out."""

    def __init__(self, heads):   # noqa: super().__init__ wants a context
        self.heads = set(heads)

    def _insert_version(self, version):
        assert version not in self.heads
        self.heads.add(version)

    def _delete_version(self, version):
        self.heads.remove(version)

    def _update_version(self, from_, to_):
        assert to_ not in self.heads
        self.heads.remove(from_)
        self.heads.add(to_)


def _script_text(rev):
    def lit(t):
        if not t:
            return "None"
        if len(t) == 1:
            return repr(t[0])
        return repr(tuple(t))
    return ("revision = %r\n"
            "down_revision = %s\n"
            "branch_labels = %s\n"
            "depends_on = %s\n\n\n"
            "def upgrade():\n    pass\n\n\n"
            "def downgrade():\n    pass\n"
            % (rev.id, lit(rev.parents), lit(rev.labels), lit(rev.deps)))


class AlembicModel:
    def __init__(self, graph, root):
        self.graph = graph
        self.dir = os.path.join(root, "scripts")
        versions = os.path.join(self.dir, "versions")
        os.makedirs(versions)
        for i, rev in enumerate(graph.revs):
            with open(os.path.join(versions, "%04d_%s.py" % (i, rev.id)), "w") as f:
                f.write(_script_text(rev))
        self.sd = ScriptDirectory(self.dir)
        self.rm = self.sd.revision_map
        self.rm._revision_map                  # load now: errors belong to the graph
        loaded = [k for k, r in self.rm._revision_map.items() if r is not None and k == r.revision]
        assert loaded == graph.ids(), "Alembic load order differs from registration order"

    # --- the graph ---------------------------------------------------------

    def heads(self):
        return ok(frozenset(self.sd.get_heads()))

    def bases(self):
        return ok(frozenset(self.sd.get_bases()))

    def branches(self):
        # alembic branches: walk_revisions(), is_branch_point, nextrev
        try:
            return ok(frozenset((sc.revision, frozenset(sc.nextrev))
                                for sc in self.sd.walk_revisions() if sc.is_branch_point))
        except Exception as e:
            return err(e)

    def labels(self):
        return ok({r.revision: frozenset(r.branch_labels)
                   for r in self.rm._revision_map.values() if r is not None})

    def history(self, rng, current):
        """alembic history -r rng, as command.history() reads the range
        ('current' is the current heads)."""
        try:
            if rng is None:
                base = head = None
            else:
                base, head = rng.strip().split(":")
            if base == "current":
                base = current
            if head == "current":
                head = current
            base, head = base or "base", head or "heads"
            return ok([sc.revision for sc in self.sd.walk_revisions(base=base, head=head)])
        except Exception as e:
            # walk_revisions -> iterate_revisions(head, base, inclusive=True,
            # assert_relative_length=False): the set before the sort
            return err(e, intended=self._collected(
                e, self.rm._collect_upgrade_revisions, head, base, inclusive=True,
                implicit_base=False, assert_relative_length=False))

    def _collected(self, e, collect, *args, **kw):
        """Where Alembic's topological sort failed (e), the revisions it had
        collected to sort, as iterate_revisions() computed them; else None."""
        if not _sort_failed(e):
            return None
        try:
            revs, _ = collect(*args, **kw)
            return frozenset(r.revision for r in revs)
        except Exception:
            return None

    # --- identifiers -------------------------------------------------------

    def resolve(self, ident, current):
        """What an identifier names.  Absolute forms: RevisionMap.get_revisions().
        Relative forms (+N/-N, with or without symbol and branch) are read
        the way the commands read them: +N by _parse_upgrade_target (upgrade),
        -N by _parse_downgrade_target (downgrade), against the current heads."""
        try:
            m = RELATIVE.match(ident)
            if m:
                rel = int(m.group(3))
                if rel > 0:
                    revs = self.rm._parse_upgrade_target(current, ident, True)
                    if any(r is None for r in revs):
                        return Answer(False, err="walk returned None (walked too far)")
                    return ok(frozenset(r.revision for r in revs if r != "base"))
                _, rev = self.rm._parse_downgrade_target(current, ident, True)
                if rev is None or rev == "base":
                    return ok(frozenset())
                return ok(frozenset([rev.revision]))
            revs = self.rm.get_revisions(ident)
            return ok(frozenset(r.revision for r in revs if r is not None))
        except Exception as e:
            return err(e)

    # --- migrating ---------------------------------------------------------

    def _run(self, get_steps, current, collect):
        """(plan answer, state-after answer)"""
        try:
            steps = get_steps()
        except Exception as e:
            a = err(e, intended=self._collected(e, *collect))
            return a, a
        plan = ok([s.revision.revision for s in steps])
        try:
            hm = _SetHeads(current)
            for s in steps:
                hm.update_to_step(s)
            return plan, ok(frozenset(hm.heads))
        except Exception as e:
            return plan, err(e)

    def upgrade(self, target, current):
        """alembic upgrade <target>: command.upgrade -> ScriptDirectory._upgrade_revs"""
        current = tuple(current)
        return self._run(lambda: self.sd._upgrade_revs(target, current), current,
                         (self.rm._collect_upgrade_revisions, target, current, False, True, True))

    def downgrade(self, target, current):
        """alembic downgrade <target>: command.downgrade -> ScriptDirectory._downgrade_revs"""
        current = tuple(current)
        return self._run(lambda: self.sd._downgrade_revs(target, current), current,
                         (self.rm._collect_downgrade_revisions, current, target, False, False, True))

    def offline_start(self, from_ident):
        """The current heads of alembic upgrade|downgrade from:target --sql:
        MigrationContext.get_current_heads() in offline mode turns the
        starting revision into (get_revision(from).revision,), or () for
        'base'.  Raises as Alembic does."""
        return () if from_ident == "base" else (self.sd.get_revision(from_ident).revision,)

    def offline(self, kind, from_ident, target):
        """alembic upgrade|downgrade from:target --sql: the start as
        offline_start(), then as online.  A failure to resolve the start has
        stage 'from'."""
        try:
            current = self.offline_start(from_ident)
        except Exception as e:
            a = err(e, stage="from")
            return a, a
        return self.upgrade(target, current) if kind == "upgrade" else self.downgrade(target, current)

    def stamp(self, target, current, purge=False):
        """alembic stamp [--purge] <target>: command.stamp -> _stamp_revs; with
        --purge the version table is emptied first.  target: an identifier,
        or a tuple of revision ids (() for base)."""
        start = () if purge else tuple(current)
        try:
            steps = self.sd._stamp_revs(target if isinstance(target, tuple) else (target,), start)
            hm = _SetHeads(start)
            for s in steps:
                hm.update_to_step(s)
            return ok(frozenset(hm.heads))
        except Exception as e:
            return err(e)

    # --- orders PYTHONHASHSEED decides -----------------------------------------

    def hash_dependent(self):
        """Revisions whose several normalized depends_on Alembic keeps in a
        tuple made from a set (_normalize_depends_on): their order, and with
        it the order of _topological_sort, follows the string hash."""
        # the map holds a revision once per key: its id and each of its
        # branch labels; each revision is varied once
        seen = {}
        for r in self.rm._revision_map.values():
            if r is not None and len(r._normalized_resolved_dependencies) > 1:
                seen.setdefault(r.revision, r)
        return list(seen.values())

    def hash_variants(self, limit=10000):
        """Yield once for each order of those tuples (at most limit
        combinations: invenio's six such revisions make 192, and 120 missed
        the one pg_migrate's order is), with the revisions changed in place;
        restored after."""
        revs = self.hash_dependent()
        if not revs:
            return
        saved = [r._normalized_resolved_dependencies for r in revs]
        try:
            combos = itertools.product(*[itertools.permutations(t) for t in saved])
            for combo in itertools.islice(combos, limit):
                for r, t in zip(revs, combo):
                    r._normalized_resolved_dependencies = tuple(t)
                yield
        finally:
            for r, t in zip(revs, saved):
                r._normalized_resolved_dependencies = t

    # --- Alembic's own readings, for the harness's documented differences ---

    def revisions(self, ident):
        """RevisionMap.get_revisions(ident) as ids ('base' and None left out)"""
        return tuple(r.revision for r in self.rm.get_revisions(ident)
                     if r is not None and r != "base")

    def branch_revision(self, ident):
        """the revision a 'branch@' prefix stands for (filter_for_lineage's
        _revision_for_ident of the branch: a label's declaring revision, or
        the revision itself), None without a prefix"""
        if "@" not in ident:
            return None
        branch = ident.split("@", 1)[0]
        return self.rm._revision_for_ident(branch).revision

    def upgrade_targets(self, target, current):
        """the revisions an upgrade to target aims at (_parse_upgrade_target)"""
        return tuple(r.revision for r in self.rm._parse_upgrade_target(tuple(current), target, True)
                     if r is not None and r != "base")

    def downgrade_target(self, target, current):
        """(branch anchor, revision) a downgrade to target aims at, as
        _parse_downgrade_target reads it (revision None for base); the anchor
        is the revision its branch label resolves to (_resolve_branch), or
        None without a branch"""
        branch, rev = self.rm._parse_downgrade_target(tuple(current), target, True)
        anchor = self.rm._resolve_branch(branch).revision if branch else None
        return anchor, (None if rev is None or rev == "base" else rev.revision)
