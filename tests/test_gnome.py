"""crampguard on a real GNOME Shell 43 (headless): what GNOME's notices can and cannot do.

GNOME broadcasts a button's press under the shell's own name and its notification server
passes it on only to the connection that sent the notice: once that run of the daemon has
ended, nobody hears it. So a notice an earlier run left on screen is shown again in its
place at start. And its buttons go with its banner (its message list shows none), so the
command to type stays in the body.
"""

from __future__ import annotations

import time

import pytest

from tests.support.daemon_proc import Daemon, cli, clock_in, kinds
from tests.support.routines import routine_text

pytestmark = [pytest.mark.slow, pytest.mark.desktop]

BUTTONS = '[notify]\nactions = ["done", "snooze 10m"]\n'


def _until(condition, what: str, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_done_on_a_notice_an_earlier_run_left_on_screen_is_recorded(routines, gnome):
    (routines / "stretch.toml").write_text(routine_text("Stretch", clock_in(2), notify=BUTTONS))
    env = {**gnome.env, "CRAMPGUARD_NOTIFIER": "dbus"}
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        first = daemon.wait_for(r"delivered stretch via dbus as #(\d+)", timeout=8)[1]
        assert daemon.stop() == 0
    assert "Stretch" in gnome.titles()
    body = gnome.bodies()["Stretch"]
    assert "crampguard done stretch" in body  # gone with the banner, the buttons; not this
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        again = daemon.wait_for(r"delivered stretch via dbus as #(\d+) .*shown_again")[1]
        assert again == first  # in the old notice's place
        assert gnome.titles().count("Stretch") == 1
        gnome.press("Stretch", "Done")
        _until(lambda: "done" in kinds("stretch", env=env), "the answer in the journal")
        assert daemon.stop() == 0
    assert kinds("stretch", env=env).count("delivered") == 1  # one reminder, shown once


def test_doctor_tells_a_screensaver_that_answered_an_error_from_one_not_there(gnome):
    """GNOME's screensaver service is a go-between the bus starts on demand; without the
    shell's lock screen (no display manager here) it answers with the bus's error about
    that one. It is there: doctor must not say it is not."""
    done = cli("doctor", env={**gnome.env, "CRAMPGUARD_NOTIFIER": "dbus"})
    lines = {line.split(": ", 2)[1]: line for line in done.stdout.splitlines()
             if line.startswith("presence: ")}
    assert "is on the session bus but answered an error (" in lines["gnome-screensaver"]
    assert "org.gnome.Shell.ScreenShield" in lines["gnome-screensaver"]
    assert lines["freedesktop-screensaver"].endswith(
        "org.freedesktop.ScreenSaver is not on the session bus")


@pytest.mark.parametrize("gnome", [{"lock_screen": True}], indirect=True)
def test_a_reminder_due_while_gnome_is_locked_waits_for_the_unlock(routines, gnome):
    """GNOME's screensaver service is started by the daemon's own asking: the lock is seen
    with nothing else having started it."""
    (routines / "bedtime.toml").write_text(routine_text("Bedtime", clock_in(4)))
    env = {**gnome.env, "CRAMPGUARD_NOTIFIER": "dbus"}
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"presence: .*screen lock from gnome-screensaver")
        gnome.lock()
        daemon.wait_for(r"waiting to show bedtime due .*: the screen is locked", timeout=8)
        gnome.lock(False)
        daemon.wait_for(r"delivered bedtime via dbus", timeout=3)
        assert daemon.stop() == 0


def test_a_reminder_caught_up_at_start_is_not_shown_again_as_an_earlier_one(routines, gnome):
    """Only notices an earlier run showed are shown again: one this run has just shown,
    due while the daemon was stopped, is shown once."""
    written = time.monotonic()
    (routines / "stretch.toml").write_text(routine_text("Stretch", clock_in(2),
                                                        notify=BUTTONS))
    env = {**gnome.env, "CRAMPGUARD_NOTIFIER": "dbus"}
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        assert daemon.stop() == 0
    _until(lambda: time.monotonic() > written + 2.5, "the due instant to pass while stopped")
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"delivered stretch via dbus")
        daemon.wait_for(r"crampguard running")
        assert daemon.count(r"shown_again") == 0
        assert gnome.titles().count("Stretch") == 1
        assert daemon.stop() == 0
