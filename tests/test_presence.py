"""Presence sources: whether the user is there, do-not-disturb, sleep.

The rules of "away" are pinned on the pure tracker with explicit instants. Every source is
then run for real in a child process (tests.support.presence_child): X11 on Xvfb with input
from xdotool, dunst paused with dunstctl, a fullscreen window set through EWMH properties
with xprop, GNOME's banner setting written with gsettings through a real dconf-service,
and GNOME's idle monitor, the screensavers, logind and KDE's notification server as mock
services on private buses (tests.support.mock_services). For each: the state is read
right, the change arrives within the 2 s budget (measured from the action to the child's
callback, on the one monotonic clock), and nothing wakes the process while nothing
changes (its threads' context switches).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.presence import Presence, describe, probe
from scheduler.presence.state import (
    BANNERS_OFF,
    DUNST_PAUSED,
    FULLSCREEN,
    INHIBITED,
    Absence,
    Reading,
    SourceReport,
    Tracker,
)
from tests.support.fixtures import ROOT
from tests.support.mock_services import (
    MockLogind,
    MockMutter,
    MockNotifications,
    MockScreenSaver,
    PrivateBus,
    dconf_env,
)
from tests.support.presence_child import PresenceChild

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: The budget from a change (the user back, do-not-disturb ended) to the callback.
BUDGET_S = 2.0
#: How long "nothing changes" is watched for wakeups; the budget is 6 a minute.
QUIET_S = 3.0
NO_SYSTEM_BUS = "unix:path=/nonexistent/system_bus_socket"
X_PACKAGES = "xdotool x11-utils libxss1"


# -- the rules, on the pure tracker ---------------------------------------------------------


def test_idle_past_the_threshold_is_away_since_the_last_input():
    tracker = Tracker(away_after_s=300)
    assert not tracker.observe(T0, Reading(idle_seconds=299)).away
    state = tracker.observe(T0, Reading(idle_seconds=300))
    assert state.away and state.away_since == T0 - timedelta(seconds=300)
    # still away later: the start stays where it was
    later = tracker.observe(T0 + timedelta(minutes=10), Reading(idle_seconds=900))
    assert later.away_since == T0 - timedelta(seconds=300)


def test_coming_back_ends_the_absence_and_keeps_it():
    tracker = Tracker(away_after_s=300)
    tracker.observe(T0, Reading(idle_seconds=400))
    back = tracker.observe(T0 + timedelta(minutes=20), Reading(idle_seconds=1))
    assert not back.away and back.away_since is None
    start = T0 - timedelta(seconds=400)
    end = T0 + timedelta(minutes=20, seconds=-1)
    assert back.last_absence == Absence(start, end)
    assert back.last_absence.seconds == (end - start).total_seconds()
    # the absence stays the same until the next one ends
    assert tracker.observe(T0 + timedelta(hours=1), Reading(idle_seconds=5)).last_absence == (
        Absence(start, end))


def test_a_locked_screen_is_away_whatever_the_idle_time():
    tracker = Tracker(away_after_s=300)
    state = tracker.observe(T0, Reading(idle_seconds=2, locked=True))
    assert state.away and state.locked and state.away_since == T0 - timedelta(seconds=2)
    # unlocked: back, the lock's time counted as an absence
    back = tracker.observe(T0 + timedelta(minutes=3), Reading(idle_seconds=0))
    assert back.last_absence == Absence(T0 - timedelta(seconds=2), T0 + timedelta(minutes=3))
    # a source without idle time: away from the moment the lock is seen
    assert Tracker().observe(T0, Reading(locked=True)).away_since == T0


def test_a_source_gone_is_unknown_and_neither_ends_an_absence_nor_starts_one():
    gone = "org.gnome.Mutter.IdleMonitor went away"
    tracker = Tracker(away_after_s=300)
    tracker.observe(T0, Reading(idle_seconds=400))
    unknown = tracker.observe(T0 + timedelta(minutes=1), Reading(unknown=gone))
    assert unknown.unknown == gone and unknown.away and unknown.last_absence is None
    assert unknown.away_since == T0 - timedelta(seconds=400)
    assert unknown.summary != tracker.observe(T0, Reading(idle_seconds=400)).summary
    back = tracker.observe(T0 + timedelta(minutes=2), Reading(idle_seconds=0))
    assert back.unknown is None and not back.away
    assert back.last_absence == Absence(T0 - timedelta(seconds=400), T0 + timedelta(minutes=2))
    present = Tracker().observe(T0, Reading(unknown=gone))
    assert not present.away and present.away_since is None and present.unknown == gone


def test_without_idle_time_nobody_is_ever_away_unless_locked():
    state = Tracker(away_after_s=1).observe(T0, Reading(idle_seconds=None, dnd=DUNST_PAUSED))
    assert not state.away and state.idle_seconds is None and state.dnd == DUNST_PAUSED


def test_describe_says_what_answers_and_when_nothing_does():
    assert describe([SourceReport("x11", False, "no X display")]).startswith(
        "no presence source answers: reminders are shown whether or not you are there")
    reports = [SourceReport("x11", True, "", ("idle", "do-not-disturb"), used=True),
               SourceReport("logind", True, "", ("sleep", "idle", "lock")),
               SourceReport("dunst-paused", True, "", ("do-not-disturb",))]
    assert describe(reports) == ("idle time from x11; screen lock from logind; "
                                 "do-not-disturb from x11, dunst-paused; sleep from logind")


# -- a headless box: nothing answers, nothing runs ----------------------------------------


def _env(session: str | None = None, system: str | None = None, display: str | None = None,
         **extra: str) -> dict[str, str]:
    """This process's environment without any desktop, plus the given parts."""
    env = {key: value for key, value in os.environ.items() if key not in (
        "DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "DBUS_SYSTEM_BUS_ADDRESS",
        "XDG_SESSION_ID", "XDG_RUNTIME_DIR")}
    env["DBUS_SYSTEM_BUS_ADDRESS"] = system or NO_SYSTEM_BUS
    if session:
        env["DBUS_SESSION_BUS_ADDRESS"] = session
    if display:
        env["DISPLAY"] = display
    return {**env, **extra}


