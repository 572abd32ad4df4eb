"""Buttons coming back: a press on a notice's Done or Snooze in a real dunst reaches on_action.

dunst sends ActionInvoked(id, key) to the unique bus name that sent the notice, so the
DbusNotifier hears it on its own connection, on its reader thread. These tests press the
buttons through dunst's context menu (the harness's ``press``) and also watch that thread:
it must not wake up while nothing happens, and close() must end it at once.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jeepney import HeaderFields, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import unwrap_msg

from scheduler.notify import Notice, NotifyError, build_chain
from scheduler.notify.dbus import SERVER, DbusNotifier
from tests.support.desktop import NOTIFICATIONS, Desktop

LOG = "crampguard.test.actions"
STRETCH = Notice(
    title="Calf stretch",
    body="Stretch each calf for 30 seconds.",
    actions=(("done", "Done"), ("snooze:10m", "Snooze 10 min")),
    hint_command="crampguard done calf-stretch",
)
#: How long a press may take to come back (dunst answers within a few ms).
PRESS_TIMEOUT_S = 2.0

pytestmark = pytest.mark.desktop


class Presses:
    """An on_action that records each (id, key) and the thread it was called on."""

    def __init__(self) -> None:
        self.calls: queue.Queue[tuple[int, str]] = queue.Queue()
        self.threads: list[threading.Thread] = []

    def __call__(self, notification_id: int, key: str) -> None:
        self.threads.append(threading.current_thread())
        self.calls.put((notification_id, key))

    def next(self, timeout_s: float = PRESS_TIMEOUT_S) -> tuple[int, str]:
        try:
            return self.calls.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"no button press came back within {timeout_s:g} s") from None

    def up_to(self, *markers: tuple[int, str]) -> list[tuple[int, str]]:
        """Every press that comes back until all ``markers`` have: the markers are sent after
        the event under test, on paths that pass it in order, so whatever that event set off
        is in the list (instead of a wait during which nothing is supposed to arrive)."""
        heard: list[tuple[int, str]] = []
        while not set(markers) <= set(heard):
            heard.append(self.next())
        return heard


@pytest.fixture
def presses() -> Presses:
    return Presses()


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> logging.Logger:
    caplog.set_level(logging.DEBUG, logger=LOG)
    return logging.getLogger(LOG)


@pytest.fixture
def notifier(desktop: Desktop, presses: Presses, log: logging.Logger) -> Iterator[DbusNotifier]:
    dbus = DbusNotifier(desktop.address, on_action=presses, log=log)
    yield dbus
    dbus.close()


def reader_of(notifier: DbusNotifier) -> threading.Thread:
    assert notifier._conn is not None, "the notifier has no connection"
    return notifier._conn.thread


def context_switches(thread: threading.Thread) -> int:
    """Voluntary + involuntary context switches of a thread so far: each wakeup counts one."""
    status = Path(f"/proc/self/task/{thread.native_id}/status")
    if not status.exists():
        pytest.skip("needs Linux's /proc/self/task/<tid>/status")
    return sum(
        int(line.split()[1])
        for line in status.read_text().splitlines()
        if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"))
    )


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- a press comes back ----------------------------------------------------------------------


def test_done_and_snooze_come_back_to_on_action_on_the_reader_thread(
    desktop: Desktop, notifier: DbusNotifier, presses: Presses
) -> None:
    delivery = notifier.send(STRETCH)
    assert delivery.actions_shown

    desktop.press(delivery.id, "done")
    assert presses.next() == (delivery.id, "done")
    desktop.press(delivery.id, "snooze:10m")
    assert presses.next() == (delivery.id, "snooze:10m")

    assert presses.threads == [reader_of(notifier)] * 2
    assert threading.main_thread() not in presses.threads


def test_each_press_names_the_notice_it_belongs_to(
    desktop: Desktop, notifier: DbusNotifier, presses: Presses
) -> None:
    first, second = notifier.send(STRETCH), notifier.send(STRETCH)

    desktop.press(second.id, "snooze:10m")
    desktop.press(first.id, "done")

    assert [presses.next(), presses.next()] == [(second.id, "snooze:10m"), (first.id, "done")]


def test_build_chain_passes_on_action_to_the_dbus_backend(
    desktop: Desktop,
    presses: Presses,
    log: logging.Logger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", desktop.address)
    chain = build_chain("auto", log, platform="linux", on_action=presses)
    try:
        delivery = chain.send(STRETCH)
        assert delivery.backend == "dbus"
        desktop.press(delivery.id, "done")
        assert presses.next() == (delivery.id, "done")
    finally:
        chain.close()


def test_a_server_that_broadcasts_its_signals_is_heard_through_the_match_rules(
    desktop: Desktop, notifier: DbusNotifier, presses: Presses
) -> None:
    # dunst addresses its signals to the sender, which the bus delivers without any rule.
    # Other servers broadcast them: stand in for one, owning the name after dunst.
    notifier.send(STRETCH)  # connects, and adds the rules
    desktop.kill_dunst()
    with open_dbus_connection(desktop.address) as server:
        (reply,) = unwrap_msg(server.send_and_get_reply(message_bus.RequestName(NOTIFICATIONS)))
        assert reply == 1  # the primary owner now
        server.send(new_signal(SERVER, "NotificationClosed", "uu", (41, 2)))
        server.send(new_signal(SERVER, "ActionInvoked", "us", (41, "done")))

        assert presses.next() == (41, "done")  # NotificationClosed calls nothing


def test_a_broadcast_press_comes_back_once_while_the_monitor_listens_too(
    desktop: Desktop, notifier: DbusNotifier, presses: Presses
) -> None:
    # listen() adds the monitor that hears an earlier run's notices; a broadcast reaches it
    # as well as the live connection's match rule.
    notifier.listen()
    assert notifier._monitor is not None, "the bus refused the monitor"
    desktop.kill_dunst()
    with open_dbus_connection(desktop.address) as server:
        (reply,) = unwrap_msg(server.send_and_get_reply(message_bus.RequestName(NOTIFICATIONS)))
        assert reply == 1
        server.send(new_signal(SERVER, "ActionInvoked", "us", (41, "snooze:10m")))
        # Markers, one down each path: a broadcast the live connection hears after the press,
        # and a press addressed elsewhere (an earlier run) that only the monitor passes on.
        server.send(new_signal(SERVER, "ActionInvoked", "us", (42, "done")))
        elsewhere = new_signal(SERVER, "ActionInvoked", "us", (43, "done"))
        elsewhere.header.fields[HeaderFields.destination] = server.unique_name
        server.send(elsewhere)

        heard = presses.up_to((42, "done"), (43, "done"))
        assert sorted(heard) == [(41, "snooze:10m"), (42, "done"), (43, "done")]


def test_a_broadcast_from_a_program_not_owning_the_server_name_is_not_a_press(
    desktop: Desktop, notifier: DbusNotifier, presses: Presses
) -> None:
    shown = notifier.send(STRETCH)
    with open_dbus_connection(desktop.address) as stranger:
        stranger.send(new_signal(SERVER, "ActionInvoked", "us", (41, "done")))
        # The bus handles one sender's messages in order: once it answers this, the signal
        # above has gone wherever it was going to, before the real press below.
        stranger.send_and_get_reply(message_bus.GetId())
        desktop.press(shown.id, "done")

        assert presses.up_to((shown.id, "done")) == [(shown.id, "done")]


# -- reconnecting ----------------------------------------------------------------------------


def test_presses_come_back_after_dunst_restarts(
    desktop: Desktop, notifier: DbusNotifier, presses: Presses
) -> None:
    before = notifier.send(STRETCH)
    reader = reader_of(notifier)
    desktop.kill_dunst()
    with pytest.raises(NotifyError):
        notifier.send(STRETCH)
    desktop.start_dunst()

    after = notifier.send(STRETCH)
    desktop.press(after.id, "done")

    assert presses.next() == (after.id, "done")
    # The bus stayed, and so did the connection the new dunst answers to.
    assert reader_of(notifier) is reader
    assert before.id is not None


def test_presses_come_back_on_a_fresh_connection_after_the_old_one_broke(
    desktop: Desktop, notifier: DbusNotifier, presses: Presses
) -> None:
    notifier.send(STRETCH)
    old_reader = reader_of(notifier)
    # What a bus restart does to a kept connection, done to the notifier's socket directly.
    notifier._conn.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
    old_reader.join(PRESS_TIMEOUT_S)
    assert not old_reader.is_alive()  # ended quietly (an exception would fail this test)

    delivery = notifier.send(STRETCH)  # reconnects: a new connection, a new reader, new rules
    desktop.press(delivery.id, "snooze:10m")

    assert presses.next() == (delivery.id, "snooze:10m")
    assert presses.threads == [reader_of(notifier)]
    assert reader_of(notifier) is not old_reader


# -- the reader thread -----------------------------------------------------------------------


def test_the_reader_does_not_wake_up_while_idle(
    desktop: Desktop, notifier: DbusNotifier, presses: Presses
) -> None:
    delivery = notifier.send(STRETCH)
    desktop.press(delivery.id, "done")
    presses.next()
    reader = reader_of(notifier)
    time.sleep(0.3)  # let whatever the press set off settle

    before = context_switches(reader)
    time.sleep(3.0)
    after = context_switches(reader)

    assert after - before == 0
    assert reader.is_alive()


def test_close_ends_the_reader_at_once_and_leaves_no_descriptor(
    desktop: Desktop, presses: Presses
) -> None:
    fds = open_fds()
    notifier = DbusNotifier(desktop.address, on_action=presses)
    notifier.send(STRETCH)
    reader = reader_of(notifier)

    started = time.monotonic()
    notifier.close()
    took = time.monotonic() - started

    assert took < 0.5
    assert not reader.is_alive()
    assert reader not in threading.enumerate()
    assert open_fds() == fds  # the socket and jeepney's stop pipe are closed
    notifier.close()  # twice is fine


def test_reconnecting_leaves_no_thread_or_descriptor_behind(
    desktop: Desktop, notifier: DbusNotifier
) -> None:
    notifier.send(STRETCH)
    threads, fds = threading.active_count(), open_fds()
    for _ in range(3):
        notifier._conn.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
        notifier.send(STRETCH)

    assert threading.active_count() == threads
    assert open_fds() == fds


# -- what on_action may and may not do -------------------------------------------------------


def test_a_failing_on_action_is_logged_and_the_next_press_still_arrives(
    desktop: Desktop, presses: Presses, log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    failures = [RuntimeError("journal is locked")]

    def flaky(notification_id: int, key: str) -> None:
        if failures:
            raise failures.pop()
        presses(notification_id, key)

    notifier = DbusNotifier(desktop.address, on_action=flaky, log=log)
    try:
        delivery = notifier.send(STRETCH)
        desktop.press(delivery.id, "done")
        desktop.press(delivery.id, "snooze:10m")

        assert presses.next() == (delivery.id, "snooze:10m")
    finally:
        notifier.close()
    [error] = [r for r in caplog.records if r.name == LOG and r.levelno == logging.ERROR]
    assert error.getMessage() == f"handling the 'done' button of notification {delivery.id} failed"
    assert error.exc_info is not None


def test_sending_from_on_action_fails_at_once_instead_of_hanging(
    desktop: Desktop, log: logging.Logger
) -> None:
    outcome: queue.Queue[tuple[BaseException | None, float]] = queue.Queue()
    notifier: DbusNotifier

    def send_again(notification_id: int, key: str) -> None:
        started = time.monotonic()
        try:
            notifier.send(STRETCH)
        except BaseException as exc:  # noqa: B036 - recorded for the test to look at
            outcome.put((exc, time.monotonic() - started))
        else:
            outcome.put((None, time.monotonic() - started))

    notifier = DbusNotifier(desktop.address, on_action=send_again, log=log)
    try:
        delivery = notifier.send(STRETCH)
        desktop.press(delivery.id, "done")
        error, took = outcome.get(timeout=PRESS_TIMEOUT_S)

        assert isinstance(error, RuntimeError)
        assert "on_action" in str(error)
        assert took < 0.5
        # The reader lives on, and sends from elsewhere still work.
        assert reader_of(notifier).is_alive()
        assert notifier.send(STRETCH).backend == "dbus"
    finally:
        notifier.close()


def test_without_on_action_nothing_changes_for_the_caller(desktop: Desktop) -> None:
    notifier = DbusNotifier(desktop.address)
    try:
        delivery = notifier.send(STRETCH)
        desktop.press(delivery.id, "done")  # dunst sends the press; nobody is told
        assert notifier.send(STRETCH).id == delivery.id + 1
    finally:
        notifier.close()
