"""An interval routine started again when the user is back from a break (issue 9): pure,
with explicit dates and zones."""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.daemon.plans import Plans
from scheduler.timing.grammar import Window
from scheduler.timing.plans import IntervalPlan, Timetable, restart_interval

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = frozenset(range(5))


def table(start: time = time(9), end: time = time(17, 30)) -> Timetable:
    return Timetable(IntervalPlan(Window(start, end), timedelta(minutes=50), WEEKDAYS), BERLIN)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def hm(instants) -> list[str]:
    return [at.astimezone(BERLIN).strftime("%H:%M") for at in instants]


def test_a_restart_runs_every_interval_from_the_return_until_the_window_closes() -> None:
    restart = restart_interval(table(), local(2026, 11, 24, 15, 12))
    assert restart is not None
    assert hm(restart.firings) == ["16:02", "16:52"]
    assert restart.resume_after == local(2026, 11, 24, 17, 30)


def test_no_restart_outside_the_window_or_on_a_day_off() -> None:
    assert restart_interval(table(), local(2026, 11, 24, 18, 0)) is None
    assert restart_interval(table(), local(2026, 11, 28, 10, 0)) is None  # a Saturday


def test_a_night_window_across_midnight_restarts_within_that_night() -> None:
    night = table(time(22), time(6))
    restart = restart_interval(night, local(2026, 11, 25, 4, 30))  # Wed 04:30: Tue's night
    assert restart is not None
    assert hm(restart.firings) == ["05:20"]
    assert restart.resume_after == local(2026, 11, 25, 6, 0)


def test_a_restart_across_a_dst_change_keeps_wall_clock_intervals() -> None:
    night = table(time(0), time(6))
    restart = restart_interval(night, local(2026, 3, 30, 1, 15))  # Monday after the change
    assert restart is not None and hm(restart.firings)[:2] == ["02:05", "02:55"]


def test_the_plan_follows_the_restart_then_the_timetable_again() -> None:
    plans = Plans()
    plans.set("sitting", table(), local(2026, 11, 24, 9, 0))
    back = local(2026, 11, 24, 15, 12)
    assert plans.restart("sitting", back) == local(2026, 11, 24, 16, 2)
    assert hm(itertools.islice(plans.upcoming("sitting", back), 3)) == [
        "16:02", "16:52", "09:50"]  # then the next day's window, on its own grid
    assert plans.due("sitting", local(2026, 11, 24, 16, 2)) == [local(2026, 11, 24, 16, 2)]
    assert plans.next_time("sitting") == local(2026, 11, 24, 16, 52)
    assert plans.due("sitting", local(2026, 11, 25, 9, 50)) == [
        local(2026, 11, 24, 16, 52), local(2026, 11, 25, 9, 50)]
    # the window closed: the timetable alone from here
    assert plans.next_time("sitting") == local(2026, 11, 25, 10, 40)
