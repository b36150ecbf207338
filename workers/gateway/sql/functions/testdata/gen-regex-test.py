#!/usr/bin/env python3
"""Writes sql/testdata/regex.test from PostgreSQL 15's own regression files.

Takes every statement of src/test/regress/sql/regex.sql and the regular-expression statements of
strings.sql (~, SIMILAR, substring … similar/from, regexp_*), runs each against a real
PostgreSQL 15 (UTF8, locale C, like Warren) and records its output or its SQLSTATE and message.
Nothing is written by hand. Usage:
  gen-regex-test.py PG15_SOURCE_DIR PSQL_CONNINFO > workers/gateway/sql/testdata/regex.test
"""
import re
import subprocess
import sys

src, conninfo = sys.argv[1], sys.argv[2]

# Statements left out, with the reason (each is a prefix of the statement).
SKIP = {
    "explain": "EXPLAIN output of Postgres's planner for regex index quals (Warren's planner differs)",
    "set standard_conforming_strings": "session setting Warren already has on",
    "\\pset": "psql meta-command",
}


def statements(path, keep):
    out, cur = [], []
    for line in open(path, encoding="utf-8"):
        s = line.rstrip("\n")
        if not cur and (s.strip() == "" or s.lstrip().startswith("--")):
            continue
        cur.append(s)
        code = re.sub(r"--.*$", "", s).rstrip()
        if code.endswith(";") or s.startswith("\\"):
            stmt = "\n".join(cur).strip()
            stmt = re.sub(r";\s*(--.*)?$", "", stmt)
            cur = []
            if keep(stmt):
                out.append(stmt)
    return out


def is_regex(stmt):
    low = stmt.lower()
    return any(k in low for k in ("regexp_", "similar", " ~", "substring(")) and "text_tbl" not in low and "::bytea" not in low and "for 2147483646" not in low \
        and not re.search(r"substring\('[^']*' from -?\d", low)


def run(stmt):
    p = subprocess.run(["psql", conninfo, "-X", "-A", "-t", "-F", " | ", "-P", "null=NULL", "-v", "VERBOSITY=verbose", "-c", stmt],
                       capture_output=True, text=True)
    if p.returncode != 0 or p.stderr.startswith("ERROR"):
        m = re.search(r"ERROR:\s+([0-9A-Z]{5}):\s+(.*)", p.stderr)
        return ("error", m.group(1), m.group(2))
    return ("rows", p.stdout.rstrip("\n").split("\n") if p.stdout.strip("\n") != "" else [])


def block(stmt, note):
    for prefix, why in SKIP.items():
        if stmt.lower().startswith(prefix):
            return f"# skipped ({why}):\n# " + stmt.replace("\n", "\n# ") + "\n"
    r = run(stmt)
    if r[0] == "error":
        return f"statement error {r[1]} {re.escape(r[2])}\n{stmt}\n"
    rows = r[1]
    if any(row.strip() == "" or "\n" in row for row in rows):
        return f"# skipped (a result row is empty text, which the .test format cannot show):\n# " + stmt.replace("\n", "\n# ") + "\n"
    return "query\n" + stmt + "\n----\n" + "".join(row + "\n" for row in rows)


print("# PostgreSQL 15's regression cases for regular expressions: every statement of")
print("# src/test/regress/sql/regex.sql and the regular-expression statements of strings.sql, with")
print("# expectations produced by a real PostgreSQL 15.18 (UTF8, locale C) through")
print("# functions/testdata/gen-regex-test.py. Do not edit by hand.")
print()
for name, keep in (("regex.sql", lambda s: True), ("strings.sql", is_regex)):
    print(f"# ---- {name} ----\n")
    for stmt in statements(f"{src}/src/test/regress/sql/{name}", keep):
        print(block(stmt, name))
