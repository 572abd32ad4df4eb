"""Statistics over the journal: how each routine went, and cramps against evening routines.

Pure functions: events (or their counts) in, numbers out; ``now`` and the zone are
arguments. Two ways in, one answer:

- ``routine_stats(events, ...)`` / ``cramp_relation(events, ...)`` over ``Event`` objects,
  for small windows and tests;
- the same functions over a ``Tally`` that ``Journal.tally(window)`` counted in SQL, for a
  year of events: building 100k ``Event`` objects alone costs more than the whole
  statistics should (see bench/bench_stats.py). Both go through ``Tally``, so they agree.

Definitions (for the CLI's help too):

- **Window.** ``days`` local calendar days ending today: from local midnight ``days - 1``
  days before today up to ``now``. An event belongs to the window when it was recorded in
  it and its moment is in it; its *moment* is the reminder's due instant where it has
  one (a "done" at 00:10 for the 23:50 reminder counts on the day it was due), else when
  it was recorded.
- **Counts.** due / delivered / snoozed / skipped / missed count events of that kind.
  done counts reminders: a reminder marked done twice (the button, then the CLI) is one,
  and one shown by ``crampguard trigger`` (nothing was due) is not counted.
  adherence = done / due, so it never passes 100 %.
- **Streak.** Going back from today over the local days on which the routine had
  something due (a "due" or "missed" event) or done, the number of consecutive such days
  with at least one "done". Days with nothing due (a weekday routine on Sunday, days the
  daemon recorded nothing) are passed over: they neither extend nor break it. Today
  counts once something is done; until then it is passed over, since the day is not over.
  A day with something due and nothing done ends the streak. It only looks inside the
  window, so it is at most ``days``.
- **Night D.** Local 12:00 on D up to local 12:00 on D + 1; a cramp at 02:00 belongs to
  the night before. Only nights inside the window that are over by ``now`` count. An
  evening routine was done on night D when a "done" event's reminder was due that night;
  not done when it was due that night (a "due" event) and nothing was done.
- **Known nights.** The cramp log says what each night was: a "cramp" event (a time from
  `log-cramp`, its night from that time; or an answer to the morning check-in, its night
  in ``detail["night"]``) or a "no_cramp" event (the check-in's "none", `log-cramp
  --none`, always with ``detail["night"]``). An *answer* (an event with
  ``detail["night"]``) replaces everything logged about its night before it; what is
  logged after it adds to it. So the latest answer wins ("one" corrected to "none" is a
  quiet night), a cramp logged with its time at 02:30 and then answered "one" in the
  morning is one cramp, and a cramp logged after a "none" makes it a cramp night. A night
  is a *cramp night* when a cramp stands for it, *quiet* when only a "no_cramp" does, and
  *unknown* when nothing was logged: unknown nights are counted as such, never as quiet,
  and the comparison of cramp rates uses known nights only. "Order" is the order events
  were recorded in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from fractions import Fraction
from typing import NamedTuple

from scheduler.errors import CrampguardError
from scheduler.i18n import _
from scheduler.journal.events import Event, happened_at
from scheduler.journal.nights import (
    HALF_DAY,
    day_of_half,
    half_day,
    night_of,
    night_of_half,
)

#: The kinds the statistics count, in RoutineStats' order.
COUNTED = ("due", "delivered", "done", "snoozed", "skipped", "missed")
_COLUMN = {kind: i for i, kind in enumerate(COUNTED)}
#: Cramp rates this close (10 percentage points or less) are "no clear difference".
CLEAR_DIFFERENCE = Fraction(10, 100)
#: No claim about an evening routine until each group (done, not done) has this many nights.
MIN_NIGHTS = 5


@dataclass(frozen=True)
class RoutineStats:
    routine: str
    due: int
    delivered: int
    done: int
    snoozed: int
    skipped: int
    missed: int
    adherence: float | None  # done / due, None when nothing was due
    streak: int  # see the module's docstring


@dataclass(frozen=True)
class CrampRelation:
    routine: str
    nights_done: int  # known nights (see the module's docstring) only
    cramp_nights_done: int
    nights_not_done: int
    cramp_nights_not_done: int
    rate_done: float | None  # cramp nights / nights, None without nights
    rate_not_done: float | None
    verdict: str
    #: nights it was due on (done or not) with nothing in the cramp log: left out above
    nights_unknown: int


@dataclass(frozen=True)
class NightCounts:
    """The window's nights that are over, by what the cramp log says of them."""

    cramp: int
    no_cramp: int
    unknown: int


@dataclass(frozen=True)
class Window:
    start: datetime  # local midnight at the start of the first day
    end: datetime  # now
    zone: tzinfo

    @property
    def first_day(self) -> date:
        return self.start.astimezone(self.zone).date()

    @property
    def today(self) -> date:
        return self.end.astimezone(self.zone).date()

    @property
    def last_night(self) -> date:
        """The latest night that is over by ``end`` (it ends at local noon the day after)."""
        return (self.end.astimezone(self.zone).replace(tzinfo=None) - HALF_DAY).date() \
            - timedelta(days=1)


