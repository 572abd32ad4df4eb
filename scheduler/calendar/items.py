"""Firings as iCalendar (RFC 5545), and crampguard's own items read back: pure, given the
firings, the zone and the instant the items are stamped with.

Each firing is one item whose UID names its (routine, due), so writing it again replaces
it wherever it was imported, and so the sync knows its own items from the user's. A
firing is an event or a to-do at its local time in its zone (with the ``VTIMEZONE`` that
libraries leave out, so a phone without the zone database still places it), with a display
alarm at that instant. A firing the user has answered is written without an alarm (an
event) or completed (a to-do): the phone does not ring for it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal

from icalendar import Alarm, Calendar, Component, Event, Timezone, Todo, vDuration

Kind = Literal["event", "todo"]
#: What makes an item crampguard's: its UID's domain (some phones drop the X- properties
#: below when the user edits an item; none changes a UID).
DOMAIN = "crampguard"
PRODID = "-//crampguard//calendar//EN"
#: How long an event lasts on the calendar: a reminder takes a moment, not an hour.
LENGTH = timedelta(minutes=5)
ROUTINE_PROP = "X-CRAMPGUARD-ROUTINE"
DIGEST_PROP = "X-CRAMPGUARD-DIGEST"
_STAMP = "%Y%m%dT%H%M%SZ"
_UID_RE = re.compile(rf"^(?P<routine>[a-z0-9][a-z0-9_-]*)-(?P<due>\d{{8}}T\d{{6}}Z)@{DOMAIN}$")


@dataclass(frozen=True)
class Firing:
    """One reminder as the calendar shows it."""

    routine: str
    due: datetime  # aware
    title: str
    message: str
    kind: Kind = "event"
    #: the journal's answer ("done", "skipped"): written without an alarm, or completed
    answer: str | None = None

    @property
    def uid(self) -> str:
        return uid_of(self.routine, self.due)

    @property
    def digest(self) -> str:
        """What the item says, in short: the same firing gives the same digest, so a sync
        puts only what changed (the stamp and the zone's rules are left out)."""
        text = "\x1f".join([self.kind, self.routine, self.due.astimezone(UTC).strftime(_STAMP),
                            self.title, self.message, self.answer or ""])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Placed:
    """One of crampguard's items as the collection holds it."""

    href: str
    etag: str | None
    routine: str
    due: datetime  # aware UTC
    kind: Kind
    #: None when the item lost it (edited on a phone that drops X- properties)
    digest: str | None
    #: a to-do completed (on the phone, or written so): when, if it says
    completed: bool = False
    completed_at: datetime | None = None


def uid_of(routine: str, due: datetime) -> str:
    return f"{routine}-{due.astimezone(UTC).strftime(_STAMP)}@{DOMAIN}"


def parse_uid(uid: str) -> tuple[str, datetime] | None:
    """(routine, due) of one of crampguard's UIDs; None for anyone else's."""
    m = _UID_RE.match(uid.strip())
    if not m:
        return None
    return m["routine"], datetime.strptime(m["due"], _STAMP).replace(tzinfo=UTC)


def file_name(uid: str) -> str:
    """The item's name in the collection: its UID without the domain."""
    return uid.split("@", 1)[0] + ".ics"


# --- writing ------------------------------------------------------------------------------


def item(firing: Firing, zone: tzinfo, stamp: datetime) -> bytes:
    """One firing as a calendar object of its own (what a CalDAV collection holds)."""
    return calendar([firing], zone, stamp)


def calendar(firings: Iterable[Firing], zone: tzinfo, stamp: datetime) -> bytes:
    """The firings as one calendar, each zone's ``VTIMEZONE`` first (an .ics to import)."""
    firings = list(firings)
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    name = zone_name(zone)
    if name is not None and firings:
        years = sorted({f.due.astimezone(zone).year for f in firings})
        cal.add_component(Timezone.from_tzinfo(zone, tzid=name, first_date=date(years[0], 1, 1),
                                               last_date=date(years[-1] + 1, 1, 1)))
    for firing in firings:
        cal.add_component(_component(firing, zone, name, stamp))
    return cal.to_ical()


def _component(firing: Firing, zone: tzinfo, name: str | None, stamp: datetime) -> Component:
    part: Component = Todo() if firing.kind == "todo" else Event()
    part.add("UID", firing.uid)
    part.add("DTSTAMP", stamp.astimezone(UTC))
    start = _wall(firing.due, zone, name)
    part.add("DTSTART", start)
    if firing.kind == "todo":
        part.add("DUE", start + LENGTH)
    else:
        part.add("DURATION", LENGTH)
        part.add("TRANSP", "TRANSPARENT")  # a reminder does not make the user busy
    part.add("SUMMARY", firing.title)
    part.add("DESCRIPTION", firing.message)
    part.add("CATEGORIES", ["crampguard"])
    part.add(ROUTINE_PROP, firing.routine)
    part.add(DIGEST_PROP, firing.digest)
    if firing.answer is None:
        part.add_component(_alarm(firing))
    elif firing.kind == "todo":
        done = firing.answer == "done"
        part.add("STATUS", "COMPLETED" if done else "CANCELLED")
        if done:
            part.add("COMPLETED", stamp.astimezone(UTC))
            part.add("PERCENT-COMPLETE", 100)
    return part


def _alarm(firing: Firing) -> Alarm:
    alarm = Alarm()
    alarm.add("ACTION", "DISPLAY")
    # DESCRIPTION is required for a display alarm (RFC 5545 3.6.6); some phones drop an
    # alarm without it
    alarm.add("DESCRIPTION", firing.title)
    # icalendar writes a zero duration "P0D"; several clients read only "PT0S"
    alarm.add("TRIGGER", _ZeroOffset(timedelta(0), params={"RELATED": "START"}),
              encode=False)
    return alarm


class _ZeroOffset(vDuration):
    """TRIGGER's value at the item's start, written as RFC 5545's own examples do."""

    def to_ical(self) -> bytes:
        return b"PT0S"


def _wall(due: datetime, zone: tzinfo, name: str | None) -> datetime:
    """The instant on the user's wall clock, or in UTC when the wall time cannot say it:
    no zone name to write, or the second pass of an hour the clock goes back (a local
    time that happens twice means its first pass in iCalendar)."""
    local = due.astimezone(zone)
    if name is None or local.fold:
        return due.astimezone(UTC)
    first = local.replace(fold=0)
    if first.utcoffset() != local.utcoffset():
        return due.astimezone(UTC)
    return local


def zone_name(zone: tzinfo) -> str | None:
    """The zone's IANA name, to write as TZID; None for a zone without one."""
    key = getattr(zone, "key", None)
    return key if isinstance(key, str) and "/" in key else None


# --- reading back -------------------------------------------------------------------------


def read_item(href: str, etag: str | None, text: str) -> Placed | None:
    """One calendar object from the collection, if it is crampguard's; anything else
    (the user's own items, a calendar object that does not parse) is None: never touched."""
    try:
        cal = Calendar.from_ical(text)
    except ValueError:
        return None
    for part in cal.walk():
        if part.name not in ("VEVENT", "VTODO"):
            continue
        owner = parse_uid(str(part.get("UID", "")))
        if owner is None:
            return None
        routine, due = owner
        kind: Kind = "todo" if part.name == "VTODO" else "event"
        digest = part.get(DIGEST_PROP)
        status = str(part.get("STATUS", "")).upper()
        completed_at = part.get("COMPLETED")
        completed = kind == "todo" and (status == "COMPLETED" or completed_at is not None)
        return Placed(href, etag, routine, due, kind, str(digest) if digest else None,
                      completed, _instant(completed_at.dt) if completed_at else None)
    return None


def _instant(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return None
