#!/usr/bin/python3
"""Extract the revision graph of a real Alembic project into a corpus file.

Usage: test/alembic/extract_corpus.py NAME GIT_DIR:VERSIONS_DIR [GIT_DIR:VERSIONS_DIR ...]

Reads the version files under each VERSIONS_DIR (recursively) at the HEAD
of the git snapshot GIT_DIR (several for a project made of packages, as
invenio's), takes from each only its module-level
revision, down_revision, branch_labels and depends_on (parsed with ast,
never run), and writes test/alembic/corpora/NAME.json: the source, its
commits, and the revisions in load order (the directories in the order
given, the files of each sorted by path).  Only the graph goes into the
file, none of the project's code.

pg_migrate's rules are applied and recorded: an id or label with a
character outside [A-Za-z0-9_] is renamed ("-" and "." to "_"), and a
depends_on that names a branch label is replaced by the revision that
declares it (what Alembic resolves it to); both under "notes".
"""
import ast
import json
import os
import re
import subprocess
import sys

OK = re.compile(r"^[A-Za-z0-9_]{1,128}$")


def git(gitdir, *args):
    return subprocess.run(["git", "-C", gitdir] + list(args), capture_output=True, text=True,
                          check=True).stdout


# constants some projects name instead of writing (neutron's cli module)
NAMED = {"EXPAND_BRANCH": "expand", "CONTRACT_BRANCH": "contract"}


def value(node):
    if isinstance(node, ast.Attribute) and node.attr in NAMED:
        return NAMED[node.attr]
    if isinstance(node, ast.Name) and node.id in NAMED:
        return NAMED[node.id]
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, str)):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        return [value(e) for e in node.elts]
    raise ValueError(ast.dump(node))


def built_list(tree, name):
    """The strings a module puts into the list it names, by = and +="""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                found += [c.value for c in ast.walk(node.value)
                          if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    return found


def as_list(v):
    # "" is falsy to Alembic too: no parent, no dependency
    if v is None or v == "":
        return []
    return [v] if isinstance(v, str) else list(v)


def main():
    name, sources = sys.argv[1], [a.rsplit(":", 1) for a in sys.argv[2:]]
    revs, notes, commits, dirs = [], [], [], []
    for gitdir, d in sources:
        commit = git(gitdir, "rev-parse", "HEAD").strip()
        files = git(gitdir, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
        repo = os.path.basename(os.path.dirname(os.path.abspath(gitdir))).replace("+", "/")
        commits.append("%s@%s" % (repo, commit[:12]))
        dirs.append("%s:%s" % (repo, d))
        for path in sorted(f for f in files if f.startswith(d.rstrip("/") + "/") and f.endswith(".py")
                           and not os.path.basename(f).startswith("__")):
            tree = ast.parse(git(gitdir, "show", "HEAD:" + path))
            fields = {}
            for stmt in tree.body:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else \
                    [stmt.target] if isinstance(stmt, ast.AnnAssign) and stmt.value is not None else []
                for t in targets:
                    if isinstance(t, ast.Name) and t.id in ("revision", "down_revision", "branch_labels",
                                                            "depends_on"):
                        if isinstance(stmt.value, ast.Name) and stmt.value.id not in NAMED:
                            # a list the module builds (invenio-accounts adds to it when
                            # the packages it orders against are installed, as all are here)
                            fields[t.id] = built_list(tree, stmt.value.id)
                            notes.append("%s of %s: every string the module adds to %s"
                                         % (t.id, path, stmt.value.id))
                        else:
                            fields[t.id] = value(stmt.value)
            if "revision" not in fields:
                notes.append("skipped %s: no revision" % path)
                continue
            revs.append({"id": fields["revision"], "parents": as_list(fields.get("down_revision")),
                         "labels": as_list(fields.get("branch_labels")),
                         "deps": as_list(fields.get("depends_on"))})

    def fix(x):
        if OK.match(x):
            return x
        y = re.sub(r"[^A-Za-z0-9_]", "_", x)
        notes.append("renamed %s to %s" % (x, y))
        return y

    renamed = {}
    for r in revs:
        for k in ("id",):
            renamed[r[k]] = fix(r[k])
        for lab in r["labels"]:
            renamed[lab] = fix(lab)
    declares = {lab: r["id"] for r in revs for lab in r["labels"]}
    ids = {r["id"] for r in revs}
    out = []
    for r in revs:
        deps = []
        for d in r["deps"]:
            if d not in ids and d in declares:
                notes.append("depends_on %s of %s: the label's revision %s" % (d, r["id"], declares[d]))
                d = declares[d]
            deps.append(renamed.get(d, d))
        out.append({"id": renamed[r["id"]], "parents": [renamed.get(p, p) for p in r["parents"]],
                    "labels": [renamed[lab] for lab in r["labels"]], "deps": deps})
    doc = {"source": name, "commits": commits, "version_dirs": dirs, "notes": sorted(set(notes)),
           "revisions": out}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpora", name + ".json")
    with open(path, "w") as f:
        f.write("{\n")
        for k in ("source", "commits", "version_dirs", "notes"):
            f.write('  "%s": %s,\n' % (k, json.dumps(doc[k])))
        f.write('  "revisions": [\n')
        f.write(",\n".join("    " + json.dumps(r) for r in out))
        f.write("\n  ]\n}\n")
    print("%s: %d revisions, %d notes" % (name, len(out), len(doc["notes"])))


if __name__ == "__main__":
    main()
