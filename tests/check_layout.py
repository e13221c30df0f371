#!/usr/bin/env python3
"""check_layout.py - the tree's layout holds (make check, issue 14).

Fails (exit 1, one line per finding) when
  - a quoted #include of a project header goes to a room the including
    room may not use (ROOMS below: lower layers never include higher ones,
    the CLI only uses lib/),
  - the project's include graph has a cycle,
  - a source file is not named, by its path, in docs/architecture.md.
Includes are resolved as the compiler does: the file's own folder, then
-Ilib -Isim -Ixmigd (Makefile).
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INC_DIRS = ["lib", "sim", "xmigd"]
SRC_DIRS = ["lib", "sim", "xmigd", "xmig", "tools"]

# room -> rooms its files may include (its own is always allowed).  Lowest
# layer first: lib (pure, shared with the CLI), the simulator, the daemon's
# backends and stores, its engine (with daemon.h, the state every part of
# the daemon shares), the cluster operations, the daemon's top.
ROOMS = {
    "lib": [],
    "sim": ["lib"],
    "xmigd/hv": ["lib", "sim"],
    "xmigd/store": ["lib"],
    "xmigd/daemon.h": ["lib", "xmigd/hv"],
    "xmigd/engine": ["lib", "xmigd/hv", "xmigd/store", "xmigd/daemon.h"],
    "xmigd/cluster": ["lib", "xmigd/hv", "xmigd/store", "xmigd/daemon.h", "xmigd/engine"],
    "xmigd": ["lib", "sim", "xmigd/hv", "xmigd/store", "xmigd/daemon.h", "xmigd/engine",
              "xmigd/cluster"],
    "xmig": ["lib"],
    "tools/simhv": ["lib", "sim"],
    "tools/placesim": ["lib"],
    "tools/bench": ["lib"],
}


def room_of(path):
    if path in ROOMS:
        return path
    d = os.path.dirname(path)
    while d and d not in ROOMS:
        d = os.path.dirname(d)
    return d or None


def sources():
    out = []
    for top in SRC_DIRS:
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(dirpath, f), ROOT))
    return sorted(out)


def resolve(src, name):
    for d in [os.path.dirname(src)] + INC_DIRS:
        p = os.path.normpath(os.path.join(d, name))
        if os.path.isfile(os.path.join(ROOT, p)):
            return p
    return None	# a system or generated header


def main():
    bad = []
    files = sources()
    graph = {}
    for f in files:
        graph[f] = []
        with open(os.path.join(ROOT, f), encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not m:
                    continue
                tgt = resolve(f, m.group(1))
                if tgt is None:
                    continue
                graph[f].append(tgt)
                rf, rt = room_of(f), room_of(tgt)
                if rf is None:
                    bad.append(f"{f}: in no room of tests/check_layout.py")
                elif rt != rf and rt not in ROOMS[rf]:
                    bad.append(f"{f}:{n}: includes {tgt}: room {rf} may not use {rt}")

    # Cycles: depth-first, reporting each back edge's loop once.
    state, stack = {}, []

    def visit(v):
        state[v] = 1
        stack.append(v)
        for w in graph.get(v, []):
            if state.get(w) == 1:
                loop = stack[stack.index(w):] + [w]
                bad.append("include cycle: " + " -> ".join(loop))
            elif w not in state:
                visit(w)
        stack.pop()
        state[v] = 2

    for v in files:
        if v not in state:
            visit(v)

    with open(os.path.join(ROOT, "docs/architecture.md"), encoding="utf-8") as fh:
        doc = fh.read()
    for f in files:
        if not re.search(r"(?<![\w/])" + re.escape(f) + r"(?![\w])", doc):
            bad.append(f"{f}: not named in docs/architecture.md")

    for b in bad:
        print("check_layout: " + b)
    if bad:
        return 1
    print(f"check_layout: {len(files)} files, includes point down, no cycle, "
          "all named in docs/architecture.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
