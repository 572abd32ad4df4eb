"""Issue 12, the daemon and the files: a trigger whose notification server hangs, the
broken-file notice, the reload's counts, a byte-order mark, an id taken from a file name.
The real daemon and the real CLI wherever behaviour changes."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator

import pytest

from scheduler.config.routine import ID_PATTERN, slugify
from scheduler.control.client import request
from scheduler.daemon import calls as calls_module
from scheduler.daemon.calls import LoopCalls
from scheduler.errors import NotifyError
from scheduler.notify.base import body_with_hint
from scheduler.notify.console import format_line
from scheduler.notify.dbus import DbusNotifier
from scheduler.paths import SOCKET_FILE
from scheduler.planning import notices
from tests.support.daemon_proc import Daemon, cli, clock_in, write_atomically
from tests.support.mock_services import MockError, PrivateBus, Service
from tests.support.routines import routine_text

BOM = "\ufeff"
#: A time of day the daemon's routines never reach while a test runs.
LATER = clock_in(6 * 3600)


# --- L: the broken-file notice says its hint once ------------------------------------------

def test_the_broken_file_notice_gives_its_hint_once_on_every_backend():
    notice = notices.broken_file("a routine file", "soak.toml:3:9: TOML syntax", more=2)
    for shown in (body_with_hint(notice), format_line(notice)):  # dbus/plyer, console
        assert shown.count("crampguard check") == 1, shown
    assert "2 more problem(s)" in notice.body


@pytest.mark.slow
def test_the_daemon_shows_a_broken_file_with_its_hint_once(routines, console_env):
    (routines / "keep.toml").write_text(routine_text("Keep", LATER))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running: 1 routine")
        write_atomically(routines / "keep.toml", 'schema_version = 1\ntitle = "Keep"\nx = \n')
        line = daemon.wait_for(r"^\[crampguard\] crampguard: a routine file is broken — .*")[0]
        assert daemon.stop() == 0
    assert "keep.toml:3" in line
    assert line.count("crampguard check") == 1, line


# --- M: the reload counts routines, and its own timers apart --------------------------------

@pytest.mark.slow
def test_reload_counts_routines_in_its_log_and_reply_and_timers_apart(routines, console_env):
    (routines / "soak.toml").write_text(routine_text("Soak", LATER))
    (routines / "drink.toml").write_text(
        routine_text("Drink", LATER).replace(f'at = "{LATER}"', 'after = "workout + 1h"'))
    args = ("--routines", str(routines))
    with Daemon(console_env) as daemon:
        daemon.start(*args)
        daemon.wait_for(r"crampguard running: 2 routine")
        assert cli(*args, "trigger", "soak").returncode == 0
        assert cli(*args, "snooze", "soak", "10m").returncode == 0
        assert cli(*args, "log", "workout").returncode == 0
        daemon.wait_for(r"follow-up: drink at ")
        mark = daemon.mark()
        reply = cli(*args, "reload")
        logged = daemon.wait_for(r"reloaded: .*", after=mark)[0]
        as_json = cli(*args, "reload", "--json")
        assert daemon.stop() == 0
    assert reply.returncode == 0, reply.stderr
    assert reply.stdout.strip() == \
        "reloaded: 2 routine(s) enabled; also pending: 1 follow-up, 1 snooze"
    assert logged == "reloaded: 2 routine(s) scheduled; also pending: 1 follow-up, 1 snooze"
    data = json.loads(as_json.stdout)
    assert (data["routines"], data["pending"]) == (2, {"follow-up": 1, "snooze": 1})


# --- N: a UTF-8 byte-order mark is no syntax error ---------------------------------------------

def test_check_accepts_routine_and_config_files_that_start_with_a_byte_order_mark(tmp_path):
    routine = tmp_path / "soak.toml"
    routine.write_text(BOM + routine_text("Soak", "21:00"), encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(BOM + '[anchors]\nbedtime = "23:00"\n', encoding="utf-8")
    result = cli("--config", str(config), "check", str(routine))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: 1 file(s), 1 routine(s)"), result.stdout


def test_a_problem_on_the_first_line_after_a_byte_order_mark_names_that_line(tmp_path):
    routine = tmp_path / "soak.toml"
    routine.write_text(BOM + routine_text("Soak", "21:00").replace(
        "schema_version = 1", "schema_version = 2"), encoding="utf-8")
    result = cli("check", str(routine))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{routine}:1: schema_version:"), result.stderr


@pytest.mark.slow
def test_the_daemon_runs_a_routine_file_saved_with_a_byte_order_mark(routines, console_env):
    (routines / "soak.toml").write_text(BOM + routine_text("Soak", clock_in(3)),
                                        encoding="utf-8")
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"scheduled soak: daily at ")
        daemon.wait_for(r"delivered soak via console", timeout=8)
        assert daemon.stop() == 0
    assert "ERROR" not in daemon.log


# --- O: an id from the file name says so, and how to name the file ------------------------------

@pytest.mark.parametrize(("name", "slug"), [
    ("Foot Soak", "foot-soak"), ("Fußbad am Abend!", "fussbad-am-abend"),
    ("Étirement", "etirement"), ("_-_", "my-routine"), ("x" * 80, "x" * 64)])
def test_a_valid_id_is_suggested_for_any_file_name(name, slug):
    assert slugify(name) == slug
    assert ID_PATTERN.match(slug)


def test_an_invalid_id_from_the_file_name_says_so_and_how_to_name_the_file(tmp_path):
    path = tmp_path / "Foot Soak.toml"
    path.write_text(routine_text("Foot soak", "21:00"), encoding="utf-8")
    result = cli("check", str(path))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"{path}: id: the id comes from the file name 'Foot Soak.toml' (no `id` key), and "
        f"an id is lowercase letters, digits and hyphens; rename the file to foot-soak.toml "
        f'or add id = "foot-soak"')


def test_an_invalid_id_key_is_reported_as_the_key(tmp_path):
    path = tmp_path / "soak.toml"
    path.write_text(routine_text("Soak", "21:00").replace(
        "seed =", 'id = "Foot Soak"\nseed ='), encoding="utf-8")
    result = cli("check", str(path))
    assert result.returncode == 1
    assert re.match(rf"{re.escape(str(path))}:\d+: id: an id is lowercase", result.stderr)
    assert "file name" not in result.stderr


# --- K: a trigger while the notification server hangs ---------------------------------------

class HangingNotifications(Service):
    """A notification server that hangs on the first notice it is sent (until stopped):
    a frozen desktop. The calls it took are in ``calls``; the ones after the hang wait
    unread."""

    PATH = "/org/freedesktop/Notifications"
    INTERFACE = "org.freedesktop.Notifications"

    def __init__(self, address: str) -> None:
        super().__init__(address, self.INTERFACE)
        self.release = threading.Event()
        # Who it is, it says (presence asks); then it takes a notice and hangs.
        self.method(self.PATH, self.INTERFACE, "GetServerInformation",
                    lambda _call: ("ssss", ("frozen", "test", "1", "1.2")))
        for member in ("GetCapabilities", "Notify"):
            self.method(self.PATH, self.INTERFACE, member, self._hang)

    def _hang(self, _call: object) -> tuple[str | None, tuple]:
        self.release.wait()
        raise MockError("org.freedesktop.DBus.Error.NoReply", "stopped")

    def stop(self) -> None:
        self.release.set()
        super().stop()


def _needs_dbus_daemon() -> None:
    if shutil.which("dbus-daemon") is None:
        pytest.skip("needs dbus-daemon (Debian package: dbus)")


@pytest.fixture
def frozen_server() -> Iterator[tuple[HangingNotifications, dict[str, str]]]:
    """The hanging server on a private session bus, and the environment that finds it."""
    _needs_dbus_daemon()
    with PrivateBus() as bus, HangingNotifications(bus.address) as server:
        yield server, {**os.environ, "DBUS_SESSION_BUS_ADDRESS": bus.address}


@pytest.mark.slow
@pytest.mark.desktop
def test_a_trigger_while_the_server_hangs_says_how_it_was_delivered(frozen_server, routines):
    _server, env = frozen_server
    (routines / "soak.toml").write_text(routine_text("Soak", LATER))
    args = ("--routines", str(routines))
    with Daemon(env) as daemon:
        daemon.start(*args)
        daemon.wait_for(r"crampguard running: 1 routine\(s\) scheduled, .* notifier dbus\+console")
        started = time.monotonic()
        reply = cli(*args, "trigger", "soak", env=env)
        took = time.monotonic() - started
        daemon.wait_for(r"delivered soak via console")
        shown = daemon.count(r"^\[crampguard\] Soak — ")
        assert daemon.stop() == 0
    assert reply.returncode == 0, reply.stderr
    assert reply.stdout.strip() == \
        "delivered soak now via console: dbus failed after 5 s (the daemon's log says why)"
    assert shown == 1
    assert took < 8
    assert "the notification server did not answer GetCapabilities within 5 s" in daemon.log


@pytest.mark.slow
@pytest.mark.desktop
def test_a_trigger_answered_accepted_is_not_shown_twice_when_tried_again(frozen_server,
                                                                          routines, isolated):
    """The loop is busy showing a due reminder (5 s lost on the hung server) when the
    trigger comes; the trigger's own 5 s then end after the daemon's reply wait."""
    server, env = frozen_server
    (routines / "due.toml").write_text(routine_text("Due", clock_in(3)))
    (routines / "soak.toml").write_text(routine_text("Soak", LATER))
    args = ("--routines", str(routines))
    with Daemon(env) as daemon:
        daemon.start(*args)
        daemon.wait_for(r"crampguard running: 2 routine")
        deadline = time.monotonic() + 8
        while "GetCapabilities" not in server.calls:  # the due reminder is on its way
            assert time.monotonic() < deadline, daemon.log
            time.sleep(0.02)
        # Straight onto the socket: a CLI's start-up would eat into the 2 s this has.
        first = request(isolated.runtime / SOCKET_FILE, {"cmd": "trigger", "id": "soak"})
        again = cli(*args, "trigger", "soak", env=env)
        daemon.wait_for(r"delivered soak via console")
        shown = daemon.count(r"^\[crampguard\] Soak — ")
        history = cli(*args, "history", "--json", env=env)
        assert daemon.stop() == 0
    assert first == {"ok": True, "routine": "soak", "in_progress": True}
    assert again.returncode == 0, again.stderr
    assert re.fullmatch(r"soak was delivered at .* via console by the trigger before \(its "
                        r"answer came too late\); not shown again\n", again.stdout), again.stdout
    assert shown == 1
    triggered = [e for e in json.loads(history.stdout)
                 if e["kind"] == "triggered" and e["routine"] == "soak"]
    assert len(triggered) == 1, history.stdout


@pytest.mark.slow
@pytest.mark.desktop
def test_a_clock_set_while_the_loop_waits_on_a_hung_server_does_not_stop_the_daemon(
        frozen_server, routines):
    """The wall clock is set (a time sync stepping it) while the loop is busy on a hung
    notification server: the daemon goes on, and the reminder is shown once."""
    server, env = frozen_server
    (routines / "due.toml").write_text(routine_text("Due", clock_in(3)))
    args = ("--routines", str(routines))
    with Daemon(env) as daemon:
        daemon.start(*args)
        daemon.wait_for(r"crampguard running: 1 routine")
        deadline = time.monotonic() + 8
        while "GetCapabilities" not in server.calls:  # the loop is now busy for 5 s
            assert time.monotonic() < deadline, daemon.log
            time.sleep(0.02)
        try:
            time.clock_settime(time.CLOCK_REALTIME, time.time())  # moves it by microseconds
        except PermissionError:
            pytest.skip("setting the clock needs CAP_SYS_TIME")
        daemon.wait_for(r"delivered due via console")
        status = cli(*args, "status", env=env)
        shown = daemon.count(r"^\[crampguard\] Due — ")
        assert daemon.stop() == 0
    assert status.returncode == 0, status.stderr + daemon.log
    assert shown == 1
    assert "Traceback" not in daemon.log


# --- K, in process: what a control command is told when the loop is slow ----------------------

class Loop:
    """The daemon's loop on a thread of its own: it runs what is queued when woken."""

    def __init__(self, wait: float = 0.3) -> None:
        self.woken = threading.Event()
        self.calls = LoopCalls(self.woken.set, wait=wait)
        self.stopped = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopped:
            if self.woken.wait(0.05):
                self.woken.clear()
                self.calls.run()

    def __enter__(self) -> Loop:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped = True
        self.thread.join(2)


