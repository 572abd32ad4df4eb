"""The real daemon's tray menu, clicked over a private bus as a panel does (dbusmenu Event):
each entry goes through the daemon's own paths into the journal. The panel itself, drawn
and clicked with the pointer, is in test_tray_host.py.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.wrappers import unwrap_msg

from tests.support.daemon_proc import Daemon, cli_json, clock_in, kinds
from tests.support.mock_services import PrivateBus
from tests.support.routines import routine_text

pytestmark = [pytest.mark.slow, pytest.mark.desktop]

BUTTONS = '[notify]\nactions = ["done", "snooze 10m"]\n'


class Menu:
    """The daemon's dbusmenu, read and clicked."""

    def __init__(self, conn: DBusConnection, pid: int) -> None:
        self.conn = conn
        self.target = DBusAddress("/MenuBar", bus_name=f"org.kde.StatusNotifierItem-{pid}-1",
                                  interface="com.canonical.dbusmenu")

    def ids(self) -> dict[str, int]:
        _revision, root = unwrap_msg(self.conn.send_and_get_reply(
            new_method_call(self.target, "GetLayout", "iias", (0, -1, [])), timeout=5))
        found: dict[str, int] = {}

        def walk(node: tuple) -> None:
            item_id, props, children = node
            if "label" in props:
                found[props["label"][1]] = item_id
            for _sig, child in children:
                walk(child)

        walk(root)
        return found

    def wait(self, condition: Callable[[list[str]], bool], what: str) -> None:
        """Until the menu's labels meet ``condition`` (it follows each round of the loop)."""
        deadline = time.monotonic() + 5
        while not condition(list(self.ids())):
            assert time.monotonic() < deadline, f"the menu never showed {what}: {self.ids()}"
            time.sleep(0.02)

    def click(self, label: str) -> None:
        item_id = self.ids()[label]
        unwrap_msg(self.conn.send_and_get_reply(new_method_call(
            self.target, "Event", "isvu", (item_id, "clicked", ("i", 0), 0)), timeout=5))


@pytest.fixture
def bus() -> Iterator[PrivateBus]:
    with PrivateBus() as private:
        yield private


@pytest.fixture
def opener(tmp_path: Path) -> Path:
    """An xdg-open that notes what it was asked to open."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "xdg-open"
    script.write_text(f'#!/bin/sh\necho "$1" > {tmp_path / "opened"}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder


def test_each_menu_entry_reaches_the_journal(routines: Path, bus: PrivateBus,
                                             opener: Path, tmp_path: Path) -> None:
    (routines / "stretch.toml").write_text(routine_text("Stretch", clock_in(2),
                                                        notify=BUTTONS))
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": bus.address,
           "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent", "CRAMPGUARD_NOTIFIER": "console",
           "PATH": f"{opener}:{os.environ['PATH']}"}
    with Daemon(env) as daemon, open_dbus_connection(bus.address) as conn:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"tray: no StatusNotifierWatcher on the session bus")
        menu = Menu(conn, daemon.proc.pid)  # type: ignore[union-attr]
        daemon.wait_for(r"delivered stretch via console", timeout=8)

        def waiting(labels: list[str]) -> bool:
            return any(label.startswith("Stretch (") for label in labels)

        menu.wait(waiting, "the reminder")
        menu.click("Snooze 10m")
        daemon.wait_for(r"snoozed stretch until")
        menu.click("Skip")  # a snoozed reminder still waits for its answer
        daemon.wait_for(r"skipped stretch")
        menu.wait(lambda labels: not waiting(labels), "the reminder gone")

        menu.click("No cramps last night")
        daemon.wait_for(r"night of .*: none \(tray\)")
        menu.click("Log a cramp")
        daemon.wait_for(r"cramp logged \(tray\)")
        menu.click("Pause 1 h")
        daemon.wait_for(r"paused until")
        assert cli_json("status", env=env)["paused_until"] is not None
        menu.wait(lambda labels: "Resume" in labels, "Resume")
        menu.click("Resume")
        daemon.wait_for(r"tray: resume")
        assert cli_json("status", env=env)["paused_until"] is None

        menu.click("Open this month's report")
        daemon.wait_for(r"tray: opening the report (\S+)", timeout=60)
        assert daemon.stop() == 0

    assert kinds("stretch", env=env) == ["due", "delivered", "snoozed", "skipped"]
    history = cli_json("history", "--days", "2", env=env)
    assert {"cramp", "no_cramp", "paused", "resumed"} <= {event["kind"] for event in history}
    opened = Path((tmp_path / "opened").read_text().strip())
    assert opened.name.startswith("crampguard-report-") and opened.exists()
    assert "<html" in opened.read_text()[:1000].lower()
