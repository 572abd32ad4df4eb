"""The command line, driven in process: `main([...])`, stdout/stderr and the exit status."""

from __future__ import annotations

import argparse
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from scheduler.cli.main import build_parser
from scheduler.config.loader import routine_files
from tests.support.fixtures import ROOT, SHIPPED_ROUTINES

SHIPPED_IDS = sorted(p.stem for p in routine_files(SHIPPED_ROUTINES))
ENABLED_BY_DEFAULT = {"calf-stretch", "foot-soak", "mineral-rich-meal", "morning-checkin",
                      "sitting-break", "warm-calves-at-night", "warm-up", "water-and-salt"}
MONDAY_8 = "2026-11-23T08:00"  # a Monday in winter time (+01:00 in Berlin)


def _commands() -> list[str]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


def firing_lines(out: str) -> list[tuple[str, str]]:
    """(`Mon 2026-11-23 21:45:00 +0100`, routine id) for each line of `next`, up to the
    follow-ups after a blank line."""
    rows = []
    for line in out.split("\n\n")[0].splitlines():
        m = re.match(r"^(\w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4})  (\S+)", line)
        assert m, f"not a firing line: {line!r}"
        rows.append((m[1], m[2]))
    return rows


def user_routine(dirs, name: str, text: str) -> Path:
    dirs.routines.mkdir(parents=True, exist_ok=True)
    path = dirs.routines / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- check ------------------------------------------------------------------------------

def test_check_the_active_set(run) -> None:
    code, out, err = run("check")
    assert (code, err) == (0, "")
    n = len(SHIPPED_IDS)
    assert out == f"ok: {n} file(s), {n} routine(s), {len(ENABLED_BY_DEFAULT)} enabled\n"


def test_check_names_the_config_file_it_read(run, isolated) -> None:
    isolated.config.mkdir(parents=True)
    isolated.config_file.write_text("schema_version = 1\n", encoding="utf-8")
    code, out, _ = run("check")
    assert code == 0
    assert out.rstrip().endswith(f"; settings from {isolated.config_file}")


def test_check_given_files(run) -> None:
    files = [SHIPPED_ROUTINES / "foot-soak.toml", SHIPPED_ROUTINES / "standing-break.toml"]
    code, out, err = run("check", *files)
    assert (code, err) == (0, "")
    assert out == "ok: 2 file(s), 2 routine(s), 1 enabled\n"


def test_check_json(run) -> None:
    code, out, _ = run("check", "--json")
    assert code == 0
    assert json.loads(out) == {"ok": True, "files": len(SHIPPED_IDS),
                               "routines": len(SHIPPED_IDS),
                               "enabled": len(ENABLED_BY_DEFAULT), "config": None,
                               "warnings": []}


# --- list -------------------------------------------------------------------------------

def test_list_shows_every_shipped_routine_with_on_or_off(run) -> None:
    code, out, err = run("list")
    assert (code, err) == (0, "")
    states = dict(re.findall(r"^(\S+)\s+(on|off)\s", out, re.M))
    assert sorted(states) == SHIPPED_IDS
    assert {i for i, s in states.items() if s == "on"} == ENABLED_BY_DEFAULT
    assert "daily at 21:45 (bedtime - 45m)" in out
    assert "every 50m between 09:00-17:30 (work), weekdays" in out


def test_list_json(run) -> None:
    code, out, _ = run("list", "--json")
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)}
    assert sorted(rows) == SHIPPED_IDS
    assert {i for i, r in rows.items() if r["enabled"]} == ENABLED_BY_DEFAULT
    foot = rows["foot-soak"]
    assert foot["schedule"] == "daily at 21:45 (bedtime - 45m)"
    assert foot["seed"] == ["soak-feet-before-bed"]
    assert Path(foot["source"]) == SHIPPED_ROUTINES / "foot-soak.toml"


