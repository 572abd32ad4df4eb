"""Where two of a reminder's paths cross, through the real daemon: a restart across a
firing, a repeat or a follow-up; a pause across a reminder that waits for the user or
repeats; a snooze into quiet hours; a full disk across a stop. Each is the contract in
README.md ("A reminder's life"), met by the real process, CLI and journal.

The daemon's wall clock is pinned to chosen dates (libfaketime, tests.support.faketime)
where the date matters or a test moves time past a repeat, a snooze or a downtime; the
zone is explicit (Europe/Berlin, in config.toml too).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.daemon.ledger import Ledger
from scheduler.errors import CrampguardError
from scheduler.journal.store import Journal
from tests.support.daemon_proc import Daemon, cli, cli_json, clock_in, journal, kinds
from tests.support.faketime import faked, needs_faketime
from tests.support.fixtures import ZONE, Dirs, fill
from tests.support.routines import routine_head, routine_text

pytestmark = pytest.mark.slow

BERLIN = ZoneInfo(ZONE)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def routine(title: str, schedule: str, notify: str = "") -> str:
    """A whole routine: the head, then ``schedule`` (and ``notify``) as TOML lines."""
    text = routine_head(title, f"Body of {title}.") + f"\n[schedule]\n{schedule}\n"
    return text + (f"\n[notify]\n{notify}\n" if notify else "")


class Clock:
    """The wall clock of every process started with ``env`` (the daemon and the CLI alike,
    so that `history` and `stats` count the days the daemon lived): the real time moved to
    a chosen instant, and on from there as a resume from suspend or a downtime would."""

    def __init__(self, path: Path, dirs: Dirs):
        self.path = path
        self.env = {**faked(path), "CRAMPGUARD_NOTIFIER": "console"}
        dirs.config.mkdir(parents=True, exist_ok=True)
        dirs.config_file.write_text(f'timezone = "{ZONE}"\n')

    def set(self, at: datetime) -> None:
        self.path.write_text(f"{(at - datetime.now(UTC)).total_seconds():+.0f}")

    def forward(self, seconds: float) -> None:
        self.path.write_text(f"{float(self.path.read_text()) + seconds:+.0f}")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return cli(*args, env=self.env)

    def json(self, *args: str) -> Any:
        return cli_json(*args, env=self.env)

    def wake(self) -> None:
        """A control command wakes the daemon's loop, which then runs what the moved clock
        made due, rather than at its next clock check."""
        self.json("status")


@pytest.fixture
def pinned(tmp_path: Path, isolated: Dirs) -> Clock:
    return Clock(tmp_path / "faketime", isolated)


def events(clock: Clock, routine_id: str) -> list[dict[str, Any]]:
    """The routine's journal entries, oldest first, over the days the pinned clock spans."""
    return journal(routine_id, "--days", "30", env=clock.env)


def reason(event: dict[str, Any]) -> str:
    return str(event.get("reason") or (event.get("detail") or {}).get("reason") or "")


def due_at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["due"])


