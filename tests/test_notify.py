"""The notification layer: against a real dunst, without any bus, and with fakes for the chain."""

from __future__ import annotations

import io
import logging
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any
from xml.sax.saxutils import escape

import plyer
import pytest

from scheduler.notify import Delivery, Notice, NotifierAway, NotifyError, build_chain
from scheduler.notify.chain import NotifierChain
from scheduler.notify.console import ConsoleNotifier
from scheduler.notify.dbus import DbusNotifier, session_bus_address
from scheduler.notify.plyer_backend import PlyerNotifier
from tests.support.desktop import Desktop, missing_programs

LOG = "crampguard.test.notify"
SOAK = Notice(
    title="Warm foot soak",
    body="Soak your feet in warm water for 15 minutes.",
    hint_command="crampguard done foot-soak",
)
STRETCH = Notice(
    title="Calf stretch",
    body="Stretch each calf for 30 seconds.",
    actions=(("done", "Done"), ("snooze:10m", "Snooze 10 min")),
    hint_command="crampguard done calf-stretch",
)
#: How long the bus may take to tell a name's new owner (it tells within milliseconds).
OWNER_WAIT_S = 5.0
SOAK_LINE = (
    "[crampguard] Warm foot soak — Soak your feet in warm water for 15 minutes. "
    "(run: crampguard done foot-soak)"
)


@pytest.fixture
def notifier(desktop: Desktop) -> Iterator[DbusNotifier]:
    dbus = DbusNotifier(desktop.address)
    yield dbus
    dbus.close()


