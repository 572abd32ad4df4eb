"""Issue 12, words and times: an unknown CRAMPGUARD_* variable is named with the nearest
known one; `bedtime + 0m` is the anchor itself; a value the command line refuses is
refused in the user's words; `list` says the day a firing past midnight falls on. The real
CLI (and the real daemon) in a subprocess wherever behaviour changes."""

from __future__ import annotations

import json
import os
import re
import signal
from datetime import time, timedelta
from pathlib import Path

import pytest

from scheduler.config.routine import Schedule
from scheduler.config.settings import Anchors, setting_variables, unknown_variables
from scheduler.planning.schedule import describe
from scheduler.timing import grammar
from scheduler.timing.grammar import AnchorRef
from tests.support.daemon_proc import Daemon, cli
from tests.support.fixtures import ROOT, Dirs
from tests.support.routines import routine_head, routine_text, write_routine_file

# --- G: CRAMPGUARD_* variables that nothing reads -------------------------------------------

NEAREST = "no such crampguard variable, ignored; did you mean"


@pytest.mark.parametrize("typed, meant", [
    ("CRAMPGUARD_TIMEZOEN", "CRAMPGUARD_TIMEZONE"),
    ("CRAMPGUARD_NOTIFER", "CRAMPGUARD_NOTIFIER"),
    ("CRAMPGUARD_STATEDIR", "CRAMPGUARD_STATE_DIR"),
    ("crampguard_state_dir", "CRAMPGUARD_STATE_DIR"),  # paths reads the exact name only
    ("CRAMPGUARD_ANCHORS_BEDTIME", "CRAMPGUARD_ANCHORS__BEDTIME"),  # one "_" for "__"
    ("CRAMPGUARD_BEDTIME", "CRAMPGUARD_ANCHORS__BEDTIME"),  # the key without its table
    ("CRAMPGUARD_ANCHORS__WORK__BETWIXT", "CRAMPGUARD_ANCHORS__WORK__BETWEEN"),
])
def test_an_unknown_variable_is_named_with_the_nearest_known_one(typed: str,
                                                                  meant: str) -> None:
    assert unknown_variables({typed: "x", "HOME": "/root"}) == [
        f"environment {typed}: {NEAREST} {meant}?"]


def test_a_variable_like_no_known_one_points_at_the_list() -> None:
    assert unknown_variables({"CRAMPGUARD_XYZZY": "1"}) == [
        "environment CRAMPGUARD_XYZZY: no such crampguard variable, ignored; the variables "
        "are listed in `crampguard --help`"]


def test_every_variable_the_program_its_tests_and_readme_name_is_known() -> None:
    """What the code reads, the tests set and the README documents is never warned about
    (a variable added to one and not to config/settings.py fails here). The typos quoted
    as examples (this file's, and these in settings.py and the README) are left out."""
    typos = {"CRAMPGUARD_TIMEZOEN", "CRAMPGUARD_BEDTIME"}
    texts = [p.read_text(encoding="utf-8") for folder in ("scheduler", "tests", "bench")
             for p in (ROOT / folder).rglob("*.py") if p != Path(__file__)]
    texts.append((ROOT / "README.md").read_text(encoding="utf-8"))
    named = {m for text in texts
             for m in re.findall(r"CRAMPGUARD_[A-Z][A-Z_]*[A-Z]", text)} - typos
    assert {"CRAMPGUARD_TIMEZONE", "CRAMPGUARD_RUNTIME_DIR"} <= named  # the probe works
    assert unknown_variables(dict.fromkeys(named, "x")) == []
    # Settings keys are read in any case (pydantic-settings), so they are known so too.
    assert unknown_variables(dict.fromkeys(
        (v.lower() for v in setting_variables()), "x")) == []


