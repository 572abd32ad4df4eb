"""The time contract of design.md, pinned with explicit dates and zones."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.config.routine import Schedule
from scheduler.config.settings import Anchors, WorkAnchor, WorkoutAnchor
from scheduler.planning.schedule import describe, plan_for
from scheduler.timing.cron import parse_cron
from scheduler.timing.grammar import DAY_SETS, Window, parse_window
from scheduler.timing.plans import (
    AtEntry,
    AtPlan,
    CronPlan,
    IntervalPlan,
    Timetable,
)
from scheduler.timing.wallclock import last_wall, next_wall, resolve

UTC = UTC
DAILY = DAY_SETS["daily"]


def at_plan(*clocks: str, days=DAILY) -> AtPlan:
    return AtPlan(tuple(AtEntry(time.fromisoformat(c), timedelta(), days) for c in clocks))


def fires(trigger: Timetable, start: datetime, count: int) -> list[datetime]:
    out = []
    for firing in trigger.firings(start):
        out.append(firing.at)
        if len(out) == count:
            break
    return out


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- resolve: one wall time, one instant --------------------------------------------------

@pytest.mark.parametrize(("zone", "wall", "expected_utc"), [
    # spring forward, 02:00 -> 03:00: 02:30 does not exist; fires when the clock jumps
    ("Europe/Berlin", "2026-03-29T02:30", "2026-03-29T01:00"),
    ("America/New_York", "2026-03-08T02:30", "2026-03-08T07:00"),
    # 30-minute shift, 02:00 -> 02:30
    ("Australia/Lord_Howe", "2026-10-04T02:15", "2026-10-03T15:30"),
    # transition at midnight, 00:00 -> 01:00
    ("America/Santiago", "2026-09-06T00:30", "2026-09-06T04:00"),
    ("America/Santiago", "2026-09-06T00:00", "2026-09-06T04:00"),
    # fall back: the first of the two
    ("Europe/Berlin", "2026-10-25T02:30", "2026-10-25T00:30"),
    ("America/New_York", "2026-11-01T01:30", "2026-11-01T05:30"),
    ("Australia/Lord_Howe", "2026-04-05T01:45", "2026-04-04T14:45"),
    ("America/Santiago", "2026-04-04T23:30", "2026-04-05T02:30"),
    # an ordinary time is just itself
    ("Europe/Berlin", "2026-07-01T21:45", "2026-07-01T19:45"),
])
def test_resolve_follows_the_dst_contract(zone, wall, expected_utc):
    instant = resolve(datetime.fromisoformat(wall), ZoneInfo(zone))
    assert instant.astimezone(UTC) == utc(expected_utc)


# --- every local day gets exactly one firing of a daily reminder -------------------------

TRANSITIONS = [
    ("Europe/Berlin", date(2026, 3, 29)), ("Europe/Berlin", date(2026, 10, 25)),
    ("America/New_York", date(2026, 3, 8)), ("America/New_York", date(2026, 11, 1)),
    ("Australia/Lord_Howe", date(2026, 4, 5)), ("Australia/Lord_Howe", date(2026, 10, 4)),
    ("America/Santiago", date(2026, 4, 4)), ("America/Santiago", date(2026, 9, 6)),
]
CLOCKS = ["00:00", "00:30", "01:00", "01:30", "01:45", "02:00", "02:15", "02:30", "03:00",
          "23:00", "23:30", "21:45"]


@pytest.mark.parametrize(("zone_name", "day"), TRANSITIONS)
@pytest.mark.parametrize("clock", CLOCKS)
def test_one_firing_per_local_day_across_dst(zone_name, day, clock):
    zone = ZoneInfo(zone_name)
    trigger = Timetable(at_plan(clock), zone)
    start = resolve(datetime.combine(day - timedelta(days=3), time()), zone)
    firings = fires(trigger, start, 7)
    local_days = Counter(f.astimezone(zone).date() for f in firings)
    assert list(local_days.values()) == [1] * 7
    assert sorted(local_days) == [day - timedelta(days=3) + timedelta(days=i) for i in range(7)]
    wanted = time.fromisoformat(clock)
    for f in firings:
        local = f.astimezone(zone)
        wall = datetime.combine(local.date(), wanted)
        if resolve(wall, zone).astimezone(zone).replace(tzinfo=None) == wall:  # it exists
            assert local.time() == wanted and local.fold == 0  # at it, and the first time
        else:  # it does not: the instant the clock jumped past it
            before = (f - timedelta(seconds=1)).astimezone(zone).replace(tzinfo=None)
            assert before < wall < local.replace(tzinfo=None)


def test_berlin_spring_forward_daily_0230_in_detail():
    trigger = Timetable(at_plan("02:30"), ZoneInfo("Europe/Berlin"))
    got = fires(trigger, utc("2026-03-27T12:00"), 4)
    assert [f.astimezone(trigger.zone).isoformat() for f in got] == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:00:00+02:00",  # the jump from 02:00 to 03:00
        "2026-03-30T02:30:00+02:00",
        "2026-03-31T02:30:00+02:00",
    ]


def test_new_york_fall_back_fires_the_first_0130_only():
    trigger = Timetable(at_plan("01:30"), ZoneInfo("America/New_York"))
    got = fires(trigger, utc("2026-10-31T12:00"), 3)
    assert [f.astimezone(UTC) for f in got] == [
        utc("2026-11-01T05:30"), utc("2026-11-02T06:30"), utc("2026-11-03T06:30")]


def test_apscheduler_interface_strictly_after_previous():
    trigger = Timetable(at_plan("02:30"), ZoneInfo("Europe/Berlin"))
    first = trigger.next_fire(None, utc("2026-10-24T23:00"))
    assert first == utc("2026-10-25T00:30")  # 02:30 CEST, the first 02:30
    second = trigger.next_fire(first, first)
    assert second == utc("2026-10-26T01:30")  # not the repeated 02:30 CET an hour later
    # "now" exactly on a firing: that firing counts (inclusive start)
    assert trigger.next_fire(None, first) == first


# --- intervals inside a window ------------------------------------------------------------

def test_interval_restarts_at_window_start_and_is_not_shifted_by_dst():
    zone = ZoneInfo("Europe/Berlin")
    plan = IntervalPlan(parse_window("09:00-17:30"), timedelta(minutes=50), DAILY)
    trigger = Timetable(plan, zone)
    got = fires(trigger, utc("2026-03-27T23:30"), 30)  # 28th, 29th (DST day), 30th
    by_day: dict[date, list[str]] = {}
    for f in got:
        local = f.astimezone(zone)
        by_day.setdefault(local.date(), []).append(local.strftime("%H:%M"))
    grid = ["09:50", "10:40", "11:30", "12:20", "13:10", "14:00", "14:50", "15:40", "16:30",
            "17:20"]
    assert by_day == {date(2026, 3, 28): grid, date(2026, 3, 29): grid,
                      date(2026, 3, 30): grid}


def test_interval_through_a_30_minute_gap_collapses_onto_the_jump():
    zone = ZoneInfo("Australia/Lord_Howe")
    plan = IntervalPlan(parse_window("01:00-04:00"), timedelta(minutes=30), DAILY)
    got = fires(Timetable(plan, zone), utc("2026-10-03T12:00"), 5)
    assert [f.astimezone(zone).strftime("%H:%M") for f in got] == [
        "01:30", "02:30", "03:00", "03:30", "04:00"]  # 02:00 did not exist: jump instant


def test_interval_window_over_midnight_belongs_to_its_start_day():
    zone = ZoneInfo("Europe/Berlin")
    plan = IntervalPlan(parse_window("22:00-02:00"), timedelta(hours=1),
                        frozenset({4}))  # Friday night shift only
    got = fires(Timetable(plan, zone), utc("2026-11-23T00:00"), 5)
    assert [f.astimezone(zone).strftime("%a %H:%M") for f in got] == [
        "Fri 23:00", "Sat 00:00", "Sat 01:00", "Sat 02:00", "Fri 23:00"]


# --- anchors -----------------------------------------------------------------------------

ANCHORS = Anchors(
    bedtime=time(23, 30), wake=time(6, 45),
    work=WorkAnchor(between=Window(time(8), time(16)), days=DAY_SETS["weekdays"]),
    workout=WorkoutAnchor(at=(time(7), time(19)), days=frozenset({0, 3})),  # mon, thu
)


def schedule(**fields) -> Schedule:
    return Schedule.model_validate(fields)


@pytest.mark.parametrize(("fields", "expected"), [
    ({"at": "bedtime - 45m"}, ["Mon 22:45", "Tue 22:45", "Wed 22:45"]),
    # past midnight: the anchor's day decides, the reminder lands on the next date
    ({"at": "bedtime + 45m", "days": ["mon"]}, ["Tue 00:15", "Tue 00:15"]),
    ({"at": "wake + 10m"}, ["Mon 06:55", "Tue 06:55", "Wed 06:55"]),
    # workout anchor: its times and its days
    ({"at": "workout - 15m"}, ["Mon 06:45", "Mon 18:45", "Thu 06:45"]),
    ({"at": "work-start + 5m"}, ["Mon 08:05", "Tue 08:05", "Wed 08:05"]),
    ({"at": "work-end"}, ["Mon 16:00", "Tue 16:00", "Wed 16:00"]),
    # explicit days override the anchor's own
    ({"at": "workout", "days": "weekends"}, ["Sat 07:00", "Sat 19:00", "Sun 07:00"]),
    ({"every": "2h", "between": "work"}, ["Mon 10:00", "Mon 12:00", "Mon 14:00", "Mon 16:00",
                                          "Tue 10:00"]),
    ({"at": ["08:00", "13:00:30"], "days": ["mon", "thu"]},
     ["Mon 08:00", "Mon 13:00", "Thu 08:00"]),
])
def test_anchor_and_day_rules(fields, expected):
    zone = ZoneInfo("Europe/Berlin")
    trigger = Timetable(plan_for(schedule(**fields), ANCHORS), zone)
    start = datetime(2026, 11, 23, 0, 30, tzinfo=zone)  # a Monday
    got = fires(trigger, start, len(expected))
    assert [f.astimezone(zone).strftime("%a %H:%M") for f in got] == expected
    if fields.get("days") == ["mon"]:  # one per week: the same weekday a week apart
        assert got[1] - got[0] == timedelta(days=7)


def test_weekdays_and_weekends():
    zone = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 11, 23, tzinfo=zone)
    weekdays = fires(Timetable(at_plan("09:00", days=DAY_SETS["weekdays"]), zone), start, 7)
    weekends = fires(Timetable(at_plan("09:00", days=DAY_SETS["weekends"]), zone), start, 4)
    assert [f.astimezone(zone).strftime("%a") for f in weekdays] == [
        "Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]
    assert [f.astimezone(zone).strftime("%a %d") for f in weekends] == [
        "Sat 28", "Sun 29", "Sat 05", "Sun 06"]


def test_describe_shows_resolved_times():
    assert describe(schedule(at="bedtime - 45m"), ANCHORS) == "daily at 22:45 (bedtime - 45m)"
    assert describe(schedule(every="50m", between="work"), ANCHORS) == \
        "every 50m between 08:00-16:00 (work), weekdays"
    assert describe(schedule(cron="30 21 * * 1-5"), ANCHORS) == "cron 30 21 * * 1-5"


# --- quiet hours --------------------------------------------------------------------------

def test_quiet_hours_hold_back_and_the_daemon_skips_them():
    zone = ZoneInfo("Europe/Berlin")
    quiet = parse_window("22:00-07:00")
    trigger = Timetable(at_plan("06:30", "21:45", "22:15"), zone, quiet)
    start = datetime(2026, 11, 23, tzinfo=zone)
    firings = list(zip(range(4), trigger.firings(start), strict=False))
    assert [(f.at.astimezone(zone).strftime("%H:%M"), f.held) for _, f in firings] == [
        ("06:30", True), ("21:45", False), ("22:15", True), ("06:30", True)]
    # the scheduler's view skips held firings
    assert trigger.next_fire(None, start) == datetime(2026, 11, 23, 21, 45,
                                                               tzinfo=zone)
    ignoring = Timetable(at_plan("22:15"), zone, None)
    assert ignoring.next_fire(None, start).astimezone(zone).strftime("%H:%M") == "22:15"


def test_quiet_hours_edges_are_start_inclusive_end_exclusive():
    quiet = parse_window("23:00-07:00")
    assert quiet.contains(time(23)) and quiet.contains(time(3)) and quiet.contains(time(6, 59))
    assert not quiet.contains(time(7)) and not quiet.contains(time(22, 59, 59))
    day_quiet = parse_window("12:00-13:00")
    assert day_quiet.contains(time(12, 30)) and not day_quiet.contains(time(13))


def test_always_quiet_routine_never_fires_but_terminates():
    zone = ZoneInfo("UTC")
    trigger = Timetable(at_plan("03:00"), zone, parse_window("02:00-04:00"))
    assert trigger.next_fire(None, utc("2026-11-23T00:00")) is None


# --- cron ---------------------------------------------------------------------------------

def cron_fires(expr: str, zone: str, start: str, count: int) -> list[str]:
    z = ZoneInfo(zone)
    got = fires(Timetable(CronPlan(parse_cron(expr)), z), utc(start), count)
    return [f.astimezone(z).strftime("%a %Y-%m-%d %H:%M %z") for f in got]


def test_cron_weekday_evenings():
    assert cron_fires("30 21 * * 1-5", "Europe/Berlin", "2026-11-27T00:00", 3) == [
        "Fri 2026-11-27 21:30 +0100", "Mon 2026-11-30 21:30 +0100",
        "Tue 2026-12-01 21:30 +0100"]


def test_cron_day_of_month_or_day_of_week():
    # both restricted: either matches (classic cron)
    got = cron_fires("0 9 1 * sun", "UTC", "2026-11-27T00:00", 3)
    assert got == ["Sun 2026-11-29 09:00 +0000", "Tue 2026-12-01 09:00 +0000",
                   "Sun 2026-12-06 09:00 +0000"]


def test_cron_names_and_steps():
    got = cron_fires("*/20 8 * jan-feb mon", "UTC", "2026-11-27T00:00", 4)
    assert got == ["Mon 2027-01-04 08:00 +0000", "Mon 2027-01-04 08:20 +0000",
                   "Mon 2027-01-04 08:40 +0000", "Mon 2027-01-11 08:00 +0000"]


def test_cron_in_a_dst_gap_fires_once_at_the_jump():
    got = cron_fires("*/15 2 * * *", "Europe/Berlin", "2026-03-28T23:00", 5)
    assert got == ["Sun 2026-03-29 03:00 +0200", "Mon 2026-03-30 02:00 +0200",
                   "Mon 2026-03-30 02:15 +0200", "Mon 2026-03-30 02:30 +0200",
                   "Mon 2026-03-30 02:45 +0200"]


def test_cron_on_fall_back_fires_the_first_only():
    got = cron_fires("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00", 3)
    assert got == ["Sun 2026-10-25 02:30 +0200", "Mon 2026-10-26 02:30 +0100",
                   "Tue 2026-10-27 02:30 +0100"]


def test_cron_leap_day_is_found_years_ahead():
    assert cron_fires("0 8 29 2 *", "UTC", "2026-11-27T00:00", 1) == [
        "Tue 2028-02-29 08:00 +0000"]


@pytest.mark.parametrize(("expr", "message"), [
    ("30 21 * *", "five fields"),
    ("61 21 * * *", "minute: 61 is outside 0-59"),
    ("30 21 * * fun", 'day-of-week: unrecognized value "fun"'),
    ("30 5-2 * * *", "runs backwards"),
])
def test_cron_errors_name_the_field(expr, message):
    with pytest.raises(ValueError, match=message):
        parse_cron(expr)


# --- next_wall / last_wall: "the next (last) time the clock shows HH:MM" ------------------


@pytest.mark.parametrize(("now", "at", "want_next", "want_last"), [
    # an ordinary day in Berlin (UTC+1)
    ("2026-11-23T19:00", "21:00", "2026-11-23T20:00", "2026-11-22T20:00"),
    # the clock shows 21:00 right now: that is the last time, the next is tomorrow
    ("2026-11-23T20:00", "21:00", "2026-11-24T20:00", "2026-11-23T20:00"),
    # 02:30 does not exist on 29 March 2026: the next one is the jump, 03:00 CEST (01:00Z)
    ("2026-03-28T23:00", "02:30", "2026-03-29T01:00", "2026-03-28T01:30"),
    # 02:30 happens twice on 25 October 2026: the first one (00:30Z) counts
    ("2026-10-24T22:00", "02:30", "2026-10-25T00:30", "2026-10-24T00:30"),
])
def test_next_and_last_wall_across_dst(now: str, at: str, want_next: str, want_last: str) -> None:
    zone = ZoneInfo("Europe/Berlin")
    moment = utc(now)
    assert next_wall(time.fromisoformat(at), moment, zone) == utc(want_next)
    assert last_wall(time.fromisoformat(at), moment, zone) == utc(want_last)
