"""One press, one answer, on a notification server that broadcasts its ActionInvoked.

Plasma and LXQt send ActionInvoked to everyone listening, not to the connection that sent
the notice (as dunst does). The real daemon hears the server both on its own connection
and, for the buttons of notices an earlier run left on screen, through a bus monitor: a
broadcast reaches both, and must still count once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.daemon_proc import Daemon, clock_in, kinds
from tests.support.mock_services import MockNotifications, PrivateBus
from tests.support.routines import routine_text

pytestmark = [pytest.mark.slow, pytest.mark.desktop]

BUTTONS = '[notify]\nactions = ["done", "snooze 10m"]\n'


@pytest.fixture
def plasma() -> Iterator[tuple[PrivateBus, MockNotifications]]:
    with PrivateBus() as bus, MockNotifications(bus.address) as server:
        yield bus, server


def test_one_snooze_press_broadcast_by_the_server_is_one_snooze(routines, plasma):
    bus, server = plasma
    (routines / "stretch.toml").write_text(routine_text("Stretch", clock_in(2), notify=BUTTONS))
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": bus.address,
           "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent", "CRAMPGUARD_NOTIFIER": "dbus"}
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        shown = daemon.wait_for(r"delivered stretch via dbus as #(\d+)", timeout=8)
        notice = int(shown[1])
        assert server.notices[notice] == ("Stretch", ["done", "snooze:10m"])

        server.press(notice, "snooze:10m")
        daemon.wait_for(r"snoozed stretch until")
        # A second button on the same notice comes after the first on every connection
        # that hears the server: once it is answered, any echo of the first is in too.
        server.press(notice, "done")
        daemon.wait_for(r"done stretch")
        assert daemon.stop() == 0

    assert kinds("stretch") == ["due", "delivered", "snoozed", "done"]
    assert "button" not in daemon.log