def test_a_command_the_loop_answers_in_time_gets_its_reply():
    with Loop() as loop:
        assert loop.calls.answer({"cmd": "status"}, lambda r: {"ok": True, "cmd": r["cmd"]}) \
            == {"ok": True, "cmd": "status"}


def test_a_command_the_loop_never_started_is_withdrawn_and_says_nothing_was_done():
    calls = LoopCalls(lambda: None, wait=0.1)  # no loop runs it in time
    ran = []
    reply = calls.answer({"cmd": "trigger", "id": "soak"}, lambda r: ran.append(r) or {"ok": True})
    assert reply["ok"] is False
    assert "did not get to `trigger` within 0.1 s; nothing was done: try again" in reply["error"]
    calls.run()  # the loop comes round: the withdrawn command stays undone
    assert ran == []


def test_a_trigger_under_way_is_accepted_and_a_second_one_gets_its_outcome_once():
    release = threading.Event()

    def slow_trigger(request: dict) -> dict:
        release.wait(5)
        return {"ok": True, "routine": request["id"], "backend": "console"}

    with Loop() as loop:
        reply = loop.calls.answer({"cmd": "trigger", "id": "soak"}, slow_trigger)
        assert reply == {"ok": True, "routine": "soak", "in_progress": True}
        assert loop.calls.earlier_trigger("soak") is None  # still on its way
        release.set()
        deadline = time.monotonic() + 2
        while (earlier := loop.calls.earlier_trigger("soak")) is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert earlier == {"ok": True, "routine": "soak", "backend": "console"}
    assert loop.calls.earlier_trigger("soak") is None  # once
    assert loop.calls.earlier_trigger("other") is None


