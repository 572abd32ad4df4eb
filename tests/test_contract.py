"""The reminder contract through the real daemon and CLI: every reminder reaches the user at
most once, or is recorded with the reason it did not; delivery never waits on the journal;
the daemon starts and keeps reminding on a broken config or journal.

The rules themselves are pinned in process (tests/test_reminders.py); here they meet the
real faults: a clock stepped both ways under libfaketime (announced as a resume), a full
disk (a small tmpfs as the state folder), the journal removed and replaced under the
running daemon, restarts between an answer and its firing, a damaged journal and a broken
config.toml at start.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from scheduler.journal.store import Journal
from scheduler.paths import JOURNAL_FILE
from tests.support.daemon_proc import Daemon, cli, cli_json, clock_in
from tests.support.faketime import needs_stepped_clock
from tests.support.fixtures import fill, state_on_tmpfs
from tests.support.routines import routine_text

pytestmark = pytest.mark.slow


def status() -> dict:
    reply = cli_json("status")
    assert isinstance(reply, dict)
    return reply


def history(*args: str) -> list[dict]:
    reply = cli_json("history", *args)
    assert isinstance(reply, list)
    return reply


# --- at most once, whatever the clock does -------------------------------------------------------

@needs_stepped_clock
def test_a_clock_stepped_back_and_forward_again_never_shows_a_reminder_twice(
        routines, stepped):
    (routines / "once.toml").write_text(routine_text("Once", clock_in(3)))
    with Daemon(stepped.env()) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"delivered once via console", timeout=8)
        stepped.step("-30")  # back: the same due instant lies ahead again
        daemon.wait_for(r"wall clock jumped -3\ds", timeout=12)
        mark = daemon.mark()
        stepped.step("+0")  # and forward past it once more
        daemon.wait_for(r"once due .* is already delivered: not shown again", timeout=12,
                        after=mark)
        assert daemon.count(r"delivered once via console") == 1
        assert daemon.count(r"^\[crampguard\] Once — ") == 1
        assert daemon.stop() == 0


@needs_stepped_clock
def test_a_reminder_due_during_a_pause_stays_held_when_the_lid_opens_after_it(
        routines, stepped):
    """pause 1h, the lid closed for 90 minutes: the reminder due inside the pause is held,
    not delivered on resume (the pause has ended by then)."""
    (routines / "inside.toml").write_text(
        routine_text("Inside", clock_in(20 * 60), extra="").replace(
            'quiet_hours = "ignore"', 'quiet_hours = "ignore"\ncatch_up = "3h"'))
    with Daemon(stepped.env()) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        cli_json("pause", "1h")
        stepped.step("+5400")
        daemon.wait_for(r"held inside due .*: paused until", timeout=12)
        assert daemon.count(r"delivered inside") == 0
        assert daemon.stop() == 0


# --- restarts between an answer and its firing ------------------------------------------------

def test_a_pause_then_a_restart_holds_what_falls_due_inside_it(routines, console_env):
    (routines / "soon.toml").write_text(routine_text("Soon", clock_in(6)))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        cli_json("pause", "1h")
        assert daemon.stop() == 0
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"held soon due .*: paused until", timeout=10)
        reply = status()
        assert reply["paused_until"] is not None
        (soon,) = reply["routines"]
        assert soon["next"] > reply["paused_until"], "next is one that will be shown"
        assert daemon.count(r"delivered soon") == 0
        assert daemon.stop() == 0


def test_a_skip_survives_a_restart(routines, console_env):
    (routines / "nightly.toml").write_text(routine_text("Nightly", "21:45"))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        skipped = cli_json("skip", "nightly")
        assert isinstance(skipped, dict)
        assert daemon.stop() == 0
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        (nightly,) = status()["routines"]
        assert nightly["next"] == skipped["next"] != skipped["skipped"]
        assert daemon.stop() == 0


@needs_stepped_clock
def test_a_snooze_survives_a_restart(routines, stepped):
    (routines / "later.toml").write_text(routine_text("Later", clock_in(2)))
    env = stepped.env()
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        # Generous limits: they only bound a failure; a loaded CI machine starts slowly.
        daemon.wait_for(r"delivered later via console", timeout=20)
        cli_json("snooze", "later", "10m")
        assert daemon.stop() == 0
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        daemon.wait_for(r"presence: .*sleep from logind")
        stepped.step("+600")
        daemon.wait_for(r"delivered later via console .*snoozed", timeout=30)
        assert daemon.stop() == 0


def test_done_and_a_manual_trigger_keep_adherence_at_most_100(routines, console_env):
    (routines / "once.toml").write_text(routine_text("Once", clock_in(2)))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"delivered once via console", timeout=6)
        cli_json("done", "once")
        cli_json("trigger", "once")
        daemon.wait_for(r"delivered once via console .*manual", timeout=3)
        assert cli_json("done", "once")["already"] is False  # the triggered one
        assert daemon.stop() == 0
    (row,) = cli_json("stats", "--days", "1")["routines"]
    assert (row["due"], row["done"], row["adherence"]) == (1, 1, 1.0)
    kinds = [e["kind"] for e in history("--routine", "once")]
    assert kinds[:2] == ["done", "triggered"]


# --- delivery does not depend on the journal ---------------------------------------------------

def test_a_full_disk_does_not_stop_a_reminder_and_the_journal_catches_up(
        routines, console_env, small_state):
    (routines / "due.toml").write_text(routine_text("Due", clock_in(4)))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        filler = fill(small_state)
        daemon.wait_for(r"^\[crampguard\] Due — ", timeout=8)
        daemon.wait_for(r"disk is full.*reminders are still shown", timeout=3)
        daemon.wait_for(r"^\[crampguard\] crampguard cannot write its journal", timeout=3)
        triggered = cli("trigger", "due", "--json")
        assert triggered.returncode == 0, triggered.stderr  # shown, and no error reported
        assert any(p.startswith("journal: ") for p in status()["problems"])
        assert daemon.count(r"cannot write its journal") == 1  # reported once
        filler.unlink()
        daemon.wait_for(r"INFO the journal works again", timeout=12)
        assert status()["problems"] == [], daemon.log
        assert daemon.stop() == 0
    kinds = [e["kind"] for e in history("--routine", "due")]
    assert kinds == ["triggered", "delivered", "due"]


def test_a_journal_removed_or_replaced_under_the_daemon_is_written_again(
        routines, console_env, isolated):
    journal = isolated.state / JOURNAL_FILE
    (routines / "first.toml").write_text(routine_text("First", clock_in(4)))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        journal.unlink()
        daemon.wait_for(r"delivered first via console", timeout=8)
        daemon.wait_for(r"was removed while crampguard ran", timeout=2)
        assert [e["kind"] for e in history()] == ["delivered", "due"]
        backup = journal.with_name("backup.sqlite3")
        Journal.open(backup).close()
        os.replace(backup, journal)  # a backup restored over it, say
        cli_json("trigger", "first")
        daemon.wait_for(r"was replaced while crampguard ran", timeout=3)
        assert [e["kind"] for e in history()] == ["triggered"]
        assert daemon.stop() == 0


# --- the daemon always starts -----------------------------------------------------------------

def test_a_damaged_journal_at_start_is_moved_aside_and_a_new_one_started(
        routines, desktop, isolated):
    isolated.state.mkdir(parents=True)
    journal = isolated.state / JOURNAL_FILE
    journal.write_bytes(b"this is no database, it is a shopping list\n" * 100)
    (routines / "soon.toml").write_text(routine_text("Soon", clock_in(3)))
    with Daemon({**desktop.env, "CRAMPGUARD_NOTIFIER": "dbus"}) as daemon:
        daemon.start("--routines", str(routines))
        moved = daemon.wait_for(r"was damaged: moved it to (\S+) and started a new one")[1]
        daemon.wait_for(r"delivered soon via dbus", timeout=6)
        assert daemon.stop() == 0
    assert Path(moved).read_bytes().startswith(b"this is no database")
    assert [e["kind"] for e in history()] == ["delivered", "due"]
    notices = [(n["summary"], n["body"]) for n in desktop.history()]
    assert notices[0][0] == "crampguard started a new journal" and moved in notices[0][1]
    assert notices[1][0] == "Soon"


def test_a_read_only_state_folder_does_not_stop_the_reminders(routines, desktop,
                                                              isolated):
    with state_on_tmpfs(isolated, "ro,size=1m"):
        (routines / "soon.toml").write_text(routine_text("Soon", clock_in(3)))
        with Daemon({**desktop.env, "CRAMPGUARD_NOTIFIER": "dbus"}) as daemon:
            daemon.start("--routines", str(routines))
            daemon.wait_for(r"cannot create the journal .*reminders are still shown")
            daemon.wait_for(r"delivered soon via dbus", timeout=6)
            assert any("cannot create the journal" in p for p in status()["problems"])
            assert daemon.stop() == 0
        summaries = [n["summary"] for n in desktop.history()]
        assert summaries == ["crampguard cannot write its journal", "Soon"]


def test_a_broken_config_at_start_runs_on_the_last_good_settings(routines, desktop,
                                                                    tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[anchors]\nbedtime = "22:00"\n')
    (routines / "soak.toml").write_text(routine_text("Soak", "bedtime - 45m"))
    args = ("--routines", str(routines), "--config", str(config))
    env = {**desktop.env, "CRAMPGUARD_NOTIFIER": "dbus"}
    with Daemon(env) as daemon:
        daemon.start(*args)
        daemon.wait_for(r"scheduled soak: daily at 21:15")
        assert daemon.stop() == 0
    config.write_text('quiet_hours = "23:00-07:00"\n[anchors]\nbedtime = "25:00"\n')
    with Daemon(env) as daemon:
        daemon.start(*args)
        daemon.wait_for(rf"{config}:3: anchors.bedtime: impossible time of day")
        daemon.wait_for(r"running on the last good settings")
        daemon.wait_for(r"scheduled soak: daily at 21:15")  # 22:00 - 45m, as last time
        problems = cli_json(*args, "status")["problems"]
        assert any(f"{config}:3: anchors.bedtime" in p for p in problems)
        config.write_text('[anchors]\nbedtime = "23:00"\n')
        reply = cli_json(*args, "reload")
        assert reply["problems"] == []
        daemon.wait_for(r"scheduled soak: daily at 22:15")
        assert daemon.stop() == 0
    (notice,) = desktop.history()  # one notification, naming the file, line and field
    assert notice["summary"] == "crampguard: the settings file is broken"
    assert f"{config}:3: anchors.bedtime" in notice["body"]


def test_a_broken_config_with_no_good_one_before_runs_on_the_defaults(routines, console_env,
                                                                         tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[anchors]\nbedtime = "nonsense"\n')
    (routines / "soak.toml").write_text(routine_text("Soak", "bedtime - 45m"))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines), "--config", str(config))
        daemon.wait_for(r"running on the default settings")
        daemon.wait_for(r"scheduled soak: daily at 21:45")  # the default bedtime 22:30
        assert daemon.stop() == 0


# --- buttons answer the notice they sit on (real dunst) -------------------------------------

def test_the_skip_button_answers_todays_notice_and_leaves_tomorrow(desktop, routines):
    (routines / "stretch.toml").write_text(routine_text(
        "Stretch", clock_in(3), notify='[notify]\nactions = ["done", "skip"]\n'))
    env = {**desktop.env, "CRAMPGUARD_NOTIFIER": "dbus"}
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        shown = daemon.wait_for(r"delivered stretch via dbus as #(\d+) \(due (.*?),")
        planned = status()["routines"][0]["next"]
        desktop.press(int(shown[1]), "skip")
        daemon.wait_for(rf"skipped stretch \(due {re.escape(shown[2])}\)", timeout=3)
        assert status()["routines"][0]["next"] == planned, "tomorrow's is still planned"
        assert daemon.stop() == 0
    (skipped,) = [e for e in history("--routine", "stretch") if e["kind"] == "skipped"]
    assert skipped["detail"]["reason"] == "the Skip button"


def test_a_button_on_a_notice_from_an_earlier_run_still_answers_it(desktop, routines):
    (routines / "stretch.toml").write_text(routine_text(
        "Stretch", clock_in(3), notify='[notify]\ntimeout = "0s"\nactions = ["done"]\n'))
    env = {**desktop.env, "CRAMPGUARD_NOTIFIER": "dbus"}
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        shown = int(daemon.wait_for(r"delivered stretch via dbus as #(\d+)")[1])
        assert daemon.stop() == 0
    assert desktop.shown() == 1  # still on screen, its sender gone
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        desktop.press(shown, "done")
        daemon.wait_for(r"done stretch \(due ", timeout=3)
        assert daemon.stop() == 0
    assert [e["kind"] for e in history("--routine", "stretch")][:1] == ["done"]


def test_done_with_due_credits_that_reminder(routines, console_env):
    (routines / "once.toml").write_text(routine_text("Once", clock_in(2)))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        due = daemon.wait_for(r"delivered once via console \(due \w+ (\S+ \S+) ")[1]
        local = due.replace(" ", "T")
        reply = cli_json("done", "once", "--due", local)
        assert reply["due"].startswith(local) and reply["already"] is False
        result = cli("done", "once", "--due", "03:00")
        assert result.returncode == 1 and "no reminder due at" in result.stderr
        assert daemon.stop() == 0


def test_a_routine_that_never_shows_is_a_warning_in_status_and_the_log(routines,
                                                                       console_env):
    (routines / "never.toml").write_text(
        'schema_version = 1\ntitle = "Never"\nmessage = "m"\nseed = "stretch-before-bed"\n'
        '[schedule]\ncron = "0 9 31 2 *"\n')
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"WARNING never: ")
        assert any(p.startswith("never: ") for p in status()["problems"])
        assert daemon.stop() == 0
