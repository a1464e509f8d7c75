#!/usr/bin/env python3
"""Kicau's layout rules, checked on the source tree (run from the repository root).

    python3 .ci/architecture.py              check the tree, print the tables, exit 1 on violations
    python3 .ci/architecture.py --self-test  check the checker on small fixtures in a temp dir

Rules (see ARCHITECTURE.md and ../shared/DESIGN.md, "Boundaries"):

1. Table owners. Every table created in migrations/sqlite/*.sql (FTS5 virtual tables too) has
   one owner module in OWNERS, and only that module writes it (INSERT [OR ...] INTO, REPLACE
   INTO, UPDATE .. SET, DELETE FROM, inside string literals) in src/**/*.rs. Comments, doc comments and `#[cfg(test)] mod`
   blocks (to their closing brace) are skipped; so is src/sandbox/ (no database). A file's module is the first component
   under src/ (src/store/lease.rs -> store, src/report.rs -> report). A name that is no table is
   reported when it reads like SQL (upper-case keyword, or `(`/VALUES/WHERE/... after it), and
   ignored as prose otherwise ("failed to update the set").
2. Imports only downward. ALLOWED says which top-level modules each module may name, as
   `crate::NAME` (or `kicau::NAME` in src/main.rs) anywhere in code, grouped `crate::{a, b}`
   included; `super::` never leaves a module. "*" means any module, "-name" takes one out.
   Names re-exported by src/lib.rs (`crate::Config`) count as their module. Test modules are
   checked too. Cycles between top-level modules are reported. A module missing from ALLOWED
   is a violation (once).
3. File size. No .rs file under src/ or tests/ over MAX_LINES lines, except SIZE_EXEMPT.

To add a table: write its migration, add it to its owner's list in OWNERS and to ARCHITECTURE.md.
To add a module: add a line to ALLOWED (what it may import) and to ARCHITECTURE.md; add it to the
lists of the modules that may import it.
"""
import bisect, fnmatch, re, sys, tempfile
from collections import Counter, defaultdict
from pathlib import Path

OWNERS = {
    "store": "inbox decisions cursors outbox dead_letters audit_log leases opt_outs x_tokens "
    "usage_units usage_days",
    "desk": "conversations messages messages_search events staff api_tokens sessions notes assignments "
    "telegram_messages corrections",
    "tickets": "tickets tickets_search ticket_history ticket_notes ticket_numbers pending_reports "
    "whatsapp_windows whatsapp_messages whatsapp_contacts",
    "announce": "drafts draft_edits draft_comments draft_links",
}
ALLOWED = {  # module: what it may import besides itself and external crates
    "config": "",
    "wib": "",  # time as people in Malang read it
    "tweet": "language",  # tweet length counts emoji as language sees them
    "language": "config",
    "knowledge": "config language tweet",
    "triage": "config language knowledge tweet",
    "eval": "config language knowledge triage",
    "channels": "tweet",  # wire formats only: no store, no domain
    "sandbox": "tweet",  # implements the formats on its own
    "store": "config",
    "desk": "config store tweet language wib",
    "tickets": "config store desk tweet language knowledge channels wib",
    "announce": "config store desk tickets tweet language knowledge triage channels",
    "costs": "config store channels",  # prices the units the channel clients report
    "report": "config store desk tickets tweet costs wib language",  # gaps read hand-offs as words
    "learning": "config store desk triage knowledge language tweet",  # corrections: desk + engine
    "privacy": "config store desk tickets announce",  # retention and forgetting: each owner's part
    "console": "* -run -staff_group -main -sandbox",
    "staff_group": "* -run -console -main -sandbox",
    "run": "* -main",
    "main": "*",
    "lib": "*",  # src/lib.rs only declares modules
}
MAX_LINES = 800
SIZE_EXEMPT = ["src/sandbox/*", "tests/cli/sandbox_*.rs", "tests/cli/sandbox_*/*"]
NO_DATABASE = ["src/sandbox/*"]