def test_the_cli_warns_on_stderr_and_keeps_its_output_and_exit_status() -> None:
    env = {**os.environ, "CRAMPGUARD_TIMEZOEN": "Europe/Paris"}
    warning = f"warning: environment CRAMPGUARD_TIMEZOEN: {NEAREST} CRAMPGUARD_TIMEZONE?\n"

    result = cli("next", "-n", "1", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 1  # stdout stays JSON
    assert result.stderr == warning

    refused = cli("pause", "until", "25:00", env=env)  # an error stays an error, exit 1
    assert refused.returncode == 1
    assert refused.stderr == ("pause until: 25:00 is not a time of day: hours go 00 to 23\n"
                              + warning)

    assert cli("next", "-n", "1").stderr == ""  # no stray variable, no warning


def test_the_daemon_logs_an_unknown_variable_at_start_and_on_reload(
        console_env: dict[str, str], routines: Path) -> None:
    write_routine_file(routines, "a", routine_text("A", "12:00"))
    env = {**console_env, "CRAMPGUARD_NOTIFER": "dbus"}
    logged = rf"WARNING environment CRAMPGUARD_NOTIFER: {NEAREST} CRAMPGUARD_NOTIFIER\?"
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(logged)
        daemon.wait_for(r"crampguard running")
        mark = daemon.mark()
        daemon.signal(signal.SIGHUP)
        daemon.wait_for(logged, after=mark)
        assert daemon.stop() == 0


# --- H: a zero offset is the anchor itself ------------------------------------------------

@pytest.mark.parametrize("text, anchor", [
    ("bedtime + 0m", "bedtime"), ("wake - 0m", "wake"), ("bedtime + 0h", "bedtime"),
    ("workout-0s", "workout"), ("work-end + 0h0m", "work-end"),
])
def test_a_zero_offset_is_valid(text: str, anchor: str) -> None:
    assert grammar.parse_at(text) == AnchorRef(anchor, timedelta())


def test_a_routine_at_bedtime_plus_zero_fires_at_bedtime(write_routine,
                                                          tmp_path: Path) -> None:
    write_routine("zero", '[schedule]\nat = "bedtime + 0m"\n')
    folder = str(tmp_path / "routines")
    assert cli("--routines", folder, "check").returncode == 0
    listed = json.loads(cli("--routines", folder, "list", "--json").stdout)
    assert listed[0]["schedule"] == "daily at 22:30 (bedtime)"
    upcoming = json.loads(cli("--routines", folder, "next", "-n", "1", "--from",
                              "2026-11-23T08:00", "--json").stdout)
    assert upcoming[0]["at"].startswith("2026-11-23T22:30:00")


# --- I: every value error in the user's words ---------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["snooze", "foot-soak", "99999h"], "snooze: 99999h is too long; a snooze is at most "
                                        "1 day"),
    (["snooze", "x", "999999999999999999999999h"], "snooze: 999999999999999999999999h is "
                                                   "too long; a snooze is at most 1 day"),
    (["pause", "until", "25:00"], "pause until: 25:00 is not a time of day: hours go 00 to "
                                  "23"),
    (["pause", "until", "24:00"], "pause until: 24:00 is not a time of day: hours go 00 to "
                                  "23 (midnight is 00:00)"),
    (["pause", "until", "21:60"], "pause until: 21:60 is not a time of day: minutes go 00 "
                                  "to 59"),
    (["pause", "-5m"], 'pause: a pause cannot be negative (got -5m); give a duration like '
                       '30m, or "until 21:00"'),
    (["snooze", "x", "-5m"], "snooze: a snooze cannot be negative (got -5m); give a "
                             "duration like 10m"),
    (["pause", "0m"], 'pause: a pause must be longer than zero (got 0m); give a duration '
                      'like 30m, or "until 21:00"'),
    (["snooze", "x", "0m"], "snooze: a snooze must be longer than zero (got 0m); give a "
                            "duration like 10m"),
    (["done", "x", "--due", "24:00"], "--due: 24:00 is not a time of day: hours go 00 to 23 "
                                      "(midnight is 00:00)"),
    (["log-cramp", "--when", "02:61"], "--when: 02:61 is not a time of day: minutes go 00 "
                                       "to 59"),
    (["log-cramp", "--when", "-5m"], "--when: give a time, not how long ago (got '-5m')"),
    (["next", "--from", "2026-13-01"], "--from: not a time (got '2026-13-01'): months go 01 "
                                       "to 12"),
    (["next", "--from", "2026-02-30T10:00"], "--from: not a time (got '2026-02-30T10:00'): "
                                             "February 2026 has 28 days"),
    (["next", "--from", "2026-11-23T25:00"], "--from: not a time (got '2026-11-23T25:00'): "
                                             "hours go 00 to 23"),
    (["pause", "until", "99999-01-01"], "pause until: give a time between the years 1970 and "
                                        "9000"),
])
def test_a_refused_value_is_said_in_the_users_words(args: list[str], message: str) -> None:
    result = cli(*args)
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_an_impossible_clock_in_a_file_says_which_part() -> None:
    with pytest.raises(grammar.ImpossibleClock, match="minutes go 00 to 59"):
        grammar.parse_clock("21:60")
    assert grammar.parse_clock("23:59:59") == time(23, 59, 59)