class Count(NamedTuple):
    """One routine's events in one local half-day, by their moment, one field per kind."""

    routine: str
    half: int  # local half-day number: 2 × days since 1970-01-01, + 1 from noon
    due: int
    delivered: int
    done: int  # reminders, not events: a reminder marked done twice is one
    snoozed: int
    skipped: int
    missed: int


@dataclass(frozen=True)
class Tally:
    """What the statistics need to know about a window's events."""

    window: Window
    counts: tuple[Count, ...]  # sorted
    #: when each cramp that stands happened (aware UTC), sorted; an answer without a time
    #: counts when it was logged
    cramps: tuple[datetime, ...]
    #: each night the cramp log speaks of, and whether a cramp stands for it; sorted
    nights: tuple[tuple[date, bool], ...]


def window(*, now: datetime, zone: tzinfo, days: int) -> Window:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if days < 1:
        raise CrampguardError(f"days must be 1 or more, got {days}")
    first = now.astimezone(zone).date() - timedelta(days=days - 1)
    return Window(datetime.combine(first, time(0), tzinfo=zone), now, zone)


def utc_offsets(w: Window) -> list[tuple[datetime, timedelta]]:
    """The zone's UTC offset across the window: ``(from, offset)`` pairs (UTC instants),
    the first from the window's start.

    Lets SQL turn an instant into local wall time (instant + offset) without a zone
    database: a year in Berlin is three pieces.
    """
    # In UTC: arithmetic on times in the zone is wall-clock arithmetic, which is exactly
    # what goes wrong across the change being looked for.
    step = timedelta(hours=6)  # shorter than any real zone's stay in one offset
    start, end = w.start.astimezone(UTC), w.end.astimezone(UTC)
    pieces = [(start, _offset(w.zone, start))]
    probe = start
    while probe < end:
        after = min(probe + step, end)
        if _offset(w.zone, after) != pieces[-1][1]:
            low, high = probe, after  # offset(low) is the last piece's; find the change
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _offset(w.zone, middle) == pieces[-1][1]:
                    low = middle
                else:
                    high = middle
            high = high.replace(microsecond=0)  # zones change on whole seconds
            pieces.append((high, _offset(w.zone, high)))
        probe = after
    return pieces


def tally(events: Iterable[Event], w: Window) -> Tally:
    """Count ``events`` for the window in Python; ``Journal.tally`` does the same in SQL."""
    buckets: dict[tuple[str, int], list[int]] = {}
    done_dues: dict[tuple[str, int], set[datetime]] = defaultdict(set)
    logged = []
    for e in events:
        if e.at < w.start:
            continue
        if e.kind in ("cramp", "no_cramp"):
            logged.append(e)
            continue
        column = _COLUMN.get(e.kind)
        if column is None or e.routine is None or e.detail.get("manual"):
            continue  # a Done on a `crampguard trigger` notice answers nothing that was due
        moment = e.at if e.due is None else e.due
        if not w.start <= moment <= w.end:
            continue
        key = (e.routine, half_day(moment, w.zone))
        bucket = buckets.setdefault(key, [0] * len(COUNTED))
        if e.kind == "done" and e.due is not None:
            done_dues[key].add(e.due)  # once per reminder, added below
        else:
            bucket[column] += 1
    for key, dues in done_dues.items():
        buckets[key][_COLUMN["done"]] += len(dues)
    counts = sorted(Count(*key, *bucket) for key, bucket in buckets.items())
    return Tally(w, tuple(counts), *cramp_log(logged, w.zone))


def cramp_log(events: Iterable[Event], zone: tzinfo) -> tuple[tuple[datetime, ...],
                                                              tuple[tuple[date, bool], ...]]:
    """The "cramp" and "no_cramp" events, resolved night by night (the module's docstring,
    "Known nights"): the cramps that stand, and each night with whether one stands."""
    standing = standing_by_night(events, zone)
    cramps = sorted(happened_at(e) for found in standing.values() for e in found
                    if e.kind == "cramp")
    nights = sorted((night, any(e.kind == "cramp" for e in found))
                    for night, found in standing.items())
    return tuple(cramps), tuple(nights)


def standing_by_night(events: Iterable[Event], zone: tzinfo) -> dict[date, list[Event]]:
    """Each night the cramp log speaks of, and the events that stand for it (the module's
    docstring, "Known nights"), oldest first; the report shows their counts and severity."""
    standing: dict[date, list[Event]] = defaultdict(list)
    for e in sorted(events, key=lambda e: (e.at, e.id)):
        night = answered_night(e)
        if night is not None:
            standing[night] = [e]  # an answer replaces what came before it
        else:
            standing[night_of(happened_at(e), zone)].append(e)
    return standing


def answered_night(e: Event) -> date | None:
    """The night an answer is about (``detail["night"]``); None for a timed cramp."""
    night = e.detail.get("night")
    try:
        return date.fromisoformat(night) if isinstance(night, str) else None
    except ValueError:
        return None


