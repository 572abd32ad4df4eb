"""The daemon's plans (daemon/plans.py): what came due, the next firing, a skip and a clock
stepped back, each a pure answer to an explicit ``now`` in Berlin."""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.daemon.plans import Plans
from scheduler.timing.grammar import Window
from scheduler.timing.plans import AtEntry, AtPlan, IntervalPlan, Timetable

BERLIN = ZoneInfo("Europe/Berlin")
DAILY = frozenset(range(7))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def at(*times: time) -> Timetable:
    return Timetable(AtPlan(tuple(AtEntry(t, timedelta(), DAILY) for t in times)), BERLIN)


def test_a_firing_at_the_planning_instant_is_still_to_come() -> None:
    plans = Plans()
    plans.set("soak", at(time(21, 45)), local(2026, 11, 23, 21, 45))
    assert plans.next_time("soak") == local(2026, 11, 23, 21, 45)
    assert plans.due("soak", local(2026, 11, 23, 21, 45)) == [local(2026, 11, 23, 21, 45)]
    assert plans.due("soak", local(2026, 11, 23, 21, 45)) == []  # handed out once
    assert plans.next_time("soak") == local(2026, 11, 24, 21, 45)


def test_what_came_due_while_asleep_is_handed_out_in_order_once() -> None:
    plans = Plans()
    plans.set("twice", at(time(8), time(20)), local(2026, 11, 23, 7, 0))
    woke = local(2026, 11, 24, 9, 0)
    assert plans.due("twice", woke) == [local(2026, 11, 23, 8), local(2026, 11, 23, 20),
                                        local(2026, 11, 24, 8)]
    assert plans.due("twice", woke + timedelta(minutes=1)) == []
    assert plans.next_time("twice") == local(2026, 11, 24, 20)


def test_a_skip_drops_the_next_firing_and_says_what_follows() -> None:
    plans = Plans()
    plans.set("soak", at(time(21, 45)), local(2026, 11, 23, 12, 0))
    assert plans.skip_next("soak") == (local(2026, 11, 23, 21, 45), local(2026, 11, 24, 21, 45))
    assert plans.next_time("soak") == local(2026, 11, 24, 21, 45)
    assert plans.due("soak", local(2026, 11, 23, 22, 0)) == []  # the skipped one never comes
    assert plans.skip_next("unknown") is None


def test_a_clock_stepped_back_hands_out_nothing_until_replanned_from_now() -> None:
    plans = Plans()
    plans.set("soak", at(time(21, 45)), local(2026, 11, 23, 21, 0))
    assert plans.due("soak", local(2026, 11, 23, 21, 50)) == [local(2026, 11, 23, 21, 45)]
    back = local(2026, 11, 23, 21, 30)  # set back 20 minutes
    assert plans.due("soak", back) == []
    assert plans.next_time("soak") == local(2026, 11, 24, 21, 45)
    plans.replan(back)
    # 21:45 comes round again; whether it is shown again is the journal's to say
    assert plans.next_time("soak") == local(2026, 11, 23, 21, 45)


def test_upcoming_includes_an_interval_restarted_on_return() -> None:
    work = Timetable(IntervalPlan(Window(time(9), time(17, 30)), timedelta(minutes=50),
                                  frozenset(range(5))), BERLIN)
    plans = Plans()
    plans.set("sitting", work, local(2026, 11, 24, 9, 0))
    back = local(2026, 11, 24, 15, 12)
    assert [t.astimezone(BERLIN).strftime("%H:%M")
            for t in itertools.islice(plans.upcoming("sitting", back), 2)
            ] == ["15:40", "16:30"]  # the plain grid
    plans.restart("sitting", back)
    assert list(itertools.islice(plans.upcoming("sitting", back), 2)) == [
        local(2026, 11, 24, 16, 2), local(2026, 11, 24, 16, 52)]
    assert list(plans.upcoming("gone", back)) == []
