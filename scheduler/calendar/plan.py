"""What a sync does, decided from what should be there and what is: pure.

- a firing ahead that is missing is put, one whose item says otherwise is put over it, and
  one whose item says the same is left as it is (a second sync puts nothing);
- an item of crampguard's for a firing ahead that no longer comes (a routine turned off, a
  time changed, a firing skipped) is deleted; an item whose firing is past is history and
  stays, but is marked when the firing was answered since;
- a to-do the user completed on the phone is an answer for the journal, and is never
  written over before the journal has it;
- nothing that is not crampguard's reaches this module (``items.read_item``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from scheduler.calendar.items import Firing, Placed, uid_of


@dataclass(frozen=True)
class Completion:
    """A to-do completed on the phone that the journal has no answer for yet."""

    routine: str
    due: datetime
    #: when the phone says it was completed (None: it does not say)
    at: datetime | None


@dataclass
class Plan:
    #: each with the item it replaces, if any (its href and ETag)
    put: list[tuple[Firing, Placed | None]] = field(default_factory=list)
    delete: list[Placed] = field(default_factory=list)
    completed: list[Completion] = field(default_factory=list)
    unchanged: int = 0


def plan(wanted: Iterable[Firing], placed: Iterable[Placed], now: datetime) -> Plan:
    """``wanted``: the firings ahead of ``now``, and those past whose answer the journal
    has (to mark their items); ``placed``: crampguard's items in the collection."""
    result = Plan()
    there = {uid_of(p.routine, p.due): p for p in placed}
    wanted_by_uid = {f.uid: f for f in wanted}
    for uid, firing in wanted_by_uid.items():
        item = there.get(uid)
        if item is None:
            if firing.due >= now:  # a past firing's item is marked, never made afresh
                result.put.append((firing, None))
            continue
        if item.completed and firing.answer is None:
            result.completed.append(Completion(item.routine, item.due, item.completed_at))
        elif item.completed and firing.answer == "done" and item.kind == firing.kind:
            result.unchanged += 1  # the phone's completion, with its own time, stands
        elif item.digest == firing.digest:
            result.unchanged += 1
        else:
            result.put.append((firing, item))
    for uid, item in there.items():
        if uid in wanted_by_uid:
            continue
        if item.completed and item.due < now:
            # answered on the phone; whether it still counts is the journal's to say
            result.completed.append(Completion(item.routine, item.due, item.completed_at))
        elif item.due >= now:
            result.delete.append(item)
    return result