@pytest.mark.slow
def test_headless_no_source_answers_and_nothing_is_started():
    reports = probe(_env())
    assert [report for report in reports if report.found] == []
    assert {report.name: report.detail for report in reports}["x11"] == (
        "no X display (DISPLAY is not set)")
    assert "no presence source answers" in describe(reports)
    # a bus that is named but gone is said so, before its sources
    stale = probe(_env(session="unix:path=/nonexistent/bus"))
    assert (stale[0].name, stale[0].found) == ("session-bus", False)
    assert stale[0].detail.startswith("cannot connect to the session bus unix:path=/nonexist")
    assert "no presence source answers" in describe(stale)
    with PresenceChild(_env(), "--away-after", "1") as child:
        assert child.started["sources"] == []
        assert child.thread_count() == 1  # no reader, no presence thread
        state = child.state()
        assert (state["away"], state["dnd"], state["idle_seconds"]) == (False, None, None)
        assert child.changes() == []


def test_the_threshold_must_be_positive():
    with pytest.raises(ValueError, match="more than 0 seconds"):
        Presence(_env()).set_away_after(0)


# -- helpers for the real sources ---------------------------------------------------------


def _quiet(child: PresenceChild, seconds: float = QUIET_S) -> int:
    """The child's context switches while nothing changes for ``seconds``."""
    time.sleep(0.3)  # let the last change settle
    before = child.switches()
    time.sleep(seconds)
    return child.switches() - before


