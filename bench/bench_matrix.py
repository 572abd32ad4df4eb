"""What a Matrix channel costs the daemon: memory, idle wakeups, and how soon an answer
given in the room reaches the journal.

    .venv/bin/python bench/bench_matrix.py [--idle 120] [--settle 10] [--answers 5]

Runs a Synapse homeserver on loopback (the tests' harness: Synapse in its own environment,
as .ci/run installs it) and the desktop of bench_daemon.py (dbus, Xvfb, dunst), then:

- two daemons side by side, each with one routine due 12 hours later (nothing else wakes
  them), one without a channel and one with a
  ``[reach.phone]`` Matrix table, over the same idle window: resident memory (RSS) of each,
  budget: the channel adds ≤ 6 MiB; the wakeups of each (context switches over all
  threads; the difference is within the two processes' noise of about a wakeup a minute);
  and the long polls the homeserver answered (its access log), budget ≤ 1 a minute (one
  waits 3 minutes on a quiet room);
- a daemon with reminders that also go to the room (``reach = "always"``): for each, the
  person replies "done" in the room, and the time from the reply's request to the daemon's
  log line recording the answer is measured; budget: ≤ 2 s each.

Exit status 1 if a budget is exceeded.
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

from bench_daemon import ZONE, Report, idle_figures, isolated_env, start_daemon  # noqa: E402

from tests.support.daemon_proc import Daemon  # noqa: E402
from tests.support.desktop import Desktop  # noqa: E402
from tests.support.synapse import Room, Synapse, make_room, missing  # noqa: E402


def channel_table(room: Room, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    token_file = folder / "matrix-token"
    token_file.write_text(room.bot.token + "\n")
    token_file.chmod(0o600)
    return (f'[reach.phone]\nkind = "matrix"\nhomeserver = "{room.server.base}"\n'
            f'room = "{room.room_id}"\nuser = "{room.person.user_id}"\n'
            f'token_file = "{token_file}"\n')


def home(folder: Path, config: str) -> dict[str, str]:
    env = isolated_env(folder)
    Path(env["CRAMPGUARD_CONFIG_DIR"]).mkdir(parents=True)
    (Path(env["CRAMPGUARD_CONFIG_DIR"]) / "config.toml").write_text(config)
    return env


def answer_times(desktop: Desktop, room: Room, count: int, tmp: Path) -> list[float]:
    """Seconds from each reply "done" in the room to the daemon recording it."""
    routines = tmp / "answers"
    routines.mkdir()
    first = datetime.now(ZONE) + timedelta(seconds=5)
    for k in range(count):
        at = (first + timedelta(seconds=3 * k)).strftime("%H:%M:%S")
        (routines / f"r{k}.toml").write_text(
            f'schema_version = 1\ntitle = "R{k}"\nmessage = "m"\nseed = "stretch-before-bed"\n'
            f'[schedule]\nat = "{at}"\nquiet_hours = "ignore"\n'
            f'[notify]\nreach = "always"\ntimeout = "0s"\n')
    env = {**desktop.env, **home(tmp / "answers-home", channel_table(room, tmp)),
           "CRAMPGUARD_ROUTINES": str(routines)}
    times: list[float] = []
    with Daemon(env) as daemon:
        daemon.start()
        daemon.wait_for(r"crampguard running", timeout=20)
        for k in range(count):
            # shown on the desktop and sent too, or (the display idle: away) sent only
            daemon.wait_for(rf"r{k} due .* sent via reach:phone|delivered r{k} via reach:phone",
                            timeout=30)
            [message] = [m for m in room.person.reminders(room.room_id)
                         if m["content"]["org.crampguard.reminder"].startswith(f"r{k}@")]
            mark = daemon.mark()
            began = time.monotonic()
            room.person.reply(room.room_id, message["event_id"], "done")
            daemon.wait_for(rf"done r{k}\b", timeout=10, after=mark)
            times.append(time.monotonic() - began)
        daemon.stop()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=float, default=120.0)
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--answers", type=int, default=5)
    args = parser.parse_args()
    reason = missing()
    if reason:
        print(reason)
        return 1
    report = Report(width=40)
    with tempfile.TemporaryDirectory() as tmp_name, Desktop() as desktop:
        tmp = Path(tmp_name)
        with Synapse(tmp / "synapse") as server, \
                Synapse(tmp / "synapse-tls", tls=True) as tls_server:
            report("Synapse start (exec to /versions)", server.start_times[0], None, "s")
            room = make_room(server, "bench")
            # over https the daemon maps OpenSSL: the channel's cost there too (the test
            # server's certificate trusted as an installed authority would be)
            tls_room = make_room(tls_server, "bench")
            trusted = {"SSL_CERT_FILE": str(tls_server.certificate)}
            # one routine each (a folder each: one daemon per folder), due far from the
            # window: nothing but the channel stirs
            at = (datetime.now(ZONE) + timedelta(hours=12)).strftime("%H:%M")
            procs = {}
            for key, config in (("plain", ""), ("matrix", channel_table(room, tmp)),
                                ("https", channel_table(tls_room, tmp / "tls"))):
                quiet = tmp / f"quiet-{key}"
                quiet.mkdir()
                (quiet / "a.toml").write_text(
                    f'schema_version = 1\ntitle = "A"\nmessage = "m"\n'
                    f'seed = "stretch-before-bed"\n[schedule]\nat = "{at}"\n'
                    f'[notify]\nreach = "away"\n')
                procs[key], _ = start_daemon({**desktop.env, **home(tmp / key, config),
                                              **trusted}, "--routines", str(quiet))
            figures: dict[str, dict[str, float]] = {key: {} for key in procs}
            try:
                print(f"idle: {args.settle:g} s settling, then a {args.idle:g} s window, "
                      f"each daemon with one routine due 12 hours later")
                syncs = server.requests("/sync?")
                began = time.monotonic()
                threads = [threading.Thread(target=lambda p=proc, k=key: figures[k].update(
                    idle_figures(p, args.settle, args.idle)))
                    for key, proc in procs.items()]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                # polls answered in the settling and idle windows
                polls = (server.requests("/sync?") - syncs) * 60 / (time.monotonic() - began)
            finally:
                for proc in procs.values():
                    proc.terminate()
                    proc.wait(10)
            report("daemon RSS, no channel", figures["plain"]["rss"], None, "MiB")
            report("daemon RSS, Matrix channel", figures["matrix"]["rss"], None, "MiB")
            report("RSS the channel adds", figures["matrix"]["rss"] - figures["plain"]["rss"],
                   6, "MiB")
            report("daemon RSS, Matrix over https", figures["https"]["rss"], None, "MiB")
            report("RSS the channel adds over https",
                   figures["https"]["rss"] - figures["plain"]["rss"], 6, "MiB")
            report("wakeups, no channel", figures["plain"]["wakeups"], None, "/min")
            report("wakeups, Matrix channel", figures["matrix"]["wakeups"], None, "/min")
            report("wakeups the channel adds",
                   figures["matrix"]["wakeups"] - figures["plain"]["wakeups"], None, "/min")
            report("long polls answered by the homeserver", polls, 1, "/min")
            times = answer_times(desktop, room, args.answers, tmp)
            print(f"a reply \"done\" in the room to the journal, over {len(times)} reminders:")
            report("answer to journal, median", statistics.median(times), None, "s")
            report("answer to journal, max", max(times), 2, "s")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
