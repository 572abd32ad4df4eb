"""Bad input meets a message that names the file, the line and the field, and the fix.

Each case goes through the command line (`crampguard check PATH`): exit status 1, the
problem on stderr, never a traceback. Then the values typed on the command line: each has a
range, stated in its help and in the error. Then property tests: whatever text or value a
user writes, loading fails only with ``CrampguardError``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.config import tomlfile
from scheduler.config.catalog import load_catalog
from scheduler.config.loader import load_file
from scheduler.config.settings import load_settings
from scheduler.errors import CrampguardError
from tests.support.fixtures import SEEDS


def check_fails(run, *paths: Path, options: tuple[str, ...] = ()) -> str:
    """Run `crampguard check`, expect exit 1 and no traceback; return stderr."""
    code, out, err = run(*options, "check", *paths)
    assert code == 1, (out, err)
    assert "Traceback" not in err and "Traceback" not in out
    assert err.strip(), "no problem printed"
    return err


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first line that contains ``needle``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


# --- one problem, one precise message -----------------------------------------------------

def test_toml_syntax_error_names_path_line_and_column(run, write_routine) -> None:
    path = write_routine("syntax", "[schedule]\nat = 21:3x\n")
    err = check_fails(run, path)
    assert err.startswith(f"{path}:{line_of(path, 'at = 21:3x')}:"), err
    assert re.match(rf"^{re.escape(str(path))}:\d+:\d+: TOML syntax", err), err
    assert 'at = "21:30"' in err  # the hint: text values need quotes


def test_unknown_key_is_named_with_its_line_and_a_suggestion(run, write_routine) -> None:
    path = write_routine("typo", 'titel = "Stretch"\n[schedule]\nat = "21:00"\n')
    err = check_fails(run, path)
    assert f"{path}:{line_of(path, 'titel')}: titel: unknown key" in err
    assert 'did you mean "title"?' in err


def test_unknown_key_inside_a_table_lists_the_keys_of_that_table(run, write_routine) -> None:
    path = write_routine("typo", '[schedule]\nat = "21:00"\ncatchup = "5m"\n')
    err = check_fails(run, path)
    assert f"{path}:{line_of(path, 'catchup')}: schedule.catchup: unknown key" in err
    assert 'did you mean "catch_up"?' in err


def test_impossible_time_names_the_field_the_line_and_the_format(run, write_routine) -> None:
    path = write_routine("late", '[schedule]\nat = "25:00"\n')
    err = check_fails(run, path)
    assert f"{path}:{line_of(path, '25:00')}: schedule.at:" in err
    assert '"HH:MM"' in err and "25:00" in err


@pytest.mark.parametrize("days", ['"funday"', '["mon", "funday"]'])
def test_unknown_day_lists_the_valid_day_names(run, write_routine, days: str) -> None:
    path = write_routine("days", f'[schedule]\nat = "21:00"\ndays = {days}\n')
    err = check_fails(run, path)
    assert f"{path}:{line_of(path, 'funday')}: schedule.days:" in err
    assert "'funday'" in err
    assert "mon, tue, wed, thu, fri, sat, sun" in err, err  # the valid day names


def test_unknown_anchor_lists_the_known_ones(run, write_routine) -> None:
    path = write_routine("lunch", '[schedule]\nat = "lunch - 10m"\n')
    err = check_fails(run, path)
    assert f"{path}:{line_of(path, 'lunch')}: schedule.at:" in err
    assert "'lunch'" in err
    for anchor in ("bedtime", "wake", "workout", "work-start", "work-end"):
        assert anchor in err


def test_interval_longer_than_its_window(run, write_routine) -> None:
    path = write_routine("long", '[schedule]\nevery = "9h"\nbetween = "09:00-17:30"\n')
    err = check_fails(run, path)
    assert err.startswith(f"{path}:")
    assert "9h" in err and "09:00-17:30" in err and "longer" in err


def test_interval_longer_than_the_work_window_is_checked_against_settings(
        run, write_routine, isolated) -> None:
    path = write_routine("long", '[schedule]\nevery = "9h"\nbetween = "work"\n')
    err = check_fails(run, path)
    assert f"{path}:{line_of(path, 'every')}: schedule.every:" in err
    assert "work window 09:00-17:30" in err

    # A wider work window in config.toml makes the same file valid.
    isolated.config.mkdir(parents=True)
    isolated.config_file.write_text(
        'schema_version = 1\n[anchors]\nwork = { between = "08:00-18:00" }\n', encoding="utf-8")
    code, out, err = run("check", path)
    assert (code, err) == (0, ""), err
    assert out.startswith("ok: 1 file(s)")


def test_unknown_seed_suggests_the_near_one(run, write_routine) -> None:
    path = write_routine("seed", 'schema_version = 1\ntitle = "T"\nmessage = "M"\n'
                                 'seed = "stretch-befor-bed"\n[schedule]\nat = "21:00"\n',
                         head=False)
    err = check_fails(run, path)
    assert f"{path}:{line_of(path, 'seed')}: seed: unknown catalog step" in err
    assert 'did you mean "stretch-before-bed"?' in err


def test_advice_only_seed_is_refused_with_the_reason(run, write_routine) -> None:
    path = write_routine("seed", 'schema_version = 1\ntitle = "T"\nmessage = "M"\n'
                                 'seed = "vitamin-e-unproven"\n[schedule]\nat = "21:00"\n',
                         head=False)
    err = check_fails(run, path)
    assert f"{path}:{line_of(path, 'seed')}: seed:" in err
    assert "advice only" in err and "no definitive answer" in err


def test_missing_required_key(run, write_routine) -> None:
    path = write_routine("bare", 'schema_version = 1\nmessage = "M"\n[schedule]\nat = "21:00"\n',
                         head=False)
    err = check_fails(run, path)
    assert f"{path}: title: required" in err


def test_missing_schedule(run, write_routine) -> None:
    path = write_routine("bare", "")
    err = check_fails(run, path)
    assert f"{path}: schedule: required" in err


def test_two_broken_files_are_both_reported_in_one_run(run, write_routine) -> None:
    first = write_routine("a", "[schedule]\nat = 21:3x\n")
    second = write_routine("b", '[schedule]\nat = "25:00"\n')
    err = check_fails(run, first, second)
    lines = err.splitlines()
    assert any(line.startswith(f"{first}:") for line in lines), err
    assert any(line.startswith(f"{second}:") and "schedule.at" in line for line in lines), err


def test_every_problem_of_one_file_is_reported(run, write_routine) -> None:
    path = write_routine("many", 'titel = "x"\n[schedule]\nat = "21:00"\n'
                                 '[notify]\nurgency = "loud"\n')
    err = check_fails(run, path)
    assert "titel" in err and "notify.urgency" in err


def test_broken_folder_in_the_active_set_is_reported(run, write_routine, isolated) -> None:
    write_routine("broken", '[schedule]\nat = "25:00"\n', folder=isolated.routines)
    err = check_fails(run)
    assert f"{isolated.routines / 'broken.toml'}:" in err


def test_broken_config_file_names_its_path_and_line(run, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('schema_version = 1\n\n[anchors]\nbedtime = "23:75"\n', encoding="utf-8")
    err = check_fails(run, options=("--config", str(config)))
    assert f"{config}:4: anchors.bedtime:" in err


def test_config_file_syntax_error(run, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('schema_version = 1\nquiet_hours = 23:00-07:00\n', encoding="utf-8")
    err = check_fails(run, options=("--config", str(config)))
    assert re.match(rf"^{re.escape(str(config))}:2:\d+: TOML syntax", err), err


def test_unknown_config_key(run, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('schema_version = 1\n[anchors]\nbedtiem = "23:00"\n', encoding="utf-8")
    err = check_fails(run, options=("--config", str(config)))
    assert f"{config}:3: anchors.bedtiem: unknown key" in err
    assert 'did you mean "bedtime"?' in err


def test_bad_environment_variable_is_blamed_on_the_variable(
        run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAMPGUARD_QUIET_HOURS", "late")
    err = check_fails(run)
    assert err.startswith("environment CRAMPGUARD_QUIET_HOURS:"), err
    assert "'late'" in err


def test_config_file_error_is_not_blamed_on_an_unrelated_nested_variable(
        run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CRAMPGUARD_ANCHORS__BEDTIME is fine; the bad value is anchors.wake in the file."""
    config = tmp_path / "config.toml"
    config.write_text('schema_version = 1\n[anchors]\nwake = "99:00"\n', encoding="utf-8")
    monkeypatch.setenv("CRAMPGUARD_ANCHORS__BEDTIME", "23:00")
    err = check_fails(run, options=("--config", str(config)))
    assert f"{config}:3: anchors.wake:" in err, err


