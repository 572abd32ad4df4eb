"""How fast `crampguard report` is over a year of journal: the page and the PNG.

    .venv/bin/python bench/bench_report.py [--routines 22] [--days 365] [--runs 5]

Builds the year bench/bench_stats.py builds (about 104,000 events for 22 routines), with a
routine file for each of its routines so every one of them gets its row (22 rows of 365
days), then times fresh processes, wall clock, best of N (and the first, cold, run):

- ``python -m scheduler report --days 365 --out FILE.html`` (budget 2 s);
- the same with ``--out FILE.png`` (budget 2 s: matplotlib's import is most of it);
- ``python -m scheduler --help`` (budget 0.3 s: the report's libraries stay out of it).

Prints each figure next to its budget and exits 1 when one is over.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_daemon import ROOT, Report, isolated_env
from bench_stats import EVENING, best, build, plans

from scheduler import clock
from scheduler.journal.store import Journal
from scheduler.paths import JOURNAL_FILE

os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as bench_stats: users have bytecode

BUDGET_S = {"html": 2.0, "png": 2.0, "--help": 0.3}


def routine_files(folder: Path, routines: int, seed: int) -> None:
    """A file for each routine bench_stats.build writes events for: the shipped evening
    routines as they are, the others as day routines (times do not matter here: the
    journal is already written)."""
    folder.mkdir()
    for routine in plans(routines, random.Random(seed)):
        if routine in EVENING:
            shutil.copy(ROOT / "routines" / f"{routine}.toml", folder)
        else:
            (folder / f"{routine}.toml").write_text(
                f'schema_version = 1\ntitle = "Bench {routine}"\nmessage = "Move."\n'
                'seed = "leg-exercise-breaks-when-sitting"\n[schedule]\nat = "10:00"\n')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routines", type=int, default=22)  # ~100,000 events a year
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()
    report = Report(width=58)

    now = clock.now().replace(microsecond=0)  # the bench is an edge: one clock read
    with tempfile.TemporaryDirectory(prefix="crampguard-bench-") as tmp:
        base = Path(tmp)
        started = time.perf_counter()
        with Journal.open(base / "state" / JOURNAL_FILE) as j:
            written = build(j, now, args.days, args.routines, args.seed)
        routine_files(base / "routines", args.routines, args.seed)
        print(f"{written} events for {args.routines} routines over {args.days} days "
              f"(built in {time.perf_counter() - started:.1f} s), best of {args.runs} fresh "
              f"processes, {sys.executable}")
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("CRAMPGUARD_")},
               **isolated_env(base)}
        env["CRAMPGUARD_STATE_DIR"] = str(base / "state")

        def command(*argv: str) -> tuple[list[str], object]:
            run_argv = [sys.executable, "-m", "scheduler", *argv]

            def run() -> str:
                proc = subprocess.run(run_argv, env=env, cwd=base, capture_output=True,
                                      text=True)
                if proc.returncode != 0:
                    sys.exit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr}")
                return proc.stdout
            return run_argv, run

        for fmt in ("html", "png"):
            out = base / f"year.{fmt}"
            _, run = command("--routines", str(base / "routines"), "report", "--days",
                             str(args.days), "--out", str(out))
            first, fastest, said = best(run, args.runs)  # type: ignore[arg-type]
            if f"{args.routines} routines enabled" not in str(said):
                sys.exit(f"unexpected reply: {said}")
            report(f"report --days {args.days} --out year.{fmt} "
                   f"({out.stat().st_size / 1e3:.0f} kB, first {first:.2f} s)",
                   fastest, BUDGET_S[fmt], "s")
        _, run = command("--help")
        first, fastest, _ = best(run, args.runs)  # type: ignore[arg-type]
        report(f"--help (first {first:.2f} s)", fastest, BUDGET_S["--help"], "s")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
