"""How fast `crampguard export` writes a year of journal: 100,000 entries, a fresh process.

    .venv/bin/python bench/bench_export.py [--entries 100000] [--runs 5]

Builds the journal with bench_stats' year of a plausible user (``bench_stats.build``,
through ``Journal.record``, as the daemon writes it), adding routines until a year holds
at least ``--entries`` events. Then times, wall clock, best of N (and the first, cold,
run), ``python -m scheduler export`` of the whole journal:

- ``--format csv`` and ``--format json`` to standard output (redirected to a file, as
  `crampguard export > journal.csv` does), each checked for one row per entry;
- ``--format csv --out FILE`` (temporary file, fsync, rename), for comparison.

Prints each figure next to the budget (1 s) and exits 1 when one is over budget.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bench_stats import best, build

from scheduler import clock
from scheduler.journal.store import Journal
from scheduler.paths import JOURNAL_FILE

# An installed crampguard has compiled bytecode (pip writes it); see bench_stats.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

BUDGET_S = 1.0
DAYS = 365


def year(path: Path, entries: int, seed: int) -> int:
    """A year of journal with at least ``entries`` events; returns how many it holds."""
    now = clock.now().replace(microsecond=0) - timedelta(hours=1)
    routines = 20
    while True:
        path.unlink(missing_ok=True)
        with Journal.open(path) as j:
            written = build(j, now, DAYS, routines, seed)
        if written >= entries:
            return written
        routines += max(1, routines * (entries - written) // written + 1)


def count_rows(fmt: str, path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as f:
        if fmt == "json":
            return len(json.load(f))
        return sum(1 for _ in csv.reader(f)) - 1  # the header


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="crampguard-bench-") as tmp:
        base = Path(tmp)
        journal = base / "state" / JOURNAL_FILE
        journal.parent.mkdir()
        written = year(journal, args.entries, args.seed)
        size = journal.stat().st_size / 1e6
        print(f"{written} entries over {DAYS} days ({size:.1f} MB), best of {args.runs} runs, "
              f"{sys.executable}")

        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CRAMPGUARD_")}
        env.update(CRAMPGUARD_CONFIG_DIR=str(base / "config"),
                   CRAMPGUARD_RUNTIME_DIR=str(base / "runtime"),
                   CRAMPGUARD_STATE_DIR=str(journal.parent),
                   CRAMPGUARD_TIMEZONE="Europe/Berlin")

        def export(*options: str, to: Path) -> Callable[[], None]:
            argv = [sys.executable, "-m", "scheduler", "export", *options]

            def run() -> None:
                with to.open("wb") as out:
                    proc = subprocess.run(argv, env=env, cwd=base, stdout=out,
                                          stderr=subprocess.PIPE)
                if proc.returncode != 0:
                    sys.exit(f"{' '.join(argv[1:])} failed ({proc.returncode}):\n"
                             f"{proc.stderr.decode(errors='replace')}")
            return run

        over = []
        cases = [("csv", ["--format", "csv"], base / "out.csv", base / "out.csv"),
                 ("json", ["--format", "json"], base / "out.json", base / "out.json"),
                 ("csv --out", ["--format", "csv", "--out", str(base / "file.csv")],
                  base / "reply.txt", base / "file.csv")]
        for name, options, to, data in cases:
            first, fastest, _ = best(export(*options, to=to), args.runs)
            rows = count_rows(name.split()[0], data)
            if rows != written:
                sys.exit(f"export {' '.join(options)}: {rows} rows for {written} entries")
            verdict = "ok" if fastest <= BUDGET_S else "OVER BUDGET"
            if fastest > BUDGET_S:
                over.append(name)
            label = f"python -m scheduler export {' '.join(options[:2])}" + \
                (" --out FILE" if "--out" in options else "")
            print(f"  {label:<52} {fastest * 1000:7.1f} ms (first {first * 1000:.1f} ms)  "
                  f"(budget {BUDGET_S * 1000:.0f} ms)  {verdict}  "
                  f"[{data.stat().st_size / 1e6:.1f} MB]")
        if os.environ.get("PYTHONDONTWRITEBYTECODE"):
            print("  (PYTHONDONTWRITEBYTECODE is set: every run compiles its modules anew)")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
