"""The daemon's plans: per routine, its pure timetable, an interval restarted on the user's
return, and a cursor (the last instant handled).

Nothing here reads the clock or touches the engine: every question takes ``now`` and
the answers are datetimes, so the tests pin them with plain dates. The engine only holds
one timer per routine, set to ``next_time`` and re-armed from here when it fires.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from scheduler.timing.plans import Restart, Timetable, restart_interval

#: datetimes count microseconds: "after this" is exactly "at or after" the next one.
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class RoutinePlan:
    timetable: Timetable
    #: the last instant handled: only firings after it are still to come
    cursor: datetime
    restart: Restart | None = None

    def firings(self, after: datetime) -> Iterator[datetime]:
        """Every firing after ``after``, in order: the restart's until its window closes,
        then the timetable's. Held ones too: the state machine records each as held
        (quiet hours are a decision on the due instant, not a gap in the plan)."""
        restart = self.restart
        if restart is not None and after < restart.resume_after:
            yield from (at for at in restart.firings if at > after)
            after = restart.resume_after
        yield from (f.at for f in self.timetable.firings(after, inclusive=False))


class Plans:
    """Every routine's plan, by id."""

    def __init__(self) -> None:
        self._plans: dict[str, RoutinePlan] = {}

    def __contains__(self, routine_id: str) -> bool:
        return routine_id in self._plans

    def ids(self) -> list[str]:
        return list(self._plans)

    def set(self, routine_id: str, timetable: Timetable, now: datetime) -> None:
        """(Re)plan a routine from ``now``: a firing at ``now`` itself is still to come."""
        self._plans[routine_id] = RoutinePlan(timetable, now - _TICK)

    def drop(self, routine_id: str) -> None:
        self._plans.pop(routine_id, None)

    def timetable(self, routine_id: str) -> Timetable | None:
        plan = self._plans.get(routine_id)
        return plan.timetable if plan is not None else None

    def next_time(self, routine_id: str) -> datetime | None:
        """The routine's next firing (after its cursor)."""
        plan = self._plans.get(routine_id)
        return next(plan.firings(plan.cursor), None) if plan is not None else None

    def upcoming(self, routine_id: str, start: datetime) -> Iterator[datetime]:
        """The firings at or after ``start``, an interval restart included."""
        plan = self._plans.get(routine_id)
        return plan.firings(start - _TICK) if plan is not None else iter(())

    def due(self, routine_id: str, now: datetime) -> list[datetime]:
        """The firings that came due in (cursor, now], in order; the cursor moves to
        ``now``, so each is handed out once. A clock stepped back (``now`` before the
        cursor) hands out nothing: ``replan`` is for that."""
        plan = self._plans.get(routine_id)
        if plan is None or now <= plan.cursor:
            return []
        run_times = list(itertools.takewhile(lambda at: at <= now, plan.firings(plan.cursor)))
        self._move(routine_id, plan, now)
        return run_times

    def skip_next(self, routine_id: str) -> tuple[datetime, datetime | None] | None:
        """Drop the next firing: (the dropped one, the one after), or None when nothing
        is ahead."""
        plan = self._plans.get(routine_id)
        if plan is None:
            return None
        ahead = plan.firings(plan.cursor)
        dropped = next(ahead, None)
        if dropped is None:
            return None
        self._move(routine_id, plan, dropped)
        return dropped, next(ahead, None)

    def restart(self, routine_id: str, at: datetime) -> datetime | None:
        """Start an interval routine's run again at ``at`` (the user is back from a break
        long enough to count as one): its next firing, or None when nothing changed (not an
        interval, or outside its window)."""
        plan = self._plans.get(routine_id)
        restart = restart_interval(plan.timetable, at) if plan is not None else None
        if plan is None or restart is None:
            return None
        plan = replace(plan, restart=restart, cursor=max(plan.cursor, at))
        self._plans[routine_id] = plan
        return next(plan.firings(plan.cursor), None)

    def replan(self, now: datetime) -> None:
        """Every routine from ``now`` (after the clock stepped back: otherwise the next
        reminders would wait until the old future instant comes round again)."""
        for routine_id, plan in self._plans.items():
            self._plans[routine_id] = replace(plan, cursor=now - _TICK)

    def _move(self, routine_id: str, plan: RoutinePlan, cursor: datetime) -> None:
        restart = plan.restart
        if restart is not None and cursor >= restart.resume_after:
            restart = None  # its window has closed: the timetable alone from here
        self._plans[routine_id] = replace(plan, cursor=cursor, restart=restart)
