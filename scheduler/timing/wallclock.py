"""Wall-clock time in a zone: the one place that turns "the clock shows HH:MM" into an
instant, under the DST contract, and finds the next or last time the clock shows it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo

DAY = timedelta(days=1)


def resolve(wall: datetime, zone: tzinfo) -> datetime:
    """The instant (in UTC) a naive local wall time stands for, under the DST contract.

    Instants are kept in UTC throughout: Python compares two datetimes of one zone by wall
    time, ignoring fold, and never finds an ambiguous local time equal to anything in
    another zone, so local datetimes would misorder the repeated hour.
    """
    first = wall.replace(tzinfo=zone, fold=0)
    utc = first.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == wall:
        return utc  # exists; fold=0 is the first of two when it is ambiguous
    # In a gap: fold 0 and 1 use the offsets before and after the jump, bracketing it.
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = sorted((utc, other))
    lo, hi = 0, int((high - low).total_seconds())
    while lo < hi:  # smallest instant whose wall clock has passed `wall`
        mid = (lo + hi) // 2
        if (low + timedelta(seconds=mid)).astimezone(zone).replace(tzinfo=None) > wall:
            hi = mid
        else:
            lo = mid + 1
    return low + timedelta(seconds=lo)


def offset_swing(instant: datetime, zone: tzinfo) -> timedelta:
    """How far wall time and instant can drift apart around ``instant``: the largest change
    of the zone's UTC offset within two days either side, plus a minute."""
    offsets = [(instant + d * DAY).astimezone(zone).utcoffset() or timedelta()
               for d in (-2, 0, 2)]
    return max(offsets) - min(offsets) + timedelta(minutes=1)


def next_wall(at: time, now: datetime, zone: tzinfo) -> datetime:
    """The next time the local clock shows ``at`` (today, or tomorrow if it has passed)."""
    local = now.astimezone(zone)
    for day in (local.date(), local.date() + DAY):
        instant = resolve(datetime.combine(day, at), zone)
        if instant > now:
            return instant
    raise AssertionError("a wall time recurs within two days")


def last_wall(at: time, now: datetime, zone: tzinfo) -> datetime:
    """The last time the local clock showed ``at`` (today, or yesterday if not yet): on a
    day the clocks go back, the second of the two times it showed it, once that has come."""
    local = now.astimezone(zone)
    for day in (local.date(), local.date() - DAY):
        wall = datetime.combine(day, at)
        first = resolve(wall, zone)
        again = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
        if again > first and again.astimezone(zone).replace(tzinfo=None) == wall \
                and again <= now:
            return again
        if first <= now:
            return first
    raise AssertionError("a wall time recurs within two days")