def test_bad_nested_variable_is_named_in_full(run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAMPGUARD_ANCHORS__BEDTIME", "25:00")
    err = check_fails(run)
    assert err.startswith("environment CRAMPGUARD_ANCHORS__BEDTIME:"), err


def test_unknown_time_zone_in_the_environment(run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAMPGUARD_TIMEZONE", "Mars/Olympus")
    err = check_fails(run)
    assert err.startswith("environment CRAMPGUARD_TIMEZONE:"), err
    assert "Europe/Berlin" in err  # the example of a valid name


def test_missing_file(run, tmp_path: Path) -> None:
    err = check_fails(run, tmp_path / "nope.toml")
    assert f"{tmp_path / 'nope.toml'}: no such file" in err


def test_file_that_is_not_utf8(run, tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('title = "Fußbad"\n'.encode("latin-1"))
    err = check_fails(run, path)
    assert f"{path}: not UTF-8" in err


@pytest.mark.parametrize("body, field", [
    ('[schedule]\nevery = "99999999999d"\nbetween = "09:00-17:00"\n', "schedule.every"),
    ('[schedule]\nat = "21:00"\ncatch_up = "99999999999d"\n', "schedule.catch_up"),
    ('[schedule]\nat = "21:00"\n[notify]\nactions = ["snooze 99999999999d"]\n',
     "notify.actions"),
])
def test_absurdly_long_duration_is_a_field_error(run, write_routine, body: str,
                                                 field: str) -> None:
    path = write_routine("huge", body)
    err = check_fails(run, path)
    assert f"{path}:" in err and field in err, err


@pytest.mark.parametrize("var, value", [
    ("CRAMPGUARD_ANCHORS", "garbage"),
    ("CRAMPGUARD_ANCHORS__WORK", "09:00-17:30"),
])
def test_table_variable_that_is_not_json_is_blamed_on_the_variable(
        run, monkeypatch: pytest.MonkeyPatch, var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    err = check_fails(run)
    assert err.startswith(f"environment {var}:"), err


# --- values typed on the command line -------------------------------------------------------
# (every command and option under arbitrary values: tests/test_cli_fuzz.py)

CRAMPGUARD = Path(sys.executable).with_name("crampguard")


def crampguard(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed `crampguard` program (the console script of this environment)."""
    if not CRAMPGUARD.exists():
        pytest.skip(f"no crampguard program next to {sys.executable} (pip install -e .)")
    return subprocess.run([str(CRAMPGUARD), *args], capture_output=True, text=True,
                          timeout=20, env=os.environ)


@pytest.mark.parametrize("args, message", [
    (["pause", "9999999999h"], "pause: 9999999999h is too long; a pause is at most 30 days; "
                               "for longer, disable the routines (enabled = false)"),
    (["pause", "999999d"], "pause: 999999d is too long; a pause is at most 30 days"),
    (["history", "--days", "99999999"], "--days: give a number of days from 1 to 3660 "
                                        "(got 99999999)"),
])
def test_the_issues_examples_are_refused_by_the_program(args: list[str], message: str) -> None:
    proc = crampguard(*args)
    assert proc.returncode == 1, proc
    assert proc.stderr.startswith(message), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout == ""


def test_text_that_is_not_utf8_is_refused_by_the_program() -> None:
    proc = subprocess.run([os.fsencode(CRAMPGUARD), b"history", b"--routine", b"\xff"],
                          capture_output=True, timeout=20, env=os.environ)
    assert proc.returncode == 1, proc
    assert proc.stderr.startswith(b"--routine: not UTF-8 text"), proc.stderr
    assert b"Traceback" not in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["pause", "31d"], "pause: 31d is too long; a pause is at most 30 days"),
    (["pause", "720h1s"], "pause: 720h1s is too long"),
    (["pause", "0s"], "pause: a pause must be longer than zero (got 0s)"),
    (["pause", "until", "2020-01-01T00:00"], "pause until: 2020-01-01T00:00 has passed"),
    (["pause", "until", "8000-01-01"], "pause until: 8000-01-01 is too far ahead; a pause is "
                                       "at most 30 days"),
    (["pause", "until", "99999-01-01"], "pause until: give a time between the years 1970"),
    (["pause", "99999999999999999999999d"], "pause: 99999999999999999999999d is too long; "
                                             "a pause is at most 30 days"),
    (["snooze", "x", "1d1s"], "snooze: 1d1s is too long; a snooze is at most 1 day"),
    (["snooze", "x", "0m"], "snooze: a snooze must be longer than zero (got 0m)"),
    (["history", "--days", "0"], "--days: give a number of days from 1 to 3660 (got 0)"),
    (["history", "--days", "3661"], "--days: give a number of days from 1 to 3660"),
    (["stats", "--days", "-7"], "--days: give a number of days from 1 to 3660 (got -7)"),
    (["stats", "--days", "9" * 40], "--days: give a number of days from 1 to 3660"),
    (["next", "-n", "10001"], "--count: give a number of firings from 1 to 10000"),
    (["next", "--count", "0"], "--count: give a number of firings from 1 to 10000"),
    (["next", "--from", "9001-01-01T00:00"], "--from: give a time between the years 1970 "
                                             "and 9000"),
    (["next", "--from", "1969-12-31T23:59"], "--from: give a time between the years 1970"),
    (["log-cramp", "--when", "0001-01-01T00:00"], "--when: give a time between the years"),
    (["log-cramp", "--when", "8999-01-01T00:00"], "--when: a cramp cannot be logged in the "
                                                  "future"),
    (["log-cramp", "--severity", "6"], "--severity: give 1 (mild) to 5 (worst) (got 6)"),
    (["log-cramp", "--severity", "0"], "--severity: give 1 (mild) to 5 (worst) (got 0)"),
])
def test_each_value_out_of_range_is_refused_with_the_range(run, args: list[str],
                                                           message: str) -> None:
    code, out, err = run(*args)
    assert (code, out) == (1, ""), err
    assert err.startswith(message), err


@pytest.mark.parametrize("args", [
    ["history", "--days", "3660"], ["stats", "--days", "3660"], ["history", "--days", "1"],
    ["next", "-n", "10000", "--from", "2026-11-23T08:00"], ["next", "-n", "1"],
    ["log-cramp", "--when", "1970-01-01T12:00", "--severity", "5"],
    ["next", "-n", "1", "--from", "9000-12-31T23:00"],
])
def test_the_ends_of_each_range_are_accepted(run, args: list[str]) -> None:
    code, _, err = run(*args)
    assert code == 0, err


@pytest.mark.parametrize("args", [["pause", "30d"], ["pause", "720h"], ["snooze", "x", "1d"],
                                  ["snooze", "x", "24h"], ["snooze", "x", "1s"]])
def test_the_longest_pause_and_snooze_get_as_far_as_the_daemon(run, args: list[str]) -> None:
    code, _, err = run(*args)
    assert code == 1
    assert err.startswith("crampguard is not running"), err


@pytest.mark.parametrize("command, option, numbers", [
    ("history", "--days", "1 to 3660"), ("stats", "--days", "1 to 3660"),
    ("next", "--count", "1 to 10000"), ("next", "--from", "1970 to 9000"),
    ("log-cramp", "--when", "1970 to 9000"), ("log-cramp", "--severity", "1-5"),
    ("pause", "DURATION", "at most 30 days"), ("snooze", "DURATION", "at most 1 day"),
])
def test_each_options_help_states_its_range(run, command: str, option: str,
                                            numbers: str) -> None:
    code, out, _ = run(command, "--help")
    assert code == 0
    text = " ".join(out.split())  # argparse wraps the help
    section = text.index("options:" if option.startswith("-") else "positional arguments:")
    entry = text[text.index(option, section):]
    assert numbers in entry[:250], entry[:250]


# --- a settings file named on the command line or in CRAMPGUARD_CONFIG must exist ---------

#: The commands that read the settings (the others that talk to the daemon only pass an id).
SETTINGS_COMMANDS = [["check"], ["list"], ["next"], ["history"], ["stats"], ["log-cramp"],
                     ["notify-test"], ["pause"]]


@pytest.mark.parametrize("command", SETTINGS_COMMANDS, ids=lambda c: c[0])
def test_a_missing_config_file_named_by_the_flag_is_an_error(run, tmp_path: Path,
                                                             command: list[str]) -> None:
    missing = tmp_path / "typo.toml"
    code, out, err = run("--config", missing, *command)
    assert (code, out) == (1, ""), err
    assert err == f"no such settings file: {missing}; create it (`init` writes one there) " \
                  "or leave out --config\n"
    code, _, err2 = run(*command, "--config", missing)  # after the command name too
    assert (code, err2) == (1, err)


def test_a_missing_config_file_named_by_the_variable_is_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "typo.toml"
    monkeypatch.setenv("CRAMPGUARD_CONFIG", str(missing))
    proc = crampguard("list")
    assert proc.returncode == 1, proc
    assert proc.stderr == (f"no such settings file: {missing} (from CRAMPGUARD_CONFIG); create "
                           "it (`init` writes one there) or unset CRAMPGUARD_CONFIG\n")


def test_the_default_config_file_may_be_missing(run, isolated) -> None:
    assert not isolated.config_file.exists()
    code, out, err = run("check")
    assert code == 0, err
    assert "settings from" not in out


def test_init_creates_the_named_config_file(run, tmp_path: Path) -> None:
    named = tmp_path / "mine.toml"
    code, _, err = run("--config", named, "init")
    assert code == 0, err
    assert named.is_file()
    code, out, err = run("--config", named, "check")
    assert code == 0, err
    assert f"settings from {named}" in out


# --- property tests: nothing but CrampguardError ---------------------------------------

HYPOTHESIS = settings(max_examples=200, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])

FRAGMENTS = [
    "schema_version", "id", "title", "message", "enabled", "seed", "schedule", "notify",
    "at", "days", "every", "between", "cron", "catch_up", "quiet_hours", "urgency",
    "timeout", "actions", "icon", "[schedule]", "[notify]", "[[step]]", "[", "]", "{", "}",
    "=", " = ", "\"", "'", '"""', ",", ".", "\n", " ", "#", "1", "0", "-1", "true", "false",
    "21:30", "25:00", "21:30:00", "23:59:60", "00:00", "1979-05-27", "1979-05-27T07:32:00Z",
    '"21:30"', '"bedtime - 45m"', '"wake + 1d"', '"work"', '"09:00-17:30"', '"17:30-09:00"',
    '"45m"', '"0s"', '"1h30m"', '"9h"', '"10"', '"daily"', '"weekdays"', '["mon", "thu"]',
    '["funday"]', "[]", '"30 21 * * 1-5"', '"* * * * *"', '"61 25 32 13 8"', '"*/0 * * * *"',
    '"low"', '"critical"', '"snooze 10m"', '"snooze"', '"stretch-before-bed"', "nan", "inf",
    "1e400", "0x10", "\\u0000", "é", "\t", '"99999999999d"', '"snooze 9999999999999h"',
    "[anchors]", "bedtime", "wake", "work", "workout", "timezone", "notifier",
    '"Europe/Berlin"', '"Not/AZone"', '"off"', "{ between = ", "{ at = ",
]
toml_ish = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(SEEDS / "catalog.toml")


@pytest.fixture(scope="module")
def default_settings(tmp_path_factory: pytest.TempPathFactory):
    return load_settings(tmp_path_factory.mktemp("settings") / "absent.toml")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("property") / "routine.toml"


def _load_text(text: str, path: Path, settings_, catalog_) -> None:
    # surrogatepass: a lone surrogate becomes bytes that are not UTF-8, a case of its own
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    for load in (lambda: tomlfile.read(path), lambda: load_file(path, settings_, catalog_),
                 lambda: load_settings(path, env={})):
        try:
            load()
        except CrampguardError as exc:
            assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


@HYPOTHESIS
@given(text=st.text(max_size=300))
def test_arbitrary_text_fails_only_with_crampguard_error(
        text: str, scratch: Path, default_settings, catalog) -> None:
    _load_text(text, scratch, default_settings, catalog)


@HYPOTHESIS
@given(text=toml_ish)
def test_toml_ish_text_fails_only_with_crampguard_error(
        text: str, scratch: Path, default_settings, catalog) -> None:
    _load_text(text, scratch, default_settings, catalog)


@HYPOTHESIS
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_fail_only_with_crampguard_error(
        data: bytes, scratch: Path, default_settings, catalog) -> None:
    scratch.write_bytes(data)
    try:
        load_file(scratch, default_settings, catalog)
    except CrampguardError:
        pass


VALID = {
    "schema_version": 1,
    "id": "prop",
    "title": "Property",
    "message": "Checked by hypothesis.",
    "enabled": True,
    "seed": "stretch-before-bed",
    "schedule": {"at": "21:30", "days": "daily", "catch_up": "30m", "quiet_hours": "respect"},
    "notify": {"urgency": "normal", "timeout": "20s", "actions": ["done", "snooze 10m"],
               "icon": ""},
}
# The keys a value is dropped into; for an interval or cron schedule the other kind's keys
# are removed first, so the property also reaches those validators with a valid base.
SLOTS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "schedule.at": (("schedule", "at"), {}),
    "schedule.days": (("schedule", "days"), {}),
    "schedule.every": (("schedule", "every"),
                       {"schedule": {"between": "09:00-17:30", "catch_up": "5m"}}),
    "schedule.between": (("schedule", "between"), {"schedule": {"every": "50m"}}),
    "schedule.cron": (("schedule", "cron"), {"schedule": {}}),
    "schedule.catch_up": (("schedule", "catch_up"), {}),
    "schedule.quiet_hours": (("schedule", "quiet_hours"), {}),
    "notify.urgency": (("notify", "urgency"), {}),
    "notify.timeout": (("notify", "timeout"), {}),
    "notify.actions": (("notify", "actions"), {}),
    "notify.icon": (("notify", "icon"), {}),
    "seed": (("seed",), {}),
    "id": (("id",), {}),
    "title": (("title",), {}),
    "message": (("message",), {}),
    "enabled": (("enabled",), {}),
    "schema_version": (("schema_version",), {}),
    "schedule": (("schedule",), {}),
    "notify": (("notify",), {}),
}

# Text the grammar almost accepts reaches deeper than random text does.
grammar_ish = st.one_of(
    st.sampled_from([f.strip("\"'") for f in FRAGMENTS]),
    st.from_regex(r"\A\d{1,22}[dhms](\s?\d{1,22}[dhms]){0,2}\Z"),    # durations
    st.from_regex(r"\A\d{1,3}:\d{1,3}(:\d{1,3})?\Z"),                # clock times
    st.from_regex(r"\A\d{1,3}:\d{2}-\d{1,3}:\d{2}\Z"),              # windows
    st.from_regex(r"\A(bedtime|wake|workout|work-start|work-end|lunch)"
                  r"( ?[-+] ?\d{1,22}[dhms])?\Z"),                     # anchors
    st.from_regex(r"\Asnooze( \d{1,22}[dhms])?\Z"),                     # actions
    st.lists(st.sampled_from(["*", "*/0", "*/5", "1-5", "5-1", "0", "7", "59", "60", "24",
                              "mon", "sun", "jan", "feb-dec", "31", "²", "1,2"]),
             min_size=1, max_size=6).map(" ".join),                    # cron
)
scalars = (st.none() | st.booleans() | st.integers() | st.floats()
           | st.text(max_size=20) | st.sampled_from(FRAGMENTS) | grammar_ish
           | st.times() | st.dates() | st.datetimes())
json_like = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10) | st.sampled_from(FRAGMENTS), children, max_size=4),
    max_leaves=12,
)


