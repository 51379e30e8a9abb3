"""
Compare per-test outcomes of Django's suite on sqlite3 and django_duckdb
(JSON files written by duckdb_suite_runner) and print the pass counts.

    python django_duckdb/suite/duckdb_suite_compare.py sqlite.json duckdb.json [modules...]
    python django_duckdb/suite/duckdb_suite_compare.py sqlite.json duckdb.json --failures [module]
"""

import json
import math
import re
import sys
from collections import Counter

SQLITE_ONLY = re.compile(r"^(SQLite tests|Test only for SQLite|SQLite specific)", re.I)


def load(path):
    try:
        with open(path) as f:
            return {k: tuple(v) for k, v in json.load(f).items()}
    except FileNotFoundError:
        return {}


def module_of(test_id):
    return test_id.split(".", 1)[0]


def main(argv):
    sqlite_path, duckdb_path, *rest = argv
    sqlite, duck = load(sqlite_path), load(duckdb_path)
    if rest and rest[0] == "--failures":
        wanted = rest[1] if len(rest) > 1 else None
        for test_id, (outcome, _) in sorted(sqlite.items()):
            if outcome != "pass" or (wanted and module_of(test_id) != wanted):
                continue
            got = duck.get(test_id, ("missing", "did not run (class setup error?)"))
            if got[0] != "pass":
                print(f"--- {test_id}: {got[0]}\n{(got[1] or '').strip()[-1500:]}\n")
        return 0
    modules = rest or sorted({module_of(t) for t in sqlite} | {module_of(t) for t in duck})
    rows = []
    totals = Counter()
    for module in modules:
        s_pass = {t for t, (o, _) in sqlite.items() if o == "pass" and module_of(t) == module}
        d = {t: o for t, (o, _) in duck.items() if module_of(t) == module}
        d_pass = {t for t, o in d.items() if o == "pass"}
        d_skip = sum(1 for o in d.values() if o in ("skip", "xfail"))
        both = len(s_pass & d_pass)
        rows.append((module, len(s_pass), len(d_pass), both, d_skip))
        totals.update(sqlite=len(s_pass), duckdb=len(d_pass), both=both, skip=d_skip)
    print(f"{'module':<16} {'sqlite pass':>11} {'duckdb pass':>11} {'both':>6} {'share':>7} {'duck skip':>9}")
    for module, s, d, both, skip in rows:
        share = f"{100 * both / s:.1f}%" if s else "-"
        print(f"{module:<16} {s:>11} {d:>11} {both:>6} {share:>7} {skip:>9}")
    s, both = totals["sqlite"], totals["both"]
    share = f"{100 * both / s:.1f}%" if s else "-"
    print(f"{'TOTAL':<16} {s:>11} {totals['duckdb']:>11} {both:>6} {share:>7} {totals['skip']:>9}")
    print(
        f"\nDuckDB passes {both} of the {s} tests that pass on SQLite"
        f" ({100 * both / s if s else 0:.2f}%); goal 95% "
        f"({'met' if s and both >= 0.95 * s else 'not met'}: needs {math.ceil(0.95 * s)})."
    )
    # Tests written only for SQLite (skipped on every other vendor) can't
    # apply to DuckDB; show the share without them too.
    sqlite_only = {
        t
        for t, (o, reason) in duck.items()
        if o == "skip" and module_of(t) in modules and SQLITE_ONLY.search(reason or "")
    }
    s_pass = {t for t, (o, _) in sqlite.items() if o == "pass" and module_of(t) in modules}
    applicable = s_pass - sqlite_only
    both_app = sum(1 for t in applicable if duck.get(t, ("",))[0] == "pass")
    if applicable:
        print(
            f"Without the {len(s_pass & sqlite_only)} SQLite-only tests: {both_app} of "
            f"{len(applicable)} ({100 * both_app / len(applicable):.2f}%)."
        )
    skips = Counter(
        (reason or "").splitlines()[0][:110]
        for t, (o, reason) in duck.items()
        if o in ("skip", "xfail") and t in s_pass
    )
    if skips:
        print("\nWhy DuckDB skips tests that pass on SQLite (count, reason):")
        for reason, count in skips.most_common():
            print(f"  {count:4}  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