def _change(child: PresenceChild, after: int, timeout: float = 5.0, **expected: object) -> dict:
    """The first change from event ``after`` on whose state has the ``expected`` values."""
    event = child.wait_for("change", lambda e: all(
        e["state"][key] == value for key, value in expected.items()), after=after,
        timeout=timeout)
    return event


def _after(child: PresenceChild, action: Callable[[], object],
           **expected: object) -> tuple[float, dict]:
    """Do ``action`` and wait for the change it brings (a state with the ``expected``
    values): the seconds from just before the action to the child's callback, and the
    event."""
    seen = len(child.events)
    started = time.monotonic()
    action()
    event = _change(child, seen, **expected)
    return event["at"] - started, event


def _unnoticed(child: PresenceChild, action: Callable[[], object]) -> None:
    """Do ``action``; no change is reported for it."""
    seen = len(child.events)
    action()
    time.sleep(0.5)
    assert child.changes(seen) == []


def _eventually(condition: Callable[[], bool], timeout: float = BUDGET_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the budget"
        time.sleep(0.02)


def _needs(*programs: str, package: str) -> None:
    missing = [program for program in programs if shutil.which(program) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (Debian packages: {package})")


@pytest.fixture
def x_tools() -> None:
    _needs("xdotool", "xprop", "xmessage", package=X_PACKAGES)


class Input:
    """The user at the keyboard and mouse: xdotool moves the pointer (XTEST input, which
    resets the server's idle time as a hand on the mouse does)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.moves = 0

    def touch(self) -> float:
        """Move the mouse; returns the instant just before (monotonic)."""
        self.moves += 1
        at = time.monotonic()
        subprocess.run(["xdotool", "mousemove", str(10 + self.moves % 50), "10"],
                       env=self.env, check=True, timeout=5)
        return at


def _present(child: PresenceChild, user: Input) -> tuple[float, int]:
    """Touch the mouse and wait until the child says so; returns the instant of the touch
    and the number of events by then (the display may have been idle since it started)."""
    touched = user.touch()
    _eventually(lambda: child.state()["away"] is False)
    return touched, len(child.events)


# -- X11 on Xvfb ----------------------------------------------------------------------------


@pytest.mark.slow
def test_x11_idle_away_and_back_through_the_sync_alarms(desktop, x_tools):
    user = Input(desktop.env)
    with PresenceChild(desktop.env, "--away-after", "1.5") as child:
        assert child.started["sources"][0] == "x11"
        [x11] = [r for r in child.started["reports"] if r["name"] == "x11"]
        assert x11["used"] and "SYNC IDLETIME alarms (no polling)" in x11["detail"]
        left, seen = _present(child, user)
        away = _change(child, seen, away=True)
        assert away["at"] - (left + 1.5) < BUDGET_S  # seen as the threshold passes
        assert away["state"]["idle_seconds"] >= 1.5
        assert _quiet(child) <= 1  # away, nothing held: asleep

        delay, back = _after(child, user.touch, away=False)
        assert delay < BUDGET_S
        absence = back["state"]["last_absence"]
        length = (datetime.fromisoformat(absence["end"])
                  - datetime.fromisoformat(absence["start"])).total_seconds()
        assert abs(length - (back["at"] - delay - left)) < 0.5

        child.command("away_after 300", "away_after")
        user.touch()
        assert _quiet(child) <= 1  # active: asleep too
        assert child.state()["away"] is False


@pytest.mark.slow
def test_x11_without_the_alarms_looks_at_the_time_and_polls_only_when_watching(
        desktop, x_tools):
    user = Input(desktop.env)
    with PresenceChild(desktop.env, "--away-after", "1.5", "--no-sync") as child:
        left, seen = _present(child, user)
        away = _change(child, seen, away=True)
        assert away["at"] - (left + 1.5) < BUDGET_S  # the timer set for the crossing
        assert _quiet(child) <= 1  # away and nothing held: no polling

        seen = len(child.events)
        _unnoticed(child, user.touch)  # nobody asked
        assert child.state()["away"] is False  # but a question gets the truth

        # held: once away again, asked each second, and the return seen within the budget
        child.command("watch on", "watching")
        _change(child, seen, away=True, timeout=5)
        assert _after(child, user.touch, away=False)[0] < BUDGET_S


def _window(desktop, name: str) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(["xmessage", "-name", name, "presentation"], env=desktop.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    found = subprocess.run(["xdotool", "search", "--sync", "--classname", name],
                           env=desktop.env, capture_output=True, text=True, timeout=10,
                           check=True)
    return proc, found.stdout.split()[0]


def _xprop(desktop, *args: str) -> None:
    subprocess.run(["xprop", *args], env=desktop.env, check=True, timeout=5)


@pytest.mark.slow
def test_fullscreen_window_read_when_asked_and_followed_while_watching(desktop, x_tools):
    proc, window = _window(desktop, "crampguard-fullscreen")
    try:
        # What a window manager does: the active window on the root, its state on itself.
        _xprop(desktop, "-root", "-f", "_NET_ACTIVE_WINDOW", "32x", "-set",
               "_NET_ACTIVE_WINDOW", window)
        _xprop(desktop, "-id", window, "-f", "_NET_WM_STATE", "32a", "-set", "_NET_WM_STATE",
               "_NET_WM_STATE_FULLSCREEN")
        with PresenceChild(desktop.env) as child:
            _change(child, 0, dnd=FULLSCREEN)  # reported at start: not the assumed state
            assert child.state()["dnd"] == FULLSCREEN
            # not watching: the state is read on demand, focus changes wake nobody
            _unnoticed(child, lambda: _xprop(desktop, "-id", window, "-remove", "_NET_WM_STATE"))
            assert child.state()["dnd"] is None

            child.command("watch on", "watching")
            delay, _on = _after(child, lambda: _xprop(
                desktop, "-id", window, "-f", "_NET_WM_STATE", "32a", "-set", "_NET_WM_STATE",
                "_NET_WM_STATE_FULLSCREEN"), dnd=FULLSCREEN)
            assert delay < BUDGET_S
            assert _quiet(child) <= 1

            delay, _off = _after(child, lambda: _xprop(  # another window takes the focus
                desktop, "-root", "-f", "_NET_ACTIVE_WINDOW", "32x", "-set",
                "_NET_ACTIVE_WINDOW", "0"), dnd=None)
            assert delay < BUDGET_S

            child.command("watch off", "watching")
            _unnoticed(child, lambda: _xprop(desktop, "-root", "-f", "_NET_ACTIVE_WINDOW",
                                             "32x", "-set", "_NET_ACTIVE_WINDOW", window))
            assert child.state()["dnd"] == FULLSCREEN
    finally:
        proc.terminate()
        proc.wait(5)


@pytest.mark.slow
def test_the_x_server_going_away_ends_nothing(desktop, x_tools):
    """Xlib ends the process when its server goes away unless told otherwise: the daemon
    must outlive the display (a session ending, Xvfb here) and then sleep, not spin."""
    with PresenceChild(desktop.env, "--away-after", "300") as child:
        assert child.state()["idle_seconds"] is not None
        xvfb, desktop._xvfb = desktop._xvfb, None  # the harness has no public way to kill it
        xvfb.kill()
        xvfb.wait(5)
        _eventually(lambda: child.state()["idle_seconds"] is None)
        assert _quiet(child) <= 1
        assert child.proc.poll() is None


# -- dunst ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_dunst_paused_and_resumed(desktop):
    with PresenceChild(desktop.env) as child:
        assert "dunst-paused" in child.started["sources"]
        assert child.state()["dnd"] is None
        assert _after(child, lambda: desktop.dunstctl("set-paused", "true"),
                      dnd=DUNST_PAUSED)[0] < BUDGET_S
        assert _quiet(child) <= 1
        assert _after(child, lambda: desktop.dunstctl("set-paused", "false"),
                      dnd=None)[0] < BUDGET_S


@pytest.mark.slow
def test_probe_on_the_desktop(desktop):
    reports = {report.name: report for report in probe(desktop.env)}
    assert reports["x11"].found and reports["x11"].used
    assert reports["dunst-paused"].found and not reports["dunst-paused"].used
    assert not reports["gnome-idle-monitor"].found
    assert reports["gnome-idle-monitor"].detail == (
        "org.gnome.Mutter.IdleMonitor is not on the session bus")
    assert reports["gnome-banners"].detail.startswith("the notification server is dunst")
    assert describe(list(reports.values())) == (
        "idle time from x11; no screen lock; do-not-disturb from x11, dunst-paused; no sleep")


# -- mock services on private buses --------------------------------------------------------


@pytest.fixture
def buses() -> Iterator[tuple[PrivateBus, PrivateBus]]:
    """A private session bus and a private "system" bus (no dunst, no display)."""
    _needs("dbus-daemon", package="dbus")
    with PrivateBus() as session, PrivateBus() as system:
        yield session, system


@pytest.mark.slow
@pytest.mark.desktop
def test_an_idle_monitor_that_leaves_the_bus_is_unknown_until_one_answers_again(buses):
    session, _system = buses
    gone = "org.gnome.Mutter.IdleMonitor went away"
    mutter = MockMutter(session.address)
    try:
        with PresenceChild(_env(session.address), "--away-after", "1") as child:
            away = _change(child, 0, away=True)
            mutter.stop()  # the shell restarts
            unknown = _change(child, child.events.index(away) + 1, unknown=gone)
            # still away, the absence not ended: the monitor going is no return
            assert unknown["state"]["away"] and unknown["state"]["last_absence"] is None
            assert unknown["state"]["idle_seconds"] is None
            seen = len(child.events)
            mutter = MockMutter(session.address)  # the new shell's monitor, the user at it
            back = _change(child, seen, unknown=None, away=False)
            assert back["state"]["last_absence"]["end"] is not None
    finally:
        mutter.stop()


@pytest.mark.slow
@pytest.mark.desktop
def test_gnome_idle_monitor_watches_both_ways(buses):
    session, _system = buses
    with MockMutter(session.address) as mutter:
        with PresenceChild(_env(session.address), "--away-after", "1.5") as child:
            assert child.started["sources"] == ["gnome-idle-monitor"]
            left = time.monotonic()
            mutter.activity()
            away = _change(child, 0, away=True)
            assert away["at"] - (left + 1.5) < BUDGET_S
            time.sleep(0.3)  # the user-active watch is added just after
            calls = len(mutter.calls)
            assert _quiet(child) <= 1
            assert mutter.calls[calls:] == []  # not asked while away either: no polling

            delay, back = _after(child, mutter.activity, away=False)
            assert delay < BUDGET_S
            assert back["state"]["last_absence"]["end"] is not None
            assert {"AddIdleWatch", "AddUserActiveWatch"} <= set(mutter.calls)

            child.command("away_after 300", "away_after")  # the watch moves
            _eventually(lambda: "RemoveWatch" in mutter.calls)
            mutter.activity()
            time.sleep(0.3)
            calls = len(mutter.calls)
            assert _quiet(child) <= 1
            assert mutter.calls[calls:] == []


@pytest.mark.slow
@pytest.mark.desktop
def test_screensavers_lock_and_kde_idle_time(buses):
    session, _system = buses
    with MockScreenSaver(session.address) as kde, \
            MockScreenSaver(session.address, gnome=True) as gnome:
        with PresenceChild(_env(session.address), "--away-after", "300") as child:
            assert child.started["sources"] == ["freedesktop-screensaver",
                                                "gnome-screensaver"]
            reports = {r["name"]: r for r in child.started["reports"]}
            assert reports["freedesktop-screensaver"]["used"]  # idle time by asking
            assert reports["gnome-screensaver"]["provides"] == ["lock"]
            kde.activity()
            assert child.state()["idle_seconds"] < 1
            assert _quiet(child) <= 1  # the next look is at the threshold, 5 min away

            for saver in (gnome, kde):
                assert _after(child, lambda saver=saver: saver.set_active(True),
                              locked=True, away=True)[0] < BUDGET_S
                assert _quiet(child) <= 1
                assert _after(child, lambda saver=saver: saver.set_active(False),
                              locked=False, away=False)[0] < BUDGET_S

            # idle time without a signal: one look as it reaches the threshold
            seen = len(child.events)
            left = time.monotonic()
            kde.activity()
            child.command("away_after 1.5", "away_after")
            away = _change(child, seen, away=True)
            assert away["at"] - (left + 1.5) < BUDGET_S


@pytest.mark.slow
@pytest.mark.desktop
def test_logind_hints_and_sleep_on_the_system_bus(buses):
    session, system = buses
    with MockLogind(system.address) as logind:
        env = _env(session.address, system.address, XDG_SESSION_ID="c7")
        with PresenceChild(env, "--away-after", "1") as child:
            [report] = [r for r in child.started["reports"] if r["name"] == "logind"]
            assert report["found"] and report["used"]
            assert report["detail"] == (
                "session c7 (XDG_SESSION_ID) (x11): idle and locked hints, sleep signal")
            assert _quiet(child) <= 1

            assert _after(child, lambda: logind.set_session(LockedHint=("b", True)),
                          locked=True)[0] < BUDGET_S
            assert _after(child, lambda: logind.set_session(LockedHint=("b", False)),
                          locked=False, away=False)[0] < BUDGET_S

            # the desktop sets the idle hint; the threshold counts from it
            delay, _away = _after(child, lambda: logind.idle(True), away=True)
            assert delay - 1 < BUDGET_S
            assert _quiet(child) <= 1
            assert _after(child, lambda: logind.idle(False), away=False)[0] < BUDGET_S

            for going in (True, False):
                seen = len(child.events)
                started = time.monotonic()
                logind.prepare_for_sleep(going)
                slept = child.wait_for("sleep", after=seen)
                assert slept["going"] is going and slept["at"] - started < BUDGET_S


@pytest.mark.slow
@pytest.mark.desktop
def test_logind_finds_the_session_without_its_id_and_skips_a_text_session(buses):
    _session, system = buses
    with MockLogind(system.address, by_pid=()):
        [report] = [r for r in probe(_env(system=system.address)) if r.name == "logind"]
        assert report.found and report.detail == (
            "session c7 (the user's display session) (x11): idle and locked hints, "
            "sleep signal")
    with MockLogind(system.address, session_type="tty"):
        [report] = [r for r in probe(_env(system=system.address, XDG_SESSION_ID="c7"))
                    if r.name == "logind"]
        assert report.provides == ("sleep",)
        assert "is a tty session, not graphical" in report.detail
    [report] = [r for r in probe(_env(system=system.address)) if r.name == "logind"]
    assert not report.found
    assert report.detail == "org.freedesktop.login1 is not on the system bus"


@pytest.mark.slow
@pytest.mark.desktop
def test_kde_notifications_inhibited(buses):
    session, _system = buses
    with MockNotifications(session.address, inhibited=False) as server:
        with PresenceChild(_env(session.address)) as child:
            assert child.started["sources"] == ["notifications-inhibited"]
            assert _after(child, lambda: server.inhibit(True), dnd=INHIBITED)[0] < BUDGET_S
            assert _quiet(child) <= 1
            assert _after(child, lambda: server.inhibit(False), dnd=None)[0] < BUDGET_S


@pytest.mark.slow
@pytest.mark.desktop
def test_a_server_that_starts_later_is_taken_on(buses):
    """A notification server D-Bus starts with the first notice, after the daemon: its
    switch counts from then on. Until then the process sleeps like one without sources."""
    session, _system = buses
    with PresenceChild(_env(session.address)) as child:
        assert child.started["sources"] == []
        assert _quiet(child) <= 1
        with MockNotifications(session.address, inhibited=False) as server:
            _eventually(lambda: child.state()["sources"] == ["notifications-inhibited"])
            assert _after(child, lambda: server.inhibit(True), dnd=INHIBITED)[0] < BUDGET_S
            seen = len(child.events)
        # gone again: its switch no longer holds anything
        _change(child, seen, dnd=None)


DCONF_SERVICE = Path("/usr/libexec/dconf-service")


@pytest.mark.slow
@pytest.mark.desktop
def test_gnome_banners_through_a_real_dconf(buses, tmp_path):
    _needs("gsettings", package="libglib2.0-bin gsettings-desktop-schemas dconf-service")
    if not DCONF_SERVICE.exists():
        pytest.skip("needs dconf-service (Debian packages: dconf-service "
                    "dconf-gsettings-backend)")
    session, _system = buses
    env = _env(session.address, **{key: value for key, value in dconf_env(tmp_path).items()
                                   if key.startswith(("XDG_", "GSETTINGS"))})
    session.start([str(DCONF_SERVICE)], env)  # the writer; stopped with the bus
    with MockNotifications(session.address, server="gnome-shell"):
        def gsettings(*args: str) -> None:
            subprocess.run(["gsettings", "set", *args], env=env, check=True, timeout=10)

        gsettings("org.gnome.desktop.notifications", "show-banners", "true")
        with PresenceChild(env) as child:
            assert "gnome-banners" in child.started["sources"]
            assert child.state()["dnd"] is None
            assert _after(child, lambda: gsettings(
                "org.gnome.desktop.notifications", "show-banners", "false"),
                dnd=BANNERS_OFF)[0] < BUDGET_S
            # other settings the desktop writes do not reach the process at all
            time.sleep(0.3)
            before = child.switches()
            gsettings("org.gnome.desktop.interface", "clock-format", "12h")
            time.sleep(1.0)
            assert child.switches() - before == 0
            assert _after(child, lambda: gsettings(
                "org.gnome.desktop.notifications", "show-banners", "true"),
                dnd=None)[0] < BUDGET_S


# -- memory ---------------------------------------------------------------------------------

_MEASURE = """
import time
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
import ctypes, dataclasses, datetime, selectors, subprocess  # the daemon has them already
import scheduler.notify.dbus
before = rss()
from scheduler.presence import Presence
presence = Presence()
presence.start(lambda: None, lambda going: None)
time.sleep(0.5)
presence.state()
print(round(rss() - before, 2), ' '.join(presence.sources))
presence.stop()
"""


@pytest.mark.slow
def test_memory_of_presence_in_a_process(desktop, capsys):
    """Importing and starting Presence on the desktop (X11 and dunst answer) adds about
    1.5 MiB of resident memory to a process that has what the daemon has loaded (the
    notifier, ctypes, subprocess): the presence modules, Xlib and its extensions, the X
    connection, two threads. The daemon's budget leaves 3.7 MiB."""
    env = {key: value for key, value in desktop.env.items()
           if key != "PYTHONDONTWRITEBYTECODE"}  # installed code has its bytecode compiled
    env["PYTHONPATH"] = str(ROOT)
    for _run in range(2):  # the first run writes the bytecode
        done = subprocess.run([sys.executable, "-c", _MEASURE], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=30, check=True)
    added, *sources = done.stdout.split()
    assert sources == ["x11", "dunst-paused"]
    with capsys.disabled():
        print(f"\npresence adds {added} MiB RSS")
    assert float(added) < 2.5
