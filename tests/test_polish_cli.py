"""Issue 12, the command-line edge: the journal read without write access, errors as JSON
under --json, an explicitly chosen notifier that cannot deliver, `next` with a broken file,
a wall time that did not exist. The real CLI in a subprocess wherever behaviour changes."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.cli.journal_commands import skipped_wall_time
from scheduler.errors import CrampguardError
from scheduler.journal import store
from scheduler.journal.store import Journal
from scheduler.paths import JOURNAL_FILE
from tests.support.daemon_proc import Daemon, cli, clock_in
from tests.support.faketime import FAKETIME_LIB, needs_faketime
from tests.support.fixtures import Dirs
from tests.support.routines import routine_text
from tests.test_recovery import read_only, tmpfs

BERLIN = ZoneInfo("Europe/Berlin")


def _recent(hours: float) -> datetime:
    return datetime.now(BERLIN) - timedelta(hours=hours)


# --- C: reading the journal needs no write access -----------------------------------------------

@contextmanager
def read_only_state(dirs: Dirs) -> Iterator[Path]:
    """The state folder on a tmpfs of its own, which the test then remounts read-only
    (``read_only``): root ignores file modes, so a mount is the read-only journal it can
    have."""
    with tmpfs(dirs.state, "4m") as state:
        yield state


def ok(*args: str) -> str:
    result = cli(*args)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    return result.stdout


def test_history_and_stats_read_a_journal_on_a_read_only_mount(isolated: Dirs) -> None:
    with read_only_state(isolated) as state:
        with Journal.open(state / JOURNAL_FILE) as journal:
            journal.record("delivered", "foot-soak", at=_recent(2), due=_recent(2),
                           backend="console")
            journal.record("done", "foot-soak", at=_recent(1), due=_recent(2))
            journal.log_cramp(when=_recent(3), at=_recent(1), leg="left")
        before = sorted(p.name for p in state.iterdir())
        read_only(state)
        kinds = [e["kind"] for e in json.loads(ok("history", "--json"))]
        assert kinds == ["cramp", "done", "delivered"]
        assert "foot-soak" in ok("history")
        (row,) = json.loads(ok("stats", "--json", "--days", "7"))["routines"]
        assert (row["routine"], row["done"]) == ("foot-soak", 1)
        assert json.loads(ok("stats", "--json"))["cramps"] == 1
        assert sorted(p.name for p in state.iterdir()) == before


def test_an_old_journal_on_a_read_only_mount_is_read_as_it_is(isolated: Dirs) -> None:
    """Schema version 1 (no reminders table): upgraded in memory, the file left as it was."""
    with read_only_state(isolated) as state:
        path = state / JOURNAL_FILE
        with closing(sqlite3.connect(path)) as db:
            db.executescript(store.MIGRATIONS[0])
            db.execute("INSERT INTO events (at, kind, routine, due) VALUES (?, 'delivered', "
                       "'foot-soak', ?)", (_us(_recent(1)), _us(_recent(1))))
            db.execute("PRAGMA user_version = 1")
            db.commit()
        before = path.read_bytes()
        read_only(state)
        assert [e["kind"] for e in json.loads(ok("history", "--json"))] == ["delivered"]
        assert json.loads(ok("stats", "--json"))["routines"][0]["delivered"] == 1
        assert path.read_bytes() == before


def test_a_journal_not_made_yet_reads_as_empty_and_is_not_made(isolated: Dirs) -> None:
    assert ok("history") == "nothing in the journal for that period\n"
    assert json.loads(ok("history", "--json")) == []
    assert "(nothing in the journal yet)" in ok("stats")
    assert json.loads(ok("stats", "--json"))["cramps"] == 0
    assert not isolated.state.exists()


def test_read_names_a_journal_from_a_newer_crampguard(isolated: Dirs) -> None:
    path = isolated.state / JOURNAL_FILE
    Journal.open(path).close()
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 9")
    with pytest.raises(CrampguardError, match=f"^{path}: the journal was written by a newer"):
        Journal.read(path)
    result = cli("history")
    assert result.returncode == 1 and "upgrade crampguard" in result.stderr


def test_read_tells_a_damaged_journal(isolated: Dirs) -> None:
    path = isolated.state / JOURNAL_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(b"a shopping list, not a journal\n" * 200)
    with pytest.raises(CrampguardError, match=f"^{path}: the journal is damaged"):
        Journal.read(path)


def test_read_sees_what_a_writer_commits_meanwhile(isolated: Dirs) -> None:
    path = isolated.state / JOURNAL_FILE
    with Journal.open(path) as writer, Journal.read(path) as reader:
        assert reader.events() == []
        writer.record("due", "foot-soak", at=_recent(0), due=_recent(0))
        assert [e.kind for e in reader.events()] == ["due"]
        with pytest.raises(CrampguardError):
            reader.record("due", "foot-soak", at=_recent(0))


def _us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


# --- A: under --json, errors are JSON on stdout too ---------------------------------------------

@pytest.mark.parametrize(("argv", "status", "says"), [
    (["history", "--days", "0", "--json"], 1, "--days: give a number of days from 1 to 3660"),
    (["stats", "--json", "--days", "99999"], 1, "--days: give a number of days"),
    (["next", "--json", "--tz", "Mars/Olympus"], 1, "--tz: "),
    (["status", "--json"], 1, "crampguard is not running"),
    (["snooze", "--json"], 2, "snooze: the following arguments are required: ID"),
    (["history", "--days", "x", "--json"], 2, "argument --days: invalid int value: 'x'"),
    (["next", "--jso", "--bogus"], 2, "unrecognized arguments: --bogus"),
    (["log-cramp", "--json", "--leg", "middle"], 2, "argument --leg: invalid choice"),
])
def test_an_error_under_json_is_json_on_stdout_with_the_same_status(
        argv: list[str], status: int, says: str) -> None:
    result = cli(*argv)
    assert result.returncode == status, (result.stdout, result.stderr)
    reply = json.loads(result.stdout)
    assert set(reply) == {"error", "problems"}
    assert says in reply["error"] and reply["problems"] == reply["error"].splitlines()
    # A person watching the script still reads it.
    assert says in result.stderr.replace(": error:", ":")
    text = cli(*[a for a in argv if not a.startswith("--js")])
    assert (text.returncode, text.stdout) == (status, "")


def test_check_json_lists_every_problem(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text("[[[\n", encoding="utf-8")
    (tmp_path / "b.toml").write_text("schema_version = 99\n", encoding="utf-8")
    result = cli("check", str(tmp_path), "--json")
    assert result.returncode == 1
    problems = json.loads(result.stdout)["problems"]
    assert [p.split(":")[0] for p in problems][:2] == [str(tmp_path / "a.toml"),
                                                      str(tmp_path / "b.toml")]


def test_an_argument_that_only_looks_like_json_is_not_the_flag() -> None:
    result = cli("next", "--count", "x", "--", "--json")
    assert (result.returncode, result.stdout) == (2, "")


# --- B: a notifier chosen by name that cannot deliver is an error --------------------------------

NO_BUS = "unix:path=/nonexistent"


def no_bus(**extra: str) -> dict[str, str]:
    return {**os.environ, "DBUS_SESSION_BUS_ADDRESS": NO_BUS, **extra}


@pytest.mark.parametrize("backend", ["dbus", "plyer"])
def test_notify_test_with_a_named_notifier_that_cannot_deliver_fails(backend: str) -> None:
    result = cli("notify-test", "--notifier", backend, env=no_bus())
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(f"--notifier {backend}: the {backend} notifier cannot "
                                    "deliver here: ")
    assert "cannot connect to the D-Bus session bus" in result.stderr
    assert "choose auto" in result.stderr
    reply = json.loads(cli("notify-test", "--notifier", backend, "--json", env=no_bus()).stdout)
    assert reply["error"] == result.stderr.strip()


def test_notify_test_names_the_setting_that_chose_the_notifier(isolated: Dirs) -> None:
    isolated.config.mkdir(parents=True)
    isolated.config_file.write_text('schema_version = 1\nnotifier = "dbus"\n')
    result = cli("notify-test", env=no_bus())
    assert result.returncode == 1
    assert result.stderr.startswith(f'notifier = "dbus" in {isolated.config_file}: the dbus '
                                    "notifier cannot deliver here")
    result = cli("notify-test", env=no_bus(CRAMPGUARD_NOTIFIER="plyer"))
    assert result.returncode == 1
    assert result.stderr.startswith("CRAMPGUARD_NOTIFIER=plyer: the plyer notifier")


@pytest.mark.parametrize(("backend", "chain"), [("auto", "dbus > console"),
                                                ("console", "console")])
def test_notify_test_under_auto_or_console_still_reaches_the_console(backend: str,
                                                                     chain: str) -> None:
    result = cli("notify-test", "--notifier", backend, env=no_bus())
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(f"delivered via console; notifier chain: {chain}\n")


def test_notify_test_with_dbus_named_delivers_through_the_server(desktop) -> None:
    result = cli("notify-test", "--notifier", "dbus", "--json", env=desktop.env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["backend"] == "dbus"
    assert [n["summary"] for n in desktop.history()] == ["crampguard test"]


def test_the_daemon_with_dbus_named_and_no_bus_still_shows_and_says_so(routines: Path) -> None:
    """The daemon does not drop a reminder for a choice: it falls back, at warning level."""
    (routines / "soon.toml").write_text(routine_text("Soon", clock_in(3)))
    with Daemon(no_bus(CRAMPGUARD_NOTIFIER="dbus")) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"notifier dbus\+console")
        daemon.wait_for(r"WARNING dbus notifications failed, using the next notifier until "
                        r"they work again: cannot connect to the D-Bus session bus", timeout=6)
        daemon.wait_for(r"delivered soon via console", timeout=3)
        assert daemon.stop() == 0


# --- D: `next` with a broken file previews the rest and exits 1 ----------------------------------

def test_next_with_a_broken_file_shows_the_rest_and_exits_1(isolated: Dirs) -> None:
    isolated.routines.mkdir(parents=True)
    broken = isolated.routines / "broken.toml"
    broken.write_text("schema_version = 1\ntitle = \n", encoding="utf-8")
    result = cli("next", "--count", "3")
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) >= 3  # the preview of the shipped routines
    assert f"warning: {broken}:2:" in result.stderr
    assert "crampguard next: 1 problem(s) in the routine files" in result.stderr
    as_json = cli("next", "--count", "3", "--json")
    assert as_json.returncode == 1
    assert len(json.loads(as_json.stdout)) == 3
    broken.unlink()
    assert cli("next", "--count", "3").returncode == 0


def test_next_help_says_a_broken_file_exits_1() -> None:
    assert "the exit status is 1" in " ".join(ok("next", "--help").split())


# --- F: a wall time the clock skipped is said, not silently moved -------------------------------
# Summer time starts on Sunday 2026-03-29 in Berlin: 02:00 CET becomes 03:00 CEST.

def pinned(at_utc: str) -> dict[str, str]:
    """A CLI whose wall clock stands at ``at_utc`` (libfaketime)."""
    return {**os.environ, "LD_PRELOAD": str(FAKETIME_LIB), "FAKETIME": f"@{at_utc}",
            "TZ": "UTC", "CRAMPGUARD_TIMEZONE": "Europe/Berlin"}


SPRING_MORNING = "2026-03-29 07:00:00"  # 09:00 CEST, the morning after the change
SKIPPED = "02:30 did not exist on Sun 2026-03-29 (the clocks went forward); recorded 03:00"


@needs_faketime
def test_log_cramp_at_a_skipped_time_says_what_was_recorded() -> None:
    env = pinned(SPRING_MORNING)
    text = cli("log-cramp", "--when", "02:30", env=env)
    assert (text.returncode, text.stderr) == (0, "")
    assert text.stdout == f"logged a cramp at Sun 2026-03-29 03:00\nnote: {SKIPPED}\n"
    reply = json.loads(cli("log-cramp", "--when", "2026-03-29T02:30", "--json", env=env).stdout)
    assert (reply["when"], reply["shifted"]) == ("2026-03-29T03:00:00+02:00", SKIPPED)
    plain = json.loads(cli("log-cramp", "--when", "03:30", "--json", env=env).stdout)
    assert (plain["when"], plain["shifted"]) == ("2026-03-29T03:30:00+02:00", None)
    assert "note:" not in cli("log-cramp", "--when", "last night", env=env).stdout


@needs_faketime
def test_log_workout_at_a_skipped_time_says_so() -> None:
    reply = json.loads(cli("log", "workout", "--when", "02:30", "--json",
                           env=pinned(SPRING_MORNING)).stdout)
    assert (reply["when"], reply["shifted"]) == ("2026-03-29T03:00:00+02:00", SKIPPED)


@pytest.mark.parametrize(("typed", "at", "said"), [
    ("02:30", datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN), SKIPPED),
    ("02:05:30", datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN),
     "02:05:30 did not exist on Sun 2026-03-29 (the clocks went forward); recorded 03:00"),
    # 02:30 on the night the clocks go back happened twice: it exists, nothing to say.
    ("02:30", datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN), None),
    ("2026-03-29T02:30+01:00", datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN), None),
    ("21:45", datetime(2026, 3, 28, 21, 45, tzinfo=BERLIN), None),
    ("last night", datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN), None),
    (None, datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN), None),
])
def test_skipped_wall_time(typed: str | None, at: datetime, said: str | None) -> None:
    assert skipped_wall_time(typed, at, BERLIN) == said
