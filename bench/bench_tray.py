"""What the tray icon costs, on a real panel (status-notifier-watcher with
gtk-sni-tray-standalone on the tests' Xvfb desktop):

- the daemon's RSS with the icon on the panel, against the same daemon with `tray = false`
  (budget: the tray adds ≤ 2 MiB), and with no panel at all (budget ≤ 38 MiB);
- its wakeups a minute, idle with the icon shown (budget ≤ 1 a minute on Linux: the tray
  reacts to the panel's calls and the bus's signals, it polls nothing);
- a menu click to the journal: from the panel's dbusmenu Event ("Log a cramp", as the panel
  sends it after a click) to the row in the journal (budget ≤ 200 ms), over many clicks.

    .venv/bin/python bench/bench_tray.py [--settle 10] [--idle 60] [--clicks 30]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_daemon import MIB, Report, idle_figures, isolated_env, memory  # noqa: E402
from bench_daemon import start_daemon as _start  # noqa: E402
from jeepney import DBusAddress, new_method_call  # noqa: E402
from jeepney.io.blocking import open_dbus_connection  # noqa: E402
from jeepney.wrappers import unwrap_msg  # noqa: E402

from tests.support.desktop import Desktop  # noqa: E402
from tests.support.tray_host import PROGRAMS, Panel  # noqa: E402


def start_daemon(env: dict[str, str]) -> subprocess.Popen[str]:
    proc, _seconds = _start(env)
    return proc


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(5)


def settled_rss(proc: subprocess.Popen[str], settle: float) -> float:
    time.sleep(settle)
    return memory(proc.pid)[0] / MIB


def click_latency(env: dict[str, str], address: str, pid: int, clicks: int) -> list[float]:
    """Milliseconds from each "Log a cramp" Event sent to its row in the journal."""
    menu = DBusAddress("/MenuBar", bus_name=f"org.kde.StatusNotifierItem-{pid}-1",
                       interface="com.canonical.dbusmenu")
    journal = Path(env["CRAMPGUARD_STATE_DIR"]) / "journal.sqlite3"
    results = []
    with open_dbus_connection(address) as conn:
        _revision, root = unwrap_msg(conn.send_and_get_reply(
            new_method_call(menu, "GetLayout", "iias", (0, -1, [])), timeout=5))
        [item] = [child[1][0] for child in root[2]
                  if child[1][1].get("label", ("s", ""))[1] == "Log a cramp"]
        db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)

        def cramps() -> int:
            return int(db.execute("SELECT count(*) FROM events WHERE kind = 'cramp'")
                       .fetchone()[0])

        for _ in range(clicks):
            before = cramps()
            started = time.perf_counter()
            conn.send(new_method_call(menu, "Event", "isvu", (item, "clicked", ("i", 0), 0)))
            while cramps() == before:
                if time.perf_counter() - started > 5:
                    raise RuntimeError("a click never reached the journal")
                time.sleep(0.001)
            results.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)
        db.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--clicks", type=int, default=30)
    args = parser.parse_args()
    absent = [f"{p} ({pkg})" for p, pkg in PROGRAMS.items() if shutil.which(p) is None]
    if absent:
        print(f"skipped: no tray host ({', '.join(absent)} not installed)")
        return 0
    report = Report(width=40)
    with tempfile.TemporaryDirectory() as tmp_name, Desktop() as desktop:
        tmp = Path(tmp_name)
        env = {**desktop.env, **isolated_env(tmp / "home")}

        stop(start_daemon(env))  # the first run creates the journal: not what a day costs
        proc = start_daemon({**env, "CRAMPGUARD_TRAY": "false"})
        off = settled_rss(proc, args.settle)
        stop(proc)
        proc = start_daemon(env)  # no panel yet: the tray waits for a watcher
        no_panel = settled_rss(proc, args.settle)
        stop(proc)
        Panel.start(desktop)
        proc = start_daemon(env)
        try:
            figures: dict[str, float] = {}
            idle = threading.Thread(target=lambda: figures.update(
                idle_figures(proc, args.settle, args.idle)))
            idle.start()
            idle.join()
            late = click_latency(env, desktop.address, proc.pid, args.clicks)
        finally:
            stop(proc)
        report("daemon RSS, no panel (tray waits)", no_panel, 38, "MiB")
        report("daemon RSS, tray = false", off, None, "MiB")
        report("daemon RSS, icon on the panel", figures["rss"], None, "MiB")
        report("the tray's share of RSS", figures["rss"] - off, 2, "MiB")
        report("daemon wakeups, icon shown, idle", figures["wakeups"],
               1 if sys.platform.startswith("linux") else 6, "/min")
        report("click to journal, median", statistics.median(late), None, "ms")
        report(f"click to journal, max of {len(late)}", max(late), 200, "ms")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