def routine_stats(events: Iterable[Event] | Tally, *, now: datetime, zone: tzinfo,
                  days: int) -> list[RoutineStats]:
    """One row per routine with anything counted in the window, by routine id."""
    t = _tally(events, window(now=now, zone=zone, days=days))
    totals: dict[str, list[int]] = defaultdict(lambda: [0] * len(COUNTED))
    due_days: dict[str, set[date]] = defaultdict(set)
    done_days: dict[str, set[date]] = defaultdict(set)
    for c in t.counts:
        total = totals[c.routine]
        for i, count in enumerate(c[2:]):
            total[i] += count
        if c.done:
            done_days[c.routine].add(day_of_half(c.half))
        if c.due or c.missed:
            due_days[c.routine].add(day_of_half(c.half))
    rows = []
    for routine in sorted(totals):
        n = dict(zip(COUNTED, totals[routine], strict=True))
        rows.append(RoutineStats(
            routine=routine, **n, adherence=n["done"] / n["due"] if n["due"] else None,
            streak=_streak(due_days[routine], done_days[routine], t.window.today)))
    return rows


def cramp_relation(events: Iterable[Event] | Tally, evening_routines: Iterable[str], *,
                   now: datetime, zone: tzinfo, days: int,
                   min_nights: int = MIN_NIGHTS) -> list[CrampRelation]:
    """For each evening routine: cramp nights when it was done against when it was not.

    An association over the user's own nights, never a cause; and no claim at all until
    each group has ``min_nights``.
    """
    if min_nights < 1:
        raise ValueError("min_nights must be 1 or more")
    t = _tally(events, window(now=now, zone=zone, days=days))
    first, last = t.window.first_day, t.window.last_night
    known = {night: cramp for night, cramp in t.nights if first <= night <= last}
    wanted = list(dict.fromkeys(evening_routines))
    due_nights: dict[str, set[date]] = defaultdict(set)
    done_nights: dict[str, set[date]] = defaultdict(set)
    for c in t.counts:
        if c.routine in wanted and first <= night_of_half(c.half) <= last:
            if c.due:
                due_nights[c.routine].add(night_of_half(c.half))
            if c.done:
                done_nights[c.routine].add(night_of_half(c.half))
    cramp_nights = {night for night, cramp in known.items() if cramp}
    rows = []
    for routine in wanted:
        done = done_nights[routine] & known.keys()
        not_done = (due_nights[routine] - done_nights[routine]) & known.keys()
        unknown = (due_nights[routine] | done_nights[routine]) - known.keys()
        cramped_done, cramped_not = len(done & cramp_nights), len(not_done & cramp_nights)
        rows.append(CrampRelation(
            routine=routine, nights_done=len(done), cramp_nights_done=cramped_done,
            nights_not_done=len(not_done), cramp_nights_not_done=cramped_not,
            rate_done=cramped_done / len(done) if done else None,
            rate_not_done=cramped_not / len(not_done) if not_done else None,
            verdict=verdict(cramped_done, len(done), cramped_not, len(not_done), min_nights),
            nights_unknown=len(unknown)))
    return rows


def night_counts(events: Iterable[Event] | Tally, *, now: datetime, zone: tzinfo,
                 days: int) -> NightCounts:
    """The window's nights that are over: with a cramp, quiet, and unknown."""
    t = _tally(events, window(now=now, zone=zone, days=days))
    first, last = t.window.first_day, t.window.last_night
    known = [cramp for night, cramp in t.nights if first <= night <= last]
    total = max(0, (last - first).days + 1)
    return NightCounts(cramp=sum(known), no_cramp=len(known) - sum(known),
                       unknown=total - len(known))


def verdict(cramped_done: int, done: int, cramped_not: int, not_done: int,
            min_nights: int) -> str:
    if done < min_nights or not_done < min_nights:
        return _("not enough nights to say (need at least {least} in each group; {done} "
                 "done, {not_done} not done)").format(least=min_nights, done=done,
                                                      not_done=not_done)
    figures = _("({cramped_done}/{done} vs {cramped_not}/{not_done})").format(
        cramped_done=cramped_done, done=done, cramped_not=cramped_not, not_done=not_done)
    # Exact fractions: 3/10 - 2/10 must be exactly 10 points, not 9.999...
    gap = Fraction(cramped_done, done) - Fraction(cramped_not, not_done)
    if abs(gap) <= CLEAR_DIFFERENCE:
        text = _("no clear difference {figures}")
    elif gap < 0:
        text = _("fewer cramps on nights it was done {figures}")
    else:
        text = _("more cramps on nights it was done {figures}")
    return text.format(figures=figures)


#: When a cramp happened (``detail["when"]``, else when it was logged).
cramp_time = happened_at


def _tally(source: Iterable[Event] | Tally, w: Window) -> Tally:
    if isinstance(source, Tally):
        if source.window != w:
            raise ValueError(f"the tally was counted for {source.window}, not {w}")
        return source
    return tally(source, w)


def _streak(due_days: set[date], done_days: set[date], today: date) -> int:
    streak = 0
    for day in sorted(due_days | done_days, reverse=True):
        if day in done_days:
            streak += 1
        elif day != today:  # today is not over: nothing done yet is no break
            break
    return streak


def _offset(zone: tzinfo, moment: datetime) -> timedelta:
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None
    return offset
