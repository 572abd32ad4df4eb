"""`crampguard doctor`, the real CLI: on a real desktop (dunst) and without one, with the
daemon running or not, a service installed or not, broken files, a journal that cannot be
written. Exit 1 exactly when something stops reminders; `--json` has a fixed shape."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scheduler.autostart import formats
from tests.support.daemon_proc import Daemon
from tests.support.fixtures import Dirs
from tests.support.routines import routine_text
from tests.support.session import Session

pytestmark = pytest.mark.slow

KEYS = {"ok", "problems", "notes", "notification_server", "delivery", "zone", "routines",
        "files", "journal", "service", "daemon", "presence"}
NO_SERVER = "no notification server answers"
NOTHING_STARTS = "crampguard is not running and nothing starts it"


@pytest.fixture
def routines(tmp_path: Path) -> Path:
    folder = tmp_path / "routines"
    folder.mkdir()
    (folder / "late.toml").write_text(routine_text("Late stretch", "03:00"))
    return folder


@pytest.fixture
def session(tmp_path: Path) -> Session:
    """No desktop, no user manager."""
    return Session(tmp_path, manager="offline")


def doctor(s: Session, *args: str) -> tuple[int, dict]:
    proc = s.cli(*args, "doctor", "--json")
    report = json.loads(proc.stdout)
    assert proc.stderr == ("" if proc.returncode == 0 else
                           f"crampguard doctor: {len(report['problems'])} problem(s) stop your "
                           "reminders (each is listed as a problem in the report)\n")
    assert set(report) == KEYS
    assert report["ok"] == (proc.returncode == 0) == (report["problems"] == [])
    return proc.returncode, report


def test_on_a_real_desktop_with_the_daemon_running_all_is_well(desktop, tmp_path, routines):
    s = Session(tmp_path, manager="offline", env=desktop.env)
    s.json("service", "install")
    with Daemon(s.env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for("crampguard running")
        code, report = doctor(s, "--routines", str(routines))
        pid = daemon.proc.pid  # type: ignore[union-attr]
        text = s.cli("--routines", str(routines), "doctor")
        assert daemon.stop() == 0
    assert code == 0, report["problems"]
    server = report["notification_server"]
    assert (server["answers"], server["name"], server["vendor"]) == (True, "dunst", "knopwob")
    assert server["spec_version"] == "1.2" and server["version"]
    assert server["actions"] is True and server["body_markup"] is True
    assert {"actions", "body-markup"} <= set(server["capabilities"])
    assert report["delivery"] == {"notifier": "auto", "chain": ["dbus", "console"],
                                  "delivers": "dbus"}
    assert report["zone"] == "Europe/Berlin"
    [routine] = report["routines"]
    assert (routine["id"], routine["warning"]) == ("late", None)
    assert routine["next"].endswith(("T03:00:00+01:00", "T03:00:00+02:00"))
    assert report["daemon"]["running"] is True and report["daemon"]["pid"] == pid
    assert report["service"]["installed"] is True
    assert report["journal"]["exists"] and report["journal"]["writable"]
    assert report["journal"]["size"] > 0
    assert desktop.history() == []  # it asked the server, and showed nothing
    presence = {source["name"]: source for source in report["presence"]}
    assert presence["x11"]["found"] and presence["x11"]["used"]  # Xvfb's screen saver
    assert "idle" in presence["x11"]["provides"]
    assert presence["dunst-paused"]["found"]
    assert presence["dunst-paused"]["provides"] == ["do-not-disturb"]
    assert not presence["logind"]["found"] and presence["logind"]["detail"]

    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert lines[0].startswith("notification server: dunst ")
    assert lines[0].endswith("buttons: yes; body markup: yes")
    assert "delivery: notifier auto (dbus > console); a reminder now goes to dbus" in lines
    assert lines[-1] == "ok: nothing stops your reminders"


def test_without_a_desktop_the_missing_server_is_a_problem(session: Session, routines) -> None:
    code, report = doctor(session, "--routines", str(routines))
    assert code == 1
    assert report["notification_server"]["answers"] is False
    assert "cannot connect to the D-Bus session bus unix:path=/nonexistent" in \
        report["notification_server"]["error"]
    assert report["delivery"]["delivers"] == "console"
    assert [p.split(" (")[0] for p in report["problems"]] == [
        NO_SERVER, NOTHING_STARTS + ": `crampguard service install` starts it with your session"]
    # the journal is not created by looking at it
    assert report["journal"] == {
        "path": str(Path(os.environ["CRAMPGUARD_STATE_DIR"]) / "journal.sqlite3"),
        "exists": False, "readable": False, "writable": True, "size": 0, "problem": None,
        "damaged": None}
    assert not Path(report["journal"]["path"]).exists()

    assert not any(source["found"] for source in report["presence"])
    assert report["notes"] == [
        "no presence source answers: reminders are shown whether or not you are there, and "
        "do-not-disturb is not seen"]

    text = session.cli("--routines", str(routines), "doctor")
    assert text.returncode == 1
    assert text.stderr.startswith("crampguard doctor: 2 problem(s) stop your reminders")
    assert f"problem: {NO_SERVER} (" in text.stdout


def test_the_console_by_choice_and_a_service_installed_are_no_problem(session, routines):
    session.json("service", "install")
    code, report = doctor(session, "--routines", str(routines))
    assert (code, [p.split(" (")[0] for p in report["problems"]]) == (1, [NO_SERVER])
    session.env["CRAMPGUARD_NOTIFIER"] = "console"
    code, report = doctor(session, "--routines", str(routines))
    assert code == 0, report["problems"]
    assert report["delivery"] == {"notifier": "console", "chain": ["console"],
                                  "delivers": "console"}
    assert any(n.startswith("crampguard is not running; the service starts it at your next "
                            "login") for n in report["notes"])


def test_broken_files_are_problems_with_the_file_and_line(session, routines) -> None:
    (routines / "bad.toml").write_text('schema_version = 1\ntitel = "x"\n')
    session.env["CRAMPGUARD_NOTIFIER"] = "console"
    session.json("service", "install")
    code, report = doctor(session, "--routines", str(routines))
    assert code == 1
    bad = [p for p in report["files"]["problems"] if p.startswith(f"{routines}/bad.toml:2: ")]
    assert bad and bad[0] in report["problems"]


def test_a_broken_settings_file_is_a_problem_and_the_defaults_are_shown(
        session, routines, isolated: Dirs) -> None:
    isolated.config.mkdir(parents=True)
    isolated.config_file.write_text('schema_version = 1\nquiet_hours = "whenever"\n')
    session.env["CRAMPGUARD_NOTIFIER"] = "console"
    session.json("service", "install")
    code, report = doctor(session, "--routines", str(routines))
    assert code == 1
    assert report["files"]["settings"] == str(isolated.config_file)
    assert any(p.startswith(f"{isolated.config_file}:2: quiet_hours") for p in report["problems"])
    assert report["routines"][0]["next"] is not None  # planned on the defaults meanwhile


def test_routines_that_never_fire_are_named_and_none_at_all_is_a_problem(session, tmp_path):
    folder = tmp_path / "never"
    folder.mkdir()
    (folder / "feb31.toml").write_text(
        routine_text("x", "03:00").replace('at = "03:00"', 'cron = "0 9 31 2 *"'))
    session.env["CRAMPGUARD_NOTIFIER"] = "console"
    session.json("service", "install")
    code, report = doctor(session, "--routines", str(folder))
    assert code == 1
    [routine] = report["routines"]
    assert routine["next"] is None and routine["warning"]["kind"] == "never"
    assert any(n.startswith("feb31: can never fire") for n in report["notes"])
    assert report["problems"][0].startswith("no enabled routine is ever shown")


def test_a_follow_up_waits_for_its_cause(session, tmp_path) -> None:
    folder = tmp_path / "after"
    folder.mkdir()
    (folder / "drink.toml").write_text(routine_text("Drink", "03:00").replace(
        'at = "03:00"', 'after = "workout + 1h"'))
    session.env["CRAMPGUARD_NOTIFIER"] = "console"
    session.json("service", "install")
    code, report = doctor(session, "--routines", str(folder))
    assert code == 0, report["problems"]  # it fires, after the event
    [routine] = report["routines"]
    assert (routine["next"], routine["after"], routine["warning"]) == (
        None, "workout + 1h", None)
    text = session.cli("--routines", str(folder), "doctor").stdout
    assert "  after workout + 1h             drink " in text


def test_a_journal_folder_that_cannot_be_made_is_a_problem(session, routines, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    session.env["CRAMPGUARD_STATE_DIR"] = str(blocker / "state")
    code, report = doctor(session, "--routines", str(routines))
    assert code == 1
    assert report["journal"]["writable"] is False
    assert f"journal: {blocker}/state/journal.sqlite3 does not exist yet, and {blocker} is " \
           "not a folder, so the daemon cannot create it; point CRAMPGUARD_STATE_DIR at a " \
           "folder of yours" in report["problems"]


def test_an_unreadable_journal_is_a_problem(session, routines, isolated: Dirs) -> None:
    isolated.state.mkdir(parents=True)
    (isolated.state / "journal.sqlite3").mkdir()  # a folder where the file should be
    code, report = doctor(session, "--routines", str(routines))
    assert code == 1
    assert report["journal"]["writable"] is False
    assert any(p.startswith("journal: ") for p in report["problems"])


def test_a_stale_service_entry_is_a_problem(session, routines) -> None:
    session.desktop_file.parent.mkdir(parents=True)
    session.desktop_file.write_text(formats.desktop_entry(("/gone/venv/bin/crampguard", "run")))
    session.env["CRAMPGUARD_NOTIFIER"] = "console"
    code, report = doctor(session, "--routines", str(routines))
    assert code == 1
    assert report["service"]["entries"][0]["stale"] is True
    assert report["problems"] == [
        f"{session.desktop_file} starts /gone/venv/bin/crampguard, which no longer exists, "
        "so crampguard will not start at your next login: run `crampguard service install` "
        "with the crampguard you use now"]


def test_a_failed_unit_is_a_problem_that_names_its_log(tmp_path, routines) -> None:
    s = Session(tmp_path, manager="running")
    s.env["CRAMPGUARD_NOTIFIER"] = "console"
    s.json("service", "install")
    (s.bin / "active").write_text("failed\n")  # what the fake systemctl answers now
    code, report = doctor(s, "--routines", str(routines))
    assert code == 1
    assert report["service"]["manager"] == {"name": "systemd", "active": "failed",
                                            "enabled": "enabled"}
    assert report["problems"] == [
        "crampguard is not running: its systemd unit failed; `journalctl --user -u "
        "crampguard` shows why, `systemctl --user restart crampguard` starts it again"]


def test_a_paused_daemon_is_named(session, routines) -> None:
    session.env["CRAMPGUARD_NOTIFIER"] = "console"
    with Daemon(session.env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for("crampguard running")
        assert session.cli("pause", "2h").returncode == 0
        code, report = doctor(session, "--routines", str(routines))
        assert daemon.stop() == 0
    assert code == 0  # paused by the user: a note, with the way out
    assert report["daemon"]["paused_until"]
    assert any(n.startswith("paused until ") and "`crampguard resume`" in n
               for n in report["notes"])
    assert "nothing starts crampguard at your next login: `crampguard service install`" in \
        report["notes"]
