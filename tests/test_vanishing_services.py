"""The real daemon when a desktop service it uses leaves the bus.

A presence source that goes away (the desktop shell restarting) says nothing about the
user: a reminder waiting for their return keeps waiting until the source answers again.
The notification server going away means a notice cannot be shown: a reminder due
meanwhile waits for the server (not printed to a console nobody reads), is shown once when
the server is back within its catch_up, and is recorded as failed, with why, after it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.daemon_proc import Daemon, cli_json, clock_in, kinds
from tests.support.desktop import Desktop
from tests.support.mock_services import MockMutter
from tests.support.routines import routine_text

pytestmark = [pytest.mark.slow, pytest.mark.desktop]

SERVER_GONE = r"the notification server \(org\.freedesktop\.Notifications\) is gone"


@pytest.fixture
def env(desktop: Desktop) -> dict[str, str]:
    return {**desktop.env, "CRAMPGUARD_NOTIFIER": "dbus",
            "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"}


@pytest.fixture
def used_server(routines, env, desktop: Desktop) -> Iterator[Daemon]:
    """A daemon that has shown one reminder on dunst, with dunst then stopped."""
    (routines / "first.toml").write_text(routine_text("First", clock_in(2)))
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"delivered first via dbus", timeout=8)
        desktop.kill_dunst()
        yield daemon


def test_a_presence_source_that_goes_away_keeps_a_waiting_reminder_waiting(
        routines, env, desktop: Desktop):
    (routines / "soak.toml").write_text(routine_text("Soak", clock_in(4)).replace(
        'quiet_hours = "ignore"', 'quiet_hours = "ignore"\naway_resets = "2s"'))
    mutter = MockMutter(desktop.address)
    try:
        with Daemon(env) as daemon:
            daemon.start("--routines", str(routines))
            daemon.wait_for(r"presence: idle time from gnome-idle-monitor")
            daemon.wait_for(r"waiting to show soak due .*: away for \d+s", timeout=8)

            mutter.stop()  # the shell restarts: its idle monitor leaves the bus
            daemon.wait_for(r"presence unknown \(org\.gnome\.Mutter\.IdleMonitor went away\)"
                            r": reminders wait until it answers again")
            cli_json("status")  # a turn of the loop later: a release would be shown by now
            assert daemon.count(r"delivered soak") == 0
            assert desktop.shown() == 0

            mutter = MockMutter(desktop.address)  # back, and the user with it
            daemon.wait_for(r"delivered soak via dbus", timeout=5)
            assert daemon.stop() == 0
    finally:
        mutter.stop()
    assert kinds("soak") == ["held", "due", "delivered"]
    assert [n["summary"] for n in desktop.history()] == ["Soak"]


def test_a_reminder_due_while_the_server_is_gone_waits_and_is_shown_once_it_is_back(
        routines, used_server: Daemon, desktop: Desktop):
    daemon = used_server
    (routines / "soak.toml").write_text(routine_text("Soak", clock_in(2)))
    daemon.wait_for(rf"waiting to show soak due .*: {SERVER_GONE}", timeout=8)
    assert daemon.count(r"delivered soak") == 0
    assert not any(line.startswith("[crampguard] Soak") for line in daemon.lines)

    desktop.start_dunst()
    daemon.wait_for(r"delivered soak via dbus", timeout=5)
    assert daemon.stop() == 0
    assert daemon.count(r"delivered soak") == 1
    assert kinds("soak") == ["held", "due", "delivered"]
    assert [n["summary"] for n in desktop.history()] == ["Soak"]


def test_a_reminder_the_server_stays_away_for_past_its_catch_up_failed_with_why(
        routines, used_server: Daemon, desktop: Desktop):
    daemon = used_server
    (routines / "soak.toml").write_text(routine_text("Soak", clock_in(2)).replace(
        'quiet_hours = "ignore"', 'quiet_hours = "ignore"\ncatch_up = "2s"'))
    daemon.wait_for(rf"waiting to show soak due .*: {SERVER_GONE}", timeout=8)
    daemon.wait_for(rf"failed soak due .*: {SERVER_GONE}", timeout=6)

    desktop.start_dunst()
    daemon.wait_for(r"the notification server is back on the session bus")
    cli_json("status")  # a turn of the loop after the return: what it releases is shown
    assert daemon.stop() == 0
    assert daemon.count(r"delivered soak") == 0
    assert kinds("soak") == ["held", "due", "failed"]
    [failed] = [e for e in cli_json("history", "--routine", "soak") if e["kind"] == "failed"]
    assert "is gone from the session bus" in failed["detail"]["reason"]
    assert desktop.history() == []
