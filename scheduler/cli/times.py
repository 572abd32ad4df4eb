"""Times, durations and numbers typed on the command line (`next --from`, `pause`,
`log-cramp --when`, `--days`, `--count`): ISO 8601, where a value without an offset is a
wall time in the user's zone, clock times, the words a person types ("until 21:00", "last
night"), and the range each value must fall in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from scheduler.config import defaults
from scheduler.errors import CrampguardError
from scheduler.i18n import N_, _, ngettext
from scheduler.timing import grammar
from scheduler.timing.wallclock import last_wall, next_wall, resolve


@dataclass(frozen=True)
class Range:
    """The whole numbers a value may take, both ends included."""

    low: int
    high: int
    what: str

    def __str__(self) -> str:
        return _("{low} to {high}").format(low=self.low, high=self.high)

    def check(self, value: int, flag: str) -> int:
        if not self.low <= value <= self.high:
            raise CrampguardError(_("{flag}: give {what} from {self} (got {value})").format(
                flag=flag, what=self.what, self=self, value=value))
        return value


# --- the ranges: the options' help and the errors both quote these ----------------------

#: `history --days`, `stats --days`: ten years, more than any journal holds.
DAYS = Range(1, 3660, "a number of days")
#: `next --count`: past a few years of firings a list stops being useful to read.
COUNT = Range(1, 10_000, "a number of firings")
#: `log-cramp --note`: a line or two about a cramp, which history prints on one line.
NOTE_CHARACTERS = 1000
#: Any instant typed on the command line; far enough out for any plan, and well inside
#: what ``datetime`` can add a day or a zone offset to.
YEARS = Range(1970, 9000, "a year")


def years_help() -> str:
    """An instant typed on the command line: the years it may fall in, for the options'
    help."""
    return _("in the years {range}").format(range=YEARS)
PAUSE_MAX = defaults.PAUSE_MAX
SNOOZE_MAX = defaults.SNOOZE_MAX

ISO_HINT = N_('write ISO 8601, e.g. "2026-03-29T21:00" or "2026-03-29T21:00+02:00"')
#: "last night" means this time of the night just gone.
LAST_NIGHT = time(3)


def in_words(span: timedelta) -> str:
    """1 day reads "1 day", 60 minutes "1 hour", 10 minutes "10 minutes"."""
    minutes = int(span.total_seconds() // 60)
    if minutes and minutes % (24 * 60) == 0:
        return ngettext("{n} day", "{n} days", minutes // (24 * 60)).format(
            n=minutes // (24 * 60))
    if minutes and minutes % 60 == 0:
        return ngettext("{n} hour", "{n} hours", minutes // 60).format(n=minutes // 60)
    return ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)


def pause_rule() -> str:
    return _("a pause is at most {most}; for longer, disable the routines "
             "(enabled = false)").format(most=in_words(PAUSE_MAX))


#: What ``datetime.fromisoformat`` says of a value in shape but out of range, in words.
_ISO_RANGES = {"month": "months go 01 to 12", "hour": "hours go 00 to 23",
               "minute": "minutes go 00 to 59", "second": "seconds go 00 to 59"}


def parse_instant(text: str, zone: tzinfo, flag: str, *, hint: str = "") -> datetime:
    """An aware instant; a naive value resolves under the DST contract (see wallclock)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        if re.match(r"[+-]?\d{5,}-", text.strip()):  # a year past 9999: not ISO, too far
            raise CrampguardError(_("{flag}: give a time between the years {low} and {high} "
                                    "(got {text!r})").format(
                                        flag=flag, low=YEARS.low, high=YEARS.high,
                                        text=text)) from None
        raise CrampguardError(_("{flag}: not a time (got {text!r}){reason}; {hint}").format(
            flag=flag, text=text, reason=_iso_reason(str(exc), text),
            hint=hint or _(ISO_HINT))) from None
    if not YEARS.low <= value.year <= YEARS.high:
        raise CrampguardError(_("{flag}: give a time between the years {low} and {high} (got "
                                "{text!r})").format(
                                    flag=flag, low=YEARS.low, high=YEARS.high, text=text))
    return resolve(value, zone) if value.tzinfo is None else value


def _iso_reason(message: str, text: str) -> str:
    """The part of an ISO 8601 value out of range, from Python's message ("month must be
    in 1..12"), as ": months go 01 to 12"; "" when the value is not ISO in shape."""
    if "out of range for month" in message:
        return _month_length(text)
    if "offset must be" in message:
        return ": a UTC offset is less than 24 hours"
    part = message.split(" must be in ", 1)[0]
    return f": {_ISO_RANGES[part]}" if part in _ISO_RANGES else ""


def _month_length(text: str) -> str:
    """": February 2026 has 28 days", for a day past the end of its month."""
    import calendar

    m = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", text)
    if m is None or not 1 <= int(m[2]) <= 12 or int(m[1]) < 1:
        return ": that month has fewer days"
    year, month = int(m[1]), int(m[2])
    return (f": {calendar.month_name[month]} {year} has "
            f"{calendar.monthrange(year, month)[1]} days")


def _clock(text: str, flag: str) -> time | None:
    """A time of day; None when ``text`` is not one in shape (it may be ISO 8601), an error
    when it is one that no clock shows (25:00)."""
    try:
        return grammar.parse_clock(text)
    except grammar.ImpossibleClock as exc:
        raise CrampguardError(_("{flag}: {text} is not a time of day: {reason}").format(
            flag=flag, text=text.strip(), reason=exc.reason))\
            from None
    except ValueError:
        return None