@contextmanager
def start(clock: Clock, routines: Path) -> Iterator[Daemon]:
    # Entered before the wait: a daemon that never says it runs is killed, not left behind.
    with Daemon(clock.env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running", timeout=15)
        yield daemon


# --- a firing due while the daemon was stopped ---------------------------------------------
# Catch-up after a restart starts from when the daemon was last alive, not from the
# routine's last reminder: a weekly routine, a new routine and a new user have no reminder
# in the week before, and their firing must not fall through.

@needs_faketime
def test_a_weekly_reminder_due_while_stopped_is_caught_up(routines, pinned):
    (routines / "weekly.toml").write_text(routine(
        "Weekly", 'at = "20:00"\ndays = ["mon"]\ncatch_up = "30m"\nquiet_hours = "ignore"'))
    pinned.set(berlin(2027, 1, 4, 19, 59, 57))  # a Monday
    with start(pinned, routines) as daemon:
        daemon.wait_for(r"delivered weekly via console", timeout=10)
        assert daemon.stop() == 0
    pinned.set(berlin(2027, 1, 11, 20, 10))  # the next Monday, 10 minutes late
    with start(pinned, routines) as daemon:
        assert daemon.stop() == 0
    delivered = [due_at(e) for e in events(pinned, "weekly") if e["kind"] == "delivered"]
    assert delivered == [berlin(2027, 1, 4, 20), berlin(2027, 1, 11, 20)]


@needs_faketime
def test_a_routine_added_while_stopped_catches_up_its_first_firing(routines, pinned):
    (routines / "other.toml").write_text(routine_text("Other", "08:00"))
    pinned.set(berlin(2027, 1, 11, 19, 0))
    with start(pinned, routines) as daemon:
        assert daemon.stop() == 0
    (routines / "fresh.toml").write_text(routine(
        "Fresh", 'at = "20:00"\ncatch_up = "30m"\nquiet_hours = "ignore"'))
    pinned.set(berlin(2027, 1, 11, 20, 10))
    with start(pinned, routines) as daemon:
        assert daemon.stop() == 0
    kinds = [(e["kind"], due_at(e)) for e in events(pinned, "fresh")]
    assert ("delivered", berlin(2027, 1, 11, 20)) in kinds, kinds


@needs_faketime
@pytest.mark.parametrize(("restart", "expected"), [
    (berlin(2027, 1, 11, 20, 10), "delivered"),  # within its catch_up: shown once
    (berlin(2027, 1, 11, 21, 0), "missed"),      # past it: recorded, with why
])
def test_a_new_users_first_firing_while_stopped_is_delivered_or_recorded_missed(
        routines, pinned, restart, expected):
    (routines / "first.toml").write_text(routine(
        "First", 'at = "20:00"\ncatch_up = "30m"\nquiet_hours = "ignore"'))
    pinned.set(berlin(2027, 1, 11, 19, 0))  # the daemon's first run ever
    with start(pinned, routines) as daemon:
        assert daemon.stop() == 0
    pinned.set(restart)
    with start(pinned, routines) as daemon:
        assert daemon.stop() == 0
    outcomes = [e for e in events(pinned, "first") if e["kind"] in ("delivered", "missed")]
    assert [(e["kind"], due_at(e)) for e in outcomes] == [
        (expected, berlin(2027, 1, 11, 20))], outcomes
    if expected == "missed":
        assert "crampguard was not running" in reason(outcomes[0])


# --- a pause started while a reminder waits for the user ----------------------------------

@pytest.mark.desktop
def test_a_reminder_waiting_for_do_not_disturb_is_held_by_a_pause_started_meanwhile(
        routines, desktop):
    env = {**desktop.env, "CRAMPGUARD_NOTIFIER": "dbus",
           "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"}
    (routines / "soak.toml").write_text(routine_text("Soak", clock_in(3)))
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        desktop.dunstctl("set-paused", "true")
        daemon.wait_for(r"waiting to show soak due .*: dunst paused", timeout=8)
        mark = daemon.mark()
        assert cli("pause", "30m", env=env).returncode == 0
        desktop.dunstctl("set-paused", "false")
        # Whatever the daemon makes of the release, it says so in its log.
        outcome = daemon.wait_for(r"(delivered soak|held soak due .*)", timeout=5,
                                  after=mark)
        assert outcome[1].startswith("held soak"), outcome[1]
        assert "paused until" in outcome[1]
        assert daemon.stop() == 0
    assert desktop.history() == []
    last = journal("soak", env=env)[-1]
    assert last["kind"] == "held" and "paused until" in reason(last), last


# --- a follow-up's cause reported twice, and a restart before it is due -----------------

FOLLOWER = 'after = "workout + 30s"\ncatch_up = "30m"\nquiet_hours = "ignore"'


@contextmanager
def workout_logged_twice(clock: Clock, routines: Path) -> Iterator[Daemon]:
    """Refuel follows a workout by 30 s; at 18:30 a workout is logged, and logged again."""
    (routines / "refuel.toml").write_text(routine("Refuel", FOLLOWER))
    clock.set(berlin(2027, 1, 12, 18, 30))
    with start(clock, routines) as daemon:
        clock.json("log", "workout")
        clock.json("log", "workout")
        yield daemon


def refuel_shown_once(clock: Clock, daemon: Daemon) -> None:
    clock.forward(60)
    clock.wake()
    daemon.wait_for(r"delivered refuel via console", timeout=8)
    clock.wake()  # one more turn of the loop: a second notice would be shown by now
    assert daemon.count(r"^\[crampguard\] Refuel — ") == 1, daemon.log


@needs_faketime
def test_a_workout_logged_twice_plans_one_follow_up(routines, pinned):
    with workout_logged_twice(pinned, routines) as daemon:
        assert pinned.json("reload")["pending"] == {"follow-up": 1}
        refuel_shown_once(pinned, daemon)
        assert daemon.stop() == 0


@needs_faketime
def test_a_restart_before_a_follow_up_is_due_shows_it_once(routines, pinned):
    with workout_logged_twice(pinned, routines) as daemon:
        assert daemon.stop() == 0
    with start(pinned, routines) as daemon:
        refuel_shown_once(pinned, daemon)
        assert daemon.stop() == 0
    delivered = [e for e in events(pinned, "refuel") if e["kind"] == "delivered"]
    assert len(delivered) == 1, delivered


# --- what `stats` counts as due -----------------------------------------------------------

def test_a_reminder_held_by_a_pause_counts_as_due(routines, console_env):
    (routines / "soon.toml").write_text(routine_text("Soon", clock_in(4)))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        assert cli("pause", "1h", env=console_env).returncode == 0
        daemon.wait_for(r"held soon due .*: paused until", timeout=10)
        assert daemon.stop() == 0
    reply = cli_json("stats", "--days", "1", env=console_env)
    counted = [(r["routine"], r["due"], r["delivered"]) for r in reply["routines"]]
    assert counted == [("soon", 1, 0)], reply["routines"]


# --- repeats across a restart and a pause ---------------------------------------------------

REPEATING = 'repeat = { every = "1m", times = 3 }'


@contextmanager
def nudge_shown(clock: Clock, routines: Path) -> Iterator[Daemon]:
    """Nudge, due at 21:00 and repeated each minute three times, has just been shown."""
    (routines / "nudge.toml").write_text(routine(
        "Nudge", 'at = "21:00"\ncatch_up = "30m"\nquiet_hours = "ignore"', REPEATING))
    clock.set(berlin(2027, 1, 12, 20, 59, 57))
    with start(clock, routines) as daemon:
        daemon.wait_for(r"delivered nudge via console", timeout=10)
        yield daemon


@needs_faketime
def test_a_restart_between_two_repeats_keeps_the_rest_coming(routines, pinned):
    with nudge_shown(pinned, routines) as daemon:
        assert daemon.stop() == 0
    with start(pinned, routines) as daemon:
        pinned.forward(65)
        pinned.wake()
        daemon.wait_for(r"delivered nudge via console .*'repeat': 1", timeout=8)
        pinned.forward(65)
        pinned.wake()
        daemon.wait_for(r"delivered nudge via console .*'repeat': 2", timeout=8)
        assert daemon.stop() == 0
    repeats = [e for e in events(pinned, "nudge") if e["kind"] == "repeated"]
    assert [e.get("repeat") or e["detail"]["repeat"] for e in repeats] == [1, 2]


@needs_faketime
def test_a_pause_holding_one_repeat_lets_the_later_ones_come(routines, pinned):
    with nudge_shown(pinned, routines) as daemon:
        pinned.json("pause", "1m30s")
        pinned.forward(65)  # repeat 1 falls inside the pause
        pinned.wake()
        daemon.wait_for(r"repeat 1 of nudge due .* held, not shown again: paused until",
                        timeout=8)
        pinned.forward(65)  # the pause is over when repeat 2 is due
        pinned.wake()
        daemon.wait_for(r"delivered nudge via console .*'repeat': 2", timeout=8)
        assert daemon.stop() == 0
    held = [e for e in events(pinned, "nudge") if e["kind"] == "held"]
    assert len(held) == 1 and "paused until" in reason(held[0]), held


# --- a snooze that ends in quiet hours ------------------------------------------------------

@needs_faketime
def test_a_snooze_into_quiet_hours_says_so_and_is_held(routines, pinned, isolated):
    isolated.config_file.write_text(f'timezone = "{ZONE}"\nquiet_hours = "15:15-16:00"\n')
    (routines / "stretch.toml").write_text(routine(
        "Stretch", 'at = "15:10"\ncatch_up = "30m"\nquiet_hours = "respect"'))
    pinned.set(berlin(2027, 1, 12, 15, 9, 57))
    with start(pinned, routines) as daemon:
        daemon.wait_for(r"delivered stretch via console", timeout=10)
        reply = pinned.cli("snooze", "stretch", "10m")
        assert reply.returncode == 0, reply.stderr
        assert "quiet hours" in reply.stdout, reply.stdout
        pinned.forward(11 * 60)
        pinned.wake()
        daemon.wait_for(r"stretch due .*(held|not shown again)", timeout=8)
        assert daemon.stop() == 0
    after = [e for e in events(pinned, "stretch")
             if due_at(e) == berlin(2027, 1, 12, 15, 10)][-1]
    assert after["kind"] == "held" and "quiet hours" in reason(after), after


# --- events kept in memory while the disk was full, and a stop soon after -----------------

def test_events_kept_while_the_disk_was_full_are_written_by_a_stop_soon_after(
        routines, console_env, small_state):
    (routines / "due.toml").write_text(routine_text("Due", "03:00"))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        filler = fill(small_state)
        for _ in range(3):
            assert cli("trigger", "due", env=console_env).returncode == 0
        full = daemon.wait_for(r"disk is full.*reminders are still shown", timeout=3)
        filler.unlink()
        assert daemon.stop() == 0  # before the loop's next clock check
        after = daemon.log.split(full[0], 1)[1]
        assert "could not be written" not in after, daemon.log
    assert kinds("due", env=console_env) == ["triggered"] * 3


def test_events_kept_while_the_disk_was_full_are_written_soon_after_space_comes_back(
        routines, console_env, small_state):
    """Nothing else happens after the space comes back: no reminder, no command."""
    (routines / "due.toml").write_text(routine_text("Due", "03:00"))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        filler = fill(small_state)
        assert cli("trigger", "due", env=console_env).returncode == 0
        daemon.wait_for(r"disk is full.*reminders are still shown", timeout=3)
        filler.unlink()
        # Not the trouble's own line, which promises as much.
        daemon.wait_for(r"INFO the journal works again", timeout=4)
        assert kinds("due", env=console_env) == ["triggered"]
        assert daemon.stop() == 0


class _FailedConnection:
    """A journal connection that, once a write failed on a full disk, goes on failing
    after the disk has room again; a new connection to the same file works."""

    def __init__(self, path: Path, disk: dict[str, bool]):
        self.path = path
        self._journal = Journal.open(path)
        self._disk = disk
        self._failed = False

    def record(self, *args: Any, **kwargs: Any) -> int:
        if self._disk["full"] or self._failed:
            self._failed = True
            raise CrampguardError(f"{self._journal.path}: the disk is full")
        return self._journal.record(*args, **kwargs)

    def checkpoint(self) -> None:
        self._journal.checkpoint()

    def close(self) -> None:
        self._journal.close()


def test_a_stop_writes_what_a_failed_connection_kept_back(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "journal.sqlite3"
    disk = {"full": False}
    troubles: list[str] = []

    def connect(at: Path) -> Any:
        return _FailedConnection(at, disk)

    ledger = Ledger(path, connect, on_trouble=troubles.append,
                    on_recovered=lambda problem: None)
    ledger.attach(connect(path))
    disk["full"] = True
    at = datetime(2027, 1, 12, 21, 0, tzinfo=BERLIN)
    for minute in range(3):
        ledger.write(lambda j, m=minute: j.record("triggered", "due",
                                                  at=at + timedelta(minutes=m), due=at))
    assert ledger.pending == 3 and len(troubles) == 1
    disk["full"] = False
    ledger.close()
    with Journal.read(path) as journal:
        assert [e.kind for e in journal.events()] == ["triggered"] * 3
    assert "could not be written" not in caplog.text
