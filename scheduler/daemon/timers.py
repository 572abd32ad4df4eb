"""The state machine's ``Timers``: the engine's one-off timers, and each routine's next
firing as one of them, armed from the daemon's own plan (``plans.py``) and armed again
whenever it fires or the plan changes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol

from scheduler.daemon.plans import Plans
from scheduler.timing.plans import Timetable

#: A routine's own timer; ":" never occurs in a routine id, so no other key collides.
ROUTINE_TIMER = "crampguard:routine:"

#: (routine id, its run times that came due, in order)
OnDue = Callable[[str, list[datetime]], None]
#: How many settled firings in a row ``skip_settled`` passes over at most.
SKIP_SETTLED_LIMIT = 100


class TimerEngine(Protocol):
    """What the routines' timers need of the engine (``engine.Engine``): the model test
    runs them over fake timers of its own."""

    def once(self, key: str, when: datetime, fn: Callable[..., None], *args: Any) -> None: ...

    def cancel(self, key: str) -> None: ...

    def keys(self) -> list[str]: ...


class RoutineTimers:
    def __init__(self, engine: TimerEngine, on_due: OnDue, now: Callable[[], datetime]):
        self.engine = engine
        self.plans = Plans()
        self._on_due = on_due
        self._now = now

    # --- routines ------------------------------------------------------------------------

    def plan(self, routine_id: str, timetable: Timetable) -> None:
        """(Re)plan a routine from now."""
        self.plans.set(routine_id, timetable, self._now())
        self._arm(routine_id)

    def drop(self, routine_id: str) -> None:
        self.plans.drop(routine_id)
        self.engine.cancel(ROUTINE_TIMER + routine_id)

    def planned(self) -> list[tuple[str, datetime | None]]:
        """(id, next firing) of every routine planned."""
        return [(routine_id, self.plans.next_time(routine_id)) for routine_id in self.plans.ids()]

    def restart_interval(self, routine_id: str, at: datetime) -> datetime | None:
        next_time = self.plans.restart(routine_id, at)
        if next_time is not None:
            self._arm(routine_id)
        return next_time

    def replan(self, now: datetime) -> None:
        self.plans.replan(now)
        for routine_id in self.plans.ids():
            self._arm(routine_id)

    def skip_settled(self, routine_id: str,
                     known: Callable[[str, datetime], object | None]) -> None:
        """Pass over next firings that already have a row (``known``: the memory's
        ``get``): one skipped ahead (`crampguard skip`) before a restart or a re-plan is not
        the routine's next one."""
        for _ in range(SKIP_SETTLED_LIMIT):
            next_time = self.plans.next_time(routine_id)
            if next_time is None or known(routine_id, next_time) is None:
                return
            self.skip_next(routine_id)

    def own_timers(self) -> list[str]:
        """The keys of the daemon's own timers still to run (a snooze's end, a follow-up,
        a repeat): not the routines'."""
        return [key for key in self.engine.keys() if not key.startswith(ROUTINE_TIMER)]

    def _arm(self, routine_id: str) -> None:
        key = ROUTINE_TIMER + routine_id
        next_time = self.plans.next_time(routine_id)
        if next_time is None:
            self.engine.cancel(key)
        else:
            self.engine.once(key, next_time, self._fired, routine_id)

    def _fired(self, routine_id: str) -> None:
        try:
            run_times = self.plans.due(routine_id, self._now())
            if run_times:
                self._on_due(routine_id, run_times)
        finally:  # a failed delivery must not end the routine's firings
            if routine_id in self.plans:
                self._arm(routine_id)

    # --- the Timers protocol (daemon/reminders.py) ---------------------------------------

    def once(self, key: str, when: datetime, fn: Callable[..., None], *args: Any) -> None:
        self.engine.once(key, when, fn, *args)

    def cancel(self, key: str) -> None:
        self.engine.cancel(key)

    def skip_next(self, routine_id: str) -> tuple[datetime, datetime | None] | None:
        skipped = self.plans.skip_next(routine_id)
        if skipped is not None:
            self._arm(routine_id)
        return skipped

    def timetable(self, routine_id: str) -> Timetable | None:
        return self.plans.timetable(routine_id)

    def next_time(self, routine_id: str) -> datetime | None:
        return self.plans.next_time(routine_id)

    def upcoming(self, routine_id: str, start: datetime) -> Iterator[datetime]:
        return self.plans.upcoming(routine_id, start)
