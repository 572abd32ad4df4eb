"""Every control command against a real daemon process, through the real CLI; the journal
the daemon writes, read back through `history` and `stats`."""

from __future__ import annotations

import signal
import socket
import sqlite3
import time

import pytest

from tests.support.daemon_proc import Daemon, cli, cli_json, clock_in
from tests.support.routines import routine_text

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("command", [
    ["status"], ["pause"], ["resume"], ["snooze", "x"], ["skip", "x"], ["done", "x"],
    ["trigger", "x"], ["reload"]])
def test_not_running(command):
    result = cli(*command)
    assert result.returncode == 1
    assert "crampguard is not running" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_control_command(routines, console_env, isolated):
    (routines / "stretch.toml").write_text(routine_text("Stretch", "21:00"))
    (routines / "soak.toml").write_text(routine_text("Soak", "20:00"))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running: 2 routine")
        status = cli_json("--routines", str(routines), "status")
        assert status["pid"] == daemon.proc.pid
        assert status["paused_until"] is None and status["last_delivery"] is None
        assert [r["id"] for r in status["routines"]] == ["soak", "stretch"]
        text = cli("status").stdout
        assert f"crampguard is running (pid {daemon.proc.pid})" in text and "soak" in text

        # done before any reminder: a clear error
        result = cli("done", "stretch")
        assert result.returncode == 1 and "has no reminder from the last day" in result.stderr
        # trigger delivers now; done then records it
        assert cli_json("trigger", "stretch")["routine"] == "stretch"
        daemon.wait_for(r"^\[crampguard\] Stretch — ", timeout=3)
        assert cli_json("status")["last_delivery"]["routine"] == "stretch"
        # snooze brings the last reminder back
        snoozed = cli_json("snooze", "stretch", "2s")
        assert snoozed["routine"] == "stretch"
        daemon.wait_for(r"delivered stretch via console .*snoozed", timeout=5)
        done = cli_json("done", "stretch")
        assert done["already"] is False
        assert cli_json("done", "stretch")["already"] is True
        # a done reminder is not snoozed any more
        result = cli("snooze", "stretch", "2s")
        assert result.returncode == 1 and "already done" in result.stderr
        # skip moves the next firing a day on
        before = {r["id"]: r["next"] for r in cli_json("status")["routines"]}
        skipped = cli_json("skip", "soak")
        assert skipped["skipped"] == before["soak"]
        after = {r["id"]: r["next"] for r in cli_json("status")["routines"]}
        assert after["soak"] == skipped["next"] != before["soak"]
        # unknown ids and bad durations are clear errors
        result = cli("skip", "nope")
        assert result.returncode == 1 and "no enabled routine 'nope'" in result.stderr
        result = cli("snooze", "stretch", "soon")
        assert result.returncode == 1 and "not a duration" in result.stderr
        # pause and resume
        paused = cli_json("pause", "30m")
        assert paused["paused_until"]
        assert cli_json("status")["paused_until"] == paused["paused_until"]
        assert "paused until" in cli("status").stdout
        assert cli_json("resume")["was_paused_until"] == paused["paused_until"]
        assert cli_json("status")["paused_until"] is None
        assert cli("pause", "until", "25:00").returncode == 1
        # reload
        (routines / "third.toml").write_text(routine_text("Third", "19:00"))
        assert cli_json("reload")["routines"] == 3
        assert daemon.stop() == 0

    history = cli_json("history", "--days", "1")
    kinds = [(e["kind"], e["routine"]) for e in history]
    for expected in [("delivered", "stretch"), ("done", "stretch"), ("skipped", "soak"),
                     ("snoozed", "stretch"), ("paused", None), ("resumed", None)]:
        assert expected in kinds
    assert history[0]["at"] >= history[-1]["at"]  # newest first


def test_pause_ends_by_itself_and_nothing_due_in_it_comes_later(routines, console_env):
    (routines / "during.toml").write_text(routine_text("During", clock_in(5)))
    (routines / "after.toml").write_text(routine_text("After", clock_in(10)))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        cli_json("pause", "7s")
        daemon.wait_for(r"held during due .*: paused until", timeout=8)
        daemon.wait_for(r"resumed \(the pause ended\)", timeout=6)
        daemon.wait_for(r"delivered after via console", timeout=6)
        time.sleep(1)
        assert daemon.count(r"delivered during") == 0
        assert cli_json("status")["paused_until"] is None
        assert daemon.stop() == 0
    kinds = [(e["kind"], e["routine"], (e["detail"] or {}).get("reason", "")[:12])
             for e in cli_json("history")]
    assert ("held", "during", "paused until") in kinds
    assert ("resumed", None, "the pause en") in kinds