def _routine_with(slot: str, value: Any) -> dict[str, Any]:
    path, replace = SLOTS[slot]
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in VALID.items()}
    for table, values in replace.items():
        data[table] = {"catch_up": "30m", **values}
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize("slot", sorted(SLOTS))
def test_the_base_routine_of_each_slot_is_valid(
        slot: str, scratch: Path, default_settings, catalog) -> None:
    """Otherwise the property below would test nothing but one early error."""
    path, _ = SLOTS[slot]
    good = {"schedule.cron": "30 21 * * 1-5", "schedule.every": "50m",
            "schedule.between": "work"}.get(slot)
    data = _routine_with(slot, good) if good else _routine_with(slot, _get(VALID, path))
    scratch.write_text(_dump(data), encoding="utf-8")
    load_file(scratch, default_settings, catalog)


def _get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


@pytest.mark.parametrize("slot", sorted(SLOTS))
@HYPOTHESIS
@given(value=json_like)
def test_any_value_at_any_key_fails_only_with_crampguard_error(
        slot: str, value: Any, scratch: Path, default_settings, catalog) -> None:
    data = _routine_with(slot, value)
    # In memory, as the daemon's reload or a test would build it ...
    from pydantic import ValidationError

    from scheduler.config.routine import Routine
    try:
        Routine.model_validate(data)
    except ValidationError:
        pass
    # ... and as a file a user wrote, where the value survives TOML (None cannot).
    text = _dump(data)
    if text is None:
        return
    scratch.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_file(scratch, default_settings, catalog)
    except CrampguardError as exc:
        assert exc.problems


def _dump(data: dict[str, Any]) -> str | None:
    """A small TOML writer (the standard library only reads TOML): inline tables and
    arrays, so any nesting comes out; None when a value has no TOML form."""
    try:
        return "\n".join(f"{_key(k)} = {_value(v)}" for k, v in data.items()) + "\n"
    except _NoToml:
        return None


class _NoToml(Exception):
    pass


def _key(key: str) -> str:
    return _string(key)


def _string(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0xD800 <= code <= 0xDFFF:
            raise _NoToml
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value: Any) -> str:
    if value is None:
        raise _NoToml
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise _NoToml
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime | date | time):  # TOML's own date and time values
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise _NoToml


def test_the_toml_writer_round_trips() -> None:
    data = {"a": [1, 2.5, "x\"\n", True, {"b c": time(21, 30)}], "d": {"e": []}}
    assert tomllib.loads(_dump(data)) == data