def test_list_warns_about_a_broken_user_file_and_lists_the_rest(run, isolated) -> None:
    broken = user_routine(isolated, "broken", "schema_version = 1\ntitle = \n")
    code, out, err = run("list")
    assert code == 0
    assert f"warning: {broken}:2:" in err
    assert sorted(re.findall(r"^(\S+)\s+(?:on|off)\s", out, re.M)) == SHIPPED_IDS


# --- next -------------------------------------------------------------------------------

def test_next_pinned(run) -> None:
    code, out, err = run("next", "--count", "5", "--from", MONDAY_8, "--tz", "Europe/Berlin")
    assert (code, err) == (0, "")
    assert firing_lines(out) == [
        ("Mon 2026-11-23 09:50:00 +0100", "sitting-break"),
        ("Mon 2026-11-23 10:40:00 +0100", "sitting-break"),
        ("Mon 2026-11-23 11:30:00 +0100", "sitting-break"),
        ("Mon 2026-11-23 12:00:00 +0100", "mineral-rich-meal"),
        ("Mon 2026-11-23 12:20:00 +0100", "sitting-break"),
    ]
    assert out.splitlines()[3].endswith("Calcium and magnesium today")


def test_next_over_a_whole_day(run) -> None:
    code, out, _ = run("next", "-n", "14", "--from", MONDAY_8)
    assert code == 0
    rows = firing_lines(out)
    assert [r for r in rows if r[1] != "sitting-break"] == [
        ("Mon 2026-11-23 12:00:00 +0100", "mineral-rich-meal"),
        ("Mon 2026-11-23 21:45:00 +0100", "foot-soak"),
        ("Mon 2026-11-23 22:15:00 +0100", "calf-stretch"),
        ("Mon 2026-11-23 22:30:00 +0100", "warm-calves-at-night"),
    ]
    breaks = [when[15:20] for when, rid in rows if rid == "sitting-break"]
    assert breaks == ["09:50", "10:40", "11:30", "12:20", "13:10", "14:00", "14:50", "15:40",
                      "16:30", "17:20"]


def test_next_json(run) -> None:
    code, out, _ = run("next", "--count", "3", "--from", "2026-11-24T17:00", "--json")
    assert code == 0
    items = json.loads(out)
    assert [(i["routine"], i["at"]) for i in items] == [
        ("sitting-break", "2026-11-24T17:20:00+01:00"),
        ("warm-up", "2026-11-24T17:45:00+01:00"),  # Tuesday: a workout day
        ("foot-soak", "2026-11-24T21:45:00+01:00"),
    ]
    assert items[1]["title"] == "Warm up before your workout"
    for item in items:
        assert datetime.fromisoformat(item["at"]).utcoffset() == timedelta(hours=1)
        assert item["held"] is None and item["message"]


def test_next_marks_firings_held_back_by_quiet_hours(run, isolated) -> None:
    isolated.config.mkdir(parents=True)
    isolated.config_file.write_text(
        'schema_version = 1\nquiet_hours = "23:00-07:00"\n[anchors]\nbedtime = "23:30"\n',
        encoding="utf-8")
    code, out, _ = run("next", "--routine", "warm-calves-at-night", "-n", "1",
                       "--from", MONDAY_8)
    assert code == 0
    assert out == ("Mon 2026-11-23 23:30:00 +0100  warm-calves-at-night   "
                   "Keep your calves warm tonight  [held back: quiet hours]\n")
    code, out, _ = run("next", "--routine", "warm-calves-at-night", "-n", "1",
                       "--from", MONDAY_8, "--json")
    assert json.loads(out)[0]["held"] == "quiet-hours"


@freeze_time("2026-11-23 07:00:00", tz_offset=0)
def test_next_without_from_starts_now(run) -> None:
    code, out, _ = run("next", "--count", "2", "--json")
    assert code == 0
    ats = [datetime.fromisoformat(i["at"]) for i in json.loads(out)]
    now = datetime.fromisoformat("2026-11-23T07:00:00+00:00")  # 08:00 in Berlin
    assert all(at > now for at in ats)
    assert ats == [datetime.fromisoformat("2026-11-23T09:50:00+01:00"),
                   datetime.fromisoformat("2026-11-23T10:40:00+01:00")]


