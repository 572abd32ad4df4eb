"""How long `crampguard calendar sync` takes: 14 days of the shipped routines into a CalDAV
calendar on loopback, a fresh process each.

    .venv/bin/python bench/bench_calendar.py [--runs 3]

Starts Radicale (the test extra brings it) on 127.0.0.1 with a user and a 0600 password
file, as the tests do (tests/support/caldav_server.py), and times, wall clock:

- the first sync into a new, empty calendar (every item written), once per run, each run
  into a calendar of its own;
- a sync again (nothing changed: every item read back and left as it is), best of N.

Prints each figure next to the budget (3 s) and exits 1 when one is over budget.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.caldav_server import CalDavServer  # noqa: E402

BUDGET_S = 3.0
DAYS = 14


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="crampguard-bench-") as tmp:
        base = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CRAMPGUARD_")}
        env.update(CRAMPGUARD_CONFIG_DIR=str(base / "config"),
                   CRAMPGUARD_RUNTIME_DIR=str(base / "runtime"),
                   CRAMPGUARD_STATE_DIR=str(base / "state"),
                   CRAMPGUARD_TIMEZONE="Europe/Berlin")
        (base / "config").mkdir()
        config = base / "config" / "config.toml"

        def sync() -> tuple[float, dict[str, float]]:
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "scheduler", "calendar", "sync",
                                   "--json"], env=env, capture_output=True, text=True)
            took = time.perf_counter() - started
            if proc.returncode != 0:
                sys.exit(f"calendar sync failed ({proc.returncode}):\n{proc.stderr}")
            return took, json.loads(proc.stdout)

        with CalDavServer(base / "dav") as server:
            firsts, agains, written = [], [], 0
            for run in range(args.runs):
                url = server.make_calendar(f"run{run}")
                config.write_text("schema_version = 1\n" + server.calendar_text(url, DAYS))
                took, reply = sync()
                firsts.append(took)
                print(f"  run {run}: first sync {took * 1000:.0f} ms", flush=True)
                written = int(reply["put"])
                took, reply = sync()
                if reply["put"] or reply["deleted"]:
                    sys.exit(f"a second sync changed something: {reply}")
                agains.append(took)
        print(f"{written} items ({DAYS} days of the shipped routines), {args.runs} runs, "
              f"Radicale on loopback, {sys.executable}")
        over = []
        for label, times in (("first sync (every item written)", firsts),
                             ("sync again (nothing changed)", agains)):
            worst = max(times) if label.startswith("first") else min(times)
            verdict = "ok" if worst <= BUDGET_S else "OVER BUDGET"
            if worst > BUDGET_S:
                over.append(label)
            what = "worst" if label.startswith("first") else "best"
            print(f"  {label:<36} {worst * 1000:7.0f} ms ({what} of {args.runs})  "
                  f"(budget {BUDGET_S * 1000:.0f} ms)  {verdict}")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
