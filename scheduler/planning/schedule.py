"""Routine + settings → plan and timetable; the one place anchors are resolved.

Also says a schedule in words for `crampguard list`, from the same resolved plan so the
words cannot disagree with what fires.

A follow-up (``after``) has no clock times: its firings come from events the daemon
hears of, so a routine with only ``after`` has an empty plan (``NO_CLOCK``), which is not
"never fires" (``Schedule.on_clock`` tells the two apart).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from scheduler.config.routine import FollowUp, Routine, Schedule
from scheduler.config.settings import Anchors, Settings
from scheduler.i18n import _
from scheduler.timing import grammar
from scheduler.timing.grammar import AnchorRef, Window
from scheduler.timing.plans import AtEntry, AtPlan, CronPlan, IntervalPlan, Plan, Timetable

DAILY = grammar.DAY_SETS["daily"]


class NoClock:
    """The plan of a routine that fires only as a follow-up: no wall times on any day."""

    span = (timedelta(), timedelta())

    def walls(self, day: date, after: datetime | None = None) -> Iterable[datetime]:
        return ()


NO_CLOCK = NoClock()


def plan_for(schedule: Schedule, anchors: Anchors) -> Plan:
    if not schedule.on_clock:
        return NO_CLOCK
    if schedule.cron is not None:
        return CronPlan(schedule.cron)
    if schedule.every is not None:
        window, default_days = _window(schedule.between, anchors)
        return IntervalPlan(window, schedule.every, schedule.days or default_days)
    assert schedule.at is not None  # the model guarantees exactly one kind
    entries: list[AtEntry] = []
    for item in schedule.at:
        for base, offset, default_days in _at_entries(item, anchors):
            entries.append(AtEntry(base, offset, schedule.days or default_days))
    return AtPlan(tuple(entries))


def timetable_for(routine: Routine, settings: Settings) -> Timetable:
    quiet = settings.quiet_window if routine.schedule.quiet_hours == "respect" else None
    return Timetable(plan_for(routine.schedule, settings.anchors), settings.zone, quiet)


def _window(between: Window | str | None, anchors: Anchors) -> tuple[Window, frozenset[int]]:
    if between == "work":
        return anchors.work.between, anchors.work.days
    assert isinstance(between, Window)
    return between, DAILY


def _at_entries(item: time | AnchorRef,
                anchors: Anchors) -> list[tuple[time, timedelta, frozenset[int]]]:
    if isinstance(item, time):
        return [(item, timedelta(), DAILY)]
    name, offset = item.anchor, item.offset
    if name == "bedtime":
        return [(anchors.bedtime, offset, DAILY)]
    if name == "wake":
        return [(anchors.wake, offset, DAILY)]
    if name == "workout":
        return [(t, offset, anchors.workout.days) for t in anchors.workout.at]
    if name == "work-start":
        return [(anchors.work.between.start, offset, anchors.work.days)]
    if name == "work-end":
        return [(anchors.work.between.end, offset, anchors.work.days)]
    raise AssertionError(f"unknown anchor {name}")  # grammar.parse_at rejects these


def describe(schedule: Schedule, anchors: Anchors) -> str:
    """The schedule in words, with the resolved times: "daily at 21:45 (bedtime - 45m)";
    with a follow-up, "daily at 22:15 (bedtime - 15m), or 20m after foot-soak is done"."""
    if schedule.after is None:
        return describe_clock(schedule, anchors)
    follow = describe_follow_up(schedule.after)
    if not schedule.on_clock:
        return follow
    return _("{clock}, or {follow_up}").format(clock=describe_clock(schedule, anchors),
                                               follow_up=follow)


def describe_follow_up(after: FollowUp) -> str:
    """"20m after foot-soak is done", "1h after a workout (crampguard log workout)"."""
    if after.kind == "done":
        cause = _("{routine} is done").format(routine=after.source)
    else:
        cause = _("a {event} (crampguard log {event})").format(event=after.source)
    if after.wait:
        return _("{wait} after {cause}").format(wait=grammar.format_duration(after.wait),
                                                cause=cause)
    return (_("when {cause}") if after.kind == "done" else _("after {cause}")).format(
        cause=cause)


def describe_clock(schedule: Schedule, anchors: Anchors) -> str:
    """The clock times alone, without a follow-up."""
    if schedule.cron is not None:
        return _("cron {expression}").format(expression=schedule.cron.text)
    plan = plan_for(schedule, anchors)
    if isinstance(plan, IntervalPlan):
        named = " (work)" if schedule.between == "work" else ""
        return _("every {interval} between {window}{named}, {days}").format(
            interval=grammar.format_duration(plan.every), window=plan.window, named=named,
            days=grammar.describe_days(plan.days))
    assert isinstance(plan, AtPlan) and schedule.at is not None
    parts = []
    for item in schedule.at:
        resolved = _at_entries(item, anchors)
        days = schedule.days or resolved[0][2]
        # An offset across midnight fires on the day after (or before) the anchor's day:
        # the days are said as they fire, the anchor's day in the brackets.
        by_shift: dict[int, list[str]] = {}
        for base, offset, _days in resolved:
            shift = (grammar.since_midnight(base) + offset) // timedelta(days=1)
            by_shift.setdefault(0 if days == DAILY else shift, []).append(
                grammar.format_clock(_wall(base, offset)))
        for shift, clocks in sorted(by_shift.items(), key=lambda kv: kv[0] != 0):
            label = f" ({item})" if isinstance(item, AnchorRef) else ""
            fires = days
            if shift:
                fires = frozenset((day + shift) % 7 for day in days)
                label = _(" ({anchor} on {days})").format(
                    anchor=item, days=grammar.describe_days(days))
            parts.append(_("{days} at {times}{anchor}").format(
                days=grammar.describe_days(fires), times=", ".join(clocks), anchor=label))
    return _("; ").join(parts)


def _wall(base: time, offset: timedelta) -> time:
    from datetime import datetime

    return (datetime.combine(datetime.min, base) + timedelta(days=1) + offset).time()