def pause_until(words: list[str], now: datetime, zone: tzinfo) -> datetime:
    """``[]`` (an hour), ``["30m"]``, ``["until", "21:00"]`` or ``["until", ISO]``; at most
    ``PAUSE_MAX`` ahead."""
    if not words:
        return now + defaults.PAUSE
    if words[0] == "until":
        text = " ".join(words[1:]).strip()
        if not text:
            raise CrampguardError(_('pause until: give a time, e.g. "pause until 21:00"'))
        clock_time = _clock(text, "pause until")
        if clock_time is not None:
            return next_wall(clock_time, now, zone)
        until = parse_instant(text, zone, "pause until",
                              hint=_('write HH:MM or ISO 8601, e.g. "2026-11-23T21:00"'))
        if until <= now:
            raise CrampguardError(_("pause until: {text} has passed; a pause must end in the "
                                    "future").format(text=text))
        if until - now > PAUSE_MAX:
            raise CrampguardError(_("pause until: {text} is too far ahead; {pause_rule}").format(
                text=text, pause_rule=pause_rule()))
        return until
    return now + duration(" ".join(words), "pause", PAUSE_MAX, rule=pause_rule(),
                          alternative=', or "until 21:00"', example="30m")


def parse_when(text: str, now: datetime, zone: tzinfo, flag: str = "--when") -> datetime:
    """ISO 8601 (a naive value is local), "HH:MM" (the last time the clock showed it),
    "last night" (03:00 of the night just gone), "now"; ``flag`` is the option it came
    from (`log-cramp --when`, `done --due`)."""
    words = text.strip().lower()
    if words == "now":
        return now
    if words == "last night":
        return last_wall(LAST_NIGHT, now, zone)
    hint = _('write "last night", "02:30" or ISO 8601 like "2026-11-22T02:30"')
    if re.match(r"[+-]\s*\d+\s*[dhms]", words):  # "-5m": meant as "5 minutes ago"
        raise CrampguardError(_("{flag}: give a time, not how long ago (got {text!r}); "
                                "{hint}").format(
            flag=flag, text=text, hint=hint))
    bare = _clock(words, flag)
    if bare is not None:
        return last_wall(bare, now, zone)
    return parse_instant(text, zone, flag, hint=hint)


def duration(text: str, command: str, longest: timedelta, *, rule: str = "",
             alternative: str = "", example: str = "10m") -> timedelta:
    """A duration longer than zero and at most ``longest``, e.g. for `snooze ID 10m`."""
    typed = text.strip()
    too_long = (f"{command}: {typed} is too long; "
                + (rule or f"a {command} is at most {in_words(longest)}"))
    if typed.startswith("-"):
        raise CrampguardError(_("{command}: a {command} cannot be negative (got {typed}); "
                                "give a duration like {example}{alternative}").format(
                                    command=command, typed=typed, example=example,
                                    alternative=alternative))
    try:
        span = grammar.parse_duration(typed, allow_zero=True)
    except grammar.DurationTooLong:
        raise CrampguardError(too_long) from None
    except ValueError as exc:
        raise CrampguardError(f"{command}: {exc}{alternative}") from None
    if not span:
        raise CrampguardError(_("{command}: a {command} must be longer than zero (got "
                                "{typed}); give a duration like {example}{alternative}").format(
                                    command=command, typed=typed, example=example,
                                    alternative=alternative))
    if span > longest:
        raise CrampguardError(too_long)
    return span


# --- periods of whole days (`report`, `export`) -----------------------------------------

DATE_HINT = N_("write YYYY-MM-DD, e.g. 2026-11-01")
#: The first day of "everything up to --to".
EARLIEST = date(YEARS.low, 1, 1)


def parse_day(text: str, flag: str) -> date:
    """A calendar date, ``YYYY-MM-DD``, in the years ``YEARS``."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise CrampguardError(_("{flag}: not a date (got {text!r}){exc}; {hint}").format(
            flag=flag, text=text, exc=_iso_reason(str(exc), text), hint=_(DATE_HINT))) from None
    if not YEARS.low <= day.year <= YEARS.high:
        raise CrampguardError(_("{flag}: give a date between the years {low} and {high} (got "
                                "{text!r})").format(
                                    flag=flag, low=YEARS.low, high=YEARS.high, text=text))
    return day


@dataclass(frozen=True)
class Period:
    """Whole local days, ``first`` to ``last``, both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def period(*, days: int | None, start: str | None, end: str | None, today: date,
           default_days: int | None) -> Period | None:
    """``--days N`` (the N days ending with ``--to``, default today) or ``--from`` [``--to``];
    ``None`` when nothing is given and there is no default (all of the journal)."""
    if days is not None and start is not None:
        raise CrampguardError(_("--days and --from: give one of them (--days N counts back "
                                "from --to or today; --from starts the period on a date)"))
    last = parse_day(end, "--to") if end is not None else today
    if start is not None:
        first = parse_day(start, "--from")
        if first > last:
            raise CrampguardError(_("--from {first} is after --to {last}: the period runs "
                                    "from the first day to the last").format(
                                        first=first, last=last))
        span = Period(first, last)
        if span.days > DAYS.high:
            raise CrampguardError(_("--from {first} --to {last} is {days} days; a period is "
                                    "at most {high} days (ten years)").format(
                                        first=first, last=last, days=span.days, high=DAYS.high))
        return span
    if days is None:
        if default_days is None:  # everything, or everything up to --to
            return None if end is None else Period(EARLIEST, last)
        days = default_days
    DAYS.check(days, "--days")
    first = last - timedelta(days=days - 1)
    if first.year < YEARS.low:
        raise CrampguardError(_("--days: {days} days before {last} is before the "
                                "year {low}").format(
            days=days, last=last, low=YEARS.low))
    return Period(first, last)
