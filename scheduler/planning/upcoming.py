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
             count: int, pending: Iterable[tuple[str, datetime]] = (),
             skipped: Iterable[tuple[str, datetime]] = (),
             until: datetime | None = None) -> list[Upcoming]:
    """The next ``count`` firings from ``start`` (and before ``until``, if given);
    ``pending``: follow-ups the daemon has planned (routine id, due), shown among them at
    their time; ``skipped``: firings dropped ahead of time (`crampguard skip`), left out."""
    routines = list(routines)
    by_id = {r.id: r for r in routines}
    planned = sorted((at, by_id[rid]) for rid, at in pending if rid in by_id and at >= start)
    dropped = set(skipped)
    zone = settings.zone
    streams = [_stream(r, settings, start) for r in routines]
    streams.append(iter([Upcoming(r, at, at.astimezone(zone), False) for at, r in planned]))
    merged: Iterator[Upcoming] = (u for u in heapq.merge(*streams, key=lambda u: u.at)
                                  if (u.routine.id, u.at) not in dropped)
    if until is not None:
        merged = itertools.takewhile(lambda u: u.at < until, merged)
    return list(itertools.islice(merged, count))


def follow_ups(routines: Iterable[Routine], every: Iterable[Routine] = ()) -> list[Routine]:
    """The routines that fire after an event (``after``), besides any clock time, and
    whose cause can come: ``every`` is the whole set, the routines they may follow."""
    routines = list(routines)
    never = uncaused({r.id: r for r in [*every, *routines]})
    return [r for r in routines if r.schedule.after is not None and r.id not in never]


def uncaused(routines: dict[str, Routine]) -> dict[str, list[str]]:
    """The follow-ups whose cause never comes, each with the chain of routines it waits
    on: a routine turned off, one the set does not have, or a loop of follow-ups (a after
    b done, b after a done) in which none fires by the clock or after an event."""
    found: dict[str, list[str]] = {}
    for routine in routines.values():
        if routine.schedule.on_clock:
            continue
        chain = [routine.id]
        current = routine
        while True:
            after = current.schedule.after
            if after is None or after.kind != "done":
                break  # after an event the user reports: that can always come
            cause = routines.get(after.source)
            if cause is None or not cause.enabled or after.source in chain:
                found[routine.id] = [*chain, after.source]
                break
            if cause.schedule.on_clock:
                break
            chain.append(cause.id)
            current = cause
    return found


def _stream(routine: Routine, settings: Settings, start: datetime) -> Iterator[Upcoming]:
    if not routine.schedule.on_clock:
        return  # fires only as a follow-up: see follow_ups
    timetable = timetable_for(routine, settings)
    for firing in timetable.firings(start):
        yield Upcoming(routine, firing.at, firing.at.astimezone(timetable.zone), firing.held)
