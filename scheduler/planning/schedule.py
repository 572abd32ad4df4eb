"""Routine + settings → plan and timetable; the one place anchors are resolved.

Also says a schedule in words for `crampguard list`, from the same resolved plan so the
words cannot disagree with what fires.
"""

from __future__ import annotations

from datetime import time, timedelta

from scheduler.config.routine import Routine, Schedule
from scheduler.config.settings import Anchors, Settings
from scheduler.timing import grammar
from scheduler.timing.grammar import AnchorRef, Window
from scheduler.timing.plans import AtEntry, AtPlan, CronPlan, IntervalPlan, Plan, Timetable

DAILY = grammar.DAY_SETS["daily"]


def plan_for(schedule: Schedule, anchors: Anchors) -> Plan:
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
    """The schedule in words, with the resolved times: "daily at 21:45 (bedtime - 45m)"."""
    if schedule.cron is not None:
        return f"cron {schedule.cron.text}"
    plan = plan_for(schedule, anchors)
    if isinstance(plan, IntervalPlan):
        named = " (work)" if schedule.between == "work" else ""
        return (f"every {grammar.format_duration(plan.every)} between {plan.window}{named}, "
                f"{grammar.describe_days(plan.days)}")
    assert isinstance(plan, AtPlan) and schedule.at is not None
    parts = []
    for item in schedule.at:
        resolved = _at_entries(item, anchors)
        days = schedule.days or resolved[0][2]
        clocks = ", ".join(grammar.format_clock(_wall(base, offset))
                           for base, offset, _ in resolved)
        label = f" ({item})" if isinstance(item, AnchorRef) else ""
        parts.append(f"{grammar.describe_days(days)} at {clocks}{label}")
    return "; ".join(parts)


def _wall(base: time, offset: timedelta) -> time:
    from datetime import datetime

    return (datetime.combine(datetime.min, base) + timedelta(days=1) + offset).time()
