#!/usr/bin/env python3
"""File-level call graph of pg_migrate's objects; fails on any cycle.

Usage: test/check_layering.py src/*.o   (after make; builds nothing itself)

Each object's undefined pgm_* symbols (nm -u) are mapped to the object that
defines them (nm --defined-only); Tarjan's algorithm finds the strongly
connected components.  Any component of more than one file is a cycle: the
layering of src/pg_migrate.c's file map says every file calls only files
below it, with no exceptions (no allow-list).
"""
import os
import subprocess
import sys


def symbols(obj, *flags):
    out = subprocess.run(["nm", *flags, obj], check=True, capture_output=True, text=True).stdout
    return {line.split()[-1] for line in out.splitlines()
            if line.split() and line.split()[-1].startswith("pgm_")}


def tarjan(graph):
    index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            sccs.append(sorted(scc))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sccs


def main(objs):
    if not objs:
        sys.exit("usage: check_layering.py OBJECT...")
    name = {o: os.path.splitext(os.path.basename(o))[0] for o in objs}
    owner = {s: name[o] for o in objs for s in symbols(o, "--defined-only")}
    graph = {name[o]: {owner[s] for s in symbols(o, "-u") if s in owner} - {name[o]} for o in objs}
    for v in sorted(graph):
        if graph[v]:
            print(f"{v} -> {', '.join(sorted(graph[v]))}")
    cycles = [c for c in tarjan(graph) if len(c) > 1]
    for c in cycles:
        print(f"cycle: {{{', '.join(c)}}}")
    print(f"layering: {len(graph)} files, {sum(map(len, graph.values()))} edges, {len(cycles)} cycles")
    sys.exit(1 if cycles else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
