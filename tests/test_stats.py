"""Statistics over a hand-built journal in Europe/Berlin, with the autumn DST change inside.

Every expected number is worked out by hand in the comments. Each scenario is checked
twice: over ``Event`` objects read back from the journal, and over the ``Tally`` the
journal counts in SQL; the two must agree with the hand count and with each other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.errors import CrampguardError
from scheduler.journal import stats
from scheduler.journal.stats import CrampRelation, RoutineStats
from scheduler.journal.store import Journal
from scheduler.paths import JOURNAL_FILE
from tests.support.fixtures import Dirs

BERLIN = ZoneInfo("Europe/Berlin")
# Summer time ends on Sunday 2026-10-25: 03:00 CEST (+02:00) becomes 02:00 CET (+01:00).


def berlin(month: int, day: int, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN, fold=fold)


def both_ways(j: Journal, now: datetime, days: int):
    """The events read back, and the SQL tally, for the same window."""
    w = stats.window(now=now, zone=BERLIN, days=days)
    events = j.events(since=w.start)
    tally = j.tally(w)
    assert stats.tally(events, w) == tally  # the two counting paths agree exactly
    return [events, tally]


def reminder(j: Journal, routine: str, due: datetime, *answers: tuple[str, datetime],
             backend: str = "dbus") -> None:
    """A reminder falls due, is shown, and gets ``answers`` (kind, when recorded)."""
    j.record("due", routine, at=due, due=due)
    j.record("delivered", routine, at=due + timedelta(seconds=1), due=due, backend=backend)
    for kind, at in answers:
        j.record(kind, routine, at=at, due=due)


# -- routine_stats -----------------------------------------------------------------------
#
# now = Wednesday 2026-10-28 20:00 CET, days = 7: the window is Thu 22 .. Wed 28, from
# Thu 22 00:00 CEST (= Wed 21 22:00 UTC; one hour later if the start were taken at
# today's winter offset) up to now.

NOW = berlin(10, 28, 20)


@pytest.fixture
def week(isolated: Dirs):
    with Journal.open(isolated.state / JOURNAL_FILE) as j:
        m = timedelta(minutes=1)

        # foot-soak, 21:45 daily
        reminder(j, "foot-soak", berlin(10, 21, 21, 45), ("done", berlin(10, 21, 21, 50)))
        #   ^ Wed 21: before the window, not counted
        reminder(j, "foot-soak", berlin(10, 22, 21, 45), ("done", berlin(10, 22, 21, 50)))
        reminder(j, "foot-soak", berlin(10, 23, 21, 45), ("snoozed", berlin(10, 23, 21, 46)),
                 ("done", berlin(10, 23, 21, 56)))
        reminder(j, "foot-soak", berlin(10, 24, 21, 45), ("skipped", berlin(10, 24, 21, 47)))
        # Sun 25: done after midnight; it counts on Sunday, the day it was due.
        reminder(j, "foot-soak", berlin(10, 25, 21, 45), ("done", berlin(10, 26, 0, 10)))
        # Mon 26: done with the button, then again with `crampguard done`: one reminder.
        reminder(j, "foot-soak", berlin(10, 26, 21, 45), ("done", berlin(10, 26, 21, 50)),
                 ("done", berlin(10, 26, 22, 30)))
        reminder(j, "foot-soak", berlin(10, 27, 21, 45), ("done", berlin(10, 27, 21, 46)))
        # Tonight's (Wed 28 21:45) is skipped ahead of time: due after now, not counted.
        j.record("skipped", "foot-soak", at=berlin(10, 28, 19, 30), due=berlin(10, 28, 21, 45))
        # foot-soak: due 6 (Thu-Tue), delivered 6, done 5 (22, 23, 25, 26, 27),
        # snoozed 1, skipped 1, missed 0, adherence 5/6.
        # streak: today (28) had nothing due yet: passed over; 27 done (1), 26 done (2),
        # 25 done (3), 24 due and not done: stop. streak 3.

        # sitting-break, weekdays 10:00 and 15:00
        reminder(j, "sitting-break", berlin(10, 22, 10), ("done", berlin(10, 22, 10, 5)))
        reminder(j, "sitting-break", berlin(10, 22, 15))  # shown, never answered
        # Fri 23 10:00: the computer was off; the daemon records the firing as due and
        # missed when it comes back too late to deliver it.
        j.record("due", "sitting-break", at=berlin(10, 23, 10, 45), due=berlin(10, 23, 10))
        j.record("missed", "sitting-break", at=berlin(10, 23, 10, 45), due=berlin(10, 23, 10),
                 detail={"reason": "45m late, catch_up is 30m"})
        reminder(j, "sitting-break", berlin(10, 23, 15), ("done", berlin(10, 23, 15, 3)),
                 backend="console")
        j.record("due", "sitting-break", at=berlin(10, 26, 10), due=berlin(10, 26, 10))
        j.record("failed", "sitting-break", at=berlin(10, 26, 10) + m, due=berlin(10, 26, 10),
                 detail={"backend": "dbus", "reason": "no bus"})
        j.record("delivered", "sitting-break", at=berlin(10, 26, 10) + m,
                 due=berlin(10, 26, 10), backend="console")
        j.record("done", "sitting-break", at=berlin(10, 26, 10, 20), due=berlin(10, 26, 10))
        reminder(j, "sitting-break", berlin(10, 26, 15), ("snoozed", berlin(10, 26, 15, 1)),
                 ("snoozed", berlin(10, 26, 15, 11)), ("done", berlin(10, 26, 15, 30)))
        reminder(j, "sitting-break", berlin(10, 27, 10), ("skipped", berlin(10, 27, 10, 1)))
        reminder(j, "sitting-break", berlin(10, 27, 15), ("done", berlin(10, 27, 15, 2)))
        reminder(j, "sitting-break", berlin(10, 28, 10), ("done", berlin(10, 28, 10, 9)))
        reminder(j, "sitting-break", berlin(10, 28, 15))  # unanswered so far
        # sitting-break: due 2 + 2 + 2 + 2 + 2 = 10 (the missed one too), delivered 9,
        # done 1 + 1 + 2 + 1 + 1 = 6, snoozed 2, skipped 1, missed 1, adherence 6/10.
        # The "failed" is not counted anywhere.
        # streak: 28 done (1), 27 done (2), 26 done (3), Sun 25 and Sat 24 nothing due:
        # passed over, 23 done at 15:00 (4; the missed 10:00 does not break a day that
        # has a done), 22 done (5), and the window starts there. streak 5.

        # calf-stretch, 23:30 daily: late enough that the UTC offset decides the day.
        reminder(j, "calf-stretch", berlin(10, 22, 23, 30), ("done", berlin(10, 22, 23, 35)))
        reminder(j, "calf-stretch", berlin(10, 23, 23, 30), ("done", berlin(10, 23, 23, 35)))
        reminder(j, "calf-stretch", berlin(10, 24, 23, 30))
        # Sun 25 23:30 CET is 22:30 UTC: read with the summer offset it would be Mon 00:30.
        reminder(j, "calf-stretch", berlin(10, 25, 23, 30), ("done", berlin(10, 25, 23, 40)))
        reminder(j, "calf-stretch", berlin(10, 26, 23, 30), ("done", berlin(10, 27, 0, 5)))
        reminder(j, "calf-stretch", berlin(10, 27, 23, 30), ("done", berlin(10, 27, 23, 31)))
        # calf-stretch: due 6, delivered 6, done 5, nothing else, adherence 5/6.
        # streak: 28 nothing due (passed over), 27 (1), 26 (2), 25 (3), 24 not done: 3.
        # (With the wrong offset Sunday's would land on Monday: Sunday passed over, Monday
        # done, and the streak would read 2.)

        # drink-water, 00:01 on some days: the window's first minutes.
        reminder(j, "drink-water", berlin(10, 21, 23, 59))  # Wed 21 23:59 CEST: outside
        reminder(j, "drink-water", berlin(10, 22, 0, 1))  # Thu 22 00:01 CEST: inside
        reminder(j, "drink-water", berlin(10, 26, 0, 1), ("done", berlin(10, 26, 0, 2)))
        reminder(j, "drink-water", berlin(10, 27, 0, 1), ("done", berlin(10, 27, 0, 2)))
        reminder(j, "drink-water", berlin(10, 28, 0, 1))  # today, not done yet
        # drink-water: due 4 (22, 26, 27, 28), delivered 4, done 2, adherence 2/4.
        # streak: today not done yet: passed over (the day is not over); 27 (1), 26 (2),
        # 25-23 nothing due, 22 due and not done: stop. streak 2.

        # Events that belong to no routine are not counted.
        j.record("paused", at=berlin(10, 24, 12), detail={"until": "2026-10-24T14:00:00+02:00"})
        j.record("resumed", at=berlin(10, 24, 14))
        j.record("config_error", at=berlin(10, 24, 15), detail={"file": "x.toml"})
        j.log_cramp(when=berlin(10, 26, 3), at=berlin(10, 26, 7))
        yield j


def test_routine_stats_match_the_hand_count(week: Journal) -> None:
    expected = [
        RoutineStats("calf-stretch", due=6, delivered=6, done=5, snoozed=0, skipped=0,
                     missed=0, adherence=5 / 6, streak=3),
        RoutineStats("drink-water", due=4, delivered=4, done=2, snoozed=0, skipped=0,
                     missed=0, adherence=0.5, streak=2),
        RoutineStats("foot-soak", due=6, delivered=6, done=5, snoozed=1, skipped=1, missed=0,
                     adherence=5 / 6, streak=3),
        RoutineStats("sitting-break", due=10, delivered=9, done=6, snoozed=2, skipped=1,
                     missed=1, adherence=0.6, streak=5),
    ]
    for source in both_ways(week, NOW, 7):
        assert stats.routine_stats(source, now=NOW, zone=BERLIN, days=7) == expected


def test_a_day_with_only_a_missed_reminder_ends_the_streak(isolated: Dirs) -> None:
    with Journal.open(isolated.state / JOURNAL_FILE) as j:
        reminder(j, "warm-up", berlin(10, 26, 18), ("done", berlin(10, 26, 18, 30)))
        j.record("missed", "warm-up", at=berlin(10, 27, 19), due=berlin(10, 27, 18))
        reminder(j, "warm-up", berlin(10, 28, 18), ("done", berlin(10, 28, 18, 30)))
        # 28 done (1), 27 missed and nothing done: stop. (Without the missed, 27 would be
        # passed over and 26 would make it 2.)
        (row,) = stats.routine_stats(j.events(), now=NOW, zone=BERLIN, days=7)
    assert (row.due, row.missed, row.done, row.streak) == (2, 1, 2, 1)


def test_the_window_is_whole_local_days(week: Journal) -> None:
    # days=1 is today only: Wed 28 from 00:00. drink-water 00:01 (not done), sitting-break
    # 10:00 (done) and 15:00; foot-soak's skip-ahead is due after now.
    rows = {r.routine: r for r in stats.routine_stats(week.events(), now=NOW, zone=BERLIN,
                                                      days=1)}
    assert set(rows) == {"drink-water", "sitting-break"}
    assert (rows["sitting-break"].due, rows["sitting-break"].done,
            rows["sitting-break"].streak) == (2, 1, 1)
    assert (rows["drink-water"].due, rows["drink-water"].streak) == (1, 0)
    w = stats.window(now=NOW, zone=BERLIN, days=7)
    assert w.start == berlin(10, 22, 0) and w.start.utcoffset() == timedelta(hours=2)
    assert (w.first_day, w.today) == (date(2026, 10, 22), date(2026, 10, 28))


def test_nothing_in_the_window_gives_no_rows(week: Journal) -> None:
    later = berlin(12, 24, 12)
    assert stats.routine_stats(week.events(), now=later, zone=BERLIN, days=7) == []
    assert stats.routine_stats(week.tally(stats.window(now=later, zone=BERLIN, days=7)),
                               now=later, zone=BERLIN, days=7) == []


def test_a_tally_only_answers_for_its_own_window(week: Journal) -> None:
    tally = week.tally(stats.window(now=NOW, zone=BERLIN, days=7))
    with pytest.raises(ValueError, match="counted for"):
        stats.routine_stats(tally, now=NOW, zone=BERLIN, days=8)


def test_days_must_be_positive() -> None:
    with pytest.raises(CrampguardError, match="days must be 1 or more, got 0"):
        stats.routine_stats([], now=NOW, zone=BERLIN, days=0)


def test_utc_offsets_find_the_change_to_the_second() -> None:
    w = stats.window(now=NOW, zone=BERLIN, days=7)
    assert stats.utc_offsets(w) == [
        (berlin(10, 22, 0), timedelta(hours=2)),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), timedelta(hours=1)),
    ]
    year = stats.window(now=NOW, zone=BERLIN, days=365)
    changes = [since.astimezone(UTC) for since, _ in stats.utc_offsets(year)[1:]]
    assert changes == [datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
                       datetime(2026, 10, 25, 1, 0, tzinfo=UTC)]


# -- cramp_relation ----------------------------------------------------------------------
#
# now = Thursday 2026-11-05 13:00 CET, days = 21: the window starts Fri 2026-10-16 00:00
# CEST. Night D runs from 12:00 on D to 12:00 on D + 1; the last night over by now is
# Wed 11-04 (it ended at 12:00 today). So the nights are i = 0..19, night i = 10-16 + i;
# night 9 is Sun 10-25, night 8 (Sat 10-24) holds the repeated hour 02:00-03:00.

LATER = berlin(11, 5, 13)
FIRST_NIGHT = date(2026, 10, 16)


def night(i: int) -> date:
    return FIRST_NIGHT + timedelta(days=i)


def evening(i: int, hour: int, minute: int) -> datetime:
    d = night(i)
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=BERLIN)


# Cramp nights K = {2, 3, 5, 7, 8, 10, 11, 13}, each placed to test a boundary.
CRAMPS = [
    berlin(10, 19, 2, 0),  # night 2: 02:00 belongs to the night before
    berlin(10, 19, 23, 10),  # night 3 ...
    berlin(10, 20, 2, 30),  # ... and a second cramp the same night: still one night
    berlin(10, 22, 4, 30),  # night 5
    berlin(10, 24, 11, 59),  # night 7: a minute before noon, still the night before
    berlin(10, 25, 2, 30, fold=1),  # night 8: the second 02:30 (CET) of the DST night
    berlin(10, 26, 12, 0),  # night 10: noon exactly starts night 10-26
    berlin(10, 28, 3, 0),  # night 11
    berlin(10, 30, 1, 15),  # night 13
    berlin(10, 16, 3, 0),  # night 10-15, before the first night: not counted
    berlin(11, 5, 12, 30),  # night 11-05, not over yet: not counted
]

CRAMP_NIGHTS = {2, 3, 5, 7, 8, 10, 11, 13}
# Nights with nothing in the cramp log: neither cramp nor quiet, left out of the comparison.
# Every other night without a cramp is answered "none" the morning after.
UNKNOWN = {1, 15, 16}
QUIET = set(range(20)) - CRAMP_NIGHTS - UNKNOWN  # 0 4 6 9 12 14 17 18 19

FOOT_SOAK_DONE = {0, 1, 2, 4, 6, 8, 10, 12, 14, 16}  # not done: 3 5 7 9 11 13 15 17 18 19
WARM_CALVES_DONE = {0, 1, 2, 3, 4, 5, 6, 7, 9, 12}  # not done: 8 10 11 14-19; 13 not due
CALF_STRETCH_DONE = {0, 1, 2, 3, 4, 5, 6, 7}  # due on nights 0-11 only; not done: 8-11


@pytest.fixture
def nights(isolated: Dirs):
    with Journal.open(isolated.state / JOURNAL_FILE) as j:
        twenty = timedelta(minutes=20)
        # The night before the window: recorded before it starts, so never counted.
        reminder(j, "foot-soak", evening(-1, 21, 45))
        for i in range(20):
            due = evening(i, 21, 45)
            reminder(j, "foot-soak", due, *[("done", due + twenty)] * (i in FOOT_SOAK_DONE))
            if i != 13:  # warm-calves was not due on night 13 (the daemon was off)
                due = evening(i, 22, 30)
                reminder(j, "warm-calves", due,
                         *[("done", due + twenty)] * (i in WARM_CALVES_DONE))
            if i < 12:
                due = evening(i, 23, 30)
                reminder(j, "calf-stretch", due,
                         *[("done", due + twenty)] * (i in CALF_STRETCH_DONE))
        # Tonight's reminders are not due yet; one was already done ahead of time.
        j.record("done", "foot-soak", at=LATER - timedelta(minutes=5),
                 due=evening(20, 21, 45))
        # Answers the morning after, each replacing what was logged about its night before:
        # night 4 had a cramp logged at 03:00, then "none" (a slip, corrected): quiet.
        j.log_cramp(when=evening(5, 3, 0), at=evening(5, 3, 5))
        # night 12 was answered "one", then corrected to "none" (below): quiet.
        j.log_night(night(12), "one", at=evening(13, 7, 0), source="checkin")
        # night 7 was answered "none", then a cramp logged (at 12:14 in CRAMPS): a cramp.
        for i in sorted(QUIET | {7}):
            j.log_night(night(i), "none", at=evening(i + 1, 7, 30), source="checkin")
        for n, when in enumerate(CRAMPS):
            # (+ 15 min in UTC: on a Berlin time it is wall-clock arithmetic, and 02:30
            # fold=1 + 15 min would be 02:45 fold=0, an hour earlier.)
            j.log_cramp(when=when, at=when.astimezone(UTC) + timedelta(minutes=15), leg="left",
                        severity=1 + n % 5)
        # night 13's cramp at 01:15, then answered "one": one cramp, the answer's.
        j.log_night(night(13), "one", at=evening(14, 8, 0), source="checkin")
        yield j


def test_cramp_relation_matches_the_hand_count(nights: Journal) -> None:
    # Only known nights count: the unknown 1, 15 and 16 are in neither group.
    expected = [
        # Done on 0 1 2 4 6 8 10 12 14 16, known: 0 2 4 6 8 10 12 14 (8), cramps on 2 8 10
        # (3); not done on 3 5 7 9 11 13 15 17 18 19, known: all but 15 (9), cramps on
        # 3 5 7 11 13 (5). 3/8 = 37.5 % against 5/9 = 55.6 %: 18 points apart.
        CrampRelation("foot-soak", nights_done=8, cramp_nights_done=3, nights_not_done=9,
                      cramp_nights_not_done=5, rate_done=3 / 8, rate_not_done=5 / 9,
                      verdict="fewer cramps on nights it was done (3/8 vs 5/9)",
                      nights_unknown=3),
        # Done: 0-7 9 12 less 1 (9), K & those = {2, 3, 5, 7}: 4/9. Not done: 8 10 11
        # 14-19 less 15 16 (7; night 13 had nothing due and is in neither group), K &
        # those = {8, 10, 11}: 3/7. 44 % against 43 %: within 10 points.
        CrampRelation("warm-calves", nights_done=9, cramp_nights_done=4, nights_not_done=7,
                      cramp_nights_not_done=3, rate_done=4 / 9, rate_not_done=3 / 7,
                      verdict="no clear difference (4/9 vs 3/7)", nights_unknown=3),
        # Due on nights 0-11 only: done 0-7 less 1 (K: 2 3 5 7 = 4/7), not done 8-11
        # (K: 8 10 11 = 3/4). Four nights not done is under the five needed: no claim.
        CrampRelation("calf-stretch", nights_done=7, cramp_nights_done=4, nights_not_done=4,
                      cramp_nights_not_done=3, rate_done=4 / 7, rate_not_done=0.75,
                      verdict="not enough nights to say (need at least 5 in each group; "
                              "7 done, 4 not done)", nights_unknown=1),
        # Not an evening routine of this journal at all: nothing either way.
        CrampRelation("nightly-yoga", nights_done=0, cramp_nights_done=0, nights_not_done=0,
                      cramp_nights_not_done=0, rate_done=None, rate_not_done=None,
                      verdict="not enough nights to say (need at least 5 in each group; "
                              "0 done, 0 not done)", nights_unknown=0),
    ]
    routines = ["foot-soak", "warm-calves", "calf-stretch", "nightly-yoga", "foot-soak"]
    for source in both_ways(nights, LATER, 21):
        assert stats.cramp_relation(source, routines, now=LATER, zone=BERLIN,
                                    days=21) == expected


def test_nights_and_the_cramps_that_stand(nights: Journal) -> None:
    # 20 nights over: cramps on the 8 of K, quiet on the 9 of QUIET, 3 unknown.
    for source in both_ways(nights, LATER, 21):
        assert stats.night_counts(source, now=LATER, zone=BERLIN, days=21) == \
            stats.NightCounts(cramp=8, no_cramp=9, unknown=3)
    tally = nights.tally(stats.window(now=LATER, zone=BERLIN, days=21))
    known = dict(tally.nights)
    assert (known[night(4)], known[night(7)], known[night(12)], known[night(13)]) == \
        (False, True, False, True)  # the corrections: the latest answer wins
    assert known[night(8)] is True and known[night(9)] is False  # the DST weekend
    # The 11 cramps logged with a time stand, but night 13's, replaced by the answer
    # "one" (counted when it was logged); night 4's 03:00 was replaced by "none".
    assert len(tally.cramps) == 11
    assert evening(14, 8, 0) in tally.cramps and CRAMPS[8] not in tally.cramps
    assert evening(5, 3, 0) not in tally.cramps


def test_a_lower_bar_lets_the_short_routine_speak(nights: Journal) -> None:
    (row,) = stats.cramp_relation(nights.events(), ["calf-stretch"], now=LATER, zone=BERLIN,
                                  days=21, min_nights=4)
    assert row.verdict == "fewer cramps on nights it was done (4/7 vs 3/4)"  # 57 % vs 75 %


def test_nights_run_noon_to_noon() -> None:
    assert stats.night_of(berlin(10, 19, 2, 0), BERLIN) == date(2026, 10, 18)
    assert stats.night_of(berlin(10, 19, 11, 59), BERLIN) == date(2026, 10, 18)
    assert stats.night_of(berlin(10, 19, 12, 0), BERLIN) == date(2026, 10, 19)
    assert stats.night_of(berlin(10, 19, 23, 59), BERLIN) == date(2026, 10, 19)
    for fold in (0, 1):  # both 02:30s of the autumn change belong to Saturday night
        assert stats.night_of(berlin(10, 25, 2, 30, fold=fold), BERLIN) == date(2026, 10, 24)
    # The spring change (02:00 -> 03:00 on 2026-03-29) too.
    assert stats.night_of(berlin(3, 29, 3, 30), BERLIN) == date(2026, 3, 28)
    assert stats.window(now=LATER, zone=BERLIN, days=21).last_night == date(2026, 11, 4)
    assert stats.window(now=berlin(11, 5, 11), zone=BERLIN, days=21).last_night == \
        date(2026, 11, 3)


@pytest.mark.parametrize(("args", "expected"), [
    ((2, 10, 5, 9), "fewer cramps on nights it was done (2/10 vs 5/9)"),
    ((5, 9, 2, 10), "more cramps on nights it was done (5/9 vs 2/10)"),
    # 40 % against 30 % is exactly 10 points (0.4 - 0.3 is 0.10000000000000003 in floats)
    ((4, 10, 3, 10), "no clear difference (4/10 vs 3/10)"),
    ((3, 10, 4, 10), "no clear difference (3/10 vs 4/10)"),
    ((0, 5, 0, 5), "no clear difference (0/5 vs 0/5)"),
    ((0, 5, 1, 4), "not enough nights to say (need at least 5 in each group; "
                   "5 done, 4 not done)"),
])
def test_verdicts(args, expected) -> None:
    assert stats.verdict(*args, min_nights=5) == expected


def test_no_verdict_claims_a_cause() -> None:
    for args in [(0, 10, 9, 10), (9, 10, 0, 10), (1, 10, 1, 10), (0, 1, 0, 1)]:
        text = stats.verdict(*args, min_nights=5)
        assert not any(word in text for word in ("cause", "prevent", "because", "works"))


def test_a_cramp_without_a_readable_time_counts_when_it_was_logged(
        isolated: Dirs) -> None:
    with Journal.open(isolated.state / JOURNAL_FILE) as j:
        j.record("cramp", at=berlin(10, 20, 7), detail={"when": "last night"})
        j.record("cramp", at=berlin(10, 21, 7))
        times = [stats.cramp_time(e) for e in j.events()]
    assert times == [berlin(10, 21, 7), berlin(10, 20, 7)]
