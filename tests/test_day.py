"""Closing the loop through the real daemon on the real desktop (issue 10): the morning
check-in's buttons in the cramp log (also after a missed one), a repeat replacing its
notice until Done, follow-ups after a Done and after `crampguard log workout` surviving a
restart, and a follow-up landing in quiet hours. The daemon's clock is moved with
libfaketime (tests/support/faketime.py) where a day or an hour must pass."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from scheduler.journal import nights
from tests.support.daemon_proc import ZONE, Daemon, cli, cli_json, clock_in
from tests.support.faketime import SteppedClock, needs_stepped_clock
from tests.support.routines import routine_head

pytestmark = [pytest.mark.slow, pytest.mark.desktop]

CHECKIN_ACTIONS = '[notify]\ntimeout = "0s"\nactions = ["cramps none", "cramps one", ' \
                  '"cramps several"]\n'


def routine(folder: Path, name: str, schedule: str, notify: str = "") -> None:
    (folder / f"{name}.toml").write_text(
        routine_head(name.capitalize(), f"Body of {name}.") + f"\n[schedule]\n{schedule}"
        f'quiet_hours = "ignore"\n' + notify)


def on_desktop(desktop, stepped: SteppedClock | None = None) -> dict[str, str]:
    env = {**desktop.env, "CRAMPGUARD_NOTIFIER": "dbus",
           "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"}
    if stepped is not None:
        env = {**stepped.env(env), "DBUS_SESSION_BUS_ADDRESS": desktop.address}
    return env


def night_of_due(due_text: str) -> str:
    """The night a check-in due at "YYYY-MM-DD HH:MM:SS" (local) asks about."""
    due = datetime.fromisoformat(due_text).replace(tzinfo=ZONE)
    return nights.night_before(due, ZONE).isoformat()


def test_check_in_buttons_land_in_the_cramp_log_as_the_night_just_gone(routines, desktop):
    routine(routines, "checkin", f'at = "{clock_in(3)}"\n', CHECKIN_ACTIONS)
    with Daemon(on_desktop(desktop)) as daemon:
        daemon.start("--routines", str(routines))
        shown = daemon.wait_for(r"delivered checkin via dbus as #(\d+) \(due \w+ (\S+ \S+) ")
        desktop.press(int(shown[1]), "cramps:several")
        daemon.wait_for(r"night of (\S+): several \(check-in\)", timeout=3)
        assert daemon.stop() == 0
    (cramp,) = [e for e in cli_json("history") if e["kind"] == "cramp"]
    assert cramp["detail"]["night"] == night_of_due(shown[2])
    assert cramp["detail"]["count"] == "several"
    counted = cli_json("stats", "--days", "3")["nights"]
    assert counted["unknown"] >= 1  # the nights before: not known, not counted as quiet


@needs_stepped_clock
def test_a_missed_check_in_is_asked_again_the_next_morning(routines, desktop, stepped):
    # catch_up 10m: an hour late is missed; the next day's, seen on resume, is shown
    routine(routines, "checkin", f'at = "{clock_in(4)}"\ncatch_up = "10m"\n', CHECKIN_ACTIONS)
    with Daemon(on_desktop(desktop, stepped)) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        stepped.step("+3600")  # the laptop slept through it
        missed = daemon.wait_for(r"missed checkin due \w+ (\S+ \S+) ", timeout=12)
        stepped.step("+86400")  # the next morning, a few seconds before the check-in
        again = daemon.wait_for(r"delivered checkin via dbus as #(\d+) .*asked_again",
                                timeout=20)
        desktop.press(int(again[1]), "cramps:none")
        daemon.wait_for(r"night of (\S+): none \(check-in\)", timeout=3)
        assert daemon.count(r"delivered checkin via dbus") == 2  # today's, and yesterday's
        assert daemon.stop() == 0
    (quiet,) = [e for e in cli_json("history", "--days", "3") if e["kind"] == "no_cramp"]
    assert quiet["detail"]["night"] == night_of_due(missed[1])


@needs_stepped_clock
def test_a_repeat_replaces_its_notice_and_stops_on_done(routines, desktop, stepped):
    routine(routines, "soak", f'at = "{clock_in(3)}"\n',
            '[notify]\ntimeout = "0s"\nrepeat = { every = "1m", times = 3 }\n')
    with Daemon(on_desktop(desktop, stepped)) as daemon:
        daemon.start("--routines", str(routines))
        first = daemon.wait_for(r"delivered soak via dbus as #(\d+)", timeout=8)[1]
        stepped.step("+61")
        again = daemon.wait_for(r"delivered soak via dbus as #(\d+) .*'repeat': 1", timeout=14)
        assert desktop.shown() == 1, "the repeat took the first notice's place"
        desktop.press(int(again[1]), "done")
        daemon.wait_for(r"done soak \(due ", timeout=3)
        mark = daemon.mark()
        stepped.step("+200")
        daemon.wait_for(r"wall clock jumped", timeout=14, after=mark)
        cli_json("status")  # a turn of the loop after the jump's round: repeat 2 would be in
        assert daemon.count(r"'repeat': 2") == 0
        assert daemon.stop() == 0
    assert int(first) > 0
    kinds = [e["kind"] for e in cli_json("history", "--routine", "soak")]
    assert kinds == ["done", "repeated", "delivered", "due"]


@needs_stepped_clock
def test_follow_ups_after_a_done_and_after_log_workout_survive_a_restart(
        routines, desktop, stepped):
    routine(routines, "soak", f'at = "{clock_in(3)}"\n')
    routine(routines, "stretch", 'at = "03:00"\nafter = "soak done + 20m"\ncatch_up = "2h"\n')
    routine(routines, "water", 'after = "workout + 1h"\n')
    env = on_desktop(desktop, stepped)
    args = ("--routines", str(routines))
    with Daemon(env) as daemon:
        daemon.start(*args)
        daemon.wait_for(r"delivered soak via dbus", timeout=8)
        cli_json(*args, "done", "soak")
        daemon.wait_for(r"follow-up: stretch at .* \(soak done \+ 20m\)", timeout=3)
        told = cli(*args, "log", "workout")
        assert told.returncode == 0, told.stderr
        daemon.wait_for(r"follow-up: water at .* \(workout \+ 1h\)", timeout=3)
        status = cli_json(*args, "status")
        nexts = {r["id"]: r["next"] for r in status["routines"]}
        assert nexts["water"] and nexts["stretch"]  # pending follow-ups show as next
        upcoming = cli_json(*args, "next", "--count", "5")
        assert "water" in [item["routine"] for item in upcoming]  # and in `next`, timed
        assert daemon.stop() == 0
    with Daemon(env) as daemon:
        daemon.start(*args)
        daemon.wait_for(r"crampguard running")
        stepped.step("+3700")
        daemon.wait_for(r"delivered water via dbus", timeout=14)
        daemon.wait_for(r"delivered stretch via dbus", timeout=3)
        assert daemon.stop() == 0


@needs_stepped_clock
def test_a_follow_up_that_lands_in_quiet_hours_is_held(routines, desktop, stepped,
                                                       tmp_path):
    start = (datetime.now(ZONE) + timedelta(minutes=30)).strftime("%H:%M")
    end = (datetime.now(ZONE) + timedelta(hours=3)).strftime("%H:%M")
    config = tmp_path / "config.toml"
    config.write_text(f'quiet_hours = "{start}-{end}"\n')
    (routines / "water.toml").write_text(
        routine_head("Water", "m") + '\n[schedule]\nafter = "workout + 1h"\n')
    env = on_desktop(desktop, stepped)
    args = ("--routines", str(routines), "--config", str(config))
    with Daemon(env) as daemon:
        daemon.start(*args)
        daemon.wait_for(r"crampguard running")
        assert cli(*args, "log", "workout").returncode == 0
        daemon.wait_for(r"follow-up: water at ", timeout=3)
        stepped.step("+3610")
        daemon.wait_for(r"held water due .*: quiet hours", timeout=14)
        assert daemon.count(r"delivered water") == 0
        assert daemon.stop() == 0
