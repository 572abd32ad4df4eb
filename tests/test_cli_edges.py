"""The command line as a new user meets it: files it writes, output it cannot write, the
control commands' one table, and the edges of what it accepts. The real CLI in a
subprocess wherever behaviour is seen from outside."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import typing
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.errors import CrampguardError
from scheduler.journal.events import Reminder
from scheduler.journal.store import Journal
from scheduler.paths import JOURNAL_FILE
from tests.support.daemon_proc import ROOT, Daemon, cli
from tests.support.faketime import FAKETIME_LIB, needs_faketime
from tests.support.fixtures import Dirs
from tests.support.routines import routine_head, routine_text, write_routine_file

BERLIN = ZoneInfo("Europe/Berlin")


def _journal(dirs: Dirs) -> Path:
    return dirs.state / JOURNAL_FILE


def _one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    return result.stderr


# --- files the CLI writes ------------------------------------------------------------------


def test_export_out_refuses_a_fifo_and_a_link_to_a_device(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    link = tmp_path / "null.csv"
    link.symlink_to("/dev/null")
    for target, kind in ((fifo, "a FIFO"), (link, "a character device")):
        result = cli("export", "--out", str(target))
        _one_line_error(result, f"--out {target}: that is {kind}",
                        f"`crampguard export > {target}`")
        assert result.stdout == ""
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert link.is_symlink() and os.readlink(link) == "/dev/null"


def test_export_out_writes_through_a_link_to_a_regular_file(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "journal.csv"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "journal.csv"
    link.symlink_to(real)
    result = cli("export", "--out", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8-sig").startswith("id,recorded_at,kind")


def test_report_out_keeps_the_link_and_replaces_its_file(tmp_path: Path) -> None:
    real = tmp_path / "page.html"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.html"
    link.symlink_to(real)
    result = cli("report", "--out", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink()
    assert "crampguard report" in real.read_text(encoding="utf-8")


def test_report_out_refuses_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "page.html"
    os.mkfifo(fifo)
    _one_line_error(cli("report", "--out", str(fifo)), "that is a FIFO")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


# --- standard output that cannot be written ----------------------------------------------


@pytest.mark.parametrize("argv", [["export"], ["export", "--format", "json"], ["history"],
                                  ["stats"], ["list", "--json"], ["--help"]])
def test_a_full_standard_output_is_one_line_and_exit_1(isolated: Dirs,
                                                       argv: list[str]) -> None:
    with Journal.open(_journal(isolated)) as journal:
        journal.log_cramp(when=datetime.now(BERLIN) - timedelta(hours=1),
                          at=datetime.now(BERLIN), note="x" * 500)
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "scheduler", *argv], stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=20, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 1, result.stderr
    assert result.stderr == ("standard output: cannot write (No space left on device); the "
                             "output is incomplete\n")


# --- the journal's dates -------------------------------------------------------------------


def test_history_dates_a_due_from_another_week(isolated: Dirs) -> None:
    now = datetime.now(BERLIN)
    long_ago = datetime(2026, 1, 1, 11, 0, tzinfo=BERLIN)
    with Journal.open(_journal(isolated)) as journal:
        journal.record("missed", "water-and-salt", at=now, due=long_ago)
        journal.record("delivered", "foot-soak", at=now, due=now - timedelta(minutes=1),
                       backend="console")
    out = cli("history").stdout
    assert "due Thu 2026-01-01 11:00:00" in out
    assert f"due {(now - timedelta(minutes=1)):%a %H:%M}" in out


def test_a_workout_logged_long_ago_plans_no_follow_up(isolated: Dirs,
                                                      console_env: dict[str, str]) -> None:
    daemon = Daemon(console_env).start()
    try:
        daemon.wait_for("crampguard running")
        result = cli("log", "workout", "--when", "2026-01-01T10:00", env=console_env)
        assert result.returncode == 0, result.stderr
        assert "the daemon was told" in result.stdout
        time.sleep(2)  # a follow-up due long ago would be settled as missed by now
        with Journal.read(_journal(isolated)) as journal:
            assert journal.events(routine="water-and-salt") == []
        # the refusal names the option it suggests, which snooze now has
        snoozed = cli("snooze", "foot-soak", "--due", "2026-01-01T10:00", env=console_env)
        _one_line_error(snoozed, "foot-soak had no reminder due at")
    finally:
        daemon.stop()


# --- follow-ups that never come ------------------------------------------------------------


def _follower(folder: Path, name: str, after: str, *, enabled: bool = True) -> None:
    write_routine_file(folder, name, routine_head(name, "Body.") + (
        "" if enabled else "enabled = false\n") + f'[schedule]\nafter = "{after}"\n')


def test_a_loop_of_follow_ups_is_a_warning_in_check_and_list(routines: Path) -> None:
    _follower(routines, "aa", "bb done + 10m")
    _follower(routines, "bb", "aa done + 10m")
    check = cli("--routines", str(routines), "check")
    assert check.returncode == 0, check.stderr
    assert "warning: aa: it fires only" in check.stdout
    assert "loop (aa after bb after aa done)" in check.stdout
    assert "loop" in cli("--routines", str(routines), "list").stdout
    warnings = json.loads(cli("--routines", str(routines), "check", "--json").stdout)
    assert sorted(w["routine"] for w in warnings["warnings"]) == ["aa", "bb"]


def test_next_leaves_out_a_follow_up_whose_cause_is_off(routines: Path) -> None:
    write_routine_file(routines, "soak", routine_text("Soak", "21:00").replace(
        "seed =", "enabled = false\nseed ="))
    _follower(routines, "stretch", "soak done + 10m")
    _follower(routines, "warm", "workout + 1h")
    out = cli("--routines", str(routines), "next").stdout
    assert "warm" in out
    assert "stretch" not in out


# --- check -----------------------------------------------------------------------------------


def test_check_file_with_broken_settings_reports_both(isolated: Dirs, routines: Path) -> None:
    isolated.config.mkdir(parents=True, exist_ok=True)
    isolated.config_file.write_text('schema_version = 1\nquiet_hours = "nonsense"\n',
                                    encoding="utf-8")
    bad = write_routine_file(routines, "bad", routine_head("Bad", "Body.")
                             + '[schedule]\nat = "25:00"\n')
    err = _one_line_error(cli("check", str(bad)), "quiet_hours")
    assert f"{bad}:" in err and "schedule.at" in err


def test_check_on_an_empty_routines_folder_fails(routines: Path) -> None:
    _one_line_error(cli("check", str(routines)), f"{routines}: no routine files")
    _one_line_error(cli("--routines", str(routines), "check"), "no routine files")


def test_a_routine_file_snooze_is_at_most_a_day(routines: Path) -> None:
    path = write_routine_file(routines, "soak", routine_text(
        "Soak", "21:00", notify='[notify]\nactions = ["done", "snooze 30d"]\n'))
    _one_line_error(cli("check", str(path)), "a snooze is at most 24h (got 30d)")
    ok = write_routine_file(routines, "fine", routine_text(
        "Fine", "21:00", notify='[notify]\nactions = ["done", "snooze 1d"]\n'))
    assert cli("check", str(ok)).returncode == 0


# --- next and skip -----------------------------------------------------------------------


def test_next_leaves_out_a_skipped_firing(isolated: Dirs) -> None:
    start = "2026-11-20T12:00"
    first, second = json.loads(cli("next", "--routine", "foot-soak", "--from", start,
                                   "-n", "2", "--json").stdout)
    with Journal.open(_journal(isolated)) as journal:
        journal.put_reminder(Reminder("foot-soak", datetime.fromisoformat(first["at"]),
                                      "skipped"))
    (shown,) = json.loads(cli("next", "--routine", "foot-soak", "--from", start, "-n", "1",
                              "--json").stdout)
    assert shown["at"] == second["at"]


# --- what is typed -----------------------------------------------------------------------


@needs_faketime
def test_a_clock_time_on_the_day_the_clocks_go_back_is_the_last_one(isolated: Dirs) -> None:
    env = {**os.environ, "LD_PRELOAD": str(FAKETIME_LIB),
           "FAKETIME": "@2026-10-25 03:00:00", "TZ": "UTC"}  # 04:00 in Berlin, after both
    result = cli("log-cramp", "--when", "02:30", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["when"] == "2026-10-25T02:30:00+01:00"


def test_a_note_has_a_length() -> None:
    _one_line_error(cli("log-cramp", "--note", "x" * 100_000), "--note: at most 1000")
    _one_line_error(cli("log-cramp", "--none", "--note", "x" * 1001), "--note: at most 1000")


@pytest.mark.parametrize(("argv", "said"), [
    (["export", "--from", "2026-02-29"], "February 2026 has 28 days"),
    (["next", "--from", "2026-04-31T10:00"], "April 2026 has 30 days"),
])
def test_a_day_past_its_month_names_the_month_s_length(argv: list[str], said: str) -> None:
    _one_line_error(cli(*argv), said)


def test_history_of_an_unknown_routine_says_so(isolated: Dirs) -> None:
    _one_line_error(cli("history", "--routine", "nosuch"), "--routine: no routine 'nosuch'")
    with Journal.open(_journal(isolated)) as journal:  # gone from the files, in the journal
        journal.record("done", "old-one", at=datetime.now(BERLIN) - timedelta(days=30),
                       due=datetime.now(BERLIN) - timedelta(days=30))
    assert cli("history", "--routine", "old-one").returncode == 0


def test_the_first_start_on_broken_settings_says_the_defaults_run(
        isolated: Dirs, console_env: dict[str, str]) -> None:
    isolated.config.mkdir(parents=True, exist_ok=True)
    isolated.config_file.write_text('schema_version = 1\nquiet_hours = "nonsense"\n',
                                    encoding="utf-8")
    daemon = Daemon(console_env).start()
    try:
        daemon.wait_for("crampguard running")
        daemon.wait_for(r"quiet_hours.*\(the default settings run until it is fixed\)")
        assert daemon.count("last good version keeps running") == 0
    finally:
        daemon.stop()


def test_the_check_in_asked_again_names_its_night() -> None:
    from scheduler.config.context import Context
    from scheduler.paths import resolve_paths
    from scheduler.planning import notices

    checkin = Context(resolve_paths(), {}).load_routines().routines["morning-checkin"]
    today = notices.reminder(checkin)
    earlier = notices.reminder(checkin, night=date(2026, 11, 29))
    assert today.title == "Any leg cramps last night?"
    assert earlier.title != today.title and "Sun 2026-11-29" in earlier.title
    assert earlier.body.startswith("This one asks about the night of Sun 2026-11-29 to Mon")


# --- the control commands' table ---------------------------------------------------------


def test_every_control_command_has_a_handler_and_a_printer() -> None:
    from scheduler.cli import render
    from scheduler.control.commands import COMMANDS
    from scheduler.daemon import handlers

    assert handlers.HANDLERS.keys() == COMMANDS.keys()
    for command in COMMANDS.values():
        assert command.reply in render._TEXT and command.reply in render._JSON


def test_a_request_field_is_checked_by_the_table() -> None:
    from scheduler.daemon.handlers import handle

    reply = handle(typing.cast(typing.Any, None), {"cmd": "snooze", "id": "x",
                                                  "seconds": 10 ** 9})
    assert reply == {"ok": False, "error": "seconds: give a number of seconds, at most 86400"}
    assert handle(typing.cast(typing.Any, None), {"cmd": "skip"}) == {
        "ok": False, "error": "give a routine id"}


def test_a_reply_is_typed_and_goes_back_as_it_came() -> None:
    from scheduler.control.commands import StatusReply, TriggerReply

    wire = {"routine": "soak", "at": "2026-11-23T21:00:00.123456+01:00", "backend": "dbus",
            "first_choice": "dbus", "seconds": 0.1}
    reply = TriggerReply.from_wire(wire)
    assert reply.at == datetime.fromisoformat(wire["at"]) and not reply.in_progress
    assert reply.to_wire() == wire
    with pytest.raises(CrampguardError, match="StatusReply has no 'pid'"):
        StatusReply.from_wire({})
    with pytest.raises(CrampguardError, match="TriggerReply.at is 'soon'"):
        TriggerReply.from_wire({"routine": "soak", "at": "soon"})


def test_the_notifier_choices_are_one_list() -> None:
    from scheduler.config import defaults
    from scheduler.config.settings import Settings
    from scheduler.notify.chain import CHOICES

    field = Settings.model_fields["notifier"].annotation
    assert typing.get_args(field) == defaults.NOTIFIERS == CHOICES