WRITES = [re.compile(p, re.I) for p in (
    r"\b(INSERT)\s+(?:OR\s+\w+\s+)?INTO\s+([\w{}]+)", r"\b(REPLACE)\s+INTO\s+([\w{}]+)",
    r"\b(UPDATE)\s+([\w{}]+)\s+SET\b", r"\b(DELETE)\s+FROM\s+([\w{}]+)")]
SQL_AFTER = re.compile(r"\s*(\(|VALUES\b|SELECT\b|DEFAULT\b|WHERE\b|RETURNING\b|ON\b|AS\b)", re.I)
CREATE = re.compile(r"\bCREATE\s+(?:VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`]?(\w+)", re.I)
TEST_MOD = re.compile(r"^[ \t]*#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*"
                      r"(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{", re.M)
RAW = re.compile(r"(?<![\w])[bc]?r(#*)\"")
CHAR = re.compile(r"'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'")
PATH = re.compile(r"(?<![\w:])\$?(crate|kicau)::(\w+|\{)")
WORD = re.compile(r"\s*(\w+)")


def mask(text):
    """Two copies of `text`, same length and lines: `code` without comments and literals, and
    `strs` with only the contents of string literals (escapes and line continuations blanked)."""
    code, strs = list(text), [c if c == "\n" else " " for c in text]
    def blank(a, b):
        for k in range(a, b):
            if code[k] != "\n":
                code[k] = " "
    i, n = 0, len(text)
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif text.startswith("/*", i):  # block comments nest in Rust
            depth, j = 1, i + 2
            while j < n and depth:
                step = text[j:j + 2]
                depth += (step == "/*") - (step == "*/")
                j += 2 if step in ("/*", "*/") else 1
        elif m := RAW.match(text, i):
            end = text.find('"' + m.group(1), m.end())
            end = n if end < 0 else end
            strs[m.end():end] = text[m.end():end]
            j = min(n, end + 1 + len(m.group(1)))
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    strs[j] = " "
                    if j + 1 < n and text[j + 1] in "ntr0":
                        strs[j + 1] = " "
                    j += 2
                else:
                    strs[j] = text[j]
                    j += 1
            j = min(n, j + 1)
        elif text[i] == "'" and (m := CHAR.match(text, i)):
            j = m.end()
        else:  # code, or a lifetime's quote
            i += 1
            continue
        blank(i, j)
        i = j
    return "".join(code), "".join(strs)


def test_blocks(code):
    """Spans of `#[cfg(test)] mod NAME { ... }` in masked code (braces matched; EOF if open)."""
    spans = []
    for m in TEST_MOD.finditer(code):
        depth, j = 0, m.end() - 1
        while j < len(code):
            depth += (code[j] == "{") - (code[j] == "}")
            j += 1
            if depth == 0:
                break
        spans.append((m.start(), j))
    return spans


def module_of(rel):
    parts = Path(rel).parts  # ("src", "store", "lease.rs") -> store; ("src", "main.rs") -> main
    return parts[1].removesuffix(".rs") if len(parts) > 1 else rel


def allowed(importer, target):
    words = ALLOWED[importer].split()
    return target == importer or target in words or ("*" in words and f"-{target}" not in words)


def matches(rel, patterns):
    return any(fnmatch.fnmatch(rel, p) for p in patterns)


def find_tables(root, violations):
    """Tables created by migrations/sqlite/*.sql -> (file, line); unowned ones are violations."""
    owner, tables = {t: m for m, ts in OWNERS.items() for t in ts.split()}, {}
    for sql in sorted((root / "migrations/sqlite").glob("*.sql")):
        text, rel = sql.read_text(), sql.relative_to(root).as_posix()
        for m in CREATE.finditer(text):
            tables.setdefault(m.group(1).lower(), (rel, text.count("\n", 0, m.start()) + 1))
    for t, (f, line) in tables.items():
        if t not in owner:
            violations.append((f, line, f"table {t} has no owner: add it to .ci/architecture.py and ARCHITECTURE.md"))
    for t in owner.keys() - tables.keys():
        violations.append((".ci/architecture.py", 1, f"OWNERS lists {t}, which no migration in migrations/sqlite creates"))
    return tables, owner


