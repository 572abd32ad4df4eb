"""The real daemon and a real CalDAV server (Radicale on loopback): it syncs on its own,
takes a to-do completed on the phone as the reminder's answer (and then never shows it on
the desktop), marks what the desktop answered, and rides out a server that is down. A
daemon without ``[calendar]`` imports nothing of it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.caldav_server import CalDavServer, needs_radicale
from tests.support.daemon_proc import (
    Daemon,
    cli,
    cli_json,
    clock_in,
    journal,
    until,
    write_settings,
)
from tests.support.fixtures import ROOT, Dirs
from tests.support.routines import routine_text


def _settings(dirs: Dirs, text: str) -> None:
    write_settings(dirs.config_file, text)




@pytest.mark.slow
@needs_radicale
def test_a_todo_completed_on_the_phone_is_done_and_never_shown_on_the_desktop(
        isolated: Dirs, routines: Path, tmp_path: Path, console_env: dict[str, str]) -> None:
    (routines / "soak.toml").write_text(routine_text(
        "Foot soak", clock_in(12), extra='calendar = "todo"'))
    with CalDavServer(tmp_path / "dav") as server, Daemon(console_env) as daemon:
        url = server.make_calendar()
        _settings(isolated, server.calendar_text(url, days=2))
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"calendar synced: 2 written", timeout=15)
        items = server.items(url)
        uid = min(u for u in items if u.startswith("soak-"))
        # the user ticks it off on the phone, before the desktop shows it
        (todo,) = [t for t in server.calendar(url).search(todo=True) if uid in t.data]
        todo.icalendar_component["STATUS"] = "COMPLETED"
        todo.icalendar_component["COMPLETED"] = todo.icalendar_component["DTSTAMP"]
        todo.save()
        assert cli("reload", env=console_env).returncode == 0
        daemon.wait_for(r"done soak", timeout=10)
        daemon.wait_for(r"soak due .* is already delivered: not shown again", timeout=20)
        assert "Body of Foot soak" not in daemon.log
        entries = journal("soak", env=console_env)
        assert [e["kind"] for e in entries] == ["due", "delivered", "done"]
        assert entries[1]["backend"] == "calendar"
        assert entries[2]["detail"]["source"] == "calendar"
        # a second completion-sync changes nothing and counts nothing again
        mark = daemon.mark()
        assert cli("reload", env=console_env).returncode == 0
        daemon.wait_for(r"calendar synced", after=mark, timeout=10)
        assert [e["kind"] for e in journal("soak", env=console_env)] == [
            "due", "delivered", "done"]
        assert daemon.stop() == 0


@pytest.mark.slow
@needs_radicale
def test_a_reminder_answered_on_the_desktop_loses_its_alarm_on_the_phone(
        isolated: Dirs, routines: Path, tmp_path: Path, console_env: dict[str, str]) -> None:
    (routines / "soak.toml").write_text(routine_text("Foot soak", clock_in(3)))
    with CalDavServer(tmp_path / "dav") as server, Daemon(console_env) as daemon:
        url = server.make_calendar()
        _settings(isolated, server.calendar_text(url, days=1))
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"delivered soak via console", timeout=10)
        done = cli_json("done", "soak", env=console_env)
        due = datetime.fromisoformat(done["due"]).astimezone(UTC)
        uid = f"soak-{due:%Y%m%dT%H%M%SZ}@crampguard"
        until(lambda: (e := server.items(url).get(uid)) is not None
                       and not e.walk("VALARM") and e)
        assert daemon.stop() == 0


@pytest.mark.slow
@needs_radicale
def test_a_server_that_is_down_is_reported_and_synced_once_back(
        isolated: Dirs, routines: Path, tmp_path: Path, console_env: dict[str, str]) -> None:
    (routines / "a.toml").write_text(routine_text("A", "12:00"))
    server = CalDavServer(tmp_path / "dav")
    url = f"{server.base}crampguard/"
    _settings(isolated, server.calendar_text(url, days=3))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"calendar: REPORT .*: ConnectionError.*trying again", timeout=20)
        status = cli_json("status", env=console_env)
        assert any(p.startswith("calendar: not in step") for p in status["problems"])
        doctor = cli("doctor", "--json", env=console_env)
        assert "calendar: not in step" in doctor.stdout
        # the loop goes on meanwhile: commands are answered
        assert cli("pause", "5m", env=console_env).returncode == 0
        with server:
            server.make_calendar()
            mark = daemon.mark()
            assert cli("reload", env=console_env).returncode == 0
            daemon.wait_for(r"calendar synced: 3 written", after=mark, timeout=15)
            daemon.wait_for(r"answers again", timeout=1)
            assert cli_json("status", env=console_env)["problems"] == []
            assert len(server.items(url)) == 3
        assert daemon.stop() == 0


def test_a_daemon_without_a_calendar_imports_nothing_of_it(isolated: Dirs,
                                                            routines: Path) -> None:
    """A real daemon, run in a process that lists its modules once it is up."""
    (routines / "a.toml").write_text(routine_text("A", "12:00"))
    socket = isolated.runtime / "control.sock"
    code = (
        "import os, signal, sys, threading, time\n"
        "from scheduler.cli.main import main\n"
        "def probe():\n"
        f"    while not os.path.exists({str(socket)!r}): time.sleep(0.05)\n"
        "    time.sleep(0.5)\n"
        "    print('\\n'.join(sorted(sys.modules)), file=sys.stderr, flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "threading.Thread(target=probe, daemon=True).start()\n"
        f"sys.exit(main(['--routines', {str(routines)!r}, 'run']))\n")
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
           "CRAMPGUARD_NOTIFIER": "console"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60, cwd=ROOT)
    loaded = set(proc.stderr.split())
    assert "scheduler.daemon.service" in loaded, proc.stderr[-2000:]
    assert sorted(m for m in loaded if m.startswith(
        ("scheduler.calendar", "scheduler.daemon.calendar_link", "icalendar", "caldav",
         "niquests", "radicale"))) == []


def test_a_calendar_over_https_gets_tls_in_the_daemon_that_blocked_it() -> None:
    """``run`` keeps ssl out of the daemon's memory; opening an https calendar brings it
    back before the HTTP stack is imported, so the stack can verify the server."""
    pytest.importorskip("caldav", reason="the calendar extra is not installed")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from scheduler.cli.main import _lighten_daemon\n"
        "_lighten_daemon()\n"
        "assert sys.modules['ssl'] is None\n"
        "from scheduler.calendar.collection import Collection\n"
        "from scheduler.config.settings import Calendar\n"
        "settings = Calendar.model_construct(url='https://calendar.invalid/u/c/', user='u',\n"
        "                                    password_file=Path('/nonexistent'), days=7)\n"
        "Collection(settings, 'secret').close()\n"
        "import urllib3.util.ssl_ as tls\n"
        "context = tls.create_urllib3_context()\n"
        "import ssl\n"
        "assert context.verify_mode == ssl.CERT_REQUIRED, context.verify_mode\n"
        "print('verified')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.strip() == "verified", proc.stderr[-2000:]
