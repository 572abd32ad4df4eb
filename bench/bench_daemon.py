"""What the daemon costs: memory, wakeups, start-up time and delivery lateness.

    .venv/bin/python bench/bench_daemon.py [--idle 60] [--settle 10] [--reminders 60]

Runs the real daemon (``python -m scheduler run``) on the shipped routines against a
private D-Bus bus with dunst on Xvfb (the tests' Desktop), next to a plain sleeping Python
process as the floor, and prints each figure against its budget:

- resident memory of the whole process tree (RSS, and PSS) after settling, presence on (the
  X display answers): RSS ≤ 38 MiB
- wakeups (voluntary + involuntary context switches over all threads) in the idle window:
  ≤ 1 a minute on Linux, where the loop sleeps on a wall-clock timerfd until the next
  timer (elsewhere it checks the clock every 10 s: ≤ 6 a minute)
- start-up, exec to the "crampguard running" log line: ≤ 0.25 s
- lateness from a reminder's due instant to its Notify call reaching the bus, over
  reminders one second apart: median ≤ 20 ms, max ≤ 100 ms

Exit status 1 if a budget is exceeded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
# An installed crampguard has compiled bytecode (pip writes it); a sandbox that forbids
# writing it would make every run recompile, which is not what users meet.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.path.insert(0, str(ROOT))

from tests.support.desktop import Desktop  # noqa: E402

ZONE = ZoneInfo("Europe/Berlin")
MIB = 1024 * 1024


def tree(pid: int) -> list[int]:
    pids = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        pids += tree(int(child))
    return pids


def switches(pid: int) -> int:
    total = 0
    for p in tree(pid):
        for task in Path(f"/proc/{p}/task").iterdir():
            for line in (task / "status").read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
    return total


def memory(pid: int) -> tuple[int, int]:
    rss = pss = 0
    for p in tree(pid):
        for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1]) * 1024
            elif line.startswith("Pss:"):
                pss += int(line.split()[1]) * 1024
    return rss, pss


def start_daemon(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[str], float]:
    """Start the daemon; return it and the seconds from exec to its "running" line."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "scheduler", *args, "run"], env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            cwd=ROOT)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "crampguard running" in line:
            elapsed = time.perf_counter() - started
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep draining
            return proc, elapsed
    raise RuntimeError("the daemon exited before it was running")


def idle_figures(proc: subprocess.Popen, settle: float, idle: float) -> dict[str, float]:
    time.sleep(settle)
    before = switches(proc.pid)
    time.sleep(idle)
    after = switches(proc.pid)
    rss, pss = memory(proc.pid)
    return {"rss": rss / MIB, "pss": pss / MIB, "wakeups": (after - before) * 60 / idle}


class NotifyMonitor:
    """Records when each Notify call crosses the bus (a D-Bus monitor connection)."""

    def __init__(self, address: str):
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        self.times: list[float] = []
        self._conn = open_dbus_connection(address)
        bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
                          interface="org.freedesktop.DBus.Monitoring")
        rule = "type='method_call',interface='org.freedesktop.Notifications',member='Notify'"
        self._conn.send(new_method_call(bus, "BecomeMonitor", "asu", ([rule], 0)))
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                msg = self._conn.receive()
            except Exception:
                return
            if msg.header.fields.get(3) == "Notify":  # 3 = MEMBER
                self.times.append(time.time())


def lateness(desktop: Desktop, count: int, tmp: Path) -> list[float]:
    routines = tmp / "late"
    routines.mkdir()
    start = datetime.now(ZONE).replace(microsecond=0) + timedelta(seconds=4)
    end = start + timedelta(seconds=count)
    (routines / "tick.toml").write_text(
        'schema_version = 1\ntitle = "tick"\nmessage = "tick"\n[schedule]\nevery = "1s"\n'
        f'between = "{start:%H:%M:%S}-{end:%H:%M:%S}"\nquiet_hours = "ignore"\n'
        '[notify]\ntimeout = "1s"\n')
    monitor = NotifyMonitor(desktop.address)
    env = {**desktop.env, **isolated_env(tmp / "late-home")}
    proc, _ = start_daemon(env, "--routines", str(routines))
    try:
        deadline = time.time() + count + 15
        while len(monitor.times) < count and time.time() < deadline:
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(5)
    due = [(start + timedelta(seconds=k)).timestamp() for k in range(1, count + 1)]
    return [(arrived - d) * 1000 for arrived, d in zip(monitor.times, due, strict=False)]


class Report:
    """Prints each figure against its budget; ``ok`` stays True while all are within."""

    def __init__(self, width: int):
        self.width = width
        self.ok = True

    def __call__(self, name: str, value: float, budget: float | None, unit: str) -> None:
        verdict = "" if budget is None else ("  ok" if value <= budget else "  OVER BUDGET")
        limit = "" if budget is None else f"  (budget ≤ {budget:g} {unit})"
        print(f"{name:<{self.width}} {value:8.2f} {unit}{limit}{verdict}", flush=True)
        self.ok = self.ok and (budget is None or value <= budget)


def isolated_env(home: Path) -> dict[str, str]:
    return {"CRAMPGUARD_CONFIG_DIR": str(home / "config"),
            "CRAMPGUARD_STATE_DIR": str(home / "state"),
            "CRAMPGUARD_RUNTIME_DIR": str(home / "run"),
            "CRAMPGUARD_TIMEZONE": "Europe/Berlin", "PYTHONPATH": str(ROOT)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--reminders", type=int, default=60)
    args = parser.parse_args()
    report = Report(width=34)

    with tempfile.TemporaryDirectory() as tmp_name, Desktop() as desktop:
        tmp = Path(tmp_name)
        env = {**desktop.env, **isolated_env(tmp / "home")}
        starts = []
        for _ in range(3):
            proc, seconds = start_daemon(env)
            starts.append(seconds)
            if len(starts) < 3:
                proc.terminate()
                proc.wait(5)
        floor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(10**6)"])
        try:
            print(f"idle: {args.settle:g} s settling, then a {args.idle:g} s window "
                  f"(shipped routines; a reminder due in the window adds to the figures)")
            daemon_idle: dict[str, float] = {}
            floor_idle: dict[str, float] = {}
            threads = [
                threading.Thread(target=lambda: daemon_idle.update(
                    idle_figures(proc, args.settle, args.idle))),
                threading.Thread(target=lambda: floor_idle.update(
                    idle_figures(floor, args.settle, args.idle))),
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            proc.terminate()
            proc.wait(5)
            floor.terminate()
            floor.wait(5)
        report("daemon RSS (process tree)", daemon_idle["rss"], 38, "MiB")
        report("daemon PSS (process tree)", daemon_idle["pss"], None, "MiB")
        report("floor: plain python RSS", floor_idle["rss"], None, "MiB")
        report("daemon wakeups", daemon_idle["wakeups"],
               1 if sys.platform.startswith("linux") else 6, "/min")
        report("floor: plain python wakeups", floor_idle["wakeups"], None, "/min")
        report("start-up to 'running' (best of 3)", min(starts) * 1000, 250, "ms")
        late = lateness(desktop, args.reminders, tmp)
        print(f"lateness over {len(late)} of {args.reminders} reminders one second apart:")
        if len(late) < args.reminders:
            print("  some reminders never reached the bus")
            report.ok = False
        if late:
            report("lateness median", statistics.median(late), 20, "ms")
            report("lateness max", max(late), 100, "ms")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
