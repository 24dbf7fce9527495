#!/usr/bin/env python3
"""Check that no crate has a cycle in its module dependency graph.

What it checks: for each crate, every `.rs` file under `src/` is a module (`src/lib.rs` or
`src/main.rs` = the crate root, `src/a.rs` or `src/a/mod.rs` = `a`, `src/a/b.rs` = `a::b`;
`src/bin/*.rs` and `src/bin/*/main.rs` are roots of their own targets, and `src/main.rs` is
one too when the crate also has a `src/lib.rs`). Inline modules (`mod tests { ... }`) belong
to their file. An edge `a -> b` is any reference from a file of `a` to module `b`: `use`
declarations (any visibility, multi-line, nested groups, `crate::`/`self::`/`super::` paths,
paths starting at a child module or at a module imported by another `use`) and paths in the
code (`crate::a::f()`, `super::x::Y`, ...), with comments and string/char literals stripped
first. A path resolves to the longest prefix that is a known module (`super::Item` is an edge
to the parent module, `crate::Item` to the root). Edges to the module itself and paths into
other crates are ignored. Every strongly connected component with more than one module is
reported with a cycle through each of its edges, and the file and line of one reference per
edge.

Run:  .ci/check-module-cycles.py                 # every crates/*/ of this repository
      .ci/check-module-cycles.py crates/fxrecon-core [...]
      .ci/check-module-cycles.py --selftest      # check the checker on tiny temporary crates
Exit: 0 no cycle (one OK line per crate), 1 a cycle (or a self-test failure), 2 usage error.
Python 3.11 standard library only.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

ROOT_NAME = "crate"  # how the crate root is printed

# --------------------------------------------------------------------------------------
# Lexing: strip comments and literals (keeping line structure), then tokenize.
# --------------------------------------------------------------------------------------

_IDENT_START = re.compile(r"[A-Za-z_\u0080-\U0010ffff]")
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_\u0080-\U0010ffff]")


_RAW_STR = re.compile(r'(?:b|c)?r(#*)"')


def _is_ident_char(c: str) -> bool:
    return bool(c) and bool(_IDENT_CHAR.match(c))


def strip_code(text: str) -> str:
    """Replace comments, string/char literals by spaces, keeping every newline in place."""
    out: list[str] = []
    i, n = 0, len(text)

    def blank(s: str) -> str:
        return "".join("\n" if ch == "\n" else " " for ch in s)

    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        # line comment (also doc comments)
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
            continue
        # block comment, nested
        if c == "/" and nxt == "*":
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth += 1
                    j += 2
                elif text.startswith("*/", j):
                    depth -= 1
                    j += 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
            continue
        prev = text[i - 1] if i > 0 else ""
        # raw strings: r"..", r#".."#, br"..", cr#".."#
        if not _is_ident_char(prev):
            m = _RAW_STR.match(text, i) if c in "bcr" else None
            if m:
                hashes = m.group(1)
                end = text.find('"' + hashes, m.end())
                end = n if end < 0 else end + 1 + len(hashes)
                out.append(blank(text[i:end]))
                i = end
                continue
        # ordinary strings: "..", b"..", c".."
        if c == '"' or (c in "bc" and nxt == '"' and not _is_ident_char(prev)):
            j = i + (1 if c == '"' else 2)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(blank(text[i:j]))
            i = j
            continue
        # char / byte literals vs lifetimes and labels
        if c == "'" or (c == "b" and nxt == "'" and not _is_ident_char(prev)):
            q = i if c == "'" else i + 1
            if q + 1 < n and text[q + 1] == "\\":
                j = q + 2
                while j < n and text[j] != "'" and text[j] != "\n":
                    j += 1
                j = min(j + 1, n)
                out.append(blank(text[i:j]))
                i = j
                continue
            if q + 2 < n and text[q + 2] == "'" and text[q + 1] != "\n":
                out.append(blank(text[i : q + 3]))
                i = q + 3
                continue
            # a lifetime or a label: keep it
            out.append(c)
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


_TOKEN = re.compile(
    r"(?P<ident>(?:r#)?[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_\u0080-\U0010ffff]*)"
    r"|(?P<dollar>\$[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<path>::)"
    r"|(?P<num>[0-9][A-Za-z0-9_.]*)"
    r"|(?P<punct>\S)"
)


@dataclass
class Tok:
    text: str
    line: int


def tokenize(code: str) -> list[Tok]:
    toks: list[Tok] = []
    line = 1
    pos = 0
    for m in _TOKEN.finditer(code):
        line += code.count("\n", pos, m.start())
        pos = m.start()
        t = m.group(0)
        if m.lastgroup == "ident" and t.startswith("r#"):
            t = t[2:]
        elif m.lastgroup == "dollar" and t != "$crate":
            t = "$"  # macro metavariable: never a path start we care about
        toks.append(Tok(t, line))
    return toks


# --------------------------------------------------------------------------------------
# Crate layout: files -> modules, targets.
# --------------------------------------------------------------------------------------


def module_of(rel: Path) -> tuple[str, ...]:
    """Module path of a file relative to src/ (a target root has the empty path)."""
    parts = list(rel.parts)
    if parts[0] == "bin":
        # src/bin/x.rs is a root; src/bin/x/main.rs is a root; src/bin/x/y.rs is x's `y`
        if len(parts) == 2:
            return ()
        parts = parts[2:]
    if parts == ["lib.rs"] or parts == ["main.rs"]:
        return ()
    if parts[-1] == "mod.rs":
        parts = parts[:-1]
    elif parts[-1] == "main.rs" and rel.parts[0] == "bin" and len(rel.parts) == 3:
        return ()
    else:
        parts[-1] = parts[-1][:-3]
    return tuple(parts)


@dataclass
class Target:
    label: str  # e.g. "fxrecon-core" or "fxrecon-core[bin x]"
    root: Path
    files: dict[Path, tuple[str, ...]] = field(default_factory=dict)  # file -> module


_MOD_DECL = re.compile(r"\bmod\s+(?:r#)?([A-Za-z_][A-Za-z0-9_]*)\s*;")


def declared_file_children(path: Path, src: Path) -> list[Path]:
    """Files declared by `mod x;` in `path` (top level of the file only; enough for targets)."""
    try:
        code = strip_code(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []
    rel = path.relative_to(src)
    is_mod_rs = path.name in ("mod.rs", "lib.rs", "main.rs") or (rel.parts[0] == "bin" and len(rel.parts) == 2)
    base = path.parent if is_mod_rs else path.parent / path.stem
    found = []
    for m in _MOD_DECL.finditer(code):
        name = m.group(1)
        for cand in (base / f"{name}.rs", base / name / "mod.rs"):
            if cand.is_file():
                found.append(cand)
                break
    return found


def crate_name(crate_dir: Path) -> str:
    try:
        text = (crate_dir / "Cargo.toml").read_text(encoding="utf-8")
        m = re.search(r'^\s*\[package\][^\[]*?^\s*name\s*=\s*"([^"]+)"', text, re.M | re.S)
        if m:
            return m.group(1)
    except OSError:
        pass
    return crate_dir.resolve().name


def find_targets(crate_dir: Path) -> tuple[list[Target], list[str]]:
    src = crate_dir / "src"
    name = crate_name(crate_dir)
    notes: list[str] = []
    all_files = sorted(p for p in src.rglob("*.rs") if p.is_file())
    roots: list[tuple[str, Path]] = []
    if (src / "lib.rs").is_file():
        roots.append((name, src / "lib.rs"))
        if (src / "main.rs").is_file():
            roots.append((f"{name}[bin main.rs]", src / "main.rs"))
    elif (src / "main.rs").is_file():
        roots.append((name, src / "main.rs"))
    bin_dir = src / "bin"
    if bin_dir.is_dir():
        for p in sorted(bin_dir.iterdir()):
            if p.is_file() and p.suffix == ".rs":
                roots.append((f"{name}[bin {p.stem}]", p))
            elif p.is_dir() and (p / "main.rs").is_file():
                roots.append((f"{name}[bin {p.name}]", p / "main.rs"))
    if not roots:
        return [], [f"no src/lib.rs, src/main.rs or src/bin/*.rs under {crate_dir}; skipped"]
    targets = [Target(label, root) for label, root in roots]
    claimed: set[Path] = set()
    for t in targets:
        seen = {t.root}
        todo = [t.root]
        while todo:
            f = todo.pop()
            for child in declared_file_children(f, src):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        for f in seen:
            t.files[f] = module_of(f.relative_to(src))
        claimed |= seen
    # Files no `mod` reaches: checked by path as part of the first target (a module per file).
    # A file under src/bin/<x>/ belongs to that bin target.
    for f in all_files:
        if f in claimed:
            continue
        rel = f.relative_to(src)
        owner = targets[0]
        if rel.parts[0] == "bin":
            for t in targets:
                if t.root.parent == f.parent and t.root.name == "main.rs" and len(rel.parts) == 3:
                    owner = t
            if owner is targets[0]:
                notes.append(f"{rel}: not declared by any `mod` and not under a bin target; skipped")
                continue
        else:
            notes.append(f"src/{rel}: not declared by any `mod`; checked as module `{fmt_mod(module_of(rel))}`")
        owner.files[f] = module_of(rel)
    return targets, notes


def fmt_mod(m: tuple[str, ...]) -> str:
    return "::".join(m) if m else ROOT_NAME


# --------------------------------------------------------------------------------------
# Reference extraction and resolution.
# --------------------------------------------------------------------------------------


@dataclass
class Ref:
    segs: list[str]  # path segments as written (may start with crate/self/super/$crate)
    line: int
    scope: tuple[str, ...]  # module path in effect (file module + inline modules)
    alias: str | None = None  # for `use` leaves: the name the import binds (None for globs)
    is_use: bool = False
    use_line: int = 0  # line of the `use` keyword


def parse_use_tree(toks: list[Tok], i: int, prefix: list[str], out: list[tuple[list[str], int, str | None]]) -> int:
    """Parse one use tree at toks[i]; append (segments, line, bound-name) leaves. Returns next index."""
    n = len(toks)
    if i < n and toks[i].text == "{":
        i += 1
        while i < n and toks[i].text != "}":
            if toks[i].text == ",":
                i += 1
                continue
            before = i
            i = parse_use_tree(toks, i, prefix, out)
            if i == before:  # unexpected token: skip it
                i += 1
        return i + 1
    if i < n and toks[i].text == "*":
        out.append((list(prefix), toks[i].line, None))
        return i + 1
    segs = list(prefix)
    line = toks[i].line if i < n else 0
    if i < n and toks[i].text == "::":  # `::name` (2015-style absolute; in 2018+ an extern crate)
        segs.append("::")
        i += 1
    while i < n and re.match(r"\$?[A-Za-z_]", toks[i].text):
        segs.append(toks[i].text)
        line = toks[i].line
        i += 1
        if i < n and toks[i].text == "::":
            i += 1
            if i < n and toks[i].text in ("{", "*"):
                return parse_use_tree(toks, i, segs, out)
            continue
        break
    alias = segs[-1] if segs else None
    if alias == "self":  # `a::{self}` binds `a`
        segs = segs[:-1]
        alias = segs[-1] if segs else None
    if i + 1 < n and toks[i].text == "as":
        alias = toks[i + 1].text if toks[i + 1].text != "_" else None
        i += 2
    if segs:
        out.append((segs, line, alias))
    return i


def extract_refs(code: str) -> tuple[list[Ref], set[tuple[str, ...]]]:
    """All `use` leaves and inline path starts, each with the (inline) module scope it is in.

    Also returns the modules declared in the file (`mod x;` / `mod x {`) as relative paths
    from the file module (e.g. ("tests",), ("has",)).
    """
    toks = tokenize(code)
    refs: list[Ref] = []
    declared: set[tuple[str, ...]] = set()
    inline: list[tuple[str, int]] = []  # (name, brace depth outside it)
    depth = 0
    pending_mod: str | None = None
    i, n = 0, len(toks)
    while i < n:
        t = toks[i].text
        scope_rel = tuple(name for name, _ in inline)
        if t == "{":
            if pending_mod is not None:
                inline.append((pending_mod, depth))
                pending_mod = None
            depth += 1
            i += 1
            continue
        if t == "}":
            depth -= 1
            if inline and inline[-1][1] == depth:
                inline.pop()
            i += 1
            continue
        if t == ";":
            pending_mod = None
            i += 1
            continue
        if t == "mod" and i + 1 < n and re.match(r"[A-Za-z_]", toks[i + 1].text) and (i == 0 or toks[i - 1].text != "::"):
            name = toks[i + 1].text
            declared.add(scope_rel + (name,))
            if i + 2 < n and toks[i + 2].text == "{":
                pending_mod = name
            i += 2
            continue
        if t == "use" and (i == 0 or toks[i - 1].text not in ("::", "+", ".")) and i + 1 < n and toks[i + 1].text != "<":
            leaves: list[tuple[list[str], int, str | None]] = []
            j = parse_use_tree(toks, i + 1, [], leaves)
            for segs, line, alias in leaves:
                refs.append(Ref(segs, line, scope_rel, alias, is_use=True, use_line=toks[i].line))
            # skip to the end of the declaration
            while j < n and toks[j].text != ";":
                j += 1
            i = j
            continue
        # `pub(in path)` is a visibility, not a dependency
        if t == "in" and i >= 2 and toks[i - 1].text == "(" and toks[i - 2].text == "pub":
            j = i + 1
            while j < n and toks[j].text != ")":
                j += 1
            i = j
            continue
        # inline path start: an identifier followed by `::`, not itself preceded by `::`
        if re.match(r"\$?[A-Za-z_]", t) and i + 1 < n and toks[i + 1].text == "::" and (i == 0 or toks[i - 1].text != "::"):
            segs = [t]
            j = i + 1
            while j + 1 < n and toks[j].text == "::" and re.match(r"[A-Za-z_]", toks[j + 1].text):
                segs.append(toks[j + 1].text)
                j += 2
            refs.append(Ref(segs, toks[i].line, scope_rel))
            i = j
            continue
        i += 1
    return refs, declared


@dataclass
class Edge:
    src: tuple[str, ...]
    dst: tuple[str, ...]
    file: Path
    line: int
    use_line: int = 0


def resolve(segs: list[str], scope: tuple[str, ...], modules: set[tuple[str, ...]], declared_abs: set[tuple[str, ...]], aliases: dict[str, tuple[str, ...]]) -> tuple[tuple[str, ...], bool] | None:
    """Resolve a path to (longest known module prefix, exact) or None if it leaves the crate."""
    if not segs or segs[0] == "::":
        return None
    first = segs[0]
    rest = list(segs)
    if first in ("crate", "$crate"):
        base: list[str] = []
        rest = rest[1:]
    elif first in ("self", "super"):
        base = list(scope)
        while rest and rest[0] in ("self", "super"):
            if rest[0] == "super":
                if not base:
                    return None
                base.pop()
            rest = rest[1:]
    elif first in aliases:
        base = list(aliases[first])
        rest = rest[1:]
    elif scope + (first,) in modules or scope + (first,) in declared_abs:
        base = list(scope)
    else:
        return None  # std, an external crate, a type, an enum, a local item
    full = tuple(base + rest)
    for k in range(len(full), -1, -1):
        if full[:k] in modules:
            return full[:k], k == len(full)
    return (), False


@dataclass
class Result:
    label: str
    modules: set[tuple[str, ...]]
    edges: dict[tuple[tuple[str, ...], tuple[str, ...]], Edge]
    sccs: list[list[tuple[str, ...]]]


def analyze_target(target: Target) -> Result:
    modules = set(target.files.values())
    parsed: dict[Path, tuple[list[Ref], set[tuple[str, ...]], list[str]]] = {}
    declared_abs: set[tuple[str, ...]] = set()
    for f, mod in target.files.items():
        try:
            raw = f.read_text(encoding="utf-8", errors="replace")
        except OSError as err:  # e.g. removed while we run
            print(f"{target.label}: note: cannot read {f}: {err}; skipped")
            raw = ""
        refs, declared = extract_refs(strip_code(raw))
        parsed[f] = (refs, declared, raw.splitlines())
        declared_abs |= {mod + d for d in declared}
    edges: dict[tuple[tuple[str, ...], tuple[str, ...]], Edge] = {}
    for f, mod in sorted(target.files.items(), key=lambda kv: (kv[1], str(kv[0]))):
        refs, _, _ = parsed[f]
        # Names bound by `use` to whole modules (`use crate::journal;`) start paths too.
        aliases: dict[str, tuple[str, ...]] = {}
        for _ in range(2):  # a `use` may start at a module another `use` imported
            for r in refs:
                if r.is_use and r.alias:
                    res = resolve(r.segs, mod + r.scope, modules, declared_abs, aliases)
                    if res and res[1]:
                        aliases[r.alias] = res[0]
        for r in refs:
            res = resolve(r.segs, mod + r.scope, modules, declared_abs, aliases)
            if res is None:
                continue
            dst = res[0]
            if dst == mod:
                continue
            key = (mod, dst)
            e = edges.get(key)
            if e is None or (e.file, e.line) > (f, r.line):
                edges[key] = Edge(mod, dst, f, r.line, r.use_line)
    sccs = [sorted(c) for c in tarjan(modules, edges) if len(c) > 1]
    sccs.sort()
    return Result(target.label, modules, edges, sccs)


def tarjan(nodes: set[tuple[str, ...]], edges) -> list[list[tuple[str, ...]]]:
    """Iterative Tarjan strongly connected components."""
    adj: dict[tuple[str, ...], list[tuple[str, ...]]] = {v: [] for v in nodes}
    for a, b in edges:
        adj.setdefault(a, []).append(b)
        adj.setdefault(b, [])
    for v in adj:
        adj[v].sort()
    index: dict = {}
    low: dict = {}
    on_stack: set = set()
    stack: list = []
    comps: list[list[tuple[str, ...]]] = []
    counter = 0
    for start in sorted(adj):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            v, pi = work.pop()
            if pi == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            recurse = False
            for k in range(pi, len(adj[v])):
                w = adj[v][k]
                if w not in index:
                    work.append((v, k + 1))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                comps.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return comps


def cycles_covering(scc: list[tuple[str, ...]], edges) -> list[list[tuple[str, ...]]]:
    """Shortest cycles, together using every edge inside the component at least once."""
    members = set(scc)
    inner = sorted((a, b) for (a, b) in edges if a in members and b in members)
    adj: dict = {v: [] for v in scc}
    for a, b in inner:
        adj[a].append(b)

    def path(src, dst):
        prev = {src: None}
        q = deque([src])
        while q:
            v = q.popleft()
            if v == dst:
                break
            for w in adj[v]:
                if w not in prev:
                    prev[w] = v
                    q.append(w)
        out = [dst]
        while out[-1] != src:
            out.append(prev[out[-1]])
        return out[::-1]

    covered: set = set()
    cycles = []
    for a, b in inner:
        if (a, b) in covered:
            continue
        cyc = [a] + path(b, a)  # a -> b -> ... -> a
        cycles.append(cyc)
        covered |= set(zip(cyc, cyc[1:]))
    return cycles


def report(result: Result, repo_base: Path) -> bool:
    """Print the verdict for one target; True when it has no cycle."""
    n_edges = len(result.edges)
    if not result.sccs:
        print(f"{result.label}: OK, {len(result.modules)} modules, {n_edges} edges, no module cycle")
        return True
    for scc in result.sccs:
        names = ", ".join(fmt_mod(m) for m in scc)
        print(f"{result.label}: MODULE CYCLE among {len(scc)} modules ({names}):")
        for cyc in cycles_covering(scc, result.edges):
            print(f"  {result.label}: " + " -> ".join(fmt_mod(m) for m in cyc))
            for a, b in zip(cyc, cyc[1:]):
                e = result.edges[(a, b)]
                try:
                    shown = e.file.resolve().relative_to(repo_base)
                except ValueError:
                    shown = e.file
                try:
                    src_line = e.file.read_text(encoding="utf-8", errors="replace").splitlines()[e.line - 1].strip()
                except (OSError, IndexError):
                    src_line = ""
                where = f" (in the `use` at line {e.use_line})" if e.use_line and e.use_line != e.line else ""
                print(f"      {fmt_mod(a)} -> {fmt_mod(b)}: {shown}:{e.line}: {src_line[:140]}{where}")
    return False


def check_crate(crate_dir: Path, repo_base: Path) -> tuple[bool | None, list[Result]]:
    """(no cycle, results); None when the crate has no target root to check."""
    targets, notes = find_targets(crate_dir)
    for note in notes:
        print(f"{crate_name(crate_dir)}: note: {note}")
    if not targets:
        return None, []
    ok = True
    results = []
    for t in targets:
        r = analyze_target(t)
        results.append(r)
        ok &= report(r, repo_base)
    return ok, results


# --------------------------------------------------------------------------------------
# Self-test
# --------------------------------------------------------------------------------------

SELFTEST_CRATES: dict[str, tuple[dict[str, str], list[set[str]]]] = {
    # name: (files, expected SCCs as sets of printed module names)
    "parent_child_super_item": (
        {
            "src/lib.rs": "pub mod a;\n",
            "src/a/mod.rs": "pub mod b;\npub use b::Thing;\npub struct Item;\n",
            "src/a/b.rs": "use super::Item;\npub struct Thing(pub Item);\n",
        },
        [{"a", "a::b"}],
    ),
    "sibling_cycle_inline_path": (
        {
            "src/lib.rs": "mod x;\nmod y;\n",
            "src/x.rs": "use crate::y::Y;\npub fn g() -> Y { Y }\n",
            "src/y.rs": "pub struct Y;\npub fn f() { crate::x::g(); }\n",
        },
        [{"x", "y"}],
    ),
    "nested_group_multiline_use": (
        {
            "src/lib.rs": "pub mod p;\npub mod q;\npub mod r;\n",
            "src/p.rs": "pub struct P;\nuse crate::{q::{Q, sub::S}, r::*};\n",
            "src/q.rs": "pub mod sub;\npub struct Q;\n",
            "src/q/sub.rs": "pub(crate) use crate::p::{\n    P,\n};\npub struct S;\n",
            "src/r.rs": "pub struct R;\n",
        },
        [{"p", "q::sub"}],
    ),
    "root_reexport_cycle": (
        {
            "src/lib.rs": "pub mod ev;\npub mod div;\npub use ev::Ev;\npub use div::f;\n",
            "src/ev.rs": "pub struct Ev;\n",
            "src/div.rs": "pub fn f(_: crate::Ev) {}\n",  # crate::Ev is the root
        },
        [{"crate", "div"}],
    ),
    "acyclic_tree": (
        {
            "src/lib.rs": (
                "//! Root docs mention crate::a::x and super::nothing.\n"
                "pub mod a;\npub mod b;\npub mod c;\n"
                "pub use a::A;\npub use c::{self, C};\n"
                "pub fn root() -> impl Iterator<Item = u8> + use<> { std::iter::empty() }\n"
            ),
            "src/a.rs": (
                "pub mod inner;\npub struct A;\n"
                "pub fn f() { let _ = inner::deep(); let _c = '{'; let _l: &'static str = \"}\"; }\n"
                "#[cfg(test)]\nmod tests {\n    use super::*;\n    use self::helpers::h;\n"
                "    mod helpers { pub fn h() {} }\n    #[test] fn t() { h(); let _ = super::inner::deep(); }\n}\n"
                "pub fn g() -> A { A }\n"
            ),
            "src/a/inner.rs": "use super::super::b::B;\npub fn deep() -> B { B }\n",
            "src/b.rs": "pub struct B;\nuse core::fmt;\nuse std::{collections::HashMap, io::{self, Read}};\n",
            "src/c.rs": (
                "use crate::b;\npub struct C;\n"
                "pub fn k() -> b::B { b::B }\n"
                "pub(in crate::c) fn vis() {}\n"
                "const RAW: &str = r#\"crate::a::A \" still raw\"#;\n"
                "const S: &str = \"escaped \\\" crate::a::A\";\n"
                "fn lt<'a>(x: &'a str) -> &'a str { 'outer: loop { break 'outer x; } }\n"
            ),
        },
        [],
    ),
    "comment_mentions_ignored": (
        {
            "src/lib.rs": "mod x;\nmod y;\n",
            "src/x.rs": "use crate::y::Y;\npub struct X;\n",
            "src/y.rs": (
                "// see crate::x::X for the other half\n"
                "/* crate::x::X /* nested crate::x::X */ still a comment crate::x::X */\n"
                "/// doc: use crate::x::X;\n"
                "pub struct Y;\n"
                "pub const NOTE: &str = \"crate::x::X\";\n"
                "pub const C: char = '\"';\n"
                "pub const AFTER: &str = \"use super::x;\";\n"
            ),
        },
        [],
    ),
    "main_only_child_module_use": (
        {
            "src/main.rs": "mod cli;\nmod run;\nuse cli::Args;\nfn main() { run::go(Args); }\n",
            "src/cli.rs": "pub struct Args;\n",
            "src/run.rs": "use crate::cli::Args;\npub fn go(_: Args) { super::main_helper(); }\n",
        },
        [{"crate", "run"}],  # super:: from run is the root, which uses run
    ),
}


def selftest() -> int:
    failures = []
    with tempfile.TemporaryDirectory(prefix="modcycles-selftest-") as tmp:
        for name, (files, expected) in SELFTEST_CRATES.items():
            crate = Path(tmp) / name
            for rel, text in files.items():
                p = crate / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(text, encoding="utf-8")
            (crate / "Cargo.toml").write_text(f'[package]\nname = "{name}"\nversion = "0.0.0"\n', encoding="utf-8")
            print(f"--- selftest {name} (expect {'cycle ' + str([sorted(s) for s in expected]) if expected else 'no cycle'})")
            ok, results = check_crate(crate, Path(tmp))
            got = [set(fmt_mod(m) for m in scc) for r in results for scc in r.sccs]
            if sorted(map(sorted, got)) != sorted(map(sorted, expected)) or ok != (not expected):
                failures.append(f"{name}: expected SCCs {[sorted(s) for s in expected]}, got {[sorted(s) for s in got]}")
    # lexer unit checks
    code = strip_code("a /* x /* y */ z */ b // c\n\"s\\\"t\" 'x' '\\n' 'a r#\"q\"# br\"w\" c\n")
    if code.split() != ["a", "b", "'a", "c"] or code.count("\n") != 2:
        failures.append(f"strip_code: got {code!r}")
    print()
    if failures:
        print("SELFTEST FAILED:")
        for f in failures:
            print("  " + f)
        return 1
    print(f"selftest OK: {len(SELFTEST_CRATES)} crates, verdicts as expected")
    return 0


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv and argv[0] == "--selftest":
        return selftest()
    repo = Path(__file__).resolve().parent.parent
    if argv:
        crate_dirs = [Path(a) for a in argv]
    else:
        crate_dirs = sorted(p for p in (repo / "crates").glob("*/") if (p / "src").is_dir())
        if not crate_dirs:
            print(f"check-module-cycles: no crates/*/src under {repo}", file=sys.stderr)
            return 2
    bad_usage = [d for d in crate_dirs if not (d / "src").is_dir()]
    if bad_usage:
        for d in bad_usage:
            print(f"check-module-cycles: {d}: no src/ directory", file=sys.stderr)
        return 2
    all_ok = True
    checked = 0
    for d in crate_dirs:
        ok, _ = check_crate(d, repo)
        if ok is None:
            if argv:  # asked for explicitly: a usage error
                print(f"check-module-cycles: {d}: nothing to check", file=sys.stderr)
                return 2
            continue  # default mode: a crate being created; noted above
        checked += 1
        all_ok &= ok
    if not all_ok:
        print("\ncheck-module-cycles: FAILED: module cycles found (each edge shows one reference; "
              "break a cycle by moving the shared item down, or referring to it at its defining module)")
        return 1
    print(f"check-module-cycles: OK ({checked} crates)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
