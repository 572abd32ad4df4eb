"""When reminders fire: pure functions of (plan, zone, now), shared by `next` and the daemon.

A *plan* says which local wall-clock times a calendar day asks for; ``Timetable`` walks the
days in order and resolves each wall time under the DST contract (``wallclock.resolve``).
The daemon plans each routine from its timetable (``daemon/plans.py``), so what the preview
shows is what the daemon fires.

The DST contract (design.md, "Time semantics"):
- a wall time that does not exist (spring forward) fires once, at the instant the clock
  jumps past it;
- a wall time that happens twice (fall back) fires once, the first time;
- so every local day gets exactly one firing per daily time;
- an interval inside a window is a grid of wall times from the window's start, so DST
  does not shift it.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import Enum
from typing import Protocol

from scheduler.timing.cron import Cron
from scheduler.timing.grammar import Window, since_midnight
from scheduler.timing.wallclock import DAY, offset_swing, resolve

#: How far ahead a trigger looks before it says "never" (a cron for 29 February, with
#: a weekday, recurs within 28 years; nothing a reminder needs goes further than 8).
HORIZON_DAYS = 366 * 8
# DST moves an instant by at most a few hours against its wall time.
_DST_MARGIN = timedelta(hours=3)


class Plan(Protocol):
    """Which wall times a local calendar day asks for."""

    # A property, not an attribute: AtPlan and IntervalPlan compute it, and an attribute
    # here would ask every plan for a settable one.
    @property
    def span(self) -> tuple[timedelta, timedelta]:
        """Earliest and latest wall time a day's entries can reach, from that day's
        midnight."""
        ...

    def walls(self, day: date, after: datetime | None = None) -> Iterable[datetime]:
        """The day's wall times in ascending order; those well before ``after`` may be
        left out (a plan with thousands a day starts near it instead)."""
        ...


@dataclass(frozen=True)
class AtEntry:
    base: time
    offset: timedelta
    days: frozenset[int]


@dataclass(frozen=True)
class AtPlan:
    """Fixed times and anchor ± offset, each on its own days; an offset may cross midnight
    (``bedtime + 45m``): the day named in ``days`` is the anchor's day."""

    entries: tuple[AtEntry, ...]

    @property
    def span(self) -> tuple[timedelta, timedelta]:
        reach = [since_midnight(e.base) + e.offset for e in self.entries]
        return min(reach), max(reach)

    def walls(self, day: date, after: datetime | None = None) -> Iterable[datetime]:
        midnight = datetime.combine(day, time())
        return sorted(midnight + since_midnight(e.base) + e.offset
                      for e in self.entries if day.weekday() in e.days)