def find_writes(code, strs, line_at):
    """(line, verb, name, prose?) of each SQL write in the string literals, test modules left out."""
    for a, b in test_blocks(code):
        strs = strs[:a] + re.sub(r"[^\n]", " ", strs[a:b]) + strs[b:]
    found = {}  # offset of the name -> write (INSERT OR REPLACE INTO matches twice)
    for rx in WRITES:
        for m in rx.finditer(strs):
            prose = not m.group(1).isupper() and not SQL_AFTER.match(strs, m.end())
            found.setdefault(m.start(2), (line_at(m.start(2)), m.group(1).upper(), m.group(2), prose))
    return [found[k] for k in sorted(found)]


def find_imports(code, line_at):
    """(line, prefix, name) for each `crate::NAME`, `kicau::NAME` and item of `crate::{a::b, c}`."""
    out = []
    for m in PATH.finditer(code):
        heads, j = [m.start(2)], m.end()
        if m.group(2) == "{":  # the first name of each top-level item of the group
            depth, heads = 1, [m.end()]
            while j < len(code) and depth:
                depth += (code[j] == "{") - (code[j] == "}")
                if depth == 1 and code[j] == ",":
                    heads.append(j + 1)
                j += 1
        for h in heads:
            if (w := WORD.match(code, h, j)) and w.group(1) != "self":
                out.append((line_at(w.start(1)), m.group(1), w.group(1)))
    return out


def check(root):
    """Scan the tree at `root`; return (owners rows, imports seen, long files, violations)."""
    root, violations = Path(root), []  # violations: (file, line, message)
    tables, owner = find_tables(root, violations)
    files = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
             for d in ("src", "tests") if (root / d).is_dir() for p in sorted((root / d).rglob("*.rs"))}
    modules = {module_of(r) for r in files if r.startswith("src/")}
    reexports = {}  # a name src/lib.rs re-exports (`pub use config::Config;`) -> its module
    for m in re.finditer(r"\bpub\s+use\s+(\w+)::(\{[^}]*\}|\w+)", mask(files.get("src/lib.rs", ""))[0]):
        for name in re.findall(r"(\w+)\s*,", m.group(2).strip("{}") + ","):
            reexports[name] = m.group(1)
    writers, seen, edges = defaultdict(Counter), defaultdict(Counter), {}  # edges: (a, b) -> first place
    long_files, unlisted = [], set()
    for rel, text in files.items():
        nlines = text.count("\n") + (not text.endswith("\n") and text != "")
        if nlines > MAX_LINES:
            long_files.append((rel, nlines, matches(rel, SIZE_EXEMPT)))
            if not matches(rel, SIZE_EXEMPT):
                violations.append((rel, 1, f"{nlines} lines, over {MAX_LINES}: split the file"))
        if not rel.startswith("src/"):
            continue
        mod, (code, strs) = module_of(rel), mask(text)
        starts = [0] + [k + 1 for k, c in enumerate(text) if c == "\n"]
        line_at = lambda off: bisect.bisect_right(starts, off)
        for line, verb, name, prose in [] if matches(rel, NO_DATABASE) else find_writes(code, strs, line_at):
            table = name.lower()
            if "{" in name:
                violations.append((rel, line, f"{verb} on a table named at run time ({name}): owner cannot be checked"))
            elif table in tables:
                writers[table][rel] += 1
                if owner.get(table, mod) != mod:
                    violations.append((rel, line, f"{mod} writes {table} ({verb}), owned by {owner[table]}: "
                                                  f"call {owner[table]} instead"))
            elif not prose:
                violations.append((rel, line, f"{verb} on {name}, which no migration creates"))
        if mod not in ALLOWED and mod not in unlisted:
            unlisted.add(mod)
            violations.append((rel, 1, f"module {mod} is not in the layers table: add it to ALLOWED in "
                                       ".ci/architecture.py and to ARCHITECTURE.md"))
        for line, prefix, name in find_imports(code, line_at):
            if prefix == "kicau" and rel != "src/main.rs":
                continue
            target = name if name in modules or name in ALLOWED else reexports.get(name)
            if target is None:
                violations.append((rel, line, f"{prefix}::{name} names no module of the crate"))
                continue
            seen[mod][target] += 1
            if target != mod:
                edges.setdefault((mod, target), (rel, line))
            if mod in ALLOWED and not allowed(mod, target):
                violations.append((rel, line, f"{mod} imports {target} ({prefix}::{name}); "
                                              f"{mod} may import: {ALLOWED[mod] or 'nothing'}"))
    for cycle in cycles(edges):
        violations.append(edges[cycle[0], cycle[1]] + ("import cycle between modules: " + " -> ".join(cycle),))
    owners = [(t, owner.get(t, "?"), writers[t]) for t in sorted(tables)]
    return owners, seen, long_files, sorted(set(violations))