@freeze_time("2026-11-23 21:00:00", tz_offset=0)
def test_next_without_from_late_in_the_evening(run) -> None:
    """22:00 in Berlin: the foot soak (21:45) is past, the calf stretch (22:15) is next."""
    code, out, _ = run("next", "--count", "1")
    assert code == 0
    assert firing_lines(out) == [("Mon 2026-11-23 22:15:00 +0100", "calf-stretch")]


def test_next_from_with_an_offset_is_shown_in_the_settings_zone(run) -> None:
    code, out, _ = run("next", "-n", "1", "--routine", "foot-soak",
                       "--from", "2026-11-23T21:00:00+00:00")  # 22:00 in Berlin
    assert code == 0
    assert firing_lines(out) == [("Tue 2026-11-24 21:45:00 +0100", "foot-soak")]


def test_next_routine_filter(run) -> None:
    code, out, _ = run("next", "--routine", "foot-soak", "--count", "3", "--from", MONDAY_8)
    assert code == 0
    assert firing_lines(out) == [
        ("Mon 2026-11-23 21:45:00 +0100", "foot-soak"),
        ("Tue 2026-11-24 21:45:00 +0100", "foot-soak"),
        ("Wed 2026-11-25 21:45:00 +0100", "foot-soak"),
    ]


def test_next_routine_filter_shows_a_disabled_routine(run) -> None:
    code, out, _ = run("next", "--routine", "standing-break", "-n", "1", "--from", MONDAY_8)
    assert code == 0
    assert firing_lines(out) == [("Mon 2026-11-23 10:00:00 +0100", "standing-break")]


def test_next_unknown_routine(run) -> None:
    code, out, err = run("next", "--routine", "foot-bath", "--from", MONDAY_8)
    assert (code, out) == (1, "")
    assert err.startswith("--routine: no routine 'foot-bath'; known ids: calf-stretch,")
    assert "foot-soak" in err


def test_next_unknown_zone(run) -> None:
    code, out, err = run("next", "--tz", "Not/AZone", "--from", MONDAY_8)
    assert (code, out) == (1, "")
    assert err.startswith("--tz: unknown time zone 'Not/AZone'")
    assert "Traceback" not in err


@pytest.mark.parametrize("start", ["garbage", "2026-13-01T08:00", "23.11.2026 08:00"])
def test_next_unreadable_from(run, start: str) -> None:
    code, out, err = run("next", "--from", start)
    assert (code, out) == (1, "")
    assert err.startswith(f"--from: not a time (got {start!r})")


@pytest.mark.parametrize("start", ["9999-12-31T23:00", "0001-01-01T00:30"])
def test_next_from_at_the_ends_of_the_calendar(run, start: str) -> None:
    code, out, err = run("next", "--from", start)
    assert code in (0, 1), err
    assert "Traceback" not in err
    if code == 1:
        assert err.startswith("--from:"), err


@pytest.mark.parametrize("count", ["0", "-3"])
def test_next_count_must_be_positive(run, count: str) -> None:
    code, _, err = run("next", "--count", count, "--from", MONDAY_8)
    assert code == 1
    assert err.startswith("--count:")


def test_next_with_nothing_enabled(run, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    code, out, _ = run("--routines", folder, "next", "--from", MONDAY_8)
    assert (code, out) == (0, "no reminders ahead (Europe/Berlin)\n")


def test_next_across_the_spring_forward_night(run, tmp_path: Path) -> None:
    """02:30 does not exist in Berlin on 2026-03-29: it fires at 03:00 CEST, once."""
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "night.toml").write_text(
        'schema_version = 1\ntitle = "T"\nmessage = "M"\nseed = "cover-up-at-night"\n'
        '[schedule]\nat = "02:30"\nquiet_hours = "ignore"\n', encoding="utf-8")
    code, out, _ = run("--routines", folder, "next", "-n", "3", "--from", "2026-03-28T00:00")
    assert code == 0
    assert firing_lines(out) == [
        ("Sat 2026-03-28 02:30:00 +0100", "night"),
        ("Sun 2026-03-29 03:00:00 +0200", "night"),
        ("Mon 2026-03-30 02:30:00 +0200", "night"),
    ]


