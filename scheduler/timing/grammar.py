"""The small time grammar shared by routine files and config.toml.

Pure parsers: text in, value out, ``ValueError`` with the fix in the message otherwise
(pydantic turns those into field errors that name the file and line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from scheduler.i18n import N_, _, weekday

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LONG_DAY_NAMES = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
    "saturday": 5, "sunday": 6,
}
DAY_SETS = {
    "daily": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
}
DAYS_HINT = N_('use "daily", "weekdays", "weekends" or a list of day names like '
              '["mon", "thu"]')

#: The anchors a routine can be written against (``at = "bedtime - 45m"``).
ANCHOR_NAMES = ("bedtime", "wake", "workout", "work-start", "work-end")

_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DURATION_RE = re.compile(r"(\d+)\s*(d|h|m|s)")
_DURATION_HINT = N_('write a duration like "45m", "1h30m", "20s" or "2h"')
_TIME_HINT = N_('use 24-hour "HH:MM" or "HH:MM:SS", e.g. "21:30"')


class ImpossibleClock(ValueError):
    """A time of day in shape that no clock shows (25:00, 21:60); ``reason`` says which
    part is out of range, for a message of the caller's own."""

    def __init__(self, reason: str):
        super().__init__(_("impossible time of day: {reason}; {hint}").format(
            reason=reason, hint=_(_TIME_HINT)))
        self.reason = reason


def parse_clock(text: str) -> time:
    """``"21:30"`` or ``"21:30:15"`` → ``time``."""
    m = _TIME_RE.match(text.strip())
    if not m:
        raise ValueError(_("not a time of day; {hint}").format(hint=_(_TIME_HINT)))
    hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
    if hour > 23:
        raise ImpossibleClock("hours go 00 to 23" + (" (midnight is 00:00)" if hour == 24
                                                      and not minute + second else ""))
    if minute > 59:
        raise ImpossibleClock(_("minutes go 00 to 59"))
    if second > 59:
        raise ImpossibleClock(_("seconds go 00 to 59"))
    return time(hour, minute, second)


def since_midnight(t: time) -> timedelta:
    """A time of day as the span from midnight (seconds; microseconds ignored)."""
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second)


def format_clock(t: time) -> str:
    return t.strftime("%H:%M:%S" if t.second else "%H:%M")


#: How an instant reads: in logs and replies (the default), in the history's columns, in
#: a short confirmation, and as a time of day next to its date.
INSTANT_FORMATS = {
    "full": "%a %Y-%m-%d %H:%M:%S %z",  # Mon 2026-11-23 21:45:00 +0100
    "local": "%a %Y-%m-%d %H:%M:%S",  # Mon 2026-11-23 21:45:00
    "minutes": "%a %Y-%m-%d %H:%M",  # Mon 2026-11-23 21:45
    "weekday": "%a %H:%M:%S",  # Mon 21:45:00
}


def format_instant(at: datetime | None, zone: tzinfo | None = None, form: str = "full") -> str:
    """An instant as the user reads it, in ``zone`` (or in the offset it carries); "-" for
    none. The one formatter of instants: ``form`` picks one of ``INSTANT_FORMATS``."""
    if at is None:
        return "-"
    local = at.astimezone(zone) if zone else at
    return local.strftime(INSTANT_FORMATS[form].replace("%a", weekday(local.weekday())))


def format_day(day: date) -> str:
    """A day as the user reads it: "Mon 2026-11-23" (the weekday in their language)."""
    return f"{weekday(day.weekday())} {day.isoformat()}"


class DurationTooLong(ValueError):
    """More days than a ``timedelta`` holds: whatever the limit of the caller, past it."""


def parse_duration(text: str, *, allow_zero: bool = False) -> timedelta:
    """``"1h30m"`` → 90 minutes. Bare numbers are refused: their unit would be a guess."""
    compact = text.strip().lower()
    pos, total = 0, timedelta()
    units = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1),
             "s": timedelta(seconds=1)}
    for m in _DURATION_RE.finditer(compact):
        if compact[pos:m.start()].strip():
            break
        try:
            total += int(m[1]) * units[m[2]]
        except OverflowError:
            raise DurationTooLong(_("a duration this long makes no sense here; "
                                    "{hint}").format(
                                        hint=_(_DURATION_HINT))) from None
        pos = m.end()
    if not compact or compact[pos:].strip():
        raise ValueError(_("not a duration; {hint}").format(hint=_(_DURATION_HINT)))
    if total <= timedelta() and not allow_zero:
        raise ValueError(_("a duration must be longer than zero; {hint}").format(
            hint=_(_DURATION_HINT)))
    return total


