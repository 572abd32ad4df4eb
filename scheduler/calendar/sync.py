"""What the calendar should hold (``wanted``, pure: the firings `next` shows over the next
days, with the journal's answers) and one sync of a collection to it (``sync``)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from scheduler.calendar import items
from scheduler.calendar.collection import Collection
from scheduler.calendar.items import Firing
from scheduler.calendar.plan import Completion, plan
from scheduler.config.routine import Routine
from scheduler.config.settings import Settings
from scheduler.planning.upcoming import upcoming

#: How far back a sync reads its items: a firing answered since it was due (up to a day
#: back, as `crampguard done` reaches) is marked on its item; older items are history.
LOOKBACK = timedelta(days=1)
#: More firings than any set of routines has in 60 days (a 1-minute interval all day).
_MOST = 100_000

#: (routine, due) → the journal's answer
Answered = Mapping[tuple[str, datetime], str]


@dataclass
class SyncResult:
    put: int = 0
    deleted: int = 0
    unchanged: int = 0
    #: to-dos completed on the phone that the journal did not have: answers to record
    completed: list[Completion] = field(default_factory=list)
    seconds: float = 0.0


def wanted(routines: Iterable[Routine], settings: Settings, now: datetime, days: int, *,
           answered: Answered | None = None, pending: Iterable[tuple[str, datetime]] = (),
           skipped: Iterable[tuple[str, datetime]] = ()) -> list[Firing]:
    """The firings from ``now`` for ``days`` days, as `next` shows them, less those quiet
    hours hold and those of routines with ``calendar = "off"``; and the answered ones of
    the last day, so their items are marked. ``pending``: follow-ups already planned."""
    answered = answered or {}
    shown = [r for r in routines if r.calendar != "off"]
    by_id = {r.id: r for r in shown}
    ahead = upcoming(shown, settings, now, _MOST, pending, skipped,
                     until=now + timedelta(days=days))
    found = {(u.routine.id, u.at): _firing(u.routine, u.at, answered)
             for u in ahead if not u.held}
    for (routine_id, due), _ in answered.items():
        routine = by_id.get(routine_id)
        if routine is not None and now - LOOKBACK <= due < now:
            found[(routine_id, due)] = _firing(routine, due, answered)
    return sorted(found.values(), key=lambda f: (f.due, f.routine))


def _firing(routine: Routine, due: datetime, answered: Answered) -> Firing:
    kind: items.Kind = "todo" if routine.calendar == "todo" else "event"
    return Firing(routine.id, due, routine.title, routine.message, kind,
                  answered.get((routine.id, due)))


def sync(collection: Collection, firings: list[Firing], zone: tzinfo,
         now: datetime) -> SyncResult:
    """Bring crampguard's items in the collection in step with ``firings``; the user's
    own items are never read into the plan, so never touched."""
    started = time.monotonic()
    stored = collection.items(now - LOOKBACK)
    placed = [p for s in stored if (p := items.read_item(s.href, s.etag, s.text)) is not None]
    todo = plan(firings, placed, now)
    for firing, before in todo.put:
        name = before.href if before is not None else items.file_name(firing.uid)
        collection.put(name, items.item(firing, zone, now),
                       before.etag if before is not None else None)
    for gone in todo.delete:
        collection.delete(gone.href, gone.etag)
    return SyncResult(len(todo.put), len(todo.delete), todo.unchanged, todo.completed,
                      time.monotonic() - started)