@dataclass(frozen=True)
class IntervalPlan:
    """Every ``every`` inside ``window`` on ``days``: the first one interval after the
    window opens, the last at or before it closes; the grid restarts each day."""

    window: Window
    every: timedelta
    days: frozenset[int]

    @property
    def span(self) -> tuple[timedelta, timedelta]:
        start = since_midnight(self.window.start)
        return start, start + self.window.length

    def walls(self, day: date, after: datetime | None = None) -> Iterable[datetime]:
        if day.weekday() not in self.days:
            return
        start = datetime.combine(day, self.window.start)
        count = int(self.window.length / self.every)
        first = 1 if after is None or after <= start else max(1, (after - start) // self.every)
        for k in range(first, count + 1):
            yield start + k * self.every


@dataclass(frozen=True)
class CronPlan:
    cron: Cron

    span = (timedelta(), DAY)

    def walls(self, day: date, after: datetime | None = None) -> Iterable[datetime]:
        if not self.cron.matches(day):
            return
        for t in self.cron.times():
            wall = datetime.combine(day, t)
            if after is None or wall >= after:
                yield wall


class Outlook(Enum):
    """What a timetable comes to from some instant on."""

    FIRES = "fires"
    #: it fires, but every firing falls inside quiet hours
    HELD = "held"
    #: no firing at all within ``HORIZON_DAYS``
    NEVER = "never"


@dataclass(frozen=True)
class Firing:
    at: datetime
    #: inside quiet hours: not delivered, shown as held back in the preview
    held: bool = False


class Timetable:
    """A plan in a zone, with the quiet hours it respects: the firings, in order."""

    def __init__(self, plan: Plan, zone: tzinfo, quiet: Window | None = None):
        self.plan = plan
        self.zone = zone
        self.quiet = quiet

    def firings(self, start: datetime, *, inclusive: bool = True) -> Iterator[Firing]:
        """Every firing at or after ``start`` (after, when not inclusive), in order, in UTC.

        Each day's wall times come lazily and the days are merged as they go, so a plan
        with a firing every second costs a few steps per firing, not a day's worth.
        """
        start = start.astimezone(UTC)
        low, _ = self.plan.span
        # Wall times before this cannot resolve to an instant at or after ``start``.
        floor = start.astimezone(self.zone).replace(tzinfo=None) - offset_swing(start, self.zone)
        day = floor.date() - 2 * DAY
        last_day = day + HORIZON_DAYS * DAY
        pending: list[tuple[datetime, int, Iterator[datetime]]] = []
        order = itertools.count()  # ties between days: the earlier day's iterator first
        last: datetime | None = None

        def push_next(walls: Iterator[datetime]) -> None:
            for wall in walls:
                heapq.heappush(pending, (resolve(wall, self.zone), next(order), walls))
                return

        while True:
            # Add days until none not yet added could hold an earlier instant.
            while day <= last_day and (
                not pending
                or resolve(datetime.combine(day, time()) + low, self.zone) - _DST_MARGIN
                <= pending[0][0]
            ):
                push_next(iter(self.plan.walls(day, floor)))
                day += DAY
            if not pending:
                return
            at, _, walls = heapq.heappop(pending)
            push_next(walls)
            if at < start or (at == start and not inclusive) or (last is not None and at <= last):
                continue  # before the start, or a second wall time collapsed onto one instant
            last = at
            yield Firing(at, self.is_quiet(at))

    def outlook(self, start: datetime) -> Outlook:
        """Whether anything at or after ``start`` is ever delivered, or why not.

        Exact but for a daylight-saving gap: a wall time in it fires at the jump, which may
        fall just outside quiet hours once a year; that does not count as delivered.
        """
        first = next(self.firings(start), None)
        if first is None:
            return Outlook.NEVER
        if not first.held:
            return Outlook.FIRES
        assert self.quiet is not None  # only quiet hours hold a firing
        # A plan repeats weekly, and every day a cron matches has the same times, so the
        # week from the first firing holds every time of day the plan can fire at.
        day = first.at.astimezone(self.zone).date()
        quiet = self.quiet
        week = (wall for n in range(7) for wall in self.plan.walls(day + n * DAY))
        return Outlook.HELD if all(quiet.contains(wall.time()) for wall in week) \
            else Outlook.FIRES

    def is_quiet(self, at: datetime) -> bool:
        return self.quiet is not None and self.quiet.contains(
            at.astimezone(self.zone).time().replace(microsecond=0))

    def next_fire(self, previous: datetime | None, now: datetime) -> datetime | None:
        """The first firing not held back: at or after ``now`` when there was none before,
        else the one after ``previous`` (APScheduler's ``get_next_fire_time`` contract)."""
        if previous is None:
            firings = self.firings(now, inclusive=True)
        else:
            firings = self.firings(previous, inclusive=False)
        return next((f.at for f in firings if not f.held), None)

    def __str__(self) -> str:
        return f"Timetable({self.plan})"


@dataclass(frozen=True)
class Restart:
    """An interval routine started again at ``at`` (the user is back from a break): its
    firings every ``every`` from then until its window closes that day, then the plan's."""

    firings: tuple[datetime, ...]
    #: the plan resumes with its firings after this instant (the window's close)
    resume_after: datetime


def restart_interval(timetable: Timetable, at: datetime) -> Restart | None:
    """The restarted run of an interval plan at ``at``; None for other plans, or when
    ``at`` is outside the window (the next window starts afresh anyway)."""
    plan = timetable.plan
    if not isinstance(plan, IntervalPlan):
        return None
    local = at.astimezone(timetable.zone).replace(tzinfo=None)
    opened = datetime.combine(local.date(), plan.window.start)
    if opened > local:  # a window across midnight, opened the day before
        opened -= DAY
    closes = opened + plan.window.length
    if not (opened <= local < closes) or opened.weekday() not in plan.days:
        return None
    walls = itertools.takewhile(lambda wall: wall <= closes,
                                (local + k * plan.every for k in itertools.count(1)))
    return Restart(tuple(resolve(wall, timetable.zone) for wall in walls),
                   resolve(closes, timetable.zone))
