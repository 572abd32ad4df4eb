"""The journal's vocabulary: the event kinds, one event as read back, and how instants
are stored. A leaf module (standard library only): the store and the statistics build on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

KINDS = ("due", "delivered", "failed", "missed", "held", "done", "snoozed", "skipped",
         "triggered", "repeated", "paused", "resumed", "config_error", "journal_error", "cramp",
         "no_cramp", "workout", "reached", "ignored")

#: The cramp log's kinds: a cramp, and a night recorded as without one. Neither belongs to
#: a routine (``Journal.tally`` finds them by ``routine IS NULL``).
CRAMP_LOG = ("cramp", "no_cramp")
#: The answers about a night (the morning check-in's buttons, `log-cramp --none`): "none"
#: is a "no_cramp" event, "one" and "several" a "cramp" event with that count.
NIGHT_ANSWERS = ("none", "one", "several")
#: What the user reports happening (`crampguard log EVENT`), each its own event kind; a
#: routine may follow one (``after = "workout + 1h"``). config.routine.EVENTS names the same.
USER_EVENTS = ("workout",)

#: What became of a reminder (one per (routine, due)), and how the user answered it.
STATES = ("pending", "delivered", "held", "waiting", "missed", "skipped", "failed")
ANSWERS = ("done", "snoozed", "skipped")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    at: datetime  # when it was recorded, aware UTC
    kind: str
    routine: str | None
    due: datetime | None  # the reminder's due instant (aware UTC) where it applies
    backend: str | None  # delivered: dbus | plyer | console
    detail: dict[str, Any] = field(default_factory=dict)  # reason, duration, leg, when ...


@dataclass(frozen=True, slots=True)
class Reminder:
    """One firing of a routine, the row that makes "at most once" hold across restarts."""

    routine: str
    due: datetime  # aware UTC
    state: str  # one of STATES
    answer: str | None = None  # one of ANSWERS, once the user answered
    #: where the notice is on screen ("<server>/<id>"), so its buttons work after a restart
    notice: str | None = None
    #: a snooze's return (aware UTC), until it is shown again
    until: datetime | None = None
    #: shown by `crampguard trigger`, not by the schedule: adherence leaves it out
    manual: bool = False


def to_us(moment: datetime, name: str) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive time would be read in whatever zone the machine has today.
        raise ValueError(f"{name} must be an aware datetime, got {moment!r}")
    return (moment - _EPOCH) // MICROSECOND


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def json_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in an event's detail")


def event_from_row(row: tuple[Any, ...]) -> Event:
    id_, at, kind, routine, due, backend, detail = row
    return Event(id_, from_us(at), kind, routine, None if due is None else from_us(due),
                 backend, json.loads(detail) if detail else {})


def severity_problem(severity: int | None) -> str | None:
    """What is wrong with a cramp's severity (1 mild … 5 worst), if anything."""
    if severity is not None and not 1 <= severity <= 5:
        return f"give 1 (mild) to 5 (worst) (got {severity})"
    return None


def future_problem(when: datetime, at: datetime, what: str = "a cramp") -> str | None:
    """Something logged at ``at`` cannot have happened after it."""
    if to_us(when, "when") > to_us(at, "at"):
        return f"{what} cannot be logged in the future; give the time it happened"
    return None


def happened_at(e: Event) -> datetime:
    """When a logged cramp or workout happened: ``detail["when"]``, else when it was
    logged (a night answer has no time of its own)."""
    when = e.detail.get("when")
    try:
        parsed = datetime.fromisoformat(when) if isinstance(when, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        return e.at
    return parsed.astimezone(UTC)