def test_a_pause_survives_a_restart(routines, console_env):
    (routines / "a.toml").write_text(routine_text("A", "12:00"))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        until = cli_json("pause", "1h")["paused_until"]
        assert daemon.stop() == 0
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        assert cli_json("status")["paused_until"] == until
        assert daemon.stop() == 0


def test_restart_delivers_the_reminder_missed_while_down(routines, console_env):
    (routines / "often.toml").write_text(
        'schema_version = 1\ntitle = "Often"\nmessage = "m"\n[schedule]\nevery = "2s"\n'
        'between = "00:00-23:59:58"\ncatch_up = "1m"\nquiet_hours = "ignore"\n')
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"delivered often", timeout=5)
        assert daemon.stop() == 0
    time.sleep(5)  # two or three firings fall due while it is down
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"missed often due .*superseded.*not running", timeout=5)
        m = daemon.wait_for(r"delivered often via console \(due [^,]+, (\d+\.\d+)s late",
                            timeout=5)
        assert 0 < float(m[1]) < 60
        assert daemon.stop() == 0


# --- a hostile control socket never disturbs the daemon -----------------------------------

def test_socket_hostility_leaves_the_daemon_delivering(routines, console_env, isolated):
    (routines / "tick.toml").write_text(
        'schema_version = 1\ntitle = "Tick"\nmessage = "m"\n[schedule]\nevery = "1s"\n'
        'between = "00:00-23:59:59"\nquiet_hours = "ignore"\n')
    path = isolated.runtime / "control.sock"
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")

        def talk(payload: bytes, *, close_early: bool = False) -> bytes:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(5)
                s.connect(str(path))
                s.sendall(payload)
                if close_early:
                    return b""
                return s.recv(65536)

        assert b"not JSON" in talk(b"{nope\n")
        assert b"unknown command" in talk(b'{"cmd": "explode"}\n')
        assert b"too large" in talk(b"x" * (1024 * 1024))
        talk(b'{"cmd": "sta', close_early=True)  # disconnects mid-request
        silent = socket.socket(socket.AF_UNIX)
        silent.connect(str(path))  # says nothing
        try:
            mark = daemon.mark()
            assert cli_json("status")["pid"] == daemon.proc.pid  # served meanwhile
            daemon.wait_for(r"delivered tick", timeout=3, after=mark)
        finally:
            silent.close()
        assert daemon.proc.poll() is None
        assert daemon.stop() == 0


def test_kill_9_while_writing_leaves_a_sound_journal(routines, console_env, isolated):
    (routines / "tick.toml").write_text(
        'schema_version = 1\ntitle = "Tick"\nmessage = "m"\n[schedule]\nevery = "1s"\n'
        'between = "00:00-23:59:59"\nquiet_hours = "ignore"\n')
    delivered_lines = 0
    for _ in range(3):
        with Daemon(console_env) as daemon:
            daemon.start("--routines", str(routines))
            daemon.wait_for(r"delivered tick", timeout=5)
            time.sleep(1.3)
            daemon.signal(signal.SIGKILL)
            daemon.proc.wait(5)
            delivered_lines += daemon.count(r"delivered tick")
    db = isolated.state / "journal.sqlite3"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    history = cli_json("history", "--routine", "tick")
    assert sum(e["kind"] == "delivered" for e in history) >= delivered_lines


# --- answering from the notification itself (real dunst) ---------------------------------

def test_done_and_snooze_buttons_in_dunst(desktop, routines):
    (routines / "stretch.toml").write_text(routine_text(
        "Stretch", clock_in(4), notify='[notify]\nactions = ["done", "snooze 3s"]\n'))
    env = {**desktop.env, "CRAMPGUARD_NOTIFIER": "dbus"}
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        first = int(daemon.wait_for(r"delivered stretch via dbus as #(\d+)", timeout=8)[1])
        mark = daemon.mark()
        desktop.press(first, "snooze:3s")
        daemon.wait_for(r"snoozed stretch until", timeout=3, after=mark)
        again = daemon.wait_for(r"delivered stretch via dbus as #(\d+) .*snoozed", timeout=6,
                                after=mark)
        desktop.press(int(again[1]), "done")
        daemon.wait_for(r"done stretch \(due ", timeout=3, after=mark)
        # answered notices are taken off the screen (dunst itself leaves them up)
        deadline = time.monotonic() + 3
        while desktop.shown() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert desktop.shown() == 0
        assert daemon.stop() == 0
    kinds = [e["kind"] for e in cli_json("history", "--routine", "stretch")]
    assert kinds[:4] == ["done", "delivered", "snoozed", "delivered"]
