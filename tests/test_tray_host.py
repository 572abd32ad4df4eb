"""The tray icon on a real panel: the daemon's StatusNotifierItem registered with Debian's
status-notifier-watcher and drawn by gtk-sni-tray-standalone on Xvfb, its dbusmenu opened
and clicked with xdotool, as a user would; the answers land in the journal.

Skipped with the reason where the panel's packages are absent (see tests/support/tray_host).
The screenshots are kept in the test's folder (``tray-*.png``) to look at.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.support.daemon_proc import Daemon, cli, cli_json, clock_in, kinds
from tests.support.desktop import Desktop
from tests.support.routines import routine_text
from tests.support.tray_host import ICON_COLOUR, Panel, near

pytestmark = [pytest.mark.slow, pytest.mark.desktop]

BUTTONS = '[notify]\nactions = ["done", "snooze 10m"]\n'
#: scheduler/tray/icon.py's colours
GREEN, AMBER, GREY = (0x2E, 0x9E, 0x5B), (0xE8, 0x8A, 0x1A), (0x80, 0x80, 0x80)


@pytest.fixture
def panel(desktop: Desktop) -> Panel:
    return Panel.start(desktop)


def _shot(panel: Panel, tmp_path: Path, name: str) -> None:
    panel.screenshot(tmp_path / f"tray-{name}.png")


def test_a_click_in_the_tray_menu_answers_and_pauses(routines: Path, desktop: Desktop,
                                                      panel: Panel, tmp_path: Path) -> None:
    (routines / "stretch.toml").write_text(routine_text("Stretch", clock_in(4),
                                                        notify=BUTTONS))
    env = {**desktop.env, "CRAMPGUARD_NOTIFIER": "dbus"}
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"tray: the icon is on the panel")
        assert len(panel.items()) == 1
        panel.wait_for_colour(ICON_COLOUR, near(GREEN), "the icon drawn green: running")
        _shot(panel, tmp_path, "running")

        daemon.wait_for(r"delivered stretch via dbus", timeout=10)
        panel.wait_for_colour(ICON_COLOUR, near(AMBER), "the icon amber: an answer is waiting")

        # The menu: two headings (state, next), the reminder's submenu first among the
        # entries that take a click: Down selects it, Right opens it on Done.
        panel.open_menu()
        panel.keys("Down", "Right")
        _shot(panel, tmp_path, "menu")
        panel.keys("Return")
        daemon.wait_for(r"done stretch \(due")
        panel.wait_for_colour(ICON_COLOUR, near(GREEN), "the icon green again")
        assert desktop.shown() == 0  # the notice on screen went with the answer

        # No reminder waits now: No cramps, Log a cramp, then Pause 30 min.
        panel.open_menu()
        panel.keys("Down", "Down", "Down", "Return")
        daemon.wait_for(r"paused until")
        panel.wait_for_colour(ICON_COLOUR, near(GREY), "the icon grey: paused")
        _shot(panel, tmp_path, "paused")
        status = cli_json("status", env=env)
        assert daemon.stop() == 0

    assert kinds("stretch", env=env) == ["due", "delivered", "done"]
    paused_until = datetime.fromisoformat(status["paused_until"])
    left = paused_until - datetime.now(paused_until.tzinfo)
    assert timedelta(minutes=29) < left <= timedelta(minutes=30)


def test_the_icon_comes_back_when_the_panel_restarts(routines: Path, desktop: Desktop,
                                                     panel: Panel) -> None:
    (routines / "stretch.toml").write_text(routine_text("Stretch", "12:00"))
    env = {**desktop.env, "CRAMPGUARD_NOTIFIER": "console"}
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"tray: the icon is on the panel")
        first = daemon.mark()
        panel.restart_watcher()
        daemon.wait_for(r"StatusNotifierWatcher left the session bus", after=first)
        daemon.wait_for(r"tray: the icon is on the panel", after=first)
        desktop.wait_until(lambda: len(panel.items()) == 1, "the icon registered again")
        assert daemon.stop() == 0


def test_tray_false_shows_no_icon(routines: Path, desktop: Desktop, panel: Panel,
                                  tmp_path: Path) -> None:
    (routines / "stretch.toml").write_text(routine_text("Stretch", "12:00"))
    env = {**desktop.env, "CRAMPGUARD_NOTIFIER": "console", "CRAMPGUARD_TRAY": "false"}
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        assert cli_json("status", env=env)["pid"] == daemon.proc.pid  # type: ignore[union-attr]
        assert panel.items() == []
        assert daemon.stop() == 0
    assert "tray" not in daemon.log


def _tray_notes(env: dict[str, str], routines: Path) -> list[str]:
    proc = cli("--routines", str(routines), "doctor", "--json", env=env)
    return [note for note in json.loads(proc.stdout)["notes"] if note.startswith("tray:")]


def test_doctor_says_why_there_is_no_icon(routines: Path, desktop: Desktop) -> None:
    (routines / "stretch.toml").write_text(routine_text("Stretch", "12:00"))
    [note] = _tray_notes(desktop.env, routines)
    assert "no org.kde.StatusNotifierWatcher" in note and "tray = false" in note
    [note] = _tray_notes({**desktop.env, "XDG_CURRENT_DESKTOP": "ubuntu:GNOME"}, routines)
    assert "AppIndicator and KStatusNotifierItem Support" in note
    assert _tray_notes({**desktop.env, "CRAMPGUARD_TRAY": "false"}, routines) == []

    Panel.start(desktop)
    assert _tray_notes(desktop.env, routines) == []
