"""What the tray shows, worked out from the daemon's state: its icon, title, tooltip and
menu, and what each menu entry asks for. Pure: no bus, no clock (``now`` comes in).

An entry's ``key`` is the whole request, so a click means the same thing however late it
arrives: ``answer ROUTINE DUE BUTTON`` names the reminder it answers (BUTTON is a notice
button's key: "done", "skip", "snooze:10m", "cramps:none"), and the others are
``pause 30m``, ``pause 1h``, ``pause morning``, ``resume``, ``night none``, ``cramp`` and
``report``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from scheduler.i18n import _, speaking

#: The pauses the menu offers, by key: a fixed length, or until the next wake time.
PAUSES = {"30m": timedelta(minutes=30), "1h": timedelta(hours=1)}
MORNING = "morning"
#: The icon's looks, by state: the daemon runs / waits for an answer / is paused.
RUNNING, WAITING, PAUSED = "running", "waiting", "paused"


@dataclass(frozen=True)
class Unanswered:
    """A reminder shown and not yet answered (snoozed counts as not yet answered)."""

    routine: str
    title: str
    due: datetime
    #: its notice's snooze buttons ("snooze:10m"), the default one first
    snoozes: tuple[str, ...] = ("snooze:10m",)
    #: a morning check-in: its answer is about last night
    checkin: bool = False


@dataclass(frozen=True)
class State:
    """What the tray needs to know of the daemon, read on the daemon's loop."""

    zone: tzinfo
    #: the anchors' wake time: where "until tomorrow morning" ends
    wake: time
    paused_until: datetime | None = None
    #: the next reminder to be shown: (its title, when)
    next: tuple[str, datetime] | None = None
    unanswered: tuple[Unanswered, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One menu entry: a click asks for ``key``; with ``children`` it opens a submenu;
    ``label`` None is a separator line."""

    label: str | None
    key: str | None = None
    children: tuple[Entry, ...] = ()
    enabled: bool = True


SEPARATOR = Entry(None)


@dataclass(frozen=True)
class View:
    look: str
    #: the item's Status: "NeedsAttention" asks the panel to draw the eye
    status: str
    title: str
    tooltip: str
    menu: tuple[Entry, ...]


def answer_key(reminder: Unanswered, button: str) -> str:
    return f"answer {reminder.routine} {reminder.due.isoformat()} {button}"


def view(state: State, now: datetime) -> View:
    """What the panel shows, in the user's language (the daemon's notices' language)."""
    with speaking():
        return _view(state, now)


def _view(state: State, now: datetime) -> View:
    paused = state.paused_until is not None and state.paused_until > now
    look = PAUSED if paused else WAITING if state.unanswered else RUNNING
    title = _status_line(state, paused)
    lines = [title]
    if state.next is not None and not paused:
        lines.append(_("next: {title} at {at}").format(
            title=state.next[0], at=_when(state.next[1], now, state.zone)))
    if state.unanswered:
        lines.append(_("waiting for your answer: {titles}").format(
            titles=", ".join(r.title for r in state.unanswered)))
    return View(look=look, status="NeedsAttention" if state.unanswered else "Active",
                title=f"crampguard: {title}", tooltip="\n".join(lines[1:]),
                menu=_menu(state, paused, now))


def _status_line(state: State, paused: bool) -> str:
    if paused:
        assert state.paused_until is not None
        return _("paused until {until}").format(
            until=state.paused_until.astimezone(state.zone).strftime("%H:%M"))
    return _("running")


def _when(at: datetime, now: datetime, zone: tzinfo) -> str:
    local, today = at.astimezone(zone), now.astimezone(zone).date()
    if local.date() == today:
        return local.strftime("%H:%M")
    if local.date() == today + timedelta(days=1):
        return _("tomorrow {time}").format(time=local.strftime("%H:%M"))
    return local.strftime("%Y-%m-%d %H:%M")


def _menu(state: State, paused: bool, now: datetime) -> tuple[Entry, ...]:
    entries: list[Entry] = [Entry(_status_line(state, paused), enabled=False)]
    if state.next is not None and not paused:
        entries.append(Entry(_("Next: {title} at {at}").format(
            title=state.next[0], at=_when(state.next[1], now, state.zone)), enabled=False))
    entries.append(SEPARATOR)
    for reminder in state.unanswered:
        due = _when(reminder.due, now, state.zone)
        entries.append(Entry(f"{reminder.title} ({due})", children=_answers(reminder)))
    if state.unanswered:
        entries.append(SEPARATOR)
    checkin = next((r for r in state.unanswered if r.checkin), None)
    # With a check-in waiting, its own answer: the night logged and the check-in done.
    entries.append(Entry(_("No cramps last night"),
                         answer_key(checkin, "cramps:none") if checkin else "night none"))
    entries.append(Entry(_("Log a cramp"), "cramp"))
    entries.append(SEPARATOR)
    entries.append(Entry(_("Pause 30 min"), "pause 30m"))
    entries.append(Entry(_("Pause 1 h"), "pause 1h"))
    entries.append(Entry(_("Pause until tomorrow morning"), f"pause {MORNING}"))
    if paused:
        entries.append(Entry(_("Resume"), "resume"))
    entries.append(SEPARATOR)
    entries.append(Entry(_("Open this month's report"), "report"))
    return tuple(entries)


def _answers(reminder: Unanswered) -> tuple[Entry, ...]:
    if reminder.checkin:
        return (Entry(_("No cramps"), answer_key(reminder, "cramps:none")),
                Entry(_("One cramp"), answer_key(reminder, "cramps:one")),
                Entry(_("Several"), answer_key(reminder, "cramps:several")),
                Entry(_("Skip"), answer_key(reminder, "skip")))
    snoozes = tuple(Entry(_("Snooze {wait}").format(wait=key.removeprefix("snooze:")),
                          answer_key(reminder, key)) for key in reminder.snoozes)
    return (Entry(_("Done"), answer_key(reminder, "done")), *snoozes,
            Entry(_("Skip"), answer_key(reminder, "skip")))


def pause_until(which: str, now: datetime, zone: tzinfo, wake: time) -> datetime:
    """When a pause asked for from the menu ends: ``now`` plus its length, or the next
    wake time ("until tomorrow morning": at 01:00 that is this morning's)."""
    if which in PAUSES:
        return now + PAUSES[which]
    if which != MORNING:
        raise ValueError(f"unknown pause {which!r}")
    local = now.astimezone(zone)
    for days in (0, 1):
        candidate = datetime.combine(local.date() + timedelta(days=days), wake, tzinfo=zone)
        if candidate > local:
            return candidate
    raise AssertionError("a wake time within a day")  # pragma: no cover
