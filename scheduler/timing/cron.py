"""Five-field cron expressions (minute hour day-of-month month day-of-week), parsed into
sets so the schedule layer can ask "which wall times on this date?" and resolve DST itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DOWS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# name, low, high, names (index + offset = value)
_FIELDS = (
    ("minute", 0, 59, (), 0),
    ("hour", 0, 23, (), 0),
    ("day-of-month", 1, 31, (), 0),
    ("month", 1, 12, _MONTHS, 1),
    ("day-of-week", 0, 7, _DOWS, 0),
)
CRON_HINT = 'five fields "minute hour day-of-month month day-of-week", e.g. "30 21 * * 1-5"'


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # cron numbering: Sunday is 0
    days_restricted: bool
    weekdays_restricted: bool
    text: str

    def matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.days
        dow = (day.isoweekday() % 7) in self.weekdays
        # Classic cron: when both day fields are restricted, either one matching is enough.
        if self.days_restricted and self.weekdays_restricted:
            return dom or dow
        return dom and dow

    def times(self) -> list[time]:
        return [time(h, m) for h in sorted(self.hours) for m in sorted(self.minutes)]


def parse_cron(text: str) -> Cron:
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has {CRON_HINT}; got {len(fields)} field(s)")
    sets = [_parse_field(f, *spec) for f, spec in zip(fields, _FIELDS, strict=True)]
    weekdays = frozenset(d % 7 for d in sets[4])  # 7 is Sunday too
    return Cron(
        minutes=sets[0], hours=sets[1], days=sets[2], months=sets[3], weekdays=weekdays,
        days_restricted=fields[2] != "*", weekdays_restricted=fields[4] != "*",
        text=" ".join(fields),
    )


def _parse_field(text: str, name: str, low: int, high: int, names: tuple[str, ...],
                 name_base: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.lower().split(","):
        rng, _, step_text = part.partition("/")
        step = _number(step_text, name, 1, high - low + 1) if step_text else 1
        if rng == "*":
            first, last = low, high
        elif "-" in rng:
            a, b = rng.split("-", 1)
            first = _value(a, name, low, high, names, name_base)
            last = _value(b, name, low, high, names, name_base)
            if last < first:
                raise ValueError(f'cron field {name}: range "{rng}" runs backwards')
        else:
            first = _value(rng, name, low, high, names, name_base)
            last = high if step_text else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _value(text: str, name: str, low: int, high: int, names: tuple[str, ...],
           name_base: int) -> int:
    if text in names:
        return names.index(text) + name_base
    return _number(text, name, low, high)


def _number(text: str, name: str, low: int, high: int) -> int:
    if not text.isdigit():
        raise ValueError(f'cron field {name}: unrecognized value "{text}"; {CRON_HINT}')
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"cron field {name}: {value} is outside {low}-{high}")
    return value
