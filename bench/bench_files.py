"""How crampguard copes with many routine files: 500 generated routines, the real CLI.

    .venv/bin/python bench/bench_files.py [--files 500] [--runs 5]

Times (wall clock, best of N, a fresh `python -m scheduler` process each run):
`check` and `next --count 1000` over the folder, and `--help`. Prints each figure next to
its budget and exits 1 when one is over budget.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# An installed crampguard has compiled bytecode (pip writes it); a sandbox that forbids
# writing it would make every run recompile, which is not what users meet.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

BUDGETS_MS = {"check": 1000.0, "next": 1000.0, "--help": 300.0}
SEEDS = ["soak-feet-before-bed", "stretch-before-bed", "keep-calves-warm-when-sleeping",
         "leg-exercise-breaks-when-sitting", "warm-up-before-exercise",
         "eat-mineral-rich-foods", "cover-up-at-night"]
DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ANCHORS = ["bedtime", "wake", "workout", "work-start", "work-end"]


def routine_text(n: int, rng: random.Random) -> str:
    kind = ("at", "anchor", "every", "cron")[n % 4]
    head = (f'schema_version = 1\nid = "r{n:04d}"\ntitle = "Routine {n}"\n'
            f'message = "Generated routine number {n} for the benchmark."\n'
            f"enabled = {'false' if n % 10 == 9 else 'true'}\n"
            f'seed = "{rng.choice(SEEDS)}"\n\n[schedule]\n')
    days = rng.choice(['"daily"', '"weekdays"', '"weekends"',
                       "[" + ", ".join(f'"{d}"' for d in
                                       sorted(rng.sample(DAY_NAMES, rng.randint(1, 6)),
                                              key=DAY_NAMES.index)) + "]"])
    if kind == "at":
        times = sorted({f"{rng.randint(0, 23):02d}:{rng.randrange(0, 60, 5):02d}"
                        for _ in range(rng.randint(1, 3))})
        at = f'"{times[0]}"' if len(times) == 1 else "[" + ", ".join(f'"{t}"' for t in times) + "]"
        body = f"at = {at}\ndays = {days}\n"
    elif kind == "anchor":
        sign = rng.choice("+-")
        body = (f'at = "{rng.choice(ANCHORS)} {sign} {rng.randint(1, 90)}m"\n'
                + (f"days = {days}\n" if rng.random() < 0.5 else ""))
    elif kind == "every":
        if rng.random() < 0.5:
            body = f'every = "{rng.choice([30, 45, 50, 60, 90])}m"\nbetween = "work"\n'
        else:
            start = rng.randint(6, 12)
            body = (f'every = "{rng.choice([20, 40, 60, 120])}m"\n'
                    f'between = "{start:02d}:00-{start + rng.randint(3, 8):02d}:30"\n'
                    f"days = {days}\n")
    else:
        body = (f'cron = "{rng.randrange(0, 60, 5)} {rng.randint(6, 22)} * * '
                f'{rng.choice(["*", "1-5", "0,6", "2,4", "mon-fri"])}"\n')
    return (head + body + f'catch_up = "{rng.choice(["0s", "10m", "30m", "1h"])}"\n'
            f'quiet_hours = "{rng.choice(["respect", "ignore"])}"\n\n'
            '[notify]\nurgency = "normal"\ntimeout = "20s"\nactions = ["done", "snooze 10m"]\n')


def generate(folder: Path, count: int, seed: int = 20261123) -> None:
    rng = random.Random(seed)
    for n in range(count):
        (folder / f"r{n:04d}.toml").write_text(routine_text(n, rng), encoding="utf-8")


def best_of(argv: list[str], runs: int, env: dict[str, str], cwd: Path) -> tuple[float, str]:
    """The fastest of ``runs`` runs in ms, and the output (the same every run)."""
    best = float("inf")
    out = ""
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
        elapsed = (time.perf_counter() - start) * 1000
        if proc.returncode != 0 or proc.stderr:
            sys.exit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr}")
        best, out = min(best, elapsed), proc.stdout
    return best, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="crampguard-bench-") as tmp:
        base = Path(tmp)
        folder = base / "routines"
        folder.mkdir()
        generate(folder, args.files)
        # The user's own folders must not change the figures: private, empty ones.
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CRAMPGUARD_")}
        env.update(CRAMPGUARD_CONFIG_DIR=str(base / "config"),
                   CRAMPGUARD_STATE_DIR=str(base / "state"),
                   CRAMPGUARD_RUNTIME_DIR=str(base / "runtime"))
        cli = [sys.executable, "-m", "scheduler"]
        cases = {
            "check": [*cli, "--routines", str(folder), "check"],
            "next": [*cli, "--routines", str(folder), "next", "--count", "1000",
                     "--from", "2026-03-20T00:00", "--tz", "Europe/Berlin"],
            "--help": [*cli, "--help"],
        }
        print(f"{args.files} routine files, best of {args.runs} runs, {sys.executable}")
        # What each run must have done, so a fast figure is never a run that did nothing.
        expect = {
            "check": lambda out: out.startswith(f"ok: {args.files} file(s), {args.files} "),
            "next": lambda out: len(out.splitlines()) == 1000,
            "--help": lambda out: out.startswith("usage: crampguard"),
        }
        over = []
        for name, argv in cases.items():
            ms, out = best_of(argv, args.runs, env, base)
            if not expect[name](out):
                sys.exit(f"{name}: unexpected output:\n{out[:500]}")
            budget = BUDGETS_MS[name]
            verdict = "ok" if ms < budget else "OVER BUDGET"
            if ms >= budget:
                over.append(name)
            label = " ".join(argv[3:]).replace(str(folder), "DIR")
            print(f"  {label:<76} {ms:8.1f} ms  (budget {budget:.0f} ms)  {verdict}")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
