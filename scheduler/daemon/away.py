"""The daemon's side of presence (``scheduler.presence``): what the user being away, the
screen locked, do-not-disturb or a suspend mean for the reminders.

The sources report on their own thread; everything here runs on the daemon's loop (the
service hands the callbacks over). The decisions themselves (skip a break, hold a reminder,
show it on return) are the state machine's (``reminders.py``); this module only tells it
when to look again, restarts interval routines after a real break, and asks the sources to
follow closely only while something waits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta

from scheduler import clock
from scheduler.config import defaults
from scheduler.config.routine import Routine
from scheduler.daemon.reminders import Reminders
from scheduler.daemon.timers import RoutineTimers
from scheduler.presence import Absence, Presence, PresenceState
from scheduler.timing import grammar

log = logging.getLogger("crampguard")


class Away:
    def __init__(self, env: Mapping[str, str], post: Callable[[Callable[[], None]], None]):
        self._presence = Presence(env)
        self._post = post
        self._handled: Absence | None = None
        self._watching = False
        self._unknown: str | None = None

    def start(self) -> None:
        self._presence.start(on_change=lambda: self._post(self._changed_on_loop),
                             on_sleep=lambda sleeping: self._post(
                                 lambda: self._slept(sleeping)))

    def stop(self) -> None:
        self._presence.stop()

    def view(self) -> PresenceState | None:
        """What the state machine asks on a due instant; None without any source."""
        return self._presence.state() if self._presence.sources else None

    def configure(self, routines: Iterable[Routine]) -> None:
        """Away means idle for the shortest ``away_resets`` among the routines."""
        shortest = min((r.schedule.away_resets for r in routines), default=defaults.AWAY_RESETS)
        self._presence.set_away_after(shortest.total_seconds())

    def bind(self, timers: RoutineTimers, reminders: Reminders,
             routines: Callable[[], Iterable[Routine]]) -> None:
        self._timers, self._reminders, self._routines = timers, reminders, routines

    def follow(self) -> None:
        """Follow closely (a source that must be polled, the active window) only while a
        reminder waits for the user's return or for do-not-disturb to end."""
        watching = self._reminders.holding()
        if watching != self._watching and self._presence.sources:
            self._watching = watching
            self._presence.set_watching(watching)

    def _changed_on_loop(self) -> None:
        state = self._presence.state()
        absence = state.last_absence
        if absence is not None and absence != self._handled:
            self._handled = absence
            self._restart_intervals(absence)
        self._reminders.release(clock.now())
        self.follow()
        if state.unknown != self._unknown:
            self._unknown = state.unknown
            if state.unknown is not None:
                log.warning("presence unknown (%s): reminders wait until it answers again",
                            state.unknown)
            else:
                log.info("presence answers again")

    def _restart_intervals(self, absence: Absence) -> None:
        away = timedelta(seconds=absence.seconds or 0)
        now = clock.now()
        for routine_id in intervals_to_restart(self._routines(), away):
            next_time = self._timers.restart_interval(routine_id, now)
            if next_time is not None:
                log.info("back after %s: %s starts again, next %s", grammar.format_duration(
                    timedelta(seconds=int(away.total_seconds()))), routine_id,
                    grammar.format_instant(next_time, next_time.tzinfo))

    def _slept(self, sleeping: bool) -> None:
        # Posting this woke the loop: its clock check sees the jump on this very wake-up
        # and re-plans (where no timerfd ends the wait as the clock is set, this is what
        # makes it happen at once instead of within CLOCK_CHECK seconds).
        log.info("logind: %s", "going to sleep" if sleeping else "resumed from sleep")


def intervals_to_restart(routines: Iterable[Routine], away: timedelta) -> list[str]:
    """Back from a break long enough to count as one (``away``): the interval routines that
    skip while the user is away (the sitting break) start their interval again. Pure, so
    the model test asks the same rule the daemon follows."""
    return [routine.id for routine in routines
            if routine.schedule.every is not None and routine.schedule.away == "skip"
            and away >= routine.schedule.away_resets]