def cycles(edges):
    """The shortest import cycle through each module that lies on one and on no cycle reported yet."""
    graph, found, covered = defaultdict(set), [], set()
    for a, b in edges:
        graph[a].add(b)
    for start in sorted(graph):
        paths, queue = {start: [start]}, [start]
        while queue and start not in covered:  # breadth first, back to start
            a = queue.pop(0)
            for b in sorted(graph[a]):
                if b == start:
                    found.append(paths[a] + [start])
                    covered |= set(paths[a])
                    break
                if b not in paths:
                    paths[b] = paths[a] + [b]
                    queue.append(b)
    return found


def table(rows, header):
    widths = [max(len(str(r[k])) for r in [header] + rows) for k in range(len(header))]
    fmt = lambda r: "  " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def report(root="."):
    owners, seen, long_files, violations = check(root)
    print("Owners\n" + table([(t, o, ", ".join(f"{f} ({n})" for f, n in sorted(w.items())) or "-")
                             for t, o, w in owners], ["table", "owner", "written by (statements)"]))
    mods = sorted(set(ALLOWED) | set(seen))
    print("\nLayers  (* = any module, -x = but not x; ! = import not allowed)\n" + table(
        [(m, ALLOWED.get(m, "(not in table)") or "-",
          " ".join(t + ("" if m not in ALLOWED or allowed(m, t) else "!") for t in sorted(seen[m]) if t != m) or "-")
         for m in mods], ["module", "may import", "imports seen"]))
    print(f"\nFiles over {MAX_LINES} lines\n" + (table(
        [(f, n, "exempt (sandbox)" if e else "VIOLATION") for f, n, e in sorted(long_files, key=lambda x: -x[1])],
        ["file", "lines", "status"]) if long_files else "  none"))
    print("\nViolations")
    for f, line, msg in violations:
        print(f"{f}:{line}: {msg}")
    print(f"\narchitecture: {len(violations)} violations")
    return 1 if violations else 0