def test_a_trigger_that_failed_late_or_is_long_past_stands_in_for_nothing(monkeypatch):
    for outcome, kept in (({"ok": False, "error": "no notifier"}, 300.0),
                          ({"ok": True, "routine": "soak"}, 0.0)):
        monkeypatch.setattr(calls_module, "EARLIER_TRIGGER_KEPT", kept)

        def slow_trigger(request: dict, outcome: dict = outcome) -> dict:
            time.sleep(0.3)
            return outcome

        with Loop(wait=0.1) as loop:
            reply = loop.calls.answer({"cmd": "trigger", "id": "soak"}, slow_trigger)
            assert reply["in_progress"]
            # Queued behind the trigger: once it ran, the trigger's outcome has been kept,
            # or not.
            behind = threading.Event()
            loop.calls.post(behind.set)
            assert behind.wait(2)
            assert loop.calls.earlier_trigger("soak") is None, outcome


def test_another_command_under_way_says_so_and_not_to_run_it_again():
    with Loop(wait=0.1) as loop:
        reply = loop.calls.answer({"cmd": "reload"}, lambda r: time.sleep(0.3) or {"ok": True})
    assert reply["ok"] is False
    assert "`reload` is still being carried out after 0.1 s" in reply["error"]
    assert "do not run it again: `crampguard status` shows how it went" in reply["error"]


