"""The next firings across a set of routines, in time order: what `crampguard next` shows
and, through the same timetables, what the daemon fires. A follow-up (``after``) has no
clock time to show: ``follow_ups`` lists the routines that have one instead."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from scheduler.config.routine import Routine
from scheduler.config.settings import Settings
from scheduler.planning.schedule import timetable_for


@dataclass(frozen=True)
class Upcoming:
    routine: Routine
    #: in UTC, for ordering
    at: datetime
    #: the same instant on the user's wall clock, for showing
    local: datetime
    #: inside quiet hours: held back, not delivered
    held: bool


def upcoming(routines: Iterable[Routine], settings: Settings, start: datetime,
             count: int) -> list[Upcoming]:
    streams = [_stream(r, settings, start) for r in routines]
    merged = heapq.merge(*streams, key=lambda u: u.at)
    return list(itertools.islice(merged, count))


def follow_ups(routines: Iterable[Routine]) -> list[Routine]:
    """The routines that fire after an event (``after``), besides any clock time."""
    return [r for r in routines if r.schedule.after is not None]


def _stream(routine: Routine, settings: Settings, start: datetime) -> Iterator[Upcoming]:
    if not routine.schedule.on_clock:
        return  # fires only as a follow-up: see follow_ups
    timetable = timetable_for(routine, settings)
    for firing in timetable.firings(start):
        yield Upcoming(routine, firing.at, firing.at.astimezone(timetable.zone), firing.held)
