"""Rule 6, "overrides are small": a user file with a shipped routine's id holds only what it
changes; `list` says where each value came from; symlinked files are watched through the
link. And `check config.toml` checks settings as settings.

Through the real CLI (``cli``) and the real daemon (``Daemon``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from scheduler.config.catalog import load_catalog
from scheduler.config.loader import load_set
from scheduler.config.settings import load_settings
from tests.support.daemon_proc import Daemon, cli
from tests.support.fixtures import SEEDS, SHIPPED_ROUTINES
from tests.support.routines import routine_head

MONDAY_8 = "2026-11-23T08:00"


def mine(isolated: Any, name: str, text: str) -> Path:
    isolated.routines.mkdir(parents=True, exist_ok=True)
    path = isolated.routines / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def rows() -> dict[str, dict[str, Any]]:
    result = cli("list", "--json")
    assert result.returncode == 0, result.stderr
    return {row["id"]: row for row in json.loads(result.stdout)}


def next_times(routine: str, count: int = 1) -> list[str]:
    result = cli("next", "--routine", routine, "-n", str(count), "--from", MONDAY_8, "--json")
    assert result.returncode == 0, result.stderr
    return [item["at"] for item in json.loads(result.stdout)]


# --- a few keys over the shipped routine -------------------------------------------------

def test_enabled_false_alone_turns_a_shipped_routine_off(isolated) -> None:
    off = mine(isolated, "foot-soak", "schema_version = 1\nenabled = false\n")
    result = cli("check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: 11 file(s), 10 routine(s), 7 enabled")
    row = rows()["foot-soak"]
    assert row["enabled"] is False
    assert row["title"] == "Warm foot soak before bed"  # the rest is the shipped routine
    assert Path(row["source"]) == off
    assert Path(row["sources"]["enabled"]) == off
    assert Path(row["sources"]["title"]) == SHIPPED_ROUTINES / "foot-soak.toml"
    assert not any(item == "foot-soak" for item in
                   (i["routine"] for i in json.loads(cli("next", "-n", "20", "--json").stdout)))


def test_one_time_changes_only_the_time(isolated) -> None:
    changed = mine(isolated, "calf-stretch", 'schema_version = 1\n[schedule]\nat = "21:00"\n')
    row = rows()["calf-stretch"]
    # the shipped follow-up stays: only the time was changed
    assert row["schedule"] == "daily at 21:00, or 20m after foot-soak is done"
    assert Path(row["sources"]["schedule.at"]) == changed
    shipped = SHIPPED_ROUTINES / "calf-stretch.toml"
    for key in ("schedule.days", "schedule.catch_up", "notify.actions", "message"):
        assert Path(row["sources"][key]) == shipped, key
    assert next_times("calf-stretch", 2) == ["2026-11-23T21:00:00+01:00",
                                             "2026-11-24T21:00:00+01:00"]
    block = cli("list").stdout.split("\nelastic-socks ")[0]  # calf-stretch comes first
    assert f"from {shipped}; changed by {changed}: schedule.at" in block


def test_tables_merge_key_by_key(isolated) -> None:
    mine(isolated, "foot-soak", 'schema_version = 1\ntitle = "Soak"\n[notify]\n'
                                'urgency = "critical"\n')
    catalog = load_catalog(SEEDS / "catalog.toml")
    settings = load_settings(isolated.config_file)
    active = load_set([SHIPPED_ROUTINES, isolated.routines], settings, catalog)
    soak = active.routines["foot-soak"]
    assert soak.title == "Soak" and soak.notify.urgency == "critical"
    assert [a.label for a in soak.notify.actions] == ["Done", "Snooze 10 min"]  # kept
    assert str(soak.schedule.at[0]) == "bedtime - 45m"


def test_another_kind_of_schedule_replaces_the_shipped_timing(isolated) -> None:
    # calf-stretch ships `at` with `days`; a cron has its own day fields
    mine(isolated, "calf-stretch", 'schema_version = 1\n[schedule]\ncron = "0 21 * * 1-5"\n')
    mine(isolated, "foot-soak", 'schema_version = 1\n[schedule]\nevery = "30m"\n'
                                'between = "20:00-21:00"\n')
    result = cli("check")
    assert result.returncode == 0, result.stderr
    got = rows()
    assert got["calf-stretch"]["schedule"] == "cron 0 21 * * 1-5"
    assert "schedule.days" not in got["calf-stretch"]["sources"]
    assert got["foot-soak"]["schedule"] == "every 30m between 20:00-21:00, daily"
    assert next_times("foot-soak", 2) == ["2026-11-23T20:30:00+01:00",
                                          "2026-11-23T21:00:00+01:00"]


def test_a_file_naming_a_shipped_id_is_laid_over_it(isolated) -> None:
    path = mine(isolated, "my-soak", 'schema_version = 1\nid = "foot-soak"\n'
                                     '[schedule]\nat = "20:15"\n')
    row = rows()["foot-soak"]
    assert (row["title"], Path(row["sources"]["id"])) == ("Warm foot soak before bed", path)
    assert next_times("foot-soak") == ["2026-11-23T20:15:00+01:00"]


def test_check_of_one_override_file_lays_it_over_the_shipped_routine(isolated) -> None:
    path = mine(isolated, "foot-soak", "schema_version = 1\nenabled = false\n")
    result = cli("check", str(path))
    assert (result.returncode, result.stdout) == (0, "ok: 1 file(s), 1 routine(s), 0 enabled\n")


# --- errors in an override still name the user's file, line and field --------------------

def test_an_error_in_an_override_names_the_users_file_line_and_field(isolated) -> None:
    path = mine(isolated, "calf-stretch", 'schema_version = 1\n[schedule]\nat = "25:00"\n')
    for args in (("check",), ("check", str(path))):
        result = cli(*args)
        assert result.returncode == 1
        assert result.stderr.startswith(
            f"{path}:3: schedule.at: impossible time of day"), result.stderr
        assert "Traceback" not in result.stderr


def test_an_unknown_key_in_an_override_is_named(isolated) -> None:
    path = mine(isolated, "calf-stretch", 'schema_version = 1\n[schedule]\natt = "21:00"\n')
    result = cli("check")
    assert result.returncode == 1
    assert f"{path}:3: schedule.att: unknown key; did you mean \"at\"?" in result.stderr


def test_an_override_still_states_its_schema_version(isolated) -> None:
    path = mine(isolated, "foot-soak", "enabled = false\n")
    result = cli("check")
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}: schema_version: required in every file")


def test_a_file_matching_no_shipped_id_must_be_whole(isolated) -> None:
    path = mine(isolated, "foot-sok", "schema_version = 1\nenabled = false\n")
    result = cli("check")
    assert result.returncode == 1
    assert f"{path}: title: required; add it" in result.stderr
    assert (f"{path}: id: 'foot-sok' matches no shipped routine, so this file must be a "
            f'whole routine; to change the shipped "foot-soak", use its id') in result.stderr


def test_with_only_a_routines_folder_there_is_nothing_to_lay_over(tmp_path: Path) -> None:
    folder = tmp_path / "only"
    folder.mkdir()
    path = folder / "foot-soak.toml"
    path.write_text("schema_version = 1\nenabled = false\n", encoding="utf-8")
    for args in (("--routines", str(folder), "check"),
                 ("--routines", str(folder), "check", str(path))):
        result = cli(*args)
        assert result.returncode == 1
        assert f"{path}: title: required; add it" in result.stderr
        assert "matches no shipped routine" not in result.stderr


def test_a_whole_users_routine_is_listed_from_its_file(isolated) -> None:
    path = mine(isolated, "own", routine_head("Own", "Mine.") + '[schedule]\nat = "20:00"\n')
    row = rows()["own"]
    assert Path(row["source"]) == path
    assert set(map(Path, row["sources"].values())) == {path}
    assert f"from {path}\n" in cli("list").stdout


# --- `check config.toml` checks settings --------------------------------------------------

def test_check_config_toml_checks_it_as_settings(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('schema_version = 1\n[anchors]\nbedtime = "23:30"\n', encoding="utf-8")
    result = cli("check", str(config))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"ok: settings {config}\n"
    result = cli("check", str(config), "--json")
    assert json.loads(result.stdout)["config"] == str(config)


def test_check_a_broken_config_toml_names_file_line_and_field(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('schema_version = 1\nquiet_hours = "late"\n[anchors]\n'
                      'bedtime = "25:00"\n', encoding="utf-8")
    result = cli("check", str(config))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{config}:2: quiet_hours: not a window; write \"HH:MM-HH:MM\", e.g. \"09:00-17:30\"; "
        f"or \"auto\" (from bedtime + 1h to wake) or \"off\" (got 'late')",
        f"{config}:4: anchors.bedtime: impossible time of day: hours go 00 to 23; use "
        f"24-hour \"HH:MM\" or \"HH:MM:SS\", e.g. \"21:30\" (got '25:00')"]
    assert "title" not in result.stderr  # not read as a routine


def test_check_the_configured_settings_file_by_any_name(tmp_path: Path) -> None:
    config = tmp_path / "crampguard.toml"
    config.write_text('schema_version = 1\nnotifier = "pigeon"\n', encoding="utf-8")
    result = cli("--config", str(config), "check", str(config))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{config}:2: notifier: "), result.stderr


def test_check_a_config_folder_reads_config_toml_as_settings(isolated) -> None:
    isolated.config.mkdir(parents=True)
    isolated.config_file.write_text('schema_version = 1\nwake = "07:00"\n', encoding="utf-8")
    result = cli("check", str(isolated.config))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{isolated.config_file}:2: wake: unknown key")


def test_check_a_missing_config_toml(tmp_path: Path) -> None:
    result = cli("check", str(tmp_path / "config.toml"))
    assert (result.returncode, result.stderr) == (1, f"{tmp_path / 'config.toml'}: no such file\n")


# --- symlinks: watched through the link ------------------------------------------------------

@pytest.mark.slow
def test_symlinked_routine_and_config_edited_through_the_link_reload(isolated,
                                                                     tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real_routine = dotfiles / "evening.toml"
    real_routine.write_text(routine_head("Evening v1", "Stretch.")
                            + '[schedule]\nat = "bedtime - 30m"\n', encoding="utf-8")
    real_config = dotfiles / "crampguard-config.toml"
    real_config.write_text('schema_version = 1\n[anchors]\nbedtime = "22:30"\n',
                           encoding="utf-8")
    isolated.routines.mkdir(parents=True)
    (isolated.routines / "evening.toml").symlink_to(real_routine)
    isolated.config_file.symlink_to(real_config)

    def status() -> dict[str, Any]:
        result = cli("status", "--json")
        assert result.returncode == 0, result.stderr
        return {r["id"]: r for r in json.loads(result.stdout)["routines"]}

    with Daemon() as daemon:
        daemon.start()
        daemon.wait_for(r"crampguard running")
        assert status()["evening"]["title"] == "Evening v1"
        # the routine, written where it lives (in place, as `>` or a dotfile manager does)
        mark = daemon.mark()
        real_routine.write_text(routine_head("Evening v2", "Stretch.")
                                + '[schedule]\nat = "bedtime - 30m"\n', encoding="utf-8")
        daemon.wait_for(r"scheduled evening: daily at 22:00", timeout=5, after=mark)
        daemon.wait_for(r"reloaded: ", timeout=5, after=mark)
        assert status()["evening"]["title"] == "Evening v2"
        # the settings, the same way: the new bedtime moves the routine
        mark = daemon.mark()
        real_config.write_text('schema_version = 1\n[anchors]\nbedtime = "23:00"\n',
                               encoding="utf-8")
        daemon.wait_for(r"scheduled evening: daily at 22:30", timeout=5, after=mark)
        daemon.wait_for(r"reloaded: ", timeout=5, after=mark)
        assert re.search(r"T22:30:00[+-]", status()["evening"]["next"])
        # re-aimed after the reload: a second edit of the target is seen too
        mark = daemon.mark()
        real_config.write_text('schema_version = 1\n[anchors]\nbedtime = "21:00"\n',
                               encoding="utf-8")
        daemon.wait_for(r"scheduled evening: daily at 20:30", timeout=5, after=mark)
        assert daemon.stop() == 0