# --- J: `list` says the day a firing past midnight falls on ---------------------------------

ANCHORS = Anchors(bedtime=time(23, 30), wake=time(7),
                  workout={"at": ["07:00", "18:00"], "days": ["tue", "thu", "sat"]})


@pytest.mark.parametrize("fields, words", [
    ({"at": ["bedtime + 45m"], "days": ["mon"]}, "tue at 00:15 (bedtime + 45m on mon)"),
    ({"at": ["bedtime + 45m"], "days": "weekdays"},
     "tue, wed, thu, fri, sat at 00:15 (bedtime + 45m on weekdays)"),
    ({"at": ["bedtime + 45m"]}, "daily at 00:15 (bedtime + 45m)"),  # every day either way
    ({"at": ["wake - 8h"], "days": ["tue"]}, "mon at 23:00 (wake - 8h on tue)"),
    ({"at": ["bedtime - 45m"], "days": ["mon"]}, "mon at 22:45 (bedtime - 45m)"),
    ({"at": ["workout + 7h"]},
     "tue, thu, sat at 14:00 (workout + 7h); wed, fri, sun at 01:00 (workout + 7h on tue, "
     "thu, sat)"),
    ({"at": ["21:00", "bedtime + 45m"], "days": ["sun"]},
     "sun at 21:00; mon at 00:15 (bedtime + 45m on sun)"),
])
def test_the_days_said_are_the_days_it_fires(fields: dict, words: str) -> None:
    assert describe(Schedule(**fields), ANCHORS) == words


def test_list_and_next_agree_on_a_firing_past_midnight(isolated: Dirs, tmp_path: Path) -> None:
    isolated.config.mkdir(parents=True, exist_ok=True)
    isolated.config_file.write_text('schema_version = 1\n[anchors]\nbedtime = "23:30"\n',
                                    encoding="utf-8")
    folder = tmp_path / "late"
    write_routine_file(folder, "late", routine_head("Late", "Late.")
                       + '[schedule]\nat = "bedtime + 45m"\ndays = ["mon"]\n'
                       'quiet_hours = "ignore"\n')
    listed = cli("--routines", str(folder), "list")
    assert listed.returncode == 0, listed.stderr
    assert "tue at 00:15 (bedtime + 45m on mon)" in listed.stdout
    upcoming = json.loads(cli("--routines", str(folder), "next", "-n", "2", "--from",
                              "2026-11-23T08:00", "--json").stdout)  # a Monday
    assert [f["at"] for f in upcoming] == ["2026-11-24T00:15:00+01:00",
                                           "2026-12-01T00:15:00+01:00"]  # Tuesdays