@pytest.mark.parametrize(("data", "text"), [
    ({"routine": "soak", "at": "2026-11-23T21:00:00+01:00", "backend": "dbus",
      "first_choice": "dbus", "seconds": 0.1}, "delivered soak now via dbus"),
    ({"routine": "soak", "at": "2026-11-23T21:00:00+01:00", "backend": "console",
      "first_choice": "dbus", "seconds": 0.0},
     "delivered soak now via console: dbus failed (the daemon's log says why)"),
    ({"routine": "soak", "in_progress": True},
     "accepted: soak is still on its way (the notification server is slow to answer); it "
     "is shown once and recorded, `crampguard history` says how, and a trigger again now "
     "does not show it twice"),
])
def test_the_trigger_reply_says_what_became_of_the_reminder(data, text):
    from scheduler.cli.render import emit
    from scheduler.control.commands import TriggerReply

    out = io.StringIO()
    emit(TriggerReply.from_wire(data), out=out)
    assert out.getvalue() == text + "\n"


class SlowNotifications(HangingNotifications):
    """Says what it can do after ``delay`` seconds, then hangs on the notice."""

    def __init__(self, address: str, delay: float) -> None:
        super().__init__(address)
        self.method(self.PATH, self.INTERFACE, "GetCapabilities",
                    lambda _call: (time.sleep(delay), ("as", (["body"],)))[1])


@pytest.mark.slow
@pytest.mark.desktop
def test_a_send_takes_at_most_its_timeout_in_all_not_per_call():
    """GetCapabilities answered late, then Notify hung: the two calls share one timeout,
    so the daemon's loop (and a trigger waiting on it) is held that long at most."""
    _needs_dbus_daemon()
    with PrivateBus() as bus, SlowNotifications(bus.address, delay=0.6):
        notifier = DbusNotifier(bus.address, call_timeout_s=1.0)
        try:
            started = time.monotonic()
            with pytest.raises(NotifyError, match="did not answer Notify within 1 s"):
                notifier.send(notices.test())
            took = time.monotonic() - started
        finally:
            notifier.close()
    assert 0.9 < took < 1.3, took
