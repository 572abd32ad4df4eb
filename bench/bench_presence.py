"""Presence's cost and speed (issue 9's budgets), on the real desktop with the GNOME idle
monitor and a screensaver standing in (tests/support/mock_services.py):

- the daemon's RSS with presence on (budget ≤ 38 MiB);
- its wakeups a minute while the user is idle, and while active (input every few seconds),
  with nothing due (budget ≤ 1 a minute on Linux, 6 elsewhere: signals, not polling);
- the time from the user's return (the screen unlocked) to the held reminder's Notify on
  the bus (budget ≤ 2 s), over several rounds.

    .venv/bin/python bench/bench_presence.py [--window 60] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_daemon import (  # noqa: E402
    ZONE,
    NotifyMonitor,
    Report,
    idle_figures,
    isolated_env,
    start_daemon,
)

from tests.support.desktop import Desktop  # noqa: E402
from tests.support.mock_services import MockMutter, MockScreenSaver  # noqa: E402


def return_latency(desktop: Desktop, saver: MockScreenSaver, env: dict[str, str],
                   tmp: Path, rounds: int) -> list[float]:
    """Lock, let a reminder fall due, unlock: seconds from the unlock to its Notify."""
    routines = tmp / "held"
    routines.mkdir()
    monitor = NotifyMonitor(desktop.address)
    start = datetime.now(ZONE) + timedelta(seconds=4)
    for i in range(rounds):
        at = (start + timedelta(seconds=4 * i)).strftime("%H:%M:%S")
        (routines / f"r{i}.toml").write_text(
            f'schema_version = 1\ntitle = "Held {i}"\nmessage = "m"\n'
            f'seed = "stretch-before-bed"\n[schedule]\nat = "{at}"\nquiet_hours = "ignore"\n')
    saver.set_active(True)
    proc, _ = start_daemon(env, "--routines", str(routines))
    results = []
    try:
        for i in range(rounds):
            due = start + timedelta(seconds=4 * i)
            time.sleep(max(0.0, (due - datetime.now(ZONE)).total_seconds()) + 1.0)
            seen = len(monitor.times)
            unlocked = time.time()
            saver.activity()
            saver.set_active(False)
            deadline = time.time() + 5
            while len(monitor.times) == seen and time.time() < deadline:
                time.sleep(0.005)
            results.append(monitor.times[seen] - unlocked if len(monitor.times) > seen
                           else float("inf"))
            saver.set_active(True)
    finally:
        proc.terminate()
        proc.wait(5)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    report = Report(width=40)

    with tempfile.TemporaryDirectory() as tmp_name, Desktop() as desktop:
        tmp = Path(tmp_name)
        mutter, saver = MockMutter(desktop.address), MockScreenSaver(desktop.address)
        try:
            env = {**desktop.env, **isolated_env(tmp / "home"),
                   "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"}
            proc, _ = start_daemon(env)
            try:
                idle = idle_figures(proc, args.settle, args.window)
                stop = threading.Event()

                def typing() -> None:  # input every 3 s, as someone at work
                    while not stop.wait(3):
                        mutter.activity()
                        saver.activity()

                typist = threading.Thread(target=typing, daemon=True)
                typist.start()
                active = idle_figures(proc, args.settle, args.window)
                stop.set()
                typist.join()
            finally:
                proc.terminate()
                proc.wait(5)
            wakeups = 1 if sys.platform.startswith("linux") else 6  # bench_daemon says why
            report("daemon RSS, presence on", max(idle["rss"], active["rss"]), 38, "MiB")
            report("wakeups/min, user idle, nothing due", idle["wakeups"], wakeups, "/min")
            report("wakeups/min, user active, nothing due", active["wakeups"], wakeups, "/min")
            mutter.stop()
            latencies = return_latency(desktop, saver, {**env, **isolated_env(tmp / "h2")},
                                       tmp, args.rounds)
            report("return to reminder on screen, median",
                   statistics.median(latencies) * 1000, 2000, "ms")
            report("return to reminder on screen, worst", max(latencies) * 1000, 2000, "ms")
        finally:
            saver.stop()
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
