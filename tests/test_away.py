"""Presence through the real daemon on the real desktop (issue 9): a reminder held while the
screen is locked and shown on unlock, one held past its catch_up recorded as missed, a break
skipped while the user is away and its interval restarted on return, do-not-disturb (dunst
paused) holding and releasing, a critical reminder coming through.

The desktop's own session bus carries dunst and a mock presence service (tests/support/
mock_services.py); no system bus, so logind plays no part here (tests/test_presence.py
covers it on a private one).
"""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from scheduler.timing.grammar import INSTANT_FORMATS
from tests.support.daemon_proc import Daemon, cli, clock_in
from tests.support.mock_services import MockMutter
from tests.support.routines import routine_text

pytestmark = [pytest.mark.slow, pytest.mark.desktop]


@pytest.fixture
def env(desktop) -> dict[str, str]:
    return {**desktop.env, "CRAMPGUARD_NOTIFIER": "dbus",
            "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"}


def test_a_reminder_due_while_locked_is_shown_within_2s_of_unlocking(
        routines, env, screensaver, desktop):
    (routines / "bedtime.toml").write_text(routine_text("Bedtime", clock_in(3)))
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"presence: .*screensaver")
        screensaver.set_active(True)
        daemon.wait_for(r"waiting to show bedtime due .*: the screen is locked", timeout=8)
        assert desktop.shown() == 0
        unlocked = time.monotonic()
        screensaver.activity()
        screensaver.set_active(False)
        daemon.wait_for(r"delivered bedtime via dbus", timeout=2)
        assert time.monotonic() - unlocked <= 2.0
        assert daemon.stop() == 0
    assert [n["summary"] for n in desktop.history()] == ["Bedtime"]


def test_a_reminder_held_past_its_catch_up_is_recorded_as_missed(routines, env,
                                                                 screensaver, desktop):
    (routines / "bedtime.toml").write_text(routine_text("Bedtime", clock_in(3)).replace(
        'quiet_hours = "ignore"', 'quiet_hours = "ignore"\ncatch_up = "2s"'))
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"presence: .*screensaver")
        screensaver.set_active(True)
        daemon.wait_for(r"waiting to show bedtime", timeout=8)
        daemon.wait_for(r"missed bedtime due .*: held until past its catch_up", timeout=5)
        screensaver.set_active(False)
        time.sleep(1)
        assert daemon.count(r"delivered bedtime") == 0
        assert daemon.stop() == 0
    assert desktop.history() == []


def test_a_break_due_while_away_is_not_shown_and_restarts_on_return(routines, env,
                                                                     desktop):
    mutter = MockMutter(desktop.address)
    try:
        # a break that skips while away (2 s idle counts), due in 4 s; and an interval one
        (routines / "pause-legs.toml").write_text(routine_text("Pause legs", clock_in(4)).replace(
            'quiet_hours = "ignore"',
            'quiet_hours = "ignore"\nwhen_away = "skip"\naway_resets = "2s"'))
        (routines / "sitting.toml").write_text(
            'schema_version = 1\ntitle = "Sitting"\nmessage = "m"\n'
            'seed = "leg-exercise-breaks-when-sitting"\n[schedule]\nevery = "50m"\n'
            'between = "00:00-23:59"\nquiet_hours = "ignore"\naway_resets = "2s"\n')
        with Daemon(env) as daemon:
            daemon.start("--routines", str(routines))
            daemon.wait_for(r"presence: .*gnome-idle-monitor")
            daemon.wait_for(r"held pause-legs due .*: away \(away for \d+s\)", timeout=8)
            mutter.activity()
            back = daemon.wait_for(r"back after \d+s: sitting starts again, next (.*)",
                                   timeout=3)
            assert back[1]
            assert daemon.count(r"delivered pause-legs") == 0
            # `status` says next what the restarted interval will fire, not the plain grid
            reply = cli("status", "--json", env=env)
            assert reply.returncode == 0, reply.stderr
            nexts = {r["id"]: r["next"] for r in json.loads(reply.stdout)["routines"]}
            restarted = datetime.strptime(back[1], INSTANT_FORMATS["full"])
            assert datetime.fromisoformat(nexts["sitting"]).replace(microsecond=0) == restarted
            assert daemon.stop() == 0
    finally:
        mutter.stop()
    assert desktop.history() == []


def test_do_not_disturb_holds_and_releases_and_critical_comes_through(routines, env,
                                                                       desktop):
    (routines / "soak.toml").write_text(routine_text("Soak", clock_in(3)))
    (routines / "urgent.toml").write_text(routine_text(
        "Urgent", clock_in(3), notify='[notify]\nurgency = "critical"\n'))
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        desktop.dunstctl("set-paused", "true")
        daemon.wait_for(r"delivered urgent via dbus", timeout=8)
        daemon.wait_for(r"waiting to show soak due .*: dunst paused", timeout=3)
        resumed = time.monotonic()
        desktop.dunstctl("set-paused", "false")
        daemon.wait_for(r"delivered soak via dbus", timeout=2)
        assert time.monotonic() - resumed <= 2.0
        assert daemon.stop() == 0
    assert sorted(n["summary"] for n in desktop.history()) == ["Soak", "Urgent"]
