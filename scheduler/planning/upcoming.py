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
             count: int, pending: Iterable[tuple[str, datetime]] = ()) -> list[Upcoming]:
    """The next ``count`` firings from ``start``; ``pending``: follow-ups the daemon has
    planned (routine id, due), shown among them at their time."""
    routines = list(routines)
    by_id = {r.id: r for r in routines}
    planned = sorted((at, by_id[rid]) for rid, at in pending if rid in by_id and at >= start)
    zone = settings.zone
    streams = [_stream(r, settings, start) for r in routines]
    streams.append(iter([Upcoming(r, at, at.astimezone(zone), False) for at, r in planned]))
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
