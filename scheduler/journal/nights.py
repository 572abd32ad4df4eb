"""Which day and which night a moment belongs to, in the user's zone: the half-day
arithmetic that the statistics count by and the daemon's morning check-in asks with (a
leaf, so the daemon never loads the statistics)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

HALF_DAY = timedelta(hours=12)
_LOCAL_EPOCH = datetime(1970, 1, 1)  # naive: wall-clock time since then, in the zone
_EPOCH_DAY = date(1970, 1, 1).toordinal()


def half_day(moment: datetime, zone: tzinfo) -> int:
    """The local half-day ``moment`` falls in, counted from 1970: even before noon, odd
    from noon."""
    wall = moment.astimezone(zone).replace(tzinfo=None)
    return (wall - _LOCAL_EPOCH) // HALF_DAY


def day_of_half(half: int) -> date:
    return date.fromordinal(_EPOCH_DAY + half // 2)


def night_of_half(half: int) -> date:
    # Half 2d is the morning of day d, which belongs to night d - 1; half 2d + 1 is the
    # afternoon and evening of day d, night d.
    return date.fromordinal(_EPOCH_DAY + (half - 1) // 2)


def night_of(moment: datetime, zone: tzinfo) -> date:
    """The night ``moment`` falls in (from local noon on that day to noon the next)."""
    return night_of_half(half_day(moment, zone))


def night_before(moment: datetime, zone: tzinfo) -> date:
    """The night just gone at ``moment``, which a morning check-in asks about: before
    local noon the night now ending, from noon on the one that ended at noon."""
    return night_of_half(half_day(moment, zone) - 1)