# --- where routines come from ---------------------------------------------------------

def test_routines_flag_uses_only_that_folder(run, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "only.toml").write_text(
        'schema_version = 1\ntitle = "Only me"\nmessage = "M"\nseed = "stretch-before-bed"\n'
        '[schedule]\nat = "20:00"\n', encoding="utf-8")
    code, out, _ = run("--routines", folder, "list", "--json")
    assert code == 0
    assert [r["id"] for r in json.loads(out)] == ["only"]
    code, out, _ = run("next", "--routines", folder, "-n", "2", "--from", MONDAY_8)
    assert firing_lines(out) == [("Mon 2026-11-23 20:00:00 +0100", "only"),
                                 ("Tue 2026-11-24 20:00:00 +0100", "only")]
    code, out, _ = run("--routines", folder, "check")
    assert out == "ok: 1 file(s), 1 routine(s), 1 enabled\n"


def test_routines_env_variable(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "env-routines"
    folder.mkdir()
    monkeypatch.setenv("CRAMPGUARD_ROUTINES", str(folder))
    code, out, _ = run("list")
    assert (code, out) == (0, "no routines\n")


def test_routines_flag_with_a_missing_folder(run, tmp_path: Path) -> None:
    code, _, err = run("--routines", tmp_path / "nope", "list")
    assert code == 1
    assert err == f"{tmp_path / 'nope'}: no such routines folder\n"


def test_user_file_replaces_the_shipped_routine_with_its_id(run, isolated) -> None:
    mine = user_routine(isolated, "my-soak", (
        'schema_version = 1\nid = "foot-soak"\ntitle = "My soak"\nmessage = "M"\n'
        'seed = "soak-feet-before-bed"\n[schedule]\nat = "20:15"\n'))
    code, out, _ = run("list", "--json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert sorted(rows) == SHIPPED_IDS  # replaced, not added
    assert rows["foot-soak"]["title"] == "My soak"
    assert Path(rows["foot-soak"]["source"]) == mine
    code, out, _ = run("next", "--routine", "foot-soak", "-n", "1", "--from", MONDAY_8)
    assert firing_lines(out) == [("Mon 2026-11-23 20:15:00 +0100", "foot-soak")]


def test_user_file_turns_a_shipped_routine_off(run, isolated) -> None:
    text = (SHIPPED_ROUTINES / "sitting-break.toml").read_text(encoding="utf-8")
    user_routine(isolated, "sitting-break", text.replace("enabled = true", "enabled = false"))
    code, out, _ = run("list")
    assert re.search(r"^sitting-break\s+off\s", out, re.M)
    code, out, _ = run("next", "-n", "3", "--from", MONDAY_8)
    assert firing_lines(out) == [
        ("Mon 2026-11-23 12:00:00 +0100", "mineral-rich-meal"),
        ("Mon 2026-11-23 21:45:00 +0100", "foot-soak"),
        ("Mon 2026-11-23 22:15:00 +0100", "calf-stretch"),
    ]
    code, out, _ = run("check")
    assert out == (f"ok: {len(SHIPPED_IDS) + 1} file(s), {len(SHIPPED_IDS)} routine(s), "
                   f"{len(ENABLED_BY_DEFAULT) - 1} enabled\n")


def test_two_user_files_with_one_id(run, isolated) -> None:
    body = ('schema_version = 1\nid = "twin"\ntitle = "T"\nmessage = "M"\n'
            'seed = "stretch-before-bed"\n[schedule]\nat = "20:00"\n')
    user_routine(isolated, "a", body)
    second = user_routine(isolated, "b", body)
    code, _, err = run("check")
    assert code == 1
    assert f"{second}: id: 'twin' is also the id of" in err


# --- settings: config.toml < environment < flags ---------------------------------------

def test_config_flag_moves_bedtime_and_next_follows(run, tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text('schema_version = 1\n[anchors]\nbedtime = "21:00"\n', encoding="utf-8")
    code, out, _ = run("--config", config, "next", "--routine", "foot-soak", "-n", "1",
                       "--from", MONDAY_8)
    assert code == 0
    assert firing_lines(out) == [("Mon 2026-11-23 20:15:00 +0100", "foot-soak")]
    code, out, _ = run("list", "--config", config)
    assert "daily at 20:15 (bedtime - 45m)" in out


def test_config_env_variable_names_the_file(run, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "env.toml"
    config.write_text('schema_version = 1\n[anchors]\nbedtime = "23:00"\n', encoding="utf-8")
    monkeypatch.setenv("CRAMPGUARD_CONFIG", str(config))
    code, out, _ = run("next", "--routine", "calf-stretch", "-n", "1", "--from", MONDAY_8)
    assert firing_lines(out) == [("Mon 2026-11-23 22:45:00 +0100", "calf-stretch")]


def test_environment_beats_config_file_and_a_flag_beats_both(
        run, isolated, monkeypatch: pytest.MonkeyPatch) -> None:
    isolated.config.mkdir(parents=True)
    isolated.config_file.write_text(
        'schema_version = 1\ntimezone = "Asia/Tokyo"\n[anchors]\nbedtime = "21:00"\n',
        encoding="utf-8")
    monkeypatch.delenv("CRAMPGUARD_TIMEZONE")
    args = ("next", "--routine", "foot-soak", "-n", "1", "--from", MONDAY_8)

    _, out, _ = run(*args)  # the file alone: 21:00 - 45m in Tokyo
    assert firing_lines(out) == [("Mon 2026-11-23 20:15:00 +0900", "foot-soak")]

    monkeypatch.setenv("CRAMPGUARD_ANCHORS__BEDTIME", "23:30")
    monkeypatch.setenv("CRAMPGUARD_TIMEZONE", "Europe/Berlin")
    _, out, _ = run(*args)  # the environment wins over the file
    assert firing_lines(out) == [("Mon 2026-11-23 22:45:00 +0100", "foot-soak")]

    _, out, _ = run(*args, "--tz", "America/New_York")  # and the flag over the environment
    assert firing_lines(out) == [("Mon 2026-11-23 22:45:00 -0500", "foot-soak")]


def test_nested_environment_keeps_the_rest_of_the_file(
        run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('schema_version = 1\n[anchors]\nwake = "06:00"\n', encoding="utf-8")
    monkeypatch.setenv("CRAMPGUARD_ANCHORS__BEDTIME", "23:00")
    _, out, _ = run("--config", config, "list")
    assert "daily at 22:15 (bedtime - 45m)" in out
    assert "daily at 06:15 (wake + 15m)" in out


@pytest.mark.parametrize("var, value, routine, first", [
    ("CRAMPGUARD_ANCHORS__WAKE", "06:00", "elastic-socks", "Mon 2026-11-23 06:15:00 +0100"),
    ("CRAMPGUARD_ANCHORS__WORK__BETWEEN", "08:00-16:00", "sitting-break",
     "Mon 2026-11-23 08:50:00 +0100"),
    ("CRAMPGUARD_ANCHORS__WORK__DAYS", "weekends", "sitting-break",
     "Sat 2026-11-28 09:50:00 +0100"),
    ("CRAMPGUARD_ANCHORS__WORKOUT__AT", "19:00", "warm-up", "Tue 2026-11-24 18:45:00 +0100"),
    ("CRAMPGUARD_ANCHORS__WORKOUT__DAYS", "weekends", "warm-up",
     "Sat 2026-11-28 17:45:00 +0100"),
])
def test_every_anchor_key_can_be_set_in_the_environment(
        run, monkeypatch: pytest.MonkeyPatch, var: str, value: str, routine: str,
        first: str) -> None:
    """The help names CRAMPGUARD_ANCHORS__BEDTIME, ...: the nested keys work the same."""
    monkeypatch.setenv(var, value)
    code, out, err = run("next", "--routine", routine, "-n", "1", "--from", "2026-11-23T00:00")
    assert (code, err) == (0, ""), err
    assert firing_lines(out) == [(first, routine)]


def test_quiet_hours_off_in_the_environment(run, isolated,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAMPGUARD_QUIET_HOURS", "off")
    monkeypatch.setenv("CRAMPGUARD_ANCHORS__BEDTIME", "23:30")
    _, out, _ = run("next", "--routine", "warm-calves-at-night", "-n", "1", "--from", MONDAY_8)
    assert out == ("Mon 2026-11-23 23:30:00 +0100  warm-calves-at-night   "
                   "Keep your calves warm tonight\n")


# --- init -------------------------------------------------------------------------------

def test_init_copies_the_routines_and_a_config(run, isolated) -> None:
    code, out, err = run("init")
    assert (code, err) == (0, "")
    copied = sorted(p.name for p in isolated.routines.glob("*.toml"))
    assert copied == sorted(p.name for p in routine_files(SHIPPED_ROUTINES))
    for name in copied:
        assert (isolated.routines / name).read_bytes() == (SHIPPED_ROUTINES / name).read_bytes()
    template = ROOT / "scheduler" / "templates" / "config.toml"
    assert isolated.config_file.read_bytes() == template.read_bytes()
    assert out.count("created ") == len(copied) + 1
    # The copies are a valid active set that replaces the shipped one id by id.
    code, out, _ = run("check")
    n = len(SHIPPED_IDS)
    assert out.startswith(f"ok: {2 * n} file(s), {n} routine(s)")


def test_init_again_keeps_edited_files(run, isolated) -> None:
    assert run("init")[0] == 0
    edited = isolated.routines / "foot-soak.toml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("bedtime - 45m", "21:00"),
                      encoding="utf-8")
    isolated.config_file.write_text('schema_version = 1\nquiet_hours = "off"\n',
                                    encoding="utf-8")
    before = {p: p.read_bytes() for p in isolated.config.rglob("*") if p.is_file()}

    code, out, _ = run("init")
    assert code == 0
    assert "created" not in out
    assert f"kept    {edited} (exists; not overwritten)" in out
    assert f"kept    {isolated.config_file} (exists; not overwritten)" in out
    assert {p: p.read_bytes() for p in isolated.config.rglob("*") if p.is_file()} == before


# --- help and docs ------------------------------------------------------------------------

def test_there_are_commands() -> None:
    assert {"check", "list", "next", "init"} <= set(_commands())


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help(run, command: str) -> None:
    code, out, _ = run(command, "--help")
    assert code == 0
    assert out.startswith(f"usage: crampguard {command}")
    description = out.split("\n\n")[1].strip()
    assert len(description) > 20 and not description.startswith(("positional", "options"))


def test_top_level_help_lists_every_command(run) -> None:
    code, out, _ = run("--help")
    assert code == 0
    for command in _commands():
        assert re.search(rf"^\s+{command}\s+\S", out, re.M), command
    assert "CRAMPGUARD_CONFIG_DIR" in out


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_in_the_readme(command: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = rf"crampguard(\s+--?\S+(\s+\S+)?)*\s+{command}\b|`{command}\b"
    assert re.search(shown, readme), f"README.md does not show `crampguard {command}`"


def test_no_command_is_a_usage_error(run) -> None:
    code, _, _ = run()
    assert code == 2


def test_version(run) -> None:
    from scheduler import __version__

    code, out, _ = run("--version")
    assert (code, out) == (0, f"crampguard {__version__}\n")