def format_duration(d: timedelta) -> str:
    seconds = int(d.total_seconds())
    parts = []
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def parse_days(value: str | list[str]) -> frozenset[int]:
    """``"weekdays"`` or ``["mon", "thu"]`` → weekday numbers (Monday is 0)."""
    if isinstance(value, str):
        key = value.strip().lower()
        if key in DAY_SETS:
            return DAY_SETS[key]
        if key in DAY_NAMES or key in _LONG_DAY_NAMES:
            return frozenset({_day_number(key)})
        raise ValueError(_("unknown days {value!r}; {hint} (day names: {day_names})").format(
            value=value, hint=_(DAYS_HINT), day_names=', '.join(DAY_NAMES)))
    if not value:
        raise ValueError(_("the day list is empty; {hint}").format(hint=_(DAYS_HINT)))
    return frozenset(_day_number(str(day).strip().lower()) for day in value)


def _day_number(name: str) -> int:
    if name in DAY_NAMES:
        return DAY_NAMES.index(name)
    if name in _LONG_DAY_NAMES:
        return _LONG_DAY_NAMES[name]
    raise ValueError(_("unknown day {name!r}; valid day names: {day_names}").format(
        name=name, day_names=', '.join(DAY_NAMES)))


#: How ``describe_days`` says the day sets to a person (the routine grammar's names are
#: the message ids; a file still takes only the English words).
_DAY_SET_WORDS = {"daily": N_("daily"), "weekdays": N_("weekdays"), "weekends": N_("weekends")}
_DAY_WORDS = (N_("mon"), N_("tue"), N_("wed"), N_("thu"), N_("fri"), N_("sat"), N_("sun"))


def describe_days(days: frozenset[int]) -> str:
    for name, members in DAY_SETS.items():
        if days == members:
            return _(_DAY_SET_WORDS[name])
    return _(", ").join(_(_DAY_WORDS[d]) for d in sorted(days))


@dataclass(frozen=True)
class Window:
    """A daily window of wall-clock time; one that ends at or before its start ends the
    next day (a night shift, quiet hours over midnight)."""

    start: time
    end: time

    @property
    def length(self) -> timedelta:
        start, end = since_midnight(self.start), since_midnight(self.end)
        return end - start if end > start else end - start + timedelta(days=1)

    def contains(self, t: time) -> bool:
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def __str__(self) -> str:
        return f"{format_clock(self.start)}-{format_clock(self.end)}"


def interval_problem(every: timedelta, window: Window, which: str, widen: str) -> str | None:
    """An interval longer than the window it runs in can never fire."""
    if every <= window.length:
        return None
    return (f"the interval {format_duration(every)} is longer than {which} {window}; "
            f"shorten \"every\" or widen {widen}")


def parse_window(text: str) -> Window:
    """``"09:00-17:30"`` → ``Window``."""
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError(_('not a window; write "HH:MM-HH:MM", e.g. "09:00-17:30"'))
    start, end = (parse_clock(p) for p in parts)
    if start == end:
        raise ValueError(_('a window needs a start and an end that differ, e.g. "09:00-17:30"'))
    return Window(start, end)


@dataclass(frozen=True)
class AnchorRef:
    """``bedtime - 45m``: an anchor name and a signed offset."""

    anchor: str
    offset: timedelta

    def __str__(self) -> str:
        if not self.offset:
            return self.anchor
        sign = "-" if self.offset < timedelta() else "+"
        return f"{self.anchor} {sign} {format_duration(abs(self.offset))}"


_ANCHOR_RE = re.compile(r"^([a-z][a-z-]*)\s*(?:([+-])\s*(.+))?$")


def parse_at(text: str) -> time | AnchorRef:
    """One entry of ``at``: a clock time or an anchor ± offset."""
    stripped = text.strip()
    if stripped[:1].isdigit():
        return parse_clock(stripped)
    m = _ANCHOR_RE.match(stripped.lower())
    if not m:
        raise ValueError(
            _('not a time or an anchor; {hint}, or an anchor ± offset like "bedtime - '
              '45m" (anchors: {anchor_names})').format(
                  hint=_(_TIME_HINT), anchor_names=", ".join(ANCHOR_NAMES))
        )
    name, sign, offset_text = m[1], m[2], m[3]
    if name not in ANCHOR_NAMES:
        raise ValueError(_("unknown anchor {name!r}; known anchors: {anchor_names}").format(
            name=name, anchor_names=', '.join(ANCHOR_NAMES)))
    # "bedtime + 0m" is the anchor itself: a zero offset is as valid as none.
    offset = parse_duration(offset_text, allow_zero=True) if offset_text else timedelta()
    if offset >= timedelta(days=1):
        raise ValueError(_("an anchor offset must be less than a day"))
    return AnchorRef(name, -offset if sign == "-" else offset)
