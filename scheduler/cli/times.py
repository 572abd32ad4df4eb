"""Times and durations typed on the command line (`next --from`, `pause`, `log-cramp
--when`): ISO 8601, where a value without an offset is a wall time in the user's zone,
clock times, and the words a person types ("until 21:00", "last night")."""

from __future__ import annotations

from datetime import datetime, time, tzinfo

from scheduler.config import defaults
from scheduler.errors import CrampguardError
from scheduler.timing import grammar
from scheduler.timing.wallclock import last_wall, next_wall, resolve

ISO_HINT = 'write ISO 8601, e.g. "2026-03-29T21:00" or "2026-03-29T21:00+02:00"'
#: "last night" means this time of the night just gone.
LAST_NIGHT = time(3)


def parse_instant(text: str, zone: tzinfo, flag: str, *, hint: str = "") -> datetime:
    """An aware instant; a naive value resolves under the DST contract (see wallclock)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CrampguardError(f"{flag}: not a time (got {text!r}); {hint or ISO_HINT}") from None
    if not 1970 <= value.year <= 9000:
        raise CrampguardError(f"{flag}: give a time between the years 1970 and 9000 "
                              f"(got {text!r})")
    return resolve(value, zone) if value.tzinfo is None else value


def pause_until(words: list[str], now: datetime, zone: tzinfo) -> datetime:
    """``[]`` (an hour), ``["30m"]``, ``["until", "21:00"]`` or ``["until", ISO]``."""
    if not words:
        return now + defaults.PAUSE
    if words[0] == "until":
        text = " ".join(words[1:]).strip()
        if not text:
            raise CrampguardError('pause until: give a time, e.g. "pause until 21:00"')
        try:
            clock_time = grammar.parse_clock(text)
        except ValueError:
            return parse_instant(text, zone, "pause until",
                                 hint='write HH:MM or ISO 8601, e.g. "2026-11-23T21:00"')
        return next_wall(clock_time, now, zone)
    try:
        return now + grammar.parse_duration(" ".join(words))
    except ValueError as exc:
        raise CrampguardError(f'pause: {exc}, or "until 21:00"') from None


def parse_when(text: str, now: datetime, zone: tzinfo) -> datetime:
    """ISO 8601 (a naive value is local), "HH:MM" (the last time the clock showed it),
    "last night" (03:00 of the night just gone), "now"."""
    words = text.strip().lower()
    if words == "now":
        return now
    if words == "last night":
        return last_wall(LAST_NIGHT, now, zone)
    try:
        bare = grammar.parse_clock(words)
    except ValueError:
        bare = None
    if bare is not None:
        return last_wall(bare, now, zone)
    return parse_instant(text, zone, "--when",
                         hint='write "last night", "02:30" or ISO 8601 like "2026-11-22T02:30"')


def duration(text: str, command: str) -> float:
    """A duration in seconds, e.g. for `snooze ID 10m`."""
    try:
        return grammar.parse_duration(text).total_seconds()
    except ValueError as exc:
        raise CrampguardError(f"{command}: {exc}") from None