@pytest.fixture
def session(desktop: Desktop, monkeypatch: pytest.MonkeyPatch) -> Desktop:
    """The desktop as this process's own session, for code that reads the environment."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", desktop.address)
    monkeypatch.setenv("DISPLAY", desktop.display)
    return desktop


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> logging.Logger:
    caplog.set_level(logging.DEBUG, logger=LOG)
    return logging.getLogger(LOG)


def records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOG and r.levelno == level]


# -- against a real dunst ------------------------------------------------------------------


@pytest.mark.desktop
def test_dbus_delivers_title_body_and_urgency(desktop: Desktop, notifier: DbusNotifier) -> None:
    sent = [
        notifier.send(replace(SOAK, urgency=urgency, hint_command=""))
        for urgency in ("low", "normal", "critical")
    ]

    assert [d.backend for d in sent] == ["dbus"] * 3
    assert all(isinstance(d.id, int) and d.id > 0 for d in sent)
    shown = desktop.history()
    assert [n["id"] for n in shown] == [d.id for d in sent]
    assert [n["urgency"] for n in shown] == ["LOW", "NORMAL", "CRITICAL"]
    for notice in shown:
        assert notice["summary"] == "Warm foot soak"
        assert notice["body"] == "Soak your feet in warm water for 15 minutes."
        assert notice["appname"] == "crampguard"
        assert notice["desktop_entry"] == "crampguard"


@pytest.mark.desktop
def test_dbus_timeout_and_markup(desktop: Desktop, notifier: DbusNotifier) -> None:
    notifier.send(replace(SOAK, body="Water & salt <after> sweating", timeout_s=30))
    notifier.send(replace(SOAK, timeout_s=None))

    timed, default = desktop.history()
    # dunst keeps the timeout in microseconds; this dunstrc's own default is 0 (stay).
    assert timed["timeout"] == 30_000_000
    assert default["timeout"] == 0
    # dunst advertises body-markup, so "&" and "<" go escaped (and the hint goes along,
    # since this notice has no buttons).
    assert "body-markup" in desktop.capabilities()
    assert timed["body"] == escape("Water & salt <after> sweating") + (
        "\n\nRun: crampguard done foot-soak"
    )


@pytest.mark.desktop
def test_dbus_sends_actions_when_the_server_advertises_them(
    desktop: Desktop,
    notifier: DbusNotifier,
) -> None:
    assert "actions" in desktop.capabilities()

    delivery = notifier.send(STRETCH)

    assert delivery.actions_shown
    # dunst offers the buttons in its context menu: "#LABEL (SUMMARY) [ID,KEY]".
    offered = desktop.context_menu()
    assert f"#Done (Calf stretch) [{delivery.id},done]" in offered
    assert f"#Snooze 10 min (Calf stretch) [{delivery.id},snooze:10m]" in offered
    [shown] = desktop.history()
    assert shown["summary"] == "Calf stretch"
    assert shown["body"] == "Stretch each calf for 30 seconds."  # buttons, so no hint


@pytest.mark.desktop
def test_dbus_puts_the_hint_in_the_body_when_the_server_has_no_actions(
    desktop: Desktop,
    notifier: DbusNotifier,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # dunst always advertises actions; this stands in for a server that does not.
    monkeypatch.setattr(notifier, "capabilities", lambda: frozenset({"body"}))

    delivery = notifier.send(STRETCH)

    assert not delivery.actions_shown
    [shown] = desktop.history()
    assert shown["body"] == (
        "Stretch each calf for 30 seconds.\n\nRun: crampguard done calf-stretch"
    )


@pytest.mark.desktop
def test_dbus_reconnects_once_when_its_connection_broke(
    desktop: Desktop,
    notifier: DbusNotifier,
) -> None:
    first = notifier.send(SOAK)
    # What a bus restart does to a kept connection (the harness cannot restart its bus
    # under a running dunst), done to the notifier's socket directly.
    old = notifier._conn
    old.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]

    second = notifier.send(SOAK)

    assert second.backend == "dbus"
    assert notifier._conn is not old
    assert [n["id"] for n in desktop.history()] == [first.id, second.id]


@pytest.mark.desktop
def test_dbus_keeps_replies_apart_for_reminders_that_fire_together(
    desktop: Desktop,
    notifier: DbusNotifier,
) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        sent = list(pool.map(notifier.send, [replace(SOAK, title=f"n{i}") for i in range(16)]))

    assert len({d.id for d in sent}) == 16
    assert sorted(n["summary"] for n in desktop.history()) == sorted(f"n{i}" for i in range(16))


@pytest.mark.desktop
def test_auto_chain_delivers_through_dbus(
    session: Desktop, log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    chain = build_chain("auto", log)
    try:
        delivery = chain.send(SOAK)
    finally:
        chain.close()

    assert delivery.backend == "dbus"
    assert [n["summary"] for n in session.history()] == ["Warm foot soak"]
    assert records(caplog, logging.WARNING) == []


@pytest.mark.desktop
def test_chain_waits_for_the_server_it_used_when_dunst_dies_and_hears_it_come_back(
    session: Desktop,
    log: logging.Logger,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    available = threading.Event()
    chain = build_chain("auto", log, on_available=available.set)
    try:
        assert chain.send(SOAK).backend == "dbus"
        session.kill_dunst()

        for _ in range(2):
            with pytest.raises(NotifierAway, match="notification server .* is gone"):
                chain.send(SOAK)

        assert capsys.readouterr().out == ""  # printed to a console nobody reads: not shown
        [warning] = records(caplog, logging.WARNING)
        assert warning.getMessage().startswith("dbus notifications failed")
        assert not available.is_set()

        session.start_dunst()
        assert available.wait(OWNER_WAIT_S), "on_available was not called"
        back = chain.send(SOAK)
    finally:
        chain.close()

    assert back.backend == "dbus"
    assert len(records(caplog, logging.WARNING)) == 1
    assert "dbus notifications work again" in [r.getMessage() for r in
                                               records(caplog, logging.INFO)]
    assert [n["id"] for n in session.history()] == [back.id]


@pytest.mark.desktop
def test_chain_prints_the_reminder_where_no_server_was_ever_there(
    session: Desktop, log: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    session.kill_dunst()
    chain = build_chain("auto", log, on_available=lambda: None)
    try:
        assert chain.send(SOAK).backend == "console"
    finally:
        chain.close()
    assert capsys.readouterr().out.splitlines() == [SOAK_LINE]


@pytest.mark.desktop
def test_a_desktop_that_fails_to_start_leaves_nothing_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if missing_programs():
        pytest.skip(f"needs {', '.join(missing_programs())}")
    started = []
    spawn = Desktop._spawn

    def recording_spawn(self: Desktop, *args: Any, **kwargs: Any) -> Any:
        started.append(spawn(self, *args, **kwargs))
        return started[-1]

    def broken_dunst(self: Desktop) -> None:
        raise RuntimeError("dunst broke")

    monkeypatch.setattr(Desktop, "_spawn", recording_spawn)
    monkeypatch.setattr(Desktop, "start_dunst", broken_dunst)
    half_started = Desktop()

    with pytest.raises(RuntimeError, match="dunst broke"):
        half_started.start()

    assert len(started) == 2  # the bus and Xvfb
    assert all(proc.poll() is not None for proc in started)
    assert half_started.dir is None


# -- without a session bus -------------------------------------------------------------------


@pytest.fixture
def dead_bus(tmp_path, monkeypatch: pytest.MonkeyPatch) -> str:
    """DBUS_SESSION_BUS_ADDRESS naming a socket nobody listens on (a bus that died)."""
    path = tmp_path / "bus"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))  # leaves the socket file behind, with no listener
    address = f"unix:path={path}"
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    return address


def test_dbus_raises_notify_error_without_a_bus(dead_bus: str) -> None:
    notifier = DbusNotifier()
    with pytest.raises(NotifyError, match="cannot connect to the D-Bus session bus"):
        notifier.send(SOAK)
    notifier.close()


def test_dbus_names_the_missing_variable(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # no "bus" socket in it
    with pytest.raises(NotifyError, match="DBUS_SESSION_BUS_ADDRESS is not set"):
        DbusNotifier().send(SOAK)


def test_session_bus_address_falls_back_to_the_user_bus_socket(tmp_path) -> None:
    assert session_bus_address({"DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}) == "unix:path=/x"
    assert session_bus_address({"XDG_RUNTIME_DIR": str(tmp_path)}) is None
    (tmp_path / "bus").touch()
    assert session_bus_address({"XDG_RUNTIME_DIR": str(tmp_path)}) == f"unix:path={tmp_path}/bus"


def test_auto_chain_without_a_bus_prints_the_reminder(
    dead_bus: str,
    log: logging.Logger,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    chain = build_chain("auto", log, platform="linux")
    deliveries = [chain.send(SOAK), chain.send(SOAK)]
    chain.close()

    assert deliveries == [Delivery("console"), Delivery("console")]
    assert capsys.readouterr().out.splitlines() == [SOAK_LINE, SOAK_LINE]
    [warning] = records(caplog, logging.WARNING)
    assert "cannot connect" in warning.getMessage()


# -- the chain, with fakes -------------------------------------------------------------------


class FakeNotifier:
    """Records what it was sent; fails while ``failures`` lasts (a NotifyError each time)."""

    def __init__(self, name: str, failures: int = 0, error: Exception | None = None) -> None:
        self.name = name
        self.failures = failures
        self.error = error or NotifyError(f"{name} is down")
        self.sent: list[Notice] = []
        self.closed = False

    def send(self, notice: Notice) -> Delivery:
        if self.failures:
            self.failures -= 1
            raise self.error
        self.sent.append(notice)
        return Delivery(self.name)

    def close(self) -> None:
        self.closed = True


def test_chain_logs_a_failing_backend_once_and_its_recovery(
    log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    flaky, fallback = FakeNotifier("flaky", failures=3), FakeNotifier("fallback")
    chain = NotifierChain([flaky, fallback], log)

    used = [chain.send(SOAK).backend for _ in range(5)]

    assert used == ["fallback"] * 3 + ["flaky"] * 2
    assert len(fallback.sent) == 3
    [warning] = records(caplog, logging.WARNING)
    assert warning.getMessage() == (
        "flaky notifications failed, using the next notifier until they work again: flaky is down"
    )
    [info] = records(caplog, logging.INFO)
    assert info.getMessage() == "flaky notifications work again"


def test_chain_survives_a_backend_bug(
    log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    buggy = FakeNotifier("buggy", failures=1, error=KeyError("oops"))
    chain = NotifierChain([buggy, FakeNotifier("console")], log)

    assert chain.send(SOAK).backend == "console"
    [warning] = records(caplog, logging.WARNING)
    assert warning.exc_info is not None  # a bug gets its traceback


def test_chain_raises_only_when_every_backend_failed(log: logging.Logger) -> None:
    chain = NotifierChain([FakeNotifier("a", failures=1), FakeNotifier("b", failures=1)], log)
    with pytest.raises(NotifyError, match="a: a is down; b: b is down"):
        chain.send(SOAK)


def test_chain_closes_every_backend(log: logging.Logger) -> None:
    backends = [FakeNotifier("a"), FakeNotifier("b")]
    NotifierChain(backends, log).close()
    assert all(backend.closed for backend in backends)


@pytest.mark.parametrize(
    ("choice", "platform", "names"),
    [
        # On Linux plyer would reach the same server as dbus and cannot report failure.
        ("auto", "linux", ("dbus", "console")),
        ("auto", "darwin", ("dbus", "plyer", "console")),
        ("auto", "win32", ("dbus", "plyer", "console")),
        ("dbus", "linux", ("dbus", "console")),
        ("plyer", "linux", ("plyer", "console")),
        ("plyer", "darwin", ("plyer", "console")),
        ("console", "linux", ("console",)),
    ],
)
def test_build_chain_backends(
    choice: str, platform: str, names: tuple[str, ...], log: logging.Logger
) -> None:
    chain = build_chain(choice, log, platform=platform)
    assert chain.names == names
    chain.close()


def test_build_chain_rejects_an_unknown_choice(log: logging.Logger) -> None:
    with pytest.raises(ValueError, match='Unknown notifier "dbsu" .valid: auto, dbus'):
        build_chain("dbsu", log)


# -- console -----------------------------------------------------------------------------------


def test_console_writes_one_line_with_the_hint() -> None:
    stream = io.StringIO()
    notifier = ConsoleNotifier(stream)

    assert notifier.send(SOAK) == Delivery("console")
    notifier.send(Notice("Drink water", "After heavy sweating:\nwater and a little salt."))

    assert stream.getvalue().splitlines() == [
        SOAK_LINE,
        "[crampguard] Drink water — After heavy sweating: water and a little salt.",
    ]


def test_console_defaults_to_stdout_at_send_time(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleNotifier().send(SOAK)
    assert capsys.readouterr().out == SOAK_LINE + "\n"


def test_console_with_a_closed_stream_raises_notify_error() -> None:
    stream = io.StringIO()
    stream.close()
    with pytest.raises(NotifyError):
        ConsoleNotifier(stream).send(SOAK)


# -- plyer -------------------------------------------------------------------------------------


class FakePlyer:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[dict] = []

    def notify(self, **kwargs: object) -> None:
        self.calls.append(kwargs)
        if self.error:
            raise self.error


def test_plyer_failure_becomes_notify_error(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePlyer(error=OSError("no notification centre"))
    monkeypatch.setattr(plyer, "notification", fake)

    with pytest.raises(NotifyError, match="no notification centre") as raised:
        PlyerNotifier(platform="darwin").send(SOAK)

    assert isinstance(raised.value.__cause__, OSError)
    assert len(fake.calls) == 1


def test_plyer_puts_the_hint_in_the_body(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePlyer()
    monkeypatch.setattr(plyer, "notification", fake)

    delivery = PlyerNotifier(platform="win32").send(replace(STRETCH, timeout_s=20))

    assert delivery == Delivery("plyer", id=None, actions_shown=False)
    [call] = fake.calls
    assert call["title"] == "Calf stretch"
    assert call["message"] == (
        "Stretch each calf for 30 seconds.\n\nRun: crampguard done calf-stretch"
    )
    assert call["app_name"] == "crampguard"
    assert call["app_icon"] == ""  # a theme icon name is no file plyer could load
    assert call["timeout"] == 20


def test_plyer_on_linux_without_a_bus_refuses_instead_of_losing_the_reminder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakePlyer()
    monkeypatch.setattr(plyer, "notification", fake)

    with pytest.raises(NotifyError, match="session bus"):
        PlyerNotifier(platform="linux", env={}).send(SOAK)
    assert fake.calls == []


def test_plyer_chain_falls_back_to_the_console(
    monkeypatch: pytest.MonkeyPatch,
    log: logging.Logger,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(plyer, "notification", FakePlyer(error=RuntimeError("broken")))

    chain = build_chain("plyer", log, platform="darwin")

    assert chain.send(SOAK).backend == "console"
    assert capsys.readouterr().out == SOAK_LINE + "\n"


# -- the notice --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"urgency": "urgent"}, 'Unknown urgency "urgent" .valid: low, normal, critical'),
        ({"timeout_s": -1}, "timeout_s must be None"),
        ({"actions": (("done",),)}, "each action is a .key, label. pair"),
    ],
)
def test_notice_rejects_bad_fields(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Notice("t", "b", **fields)