def self_test():
    fixtures = {
        "migrations/sqlite/0001.sql": "CREATE TABLE inbox (id TEXT);\nCREATE TABLE IF NOT EXISTS tickets (n BIGINT);\n"
        "CREATE TABLE mystery (x TEXT);\n" + "".join(f"CREATE TABLE {t} (x TEXT);\n" for ts in OWNERS.values()
                                                      for t in ts.split() if t not in ("inbox", "tickets")),
        "src/lib.rs": "pub mod store;\npub mod desk;\npub mod config;\npub use config::Config;\n",
        "src/store/mod.rs": 'fn a() { q("INSERT INTO inbox VALUES ($1, \\"//\\")"); q("DELETE FROM inbox"); }\n'
        'fn b() { q(r#"SELECT "//" AS s; UPDATE inbox SET id = 1"#); q("INSERT OR REPLACE INTO inbox"); }\n',  # 1-2 owned, escapes, raw string
        "src/desk/mod.rs": "use crate::{config::Config, store::{self, Store}};\n"              # 1 allowed imports
        'fn a() { let u = "https://x"; q("DELETE FROM inbox WHERE id = 1"); }\n'       # 2 foreign write
        '/* a /* nested */ q("INSERT INTO tickets (n) VALUES (1)") */ // q("DELETE FROM x")\n'  # 3
        '/// "UPDATE tickets SET n = 1"\n'                                             # 4 doc comment
        "fn b() { q(\"failed to update the set\"); q(\"UPDATE nowhere \\\n   SET x = 1\"); q(\"delete from gone where 1\"); }\n"  # 5-6
        "fn c() { let _ = '\"'; q(&format!(\"DELETE FROM {t}\")); }\n"                 # 7 run-time table
        "#[cfg(test)]\nmod tests {\n    fn f() { q(\"INSERT INTO tickets (n) VALUES (1)\"); }\n}\n"  # 8-11 test
        'fn d() { q("INSERT INTO messages (x) VALUES (1)"); }\n',                      # 12 owned, after tests
        "src/config.rs": "fn a() { crate::desk::f(); let _ = crate::Config::new(); }\n",  # 1 upward import
        "src/sandbox/x.rs": 'fn a() { q("INSERT INTO inbox VALUES (1)"); }\n' * 900,   # no db, long but exempt
        "src/store/big.rs": "fn a() {}\n" * 801,                                        # too long
        "tests/cli/sandbox_x.rs": "\n" * 900,                                           # exempt
    }
    expected = {
        ("migrations/sqlite/0001.sql", 3, "table mystery has no owner"),
        ("src/desk/mod.rs", 2, "desk writes inbox (DELETE), owned by store"),
        ("src/desk/mod.rs", 5, "UPDATE on nowhere, which no migration creates"),
        ("src/desk/mod.rs", 6, "DELETE on gone, which no migration creates"),
        ("src/desk/mod.rs", 7, "DELETE on a table named at run time ({t})"),
        ("src/config.rs", 1, "config imports desk (crate::desk)"),
        ("src/config.rs", 1, "import cycle between modules: config -> desk -> config"),
        ("src/store/big.rs", 1, "801 lines, over 800"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for rel, text in fixtures.items():
            (Path(tmp) / rel).parent.mkdir(parents=True, exist_ok=True)
            (Path(tmp) / rel).write_text(text)
        owners, seen, long_files, violations = check(tmp)
    failures = []
    for f, line, msg in expected:
        if not any(v[:2] == (f, line) and v[2].startswith(msg) for v in violations):
            failures.append(f"missing: {f}:{line}: {msg}")
    for v in violations:
        if not any(v[:2] == e[:2] and v[2].startswith(e[2]) for e in expected):
            failures.append("unexpected: {}:{}: {}".format(*v))
    w = {t: dict(c) for t, _, c in owners}
    checks = [(w["inbox"] == {"src/store/mod.rs": 4, "src/desk/mod.rs": 1}, f"inbox writers {w['inbox']}"),
              (w["messages"] == {"src/desk/mod.rs": 1}, f"messages writers {w['messages']}"),
              (w["tickets"] == {}, f"tickets writers {w['tickets']} (comments and tests must not count)"),
              (dict(seen["desk"]) == {"config": 1, "store": 1}, f"desk imports {dict(seen['desk'])}"),
              (dict(seen["config"]) == {"desk": 1, "config": 1}, f"config imports {dict(seen['config'])}"),
              (sorted((f, e) for f, _, e in long_files) == [("src/sandbox/x.rs", True), ("src/store/big.rs", False),
                                                            ("tests/cli/sandbox_x.rs", True)], f"long files {long_files}")]
    failures += [msg for ok, msg in checks if not ok]
    for f in failures:
        print("self-test FAILED: " + f)
    print(f"architecture self-test: {len(expected)} expected violations, {len(checks)} other checks, "
          f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(self_test() if "--self-test" in sys.argv[1:] else report())
