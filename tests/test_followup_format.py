"""The routine-file keys of issue 10: follow-ups (``[schedule] after``), repeats
(``[notify] repeat``) and the check-in's answers (``actions = ["cramps none", ...]``).

What a valid file becomes, and for every wrong one a message naming the file, the line and
the field, with a hint; through `crampguard check` like the other format errors. Then how
the rest of the program reads a follow-up: `list` in words, `next`, the warnings, the
merging of a user's file over a shipped one, and the set-level check that the routine
followed exists.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.config.catalog import load_catalog
from scheduler.config.loader import load_file
from scheduler.config.routine import (
    CRAMP_ANSWERS,
    EVENTS,
    FollowUp,
    Repeat,
    Routine,
    night_answer,
)
from scheduler.config.settings import Settings
from scheduler.journal.events import NIGHT_ANSWERS, USER_EVENTS
from scheduler.planning.schedule import describe, timetable_for
from scheduler.planning.upcoming import follow_ups, upcoming
from scheduler.planning.warnings import routine_warnings
from tests.support.fixtures import SEEDS
from tests.test_bad_input import check_fails, line_of

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_8 = datetime(2026, 11, 23, 8, tzinfo=BERLIN)


def load(path: Path) -> Routine:
    return load_file(path, Settings(), load_catalog(SEEDS / "catalog.toml"))


def routine(routine_id: str, schedule: dict, **fields) -> Routine:
    return Routine.model_validate({"schema_version": 1, "id": routine_id, "title": "T",
                                   "message": "M", "schedule": schedule, **fields})


# --- what a valid file becomes ------------------------------------------------------------

def test_a_follow_up_of_a_routine_alone(write_routine) -> None:
    r = load(write_routine("stretch", '[schedule]\nafter = "foot-soak done + 20m"\n'))
    assert r.schedule.after == FollowUp("foot-soak", "done", timedelta(minutes=20))
    assert r.schedule.at is None and not r.schedule.on_clock
    assert str(r.schedule.after) == "foot-soak done + 20m"


def test_a_follow_up_of_an_event_with_a_clock_time(write_routine) -> None:
    r = load(write_routine("drink", '[schedule]\nat = "19:00"\nafter = "Workout + 1h30m"\n'))
    assert r.schedule.after == FollowUp("workout", "event", timedelta(hours=1, minutes=30))
    assert r.schedule.on_clock


def test_a_follow_up_without_a_wait_comes_at_once(write_routine) -> None:
    r = load(write_routine("next", '[schedule]\nafter = "foot-soak done"\n'))
    assert r.schedule.after == FollowUp("foot-soak", "done", timedelta())
    assert describe(r.schedule, Settings().anchors) == "when foot-soak is done"


def test_repeat(write_routine) -> None:
    r = load(write_routine("soak", '[schedule]\nat = "21:00"\n[notify]\n'
                                   'repeat = { every = "10m", times = 3 }\n'))
    assert r.notify.repeat == Repeat(every=timedelta(minutes=10), times=3)
    assert load(write_routine("plain", '[schedule]\nat = "21:00"\n')).notify.repeat is None


def test_the_check_in_answers_are_buttons(write_routine) -> None:
    r = load(write_routine("checkin", '[schedule]\nat = "07:15"\n[notify]\nactions = '
                                      '["cramps none", "Cramps One", "cramps several"]\n'))
    assert [(a.key, a.label) for a in r.notify.actions] == [
        ("cramps:none", "No cramps"), ("cramps:one", "One cramp"),
        ("cramps:several", "Several")]
    assert [night_answer(a.key) for a in r.notify.actions] == ["none", "one", "several"]
    assert night_answer("done") is None and night_answer("cramps:lots") is None


def test_the_config_and_the_journal_name_the_same_events_and_answers() -> None:
    # config/ may not import journal/ (tests/test_layers.py): two lists, held equal here.
    assert EVENTS == USER_EVENTS
    assert tuple(CRAMP_ANSWERS) == NIGHT_ANSWERS


# --- every wrong value: file, line, field, hint ----------------------------------------------

@pytest.mark.parametrize(("body", "needle", "field", "message"), [
    ('after = "foot-soak + 20m"', "after", "schedule.after",
     "'foot-soak' is not an event (events: workout); to follow a routine, say "
     '"foot-soak done + 20m"'),
    ('after = "workout - 1h"', "after", "schedule.after",
     'a follow-up comes after its cause: use +, e.g. "workout + 20m"'),
    ('after = "workout + 2d"', "after", "schedule.after", "a follow-up waits at most 24h"),
    ('after = "foot-soak done + soon"', "after", "schedule.after", "not a duration"),
    ('after = "the soak!"', "after", "schedule.after",
     'not a follow-up; write "foot-soak done + 20m" (after that routine is answered done) '
     'or "workout + 1h"'),
    ("after = 20", "after", "schedule.after", "a follow-up must be a string in quotes"),
    ('after = "workout + 1h"\nevery = "1h"\nbetween = "work"', "[schedule]", "schedule",
     '"after" goes alone or with "at", not with "every"'),
    ('after = "workout + 1h"\ncron = "0 9 * * *"', "[schedule]", "schedule",
     '"after" goes alone or with "at", not with "cron"'),
    ('after = "workout + 1h"\ndays = "weekdays"', "[schedule]", "schedule",
     '"days" goes with "at": a follow-up alone fires on any day its cause happens'),
    ('catch_up = "1h"', "[schedule]", "schedule",
     'give exactly one of "at" (times), "every" (with "between") or "cron", or "after"'),
])
def test_schedule_errors(run, write_routine, body, needle, field, message) -> None:
    path = write_routine("bad", f"[schedule]\n{body}\n")
    err = check_fails(run, path)
    assert f"{path}:{line_of(path, needle)}: {field}: {message}" in err, err


@pytest.mark.parametrize(("repeat", "field", "message"), [
    ('{ every = "30s", times = 3 }', "notify.repeat.every",
     'repeat at most once a minute: give every = "1m" or more, e.g. "10m"'),
    ('{ every = "often", times = 3 }', "notify.repeat.every", "not a duration"),
    ('{ every = "10m", times = 0 }', "notify.repeat.times",
     "give a whole number from 1 to 20, without quotes, e.g. times = 3 (got 0)"),
    ('{ every = "10m", times = 21 }', "notify.repeat.times",
     "give a whole number from 1 to 20, without quotes, e.g. times = 3 (got 21)"),
    ('{ every = "10m", times = "3" }', "notify.repeat.times",
     "give a whole number from 1 to 20, without quotes, e.g. times = 3 (got '3')"),
    ('{ every = "10m", times = true }', "notify.repeat.times",
     "give a whole number from 1 to 20, without quotes, e.g. times = 3 (got True)"),
    ('{ every = "10m" }', "notify.repeat.times", "required; add it"),
    ('{ every = "10m", times = 3, count = 2 }', "notify.repeat",
     "unknown key 'count'; valid keys here: every, times"),
    ('"10m"', "notify.repeat", 'give a table: repeat = { every = "10m", times = 3 }'),
])
def test_repeat_errors(run, write_routine, repeat, field, message) -> None:
    path = write_routine("bad", f'[schedule]\nat = "21:00"\n\n[notify]\nrepeat = {repeat}\n')
    err = check_fails(run, path)
    assert f"{path}:{line_of(path, 'repeat')}: {field}: {message}" in err, err


def test_an_unknown_answer_lists_the_answers(run, write_routine) -> None:
    path = write_routine("bad", '[schedule]\nat = "07:15"\n[notify]\n'
                                'actions = ["cramps none", "cramps lots"]\n')
    err = check_fails(run, path)
    assert (f"{path}:{line_of(path, 'actions')}: notify.actions.1: unknown answer 'lots'; "
            'use "cramps none", "cramps one" or "cramps several"') in err, err


def test_a_routine_cannot_follow_itself(run, write_routine) -> None:
    path = write_routine("stretch", '[schedule]\nat = "22:00"\nafter = "stretch done + 5m"\n')
    err = check_fails(run, path)
    assert (f"{path}:{line_of(path, 'after')}: schedule.after: a routine cannot follow "
            "itself") in err, err


# --- the set: the routine followed must be there ------------------------------------------

def test_following_an_unknown_routine_is_a_problem_and_the_routine_is_left_out(
        run, write_routine, isolated) -> None:
    path = write_routine("stretch", '[schedule]\nafter = "foot-sock done + 20m"\n',
                         folder=isolated.routines)
    err = check_fails(run)
    assert (f"{path}:{line_of(path, 'after')}: schedule.after: no routine 'foot-sock' to "
            'follow; did you mean "foot-soak"? known ids: calf-stretch, ') in err, err
    code, out, err = run("list", "--json")
    assert code == 0 and "foot-sock" in err
    assert "stretch" not in {row["id"] for row in json.loads(out)}


def test_the_set_check_names_the_file_that_wrote_after(run, write_routine, isolated) -> None:
    """A user's file that changes only the time leaves the shipped `after` in place: the
    line named is in the file that wrote it."""
    path = write_routine("calf-stretch", 'schema_version = 1\n[schedule]\n'
                                         'after = "foot-sock done + 5m"\n',
                         head=False, folder=isolated.routines)
    err = check_fails(run)
    assert f"{path}:3: schedule.after: no routine 'foot-sock'" in err, err


def test_a_follow_up_of_a_routine_turned_off_never_comes(run, write_routine, isolated) -> None:
    write_routine("foot-soak", "schema_version = 1\nenabled = false\n", head=False,
                  folder=isolated.routines)
    write_routine("after-soak", '[schedule]\nafter = "foot-soak done + 5m"\n',
                  folder=isolated.routines)
    code, out, err = run("check")
    assert (code, err) == (0, "")
    warnings = out.splitlines()[1:]
    # calf-stretch keeps its clock time; the follow-up alone can never come
    assert warnings == [
        "warning: after-soak: it fires only 5m after foot-soak is done, and foot-soak is "
        'turned off; turn foot-soak on, or give this routine a time with "at"'], out


# --- a user's file over a shipped one -----------------------------------------------------

def rows(run) -> dict[str, dict]:
    code, out, err = run("list", "--json")
    assert code == 0, err
    return {row["id"]: row for row in json.loads(out)}


def test_at_over_a_shipped_after_alone_replaces_it(run, write_routine, isolated) -> None:
    write_routine("water-and-salt", 'schema_version = 1\n[schedule]\nat = "19:00"\n',
                  head=False, folder=isolated.routines)
    assert rows(run)["water-and-salt"]["schedule"] == "daily at 19:00"


def test_after_over_a_shipped_at_and_after_changes_only_the_follow_up(
        run, write_routine, isolated) -> None:
    write_routine("calf-stretch", 'schema_version = 1\n[schedule]\n'
                                  'after = "warm-calves-at-night done"\n',
                  head=False, folder=isolated.routines)
    assert rows(run)["calf-stretch"]["schedule"] == \
        "daily at 22:15 (bedtime - 15m), or when warm-calves-at-night is done"


# --- how the rest of the program reads a follow-up ----------------------------------------

def test_list_says_a_follow_up_in_words(run) -> None:
    listed = rows(run)
    assert listed["calf-stretch"]["schedule"] == \
        "daily at 22:15 (bedtime - 15m), or 20m after foot-soak is done"
    assert listed["water-and-salt"]["schedule"] == \
        "1h after a workout (crampguard log workout)"
    assert listed["water-and-salt"]["warnings"] == []


def test_a_follow_up_alone_has_no_clock_firings_and_is_not_never() -> None:
    drink = routine("drink", {"after": "workout + 1h"})
    stretch = routine("stretch", {"at": "22:00", "after": "drink done + 5m"})
    settings = Settings()
    assert list(timetable_for(drink, settings).firings(MONDAY_8)) == []
    assert routine_warnings([drink, stretch], settings, MONDAY_8) == []
    assert [u.routine.id for u in upcoming([drink, stretch], settings, MONDAY_8, 3)] == \
        ["stretch"] * 3
    assert follow_ups([drink, stretch, routine("x", {"at": "08:00"})]) == [drink, stretch]


def test_next_lists_the_follow_ups_after_the_firings(run) -> None:
    code, out, err = run("next", "-n", "2", "--from", "2026-11-23T20:00")
    assert (code, err) == (0, "")
    firings, follow = out.split("\n\n")
    assert [line.split()[4] for line in firings.splitlines()] == ["foot-soak", "calf-stretch"]
    assert follow.splitlines() == [
        "follow-ups, timed by what they follow:",
        "  after foot-soak done + 20m   calf-stretch           Calf stretch before bed",
        "  after workout + 1h           water-and-salt         Sweaty workout? Water and salt",
    ]


def test_next_for_a_follow_up_alone_says_what_it_follows(run) -> None:
    code, out, _ = run("next", "--routine", "water-and-salt")
    assert code == 0
    assert out.splitlines()[0].startswith("no reminders ahead")
    assert "after workout + 1h" in out and "never" not in out
    code, out, _ = run("next", "--routine", "water-and-salt", "--json")
    assert json.loads(out) == []
