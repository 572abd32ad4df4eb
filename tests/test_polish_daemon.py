"""Issue 12, the daemon and the files: a trigger whose notification server hangs, the
broken-file notice, the reload's counts, a byte-order mark, an id taken from a file name.
The real daemon and the real CLI wherever behaviour changes."""

from __future__ import annotations

import json
import re

import pytest

from scheduler.config.routine import ID_PATTERN, slugify
from scheduler.notify.base import body_with_hint
from scheduler.notify.console import format_line
from scheduler.planning import notices
from tests.support.daemon_proc import Daemon, cli, clock_in, write_atomically
from tests.support.routines import routine_text

BOM = "\ufeff"
#: A time of day the daemon's routines never reach while a test runs.
LATER = clock_in(6 * 3600)


# --- L: the broken-file notice says its hint once ------------------------------------------

def test_the_broken_file_notice_gives_its_hint_once_on_every_backend():
    notice = notices.broken_file("a routine file", "soak.toml:3:9: TOML syntax", more=2)
    for shown in (body_with_hint(notice), format_line(notice)):  # dbus/plyer, console
        assert shown.count("crampguard check") == 1, shown
    assert "2 more problem(s)" in notice.body


@pytest.mark.slow
def test_the_daemon_shows_a_broken_file_with_its_hint_once(routines, console_env):
    (routines / "keep.toml").write_text(routine_text("Keep", LATER))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running: 1 routine")
        write_atomically(routines / "keep.toml", 'schema_version = 1\ntitle = "Keep"\nx = \n')
        line = daemon.wait_for(r"^\[crampguard\] crampguard: a routine file is broken — .*")[0]
        assert daemon.stop() == 0
    assert "keep.toml:3" in line
    assert line.count("crampguard check") == 1, line


# --- M: the reload counts routines, and its own timers apart --------------------------------

@pytest.mark.slow
def test_reload_counts_routines_in_its_log_and_reply_and_timers_apart(routines, console_env):
    (routines / "soak.toml").write_text(routine_text("Soak", LATER))
    (routines / "drink.toml").write_text(
        routine_text("Drink", LATER).replace(f'at = "{LATER}"', 'after = "workout + 1h"'))
    args = ("--routines", str(routines))
    with Daemon(console_env) as daemon:
        daemon.start(*args)
        daemon.wait_for(r"crampguard running: 2 routine")
        assert cli(*args, "trigger", "soak").returncode == 0
        assert cli(*args, "snooze", "soak", "10m").returncode == 0
        assert cli(*args, "log", "workout").returncode == 0
        daemon.wait_for(r"follow-up: drink at ")
        mark = daemon.mark()
        reply = cli(*args, "reload")
        logged = daemon.wait_for(r"reloaded: .*", after=mark)[0]
        as_json = cli(*args, "reload", "--json")
        assert daemon.stop() == 0
    assert reply.returncode == 0, reply.stderr
    assert reply.stdout.strip() == \
        "reloaded: 2 routine(s) enabled; also pending: 1 follow-up, 1 snooze"
    assert logged == "reloaded: 2 routine(s) scheduled; also pending: 1 follow-up, 1 snooze"
    data = json.loads(as_json.stdout)
    assert (data["routines"], data["pending"]) == (2, {"follow-up": 1, "snooze": 1})


# --- N: a UTF-8 byte-order mark is no syntax error ---------------------------------------------

def test_check_accepts_routine_and_config_files_that_start_with_a_byte_order_mark(tmp_path):
    routine = tmp_path / "soak.toml"
    routine.write_text(BOM + routine_text("Soak", "21:00"), encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(BOM + '[anchors]\nbedtime = "23:00"\n', encoding="utf-8")
    result = cli("--config", str(config), "check", str(routine))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: 1 file(s), 1 routine(s)"), result.stdout


def test_a_problem_on_the_first_line_after_a_byte_order_mark_names_that_line(tmp_path):
    routine = tmp_path / "soak.toml"
    routine.write_text(BOM + routine_text("Soak", "21:00").replace(
        "schema_version = 1", "schema_version = 2"), encoding="utf-8")
    result = cli("check", str(routine))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{routine}:1: schema_version:"), result.stderr


@pytest.mark.slow
def test_the_daemon_runs_a_routine_file_saved_with_a_byte_order_mark(routines, console_env):
    (routines / "soak.toml").write_text(BOM + routine_text("Soak", clock_in(3)),
                                        encoding="utf-8")
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"scheduled soak: daily at ")
        daemon.wait_for(r"delivered soak via console", timeout=8)
        assert daemon.stop() == 0
    assert "ERROR" not in daemon.log


# --- O: an id from the file name says so, and how to name the file ------------------------------

@pytest.mark.parametrize(("name", "slug"), [
    ("Foot Soak", "foot-soak"), ("Fußbad am Abend!", "fussbad-am-abend"),
    ("Étirement", "etirement"), ("_-_", "my-routine"), ("x" * 80, "x" * 64)])
def test_a_valid_id_is_suggested_for_any_file_name(name, slug):
    assert slugify(name) == slug
    assert ID_PATTERN.match(slug)


def test_an_invalid_id_from_the_file_name_says_so_and_how_to_name_the_file(tmp_path):
    path = tmp_path / "Foot Soak.toml"
    path.write_text(routine_text("Foot soak", "21:00"), encoding="utf-8")
    result = cli("check", str(path))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"{path}: id: the id comes from the file name 'Foot Soak.toml' (no `id` key), and "
        f"an id is lowercase letters, digits and hyphens; rename the file to foot-soak.toml "
        f'or add id = "foot-soak"')


def test_an_invalid_id_key_is_reported_as_the_key(tmp_path):
    path = tmp_path / "soak.toml"
    path.write_text(routine_text("Soak", "21:00").replace(
        "seed =", 'id = "Foot Soak"\nseed ='), encoding="utf-8")
    result = cli("check", str(path))
    assert result.returncode == 1
    assert re.match(rf"{re.escape(str(path))}:\d+: id: an id is lowercase", result.stderr)
    assert "file name" not in result.stderr
