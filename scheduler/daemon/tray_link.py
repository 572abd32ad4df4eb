"""The daemon's side of the tray icon: what it shows, read from the daemon's state before
each sleep of the loop; what a click does is tray_actions' (imported at the first click).

Nothing of the tray is imported with `tray = false`, and the icon's bus module only where
the session has a bus. Everything here runs on the loop's thread: a click comes from the
tray's reader thread as a key and is posted to the loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scheduler import clock
from scheduler.config import defaults
from scheduler.config.routine import CRAMPS_KEY, Routine
from scheduler.timing import grammar
from scheduler.tray import menu

if TYPE_CHECKING:
    from scheduler.daemon.tray_actions import Host
    from scheduler.tray.item import Tray

log = logging.getLogger("crampguard")


class TrayLink:
    def __init__(self, daemon: Host, post: Callable[[Callable[[], Any]], None]) -> None:
        self._daemon = daemon
        self._post = post
        self._tray: Tray | None = None

    def start(self, address: str | None) -> None:
        """Show the icon where a panel hosts it; where none does yet, wait for one to come
        (the watcher's name getting an owner)."""
        if address is None:
            log.info("tray: no D-Bus session bus, no icon")
            return
        from scheduler.tray.item import Tray, TrayError

        now = clock.now()
        tray = Tray(menu.view(self.state(now), now), self._clicked, address=address)
        try:
            found = tray.start()
        except TrayError as exc:
            tray.close()
            log.warning("tray: no icon: %s", exc)
            return
        self._tray = tray
        if not found:
            log.info("tray: no StatusNotifierWatcher on the session bus (on GNOME: the "
                     "AppIndicator extension); the icon appears when a panel starts one")

    def close(self) -> None:
        if self._tray is not None:
            self._tray.close()
            self._tray = None

    def refresh(self, now: datetime) -> None:
        """Before the loop sleeps: the icon shows the state as this round left it."""
        if self._tray is not None:
            self._tray.show(menu.view(self.state(now), now))

    def state(self, now: datetime) -> menu.State:
        daemon = self._daemon
        settings = daemon.settings
        upcoming = daemon.next_reminders(now)
        first = upcoming[0] if upcoming and upcoming[0][2] is not None else None
        return menu.State(
            zone=settings.zone, wake=settings.anchors.wake,
            paused_until=daemon.memory.paused_until(now),
            next=(first[1], first[2]) if first is not None and first[2] is not None else None,
            unanswered=tuple(self._unanswered(now)))

    def _unanswered(self, now: datetime) -> list[menu.Unanswered]:
        from scheduler.daemon.answers import DONE_LOOKBACK

        found = []
        for row in self._daemon.memory.in_state("delivered"):
            routine = self._daemon.reminders.routine(row.routine)
            if routine is None or row.answer not in (None, "snoozed") \
                    or row.due < now - DONE_LOOKBACK:
                continue
            found.append(menu.Unanswered(row.routine, routine.title, row.due,
                                         snoozes=_snoozes(routine),
                                         checkin=_is_checkin(routine)))
        return sorted(found, key=lambda r: r.due)

    # --- a click ------------------------------------------------------------------------

    def _clicked(self, key: str) -> None:
        """On the tray's reader thread: the loop acts on it."""
        self._post(lambda: self._act(key))

    def _act(self, key: str) -> None:
        from scheduler.daemon.tray_actions import act  # at the first click: rarely needed

        act(self._daemon, key, clock.now())

def _snoozes(routine: Routine) -> tuple[str, ...]:
    keys = tuple(a.key for a in routine.notify.actions if a.key.startswith("snooze:"))
    return keys or (f"snooze:{grammar.format_duration(defaults.SNOOZE)}",)


def _is_checkin(routine: Routine) -> bool:
    return any(a.key.startswith(CRAMPS_KEY) for a in routine.notify.actions)

