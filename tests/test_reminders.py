"""The reminder state machine in process: a fake engine (timers the test runs by hand), a
recording notifier, the real journal behind the real ledger (or one that fails), and a
clock moved by time-machine. Fast, so each rule and the combinations that matter are
pinned without a real daemon."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from scheduler import clock
from scheduler.config.routine import Routine
from scheduler.daemon.answers import Answers
from scheduler.daemon.ledger import Ledger
from scheduler.daemon.memory import Memory
from scheduler.daemon.reminders import PAUSE_TIMER, Reminders
from scheduler.errors import CrampguardError
from scheduler.journal.store import Journal
from scheduler.notify import Delivery, Notice, NotifierAway
from scheduler.planning.schedule import timetable_for
from scheduler.timing.plans import Timetable

ZONE = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 23, 20, 45, tzinfo=UTC)  # 21:45 in Berlin


@dataclass
class FakeTimers:
    """The engine as the state machine sees it: timers by key, and each routine's next
    firings (a list the test sets) for `skip`."""

    timers: dict[str, tuple[datetime, Callable[..., None], tuple[Any, ...]]] = \
        field(default_factory=dict)
    ahead: dict[str, list[datetime]] = field(default_factory=dict)
    tables: dict[str, Timetable] = field(default_factory=dict)

    def once(self, key: str, when: datetime, fn: Callable[..., None], *args: Any) -> None:
        self.timers[key] = (when, fn, args)


    def cancel(self, key: str) -> None:
        self.timers.pop(key, None)

    def skip_next(self, routine_id: str) -> tuple[datetime, datetime | None] | None:
        upcoming = self.ahead.get(routine_id, [])
        if not upcoming:
            return None
        dropped = upcoming.pop(0)
        return dropped, upcoming[0] if upcoming else None

    def timetable(self, routine_id: str) -> Timetable | None:
        return self.tables.get(routine_id)

    def key(self, prefix: str) -> str:
        (found,) = [k for k in self.timers if k.startswith(prefix)]
        return found

    def next_time(self, routine_id: str) -> datetime | None:
        ahead = self.ahead.get(routine_id)
        return ahead[0] if ahead else None

    def upcoming(self, routine_id: str, start: datetime) -> Iterator[datetime]:
        timetable = self.tables.get(routine_id)
        return (f.at for f in timetable.firings(start)) if timetable is not None else iter(())

    def run(self, key: str, traveller: Any) -> None:
        """Move the clock to the timer and run it, as the engine would."""
        when, fn, args = self.timers.pop(key)
        traveller.move_to(when)
        fn(*args)


@dataclass
class RecordingNotifier:
    sent: list[Notice] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)
    #: while set, the notification server is gone: send raises NotifierAway with it
    away: str | None = None

    def send(self, notice: Notice) -> Delivery:
        if self.away is not None:
            raise NotifierAway(self.away)
        self.sent.append(notice)
        return Delivery("dbus", id=len(self.sent), actions_shown=True)

    def withdraw(self, backend: str, notification_id: int) -> None:
        self.withdrawn.append(notification_id)


def routine(routine_id: str = "foot-soak", **schedule: Any) -> Routine:
    return Routine.model_validate({
        "schema_version": 1, "id": routine_id, "title": "Warm foot soak",
        "message": "Soak your feet.", "schedule": {"at": "21:45", **schedule},
        "notify": {"actions": ["done", "snooze 10m", "skip"]}})


class FlakyJournal:
    """Opens the real journal, or fails as a full disk would while ``broken``."""

    def __init__(self) -> None:
        self.broken = False
        self.opened = 0

    def open(self, path: Path) -> Journal:
        if self.broken:
            raise CrampguardError(f"{path}: the disk is full (database or disk is full)")
        self.opened += 1
        return Journal.open(path)


class Core:
    """The state machine's three parts behind the calls a control command makes, each
    reading the clock once, as the daemon's handlers do."""

    def __init__(self, reminders: Reminders, answers: Answers):
        self.machine, self.answers, self.memory = reminders, answers, reminders.memory

    def settle(self, routine_id: str, run_times: list[datetime], **kw: Any) -> None:
        self.machine.settle(routine_id, run_times, clock.now(), **kw)

    def done(self, routine_id: str, **kw: Any) -> dict[str, Any]:
        return self.answers.done(routine_id, clock.now(), **kw)

    def snooze(self, routine_id: str, *args: Any, **kw: Any) -> dict[str, Any]:
        return self.answers.snooze(routine_id, clock.now(), *args, **kw)

    def action(self, notification_id: int, key: str) -> None:
        self.answers.action(notification_id, key)

    def pause(self, until: datetime) -> dict[str, Any]:
        return self.machine.pause(until, clock.now())

    def resume(self) -> dict[str, Any]:
        now = clock.now()
        reply = self.machine.resume(now)
        self.machine.release(now)
        return reply

    @property
    def paused_until(self) -> datetime | None:
        return self.memory.paused_until(clock.now())

    def skip(self, routine_id: str) -> dict[str, Any]:
        return self.machine.skip(routine_id, clock.now())

    def trigger(self, routine_id: str) -> dict[str, Any]:
        return self.machine.trigger(routine_id, clock.now())

    def release(self) -> None:
        self.machine.release(clock.now())

    def resume_planned(self) -> None:
        self.machine.resume_planned(clock.now())

    def get(self, routine_id: str, due: datetime) -> Any:
        return self.memory.get(routine_id, due)

    def next_shown(self, routine_id: str, start: datetime) -> datetime | None:
        return self.machine.next_shown(routine_id, start)

    @property
    def on_done(self) -> Any:
        return self.answers.on_done

    @on_done.setter
    def on_done(self, fn: Any) -> None:
        self.answers.on_done = fn


@dataclass
class Machine:
    reminders: Core
    timers: FakeTimers
    notifier: RecordingNotifier
    ledger: Ledger
    path: Path
    clock: Any
    routines: dict[str, Routine | None]
    troubles: list[str]

    @property
    def journal(self) -> Journal:
        return Journal.open(self.path)

    def kinds(self, routine_id: str = "foot-soak") -> list[str]:
        with self.journal as j:
            return [e.kind for e in reversed(j.events(routine=routine_id))]

    def events(self, kind: str) -> list[Any]:
        with self.journal as j:
            return j.events(kinds=[kind])

    def restart(self) -> Machine:
        """A new state machine on the same journal, as after a restart of the daemon."""
        self.ledger.close()
        return build(self.path, self.clock, self.routines)

    def fire(self, due: datetime, routine_id: str = "foot-soak") -> None:
        self.reminders.settle(routine_id, [due])


@dataclass
class FakePresence:
    idle_seconds: float | None = 0.0
    locked: bool = False
    dnd: str | None = None
    unknown: str | None = None


def build(path: Path, traveller: Any, routines: dict[str, Routine | None],
          opener: FlakyJournal | None = None,
          presence: FakePresence | None = None) -> Machine:
    timers, notifier, troubles = FakeTimers(), RecordingNotifier(), []
    settings = _settings()
    for rid, r in routines.items():
        if r is not None:
            timers.tables[rid] = timetable_for(r, settings)
    opener = opener or FlakyJournal()
    ledger = Ledger(path, opener.open, on_trouble=troubles.append,
                    on_recovered=lambda problem: troubles.append("recovered"))
    try:
        ledger.attach(opener.open(path))
    except CrampguardError as exc:
        ledger.trouble = str(exc)
    memory = Memory(ledger, lambda: ZONE)
    memory.load_pauses(clock.now())
    reminders = Reminders(memory=memory, timers=timers, routine=routines.get,
                          enabled=lambda: [r for r in routines.values() if r is not None],
                          send=notifier.send, presence=lambda: presence)
    reminders.resume_planned(clock.now())
    answers = Answers(reminders, withdraw=notifier.withdraw)
    return Machine(Core(reminders, answers), timers, notifier, ledger, path, traveller,
                   routines, troubles)


def _settings() -> Any:
    from scheduler.config.settings import load_settings

    return load_settings(Path("/nonexistent/config.toml"), {"timezone": "Europe/Berlin",
                                                            "quiet_hours": "23:00-07:00"}, {})


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Machine]:
    with time_machine.travel(T0, tick=False) as traveller:
        m = build(tmp_path / "journal.sqlite3", traveller, {"foot-soak": routine()})
        yield m
        m.ledger.close()


# --- delivery and the catch-up rule ---------------------------------------------------------

def test_a_due_reminder_is_delivered_with_its_buttons(machine: Machine) -> None:
    machine.fire(T0)
    (notice,) = machine.notifier.sent
    assert notice.title == "Warm foot soak"
    assert [key for key, _ in notice.actions] == ["done", "snooze:10m", "skip"]
    assert machine.kinds() == ["due", "delivered"]


def test_catch_up_delivers_the_latest_within_its_window_and_misses_the_rest(
        machine: Machine) -> None:
    machine.clock.move_to(T0 + timedelta(minutes=20))
    machine.reminders.settle("foot-soak", [T0 - timedelta(days=1), T0])
    assert len(machine.notifier.sent) == 1
    assert machine.kinds() == ["due", "missed", "due", "delivered"]


def test_catch_up_past_its_window_delivers_nothing(machine: Machine) -> None:
    machine.clock.move_to(T0 + timedelta(minutes=31))
    machine.fire(T0)
    assert machine.notifier.sent == []
    (missed,) = machine.events("missed")
    assert missed.detail["reason"] == "1860s late, catch_up is 1800s"


def test_the_catch_up_rule_alone(machine: Machine) -> None:
    machine.clock.move_to(T0 + timedelta(hours=1, seconds=5))
    machine.reminders.settle("foot-soak", [T0, T0 + timedelta(hours=1)])
    (missed,) = machine.events("missed")
    assert (missed.due, missed.detail["reason"]) == (T0, "superseded by a later one")
    assert len(machine.notifier.sent) == 1


# --- at most once ----------------------------------------------------------------------------

def test_a_reminder_is_delivered_at_most_once_however_often_it_comes_due(
        machine: Machine) -> None:
    machine.fire(T0)
    machine.clock.move_to(T0 - timedelta(minutes=10))  # the clock stepped back
    machine.fire(T0)
    machine.clock.move_to(T0 + timedelta(minutes=1))
    machine.reminders.settle("foot-soak", [T0])
    assert len(machine.notifier.sent) == 1
    restarted = machine.restart()
    restarted.fire(T0)
    assert restarted.notifier.sent == [] and machine.kinds() == ["due", "delivered"]


def test_at_most_once_holds_while_the_journal_cannot_be_written(tmp_path: Path) -> None:
    opener = FlakyJournal()
    with time_machine.travel(T0, tick=False) as traveller:
        m = build(tmp_path / "j.sqlite3", traveller, {"foot-soak": routine()}, opener)
        opener.broken = True
        (tmp_path / "j.sqlite3").unlink()  # gone: the ledger must reopen, and cannot
        m.fire(T0)
        m.fire(T0)
        assert len(m.notifier.sent) == 1, "delivery does not wait for the journal"
        assert len(m.troubles) == 1 and "disk is full" in m.troubles[0]
        assert m.ledger.pending == 3  # the row, "due", "delivered": kept in order
        m.reminders.done("foot-soak")  # answers work from memory meanwhile
        opener.broken = False
        assert m.ledger.flush()
        assert m.troubles[-1] == "recovered" and m.ledger.pending == 0
        assert m.kinds() == ["due", "delivered", "done"]
        with Journal.open(tmp_path / "j.sqlite3") as j:
            assert j.reminder("foot-soak", T0).answer == "done"  # type: ignore[union-attr]
        m.ledger.close()


def test_a_journal_replaced_under_the_daemon_is_reopened(machine: Machine) -> None:
    machine.fire(T0)
    machine.path.rename(machine.path.with_suffix(".old"))
    Journal.open(machine.path).close()  # someone put a fresh file there
    machine.fire(T0 + timedelta(days=1))
    with machine.journal as j:
        assert [e.kind for e in reversed(j.events())] == ["due", "delivered"]
        assert j.reminder("foot-soak", T0 + timedelta(days=1)) is not None


# --- held: pauses and quiet hours, decided on the due instant -----------------------------------

def test_a_reminder_due_during_a_pause_is_held_and_the_pause_ends_itself(
        machine: Machine) -> None:
    machine.reminders.pause(T0 + timedelta(hours=1))
    assert PAUSE_TIMER in machine.timers.timers
    machine.fire(T0)
    assert machine.notifier.sent == []
    (held,) = machine.events("held")
    assert held.detail["reason"].startswith("paused until")
    machine.timers.run(PAUSE_TIMER, machine.clock)
    assert machine.reminders.paused_until is None
    assert [e.detail["reason"] for e in machine.events("resumed")] == ["the pause ended"]


def test_a_reminder_due_in_a_pause_is_held_even_when_handled_after_it(
        machine: Machine) -> None:
    """pause 1h, then the lid closes for 90 minutes: on resume, the pause is over, but the
    reminder fell due inside it."""
    machine.reminders.pause(T0 + timedelta(hours=1))
    machine.clock.move_to(T0 + timedelta(minutes=90))
    machine.timers.run(PAUSE_TIMER, machine.clock)  # the engine runs late timers first or last
    machine.reminders.settle("foot-soak", [T0 + timedelta(minutes=30)])
    assert machine.notifier.sent == []
    restarted = machine.restart()  # the same after a restart: pauses are remembered
    restarted.reminders.settle("foot-soak", [T0 + timedelta(minutes=45)])
    assert restarted.notifier.sent == []
    assert machine.kinds() == ["due", "held", "due", "held"]


def test_a_reminder_due_before_a_pause_began_is_not_shown_inside_it(machine: Machine) -> None:
    machine.clock.move_to(T0 + timedelta(minutes=5))
    machine.reminders.pause(T0 + timedelta(hours=1))  # paused after it fell due
    machine.fire(T0)  # handled late (a busy loop, a resume)
    assert machine.notifier.sent == []
    assert machine.kinds() == ["due", "held"]  # held by a pause: the user chose; it was due
    assert machine.events("held")[0].detail["reason"].startswith("paused until")


def test_a_reminder_in_quiet_hours_is_held_with_the_reason(machine: Machine) -> None:
    night = datetime(2026, 11, 23, 23, 30, tzinfo=ZONE)
    machine.clock.move_to(night)
    machine.fire(night)
    assert machine.notifier.sent == []
    (held,) = machine.events("held")
    assert held.detail == {"reason": "quiet hours"}


def test_a_pause_must_end_in_the_future(machine: Machine) -> None:
    with pytest.raises(CrampguardError, match="in the future"):
        machine.reminders.pause(T0 - timedelta(minutes=1))


def test_a_pause_survives_a_restart_and_still_ends_itself(machine: Machine) -> None:
    machine.reminders.pause(T0 + timedelta(hours=1))
    restarted = machine.restart()
    assert restarted.reminders.paused_until == T0 + timedelta(hours=1)
    restarted.fire(T0 + timedelta(minutes=5))
    assert restarted.notifier.sent == []
    assert PAUSE_TIMER in restarted.timers.timers


def test_a_pause_that_ended_while_stopped_is_over_at_restart(machine: Machine) -> None:
    machine.reminders.pause(T0 + timedelta(hours=1))
    machine.clock.move_to(T0 + timedelta(minutes=70))
    restarted = machine.restart()
    assert restarted.reminders.paused_until is None
    restarted.fire(T0 + timedelta(minutes=70))
    assert len(restarted.notifier.sent) == 1


def test_resume_ends_the_pause_now_and_later_reminders_are_delivered(
        machine: Machine) -> None:
    machine.reminders.pause(T0 + timedelta(hours=2))
    machine.clock.move_to(T0 + timedelta(minutes=30))
    machine.reminders.resume()
    machine.fire(T0 + timedelta(minutes=40))
    machine.reminders.settle("foot-soak", [T0 + timedelta(minutes=20)])
    assert len(machine.notifier.sent) == 1  # 20 min was inside the pause, 40 min was not
    assert machine.kinds() == ["due", "delivered", "due", "held"]


# --- snooze -------------------------------------------------------------------------------------

def test_a_snooze_delivers_the_same_reminder_again(machine: Machine) -> None:
    machine.fire(T0)
    reply = machine.reminders.snooze("foot-soak")
    assert reply["until"] == (T0 + timedelta(minutes=10)).astimezone(ZONE).isoformat()
    machine.timers.run(machine.timers.key("crampguard:snooze:"), machine.clock)
    assert len(machine.notifier.sent) == 2
    again = machine.events("delivered")[0]
    assert again.due == T0 and again.detail == {"snoozed": True}


def test_a_snooze_survives_a_restart(machine: Machine) -> None:
    machine.fire(T0)
    machine.reminders.snooze("foot-soak")
    restarted = machine.restart()
    restarted.timers.run(restarted.timers.key("crampguard:snooze:"), machine.clock)
    assert len(restarted.notifier.sent) == 1
    restarted.reminders.action(1, "done")  # the new notice's button
    assert machine.kinds() == ["due", "delivered", "snoozed", "delivered", "done"]


def test_a_snooze_that_ended_while_stopped_past_catch_up_is_recorded(
        machine: Machine) -> None:
    machine.fire(T0)
    machine.reminders.snooze("foot-soak")
    machine.clock.move_to(T0 + timedelta(hours=2))
    restarted = machine.restart()
    restarted.timers.run(restarted.timers.key("crampguard:snooze:"), machine.clock)
    assert restarted.notifier.sent == []
    assert machine.events("missed")[0].detail["reason"].startswith("snoozed: the snooze ended")


def test_a_snooze_that_returns_during_a_pause_is_held(machine: Machine) -> None:
    machine.fire(T0)
    machine.reminders.snooze("foot-soak")
    machine.reminders.pause(T0 + timedelta(hours=1))
    machine.timers.run(machine.timers.key("crampguard:snooze:"), machine.clock)
    assert len(machine.notifier.sent) == 1
    (held,) = machine.events("held")
    assert held.due == T0 and held.detail["reason"].startswith("snoozed: paused until")


def test_done_after_a_snooze_cancels_its_return(machine: Machine) -> None:
    machine.fire(T0)
    machine.reminders.snooze("foot-soak")
    machine.reminders.done("foot-soak")
    assert not any(k.startswith("crampguard:snooze:") for k in machine.timers.timers)


# --- skip -----------------------------------------------------------------------------------

def test_skip_drops_the_next_firing_and_says_which(machine: Machine) -> None:
    tomorrow = T0 + timedelta(days=1)
    machine.timers.ahead["foot-soak"] = [tomorrow, tomorrow + timedelta(days=1)]
    reply = machine.reminders.skip("foot-soak")
    assert reply["skipped"] == tomorrow.astimezone(ZONE).isoformat()
    assert reply["next"] == (tomorrow + timedelta(days=1)).astimezone(ZONE).isoformat()
    (skipped,) = machine.events("skipped")
    assert skipped.due == tomorrow and skipped.detail == {"reason": "crampguard skip"}


def test_a_skip_survives_a_restart(machine: Machine) -> None:
    tomorrow = T0 + timedelta(days=1)
    machine.timers.ahead["foot-soak"] = [tomorrow]
    machine.reminders.skip("foot-soak")
    restarted = machine.restart()
    machine.clock.move_to(tomorrow)
    restarted.fire(tomorrow)
    assert restarted.notifier.sent == []
    assert restarted.reminders.get("foot-soak", tomorrow).state == "skipped"  # type: ignore


def test_skip_with_nothing_ahead_is_an_error(machine: Machine) -> None:
    with pytest.raises(CrampguardError, match="no firing ahead"):
        machine.reminders.skip("foot-soak")


def test_the_skip_button_answers_the_notice_it_sits_on(machine: Machine) -> None:
    tomorrow = T0 + timedelta(days=1)
    machine.timers.ahead["foot-soak"] = [tomorrow]
    machine.fire(T0)
    machine.reminders.action(1, "skip")
    assert machine.timers.ahead["foot-soak"] == [tomorrow], "tomorrow's is untouched"
    (skipped,) = machine.events("skipped")
    assert skipped.due == T0
    assert machine.notifier.withdrawn == [1]


# --- done, buttons, trigger -------------------------------------------------------------------

def test_done_credits_the_last_unanswered_reminder_once(machine: Machine) -> None:
    with pytest.raises(CrampguardError, match="no reminder from the last day"):
        machine.reminders.done("foot-soak")
    machine.fire(T0)
    assert machine.reminders.done("foot-soak")["already"] is False
    assert machine.reminders.done("foot-soak")["already"] is True
    (done,) = machine.events("done")
    assert done.due == T0


def test_done_credits_a_reminder_missed_while_the_laptop_slept(machine: Machine) -> None:
    machine.clock.move_to(T0 + timedelta(hours=3))
    machine.fire(T0)  # 3 h late: missed
    assert machine.notifier.sent == []
    assert machine.reminders.done("foot-soak")["due"] == T0.astimezone(ZONE).isoformat()


def test_done_with_a_due_time_picks_that_reminder(machine: Machine) -> None:
    yesterday = T0 - timedelta(days=1)
    machine.clock.move_to(yesterday)
    machine.fire(yesterday)
    machine.clock.move_to(T0)
    machine.fire(T0)
    reply = machine.reminders.done("foot-soak", due=yesterday + timedelta(seconds=20))
    assert reply["due"] == yesterday.astimezone(ZONE).isoformat()
    assert machine.reminders.done("foot-soak")["due"] == T0.astimezone(ZONE).isoformat()
    with pytest.raises(CrampguardError, match="no reminder due at"):
        machine.reminders.done("foot-soak", due=T0 - timedelta(hours=5))


def test_done_does_not_reach_back_more_than_a_day(machine: Machine) -> None:
    machine.fire(T0)
    machine.clock.move_to(T0 + timedelta(days=1, minutes=1))
    with pytest.raises(CrampguardError, match="--due"):
        machine.reminders.done("foot-soak")


def test_a_button_answers_its_notice_and_takes_it_down(machine: Machine) -> None:
    machine.fire(T0)
    machine.reminders.action(1, "done")
    assert machine.notifier.withdrawn == [1]
    assert machine.kinds() == ["due", "delivered", "done"]
    machine.reminders.action(1, "done")  # already answered: nothing more
    assert machine.kinds() == ["due", "delivered", "done"]


def test_a_button_on_a_notice_from_an_earlier_run_still_answers_it(
        machine: Machine) -> None:
    machine.fire(T0)
    restarted = machine.restart()
    restarted.reminders.action(1, "done")
    assert machine.kinds() == ["due", "delivered", "done"]


def test_a_button_on_someone_elses_notice_is_ignored(machine: Machine) -> None:
    machine.reminders.action(99, "done")
    assert machine.kinds() == []


def test_a_triggered_reminder_is_manual_and_adherence_stays_within_100(
        machine: Machine) -> None:
    from scheduler.journal import stats

    machine.fire(T0)
    machine.reminders.action(1, "done")
    machine.clock.move_to(T0 + timedelta(minutes=5))
    machine.reminders.trigger("foot-soak")
    machine.reminders.action(2, "done")
    assert machine.kinds() == ["due", "delivered", "done", "triggered", "done"]
    with machine.journal as j:
        for source in (j.events(), j.tally(stats.window(now=T0 + timedelta(hours=1),
                                                         zone=ZONE, days=1))):
            (row,) = stats.routine_stats(source, now=T0 + timedelta(hours=1), zone=ZONE,
                                         days=1)
            assert (row.due, row.done, row.adherence) == (1, 1, 1.0)


def test_a_disabled_routine_fires_nothing(tmp_path: Path) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        m = build(tmp_path / "journal.sqlite3", traveller, {})
        m.fire(T0)
        assert m.notifier.sent == [] and m.kinds() == []
        with pytest.raises(CrampguardError, match="no enabled routine"):
            m.reminders.trigger("foot-soak")
        m.ledger.close()


def test_next_shown_passes_over_pauses_quiet_hours_and_skips(machine: Machine) -> None:
    first = T0 + timedelta(days=1)
    assert machine.reminders.next_shown("foot-soak", first) == first
    machine.reminders.pause(first + timedelta(minutes=1))
    assert machine.reminders.next_shown("foot-soak", first) == first + timedelta(days=1)
    machine.timers.ahead["foot-soak"] = [first + timedelta(days=1)]
    machine.reminders.skip("foot-soak")
    assert machine.reminders.next_shown("foot-soak", first) == first + timedelta(days=2)
    night = routine("night", at="23:30")  # inside quiet hours every day: never shown
    machine.timers.tables["night"] = timetable_for(night, _settings())
    assert machine.reminders.next_shown("night", first) is None


# --- presence: away, locked, do-not-disturb ------------------------------------------------------

@pytest.fixture
def present(tmp_path: Path) -> Iterator[tuple[Machine, FakePresence]]:
    seen = FakePresence()
    routines = {"foot-soak": routine(),
                "sitting": routine("sitting", at=None, every="50m", between="09:00-17:30"),
                "urgent": Routine.model_validate({
                    "schema_version": 1, "id": "urgent", "title": "Urgent", "message": "m",
                    "schedule": {"at": "21:45"}, "notify": {"urgency": "critical"}})}
    with time_machine.travel(T0, tick=False) as traveller:
        m = build(tmp_path / "journal.sqlite3", traveller, routines, presence=seen)
        yield m, seen
        m.ledger.close()


def test_a_reminder_due_while_locked_waits_and_is_shown_on_return(present) -> None:
    m, seen = present
    seen.locked = True
    m.fire(T0)
    assert m.notifier.sent == []
    assert m.reminders.get("foot-soak", T0).state == "waiting"  # type: ignore[union-attr]
    m.clock.move_to(T0 + timedelta(minutes=10))
    m.reminders.release()  # still locked: nothing
    assert m.notifier.sent == []
    seen.locked = False
    m.reminders.release()
    assert len(m.notifier.sent) == 1
    assert m.kinds() == ["held", "due", "delivered"]
    m.reminders.release()  # at most once
    assert len(m.notifier.sent) == 1


def test_a_held_reminder_past_its_catch_up_is_missed(present) -> None:
    m, seen = present
    seen.idle_seconds = 600
    m.fire(T0)
    m.timers.run(m.timers.key("crampguard:wait:"), m.clock)  # due + catch_up passes
    seen.idle_seconds = 0
    m.reminders.release()
    assert m.notifier.sent == []
    assert m.kinds() == ["held", "due", "missed"]


def test_a_return_after_catch_up_without_the_timer_is_missed_too(present) -> None:
    m, seen = present
    seen.idle_seconds = 600
    m.fire(T0)
    m.clock.move_to(T0 + timedelta(minutes=40))
    seen.idle_seconds = 0
    m.reminders.release()
    assert m.notifier.sent == [] and m.kinds()[-1] == "missed"


def test_a_break_due_while_away_is_recorded_and_not_shown(present) -> None:
    m, seen = present
    seen.idle_seconds = 400
    due = datetime(2026, 11, 24, 9, 50, tzinfo=ZONE)
    m.clock.move_to(due)
    m.fire(due, "sitting")
    seen.idle_seconds = 0
    m.reminders.release()
    assert m.notifier.sent == []
    (held,) = m.events("held")
    assert held.detail == {"reason": "away (away for 6m40s)"}


def test_do_not_disturb_holds_and_releases_and_critical_comes_through(present) -> None:
    m, seen = present
    seen.dnd = "dunst paused"
    m.fire(T0)
    m.fire(T0, "urgent")
    assert [n.title for n in m.notifier.sent] == ["Urgent"]
    seen.dnd = None
    m.clock.move_to(T0 + timedelta(minutes=5))
    m.reminders.release()
    assert [n.title for n in m.notifier.sent] == ["Urgent", "Warm foot soak"]


def test_while_presence_is_unknown_every_reminder_waits_even_critical(present) -> None:
    m, seen = present
    seen.idle_seconds = 600
    seen.unknown = "org.gnome.Mutter.IdleMonitor went away"
    due = datetime(2026, 11, 24, 9, 50, tzinfo=ZONE)
    m.clock.move_to(due)
    m.fire(due, "sitting")  # a break that skips while away: not skipped, we cannot tell
    m.fire(due, "urgent")
    assert m.notifier.sent == []
    assert {e.detail["reason"] for e in m.events("held")} == {f"presence unknown: {seen.unknown}"}
    seen.unknown, seen.idle_seconds = None, 0
    m.reminders.release()
    assert sorted(n.title for n in m.notifier.sent) == ["Urgent", "Warm foot soak"]


def test_a_waiting_reminder_survives_a_restart(present) -> None:
    m, seen = present
    seen.locked = True
    m.fire(T0)
    m.ledger.close()
    again = build(m.path, m.clock, m.routines, presence=seen)
    again.reminders.resume_planned()
    assert again.notifier.sent == []
    again.fire(T0)  # the engine's catch-up finds it: still at most once
    seen.locked = False
    again.reminders.release()
    assert len(again.notifier.sent) == 1
    again.ledger.close()


def test_a_snooze_that_returns_during_do_not_disturb_waits_for_its_end(present) -> None:
    m, seen = present
    m.fire(T0)
    m.reminders.snooze("foot-soak")
    seen.dnd = "fullscreen window"
    m.timers.run(m.timers.key("crampguard:snooze:"), m.clock)
    assert len(m.notifier.sent) == 1
    seen.dnd = None
    m.reminders.release()
    assert len(m.notifier.sent) == 2


# --- repeat until answered ---------------------------------------------------------------------

def repeating() -> Routine:
    return Routine.model_validate({
        "schema_version": 1, "id": "foot-soak", "title": "Warm foot soak",
        "message": "Soak your feet.", "schedule": {"at": "21:45"},
        "notify": {"repeat": {"every": "10m", "times": 2}}})


def test_a_repeat_replaces_the_notice_until_answered(tmp_path: Path) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        m = build(tmp_path / "j.sqlite3", traveller, {"foot-soak": repeating()})
        m.fire(T0)
        m.timers.run(m.timers.key("crampguard:repeat:"), m.clock)
        assert [n.replaces_id for n in m.notifier.sent] == [0, 1]
        m.reminders.action(2, "done")  # the repeated notice's button
        assert not any(k.startswith("crampguard:repeat:") for k in m.timers.timers)
        assert m.kinds() == ["due", "delivered", "repeated", "done"]
        m.ledger.close()


def test_repeats_stop_after_their_number_and_a_pause_holds_one(tmp_path: Path) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        m = build(tmp_path / "j.sqlite3", traveller, {"foot-soak": repeating()})
        m.fire(T0)
        m.reminders.pause(T0 + timedelta(minutes=15))
        m.timers.run(m.timers.key("crampguard:repeat:"), m.clock)  # 10 min: paused
        m.timers.run(m.timers.key("crampguard:repeat:"), m.clock)  # 20 min: shown
        assert not any(k.startswith("crampguard:repeat:") for k in m.timers.timers)
        assert len(m.notifier.sent) == 2
        assert m.kinds() == ["due", "delivered", "held", "repeated"]
        m.ledger.close()



# --- follow-ups and the morning check-in (issue 10) ----------------------------------------------

def follower(routine_id: str, after: str, at: str | None = None, **extra: Any) -> Routine:
    schedule: dict[str, Any] = {"after": after}
    if at:
        schedule["at"] = at
    return Routine.model_validate({"schema_version": 1, "id": routine_id, "title": routine_id,
                                   "message": "m", "schedule": schedule, **extra})


@pytest.fixture
def day(tmp_path: Path) -> Iterator[tuple[Machine, Any]]:
    from scheduler.daemon.followups import FollowUps

    routines = {"foot-soak": routine(),
                "calf-stretch": follower("calf-stretch", "foot-soak done + 20m", "22:30"),
                "water": follower("water", "workout + 1h"),
                "warm-up": Routine.model_validate({
                    "schema_version": 1, "id": "warm-up", "title": "Warm up", "message": "m",
                    "schedule": {"at": "17:45"}, "marks": "workout"})}
    with time_machine.travel(T0, tick=False) as traveller:
        m = build(tmp_path / "j.sqlite3", traveller, routines)
        follow = FollowUps(m.reminders.machine, m.timers,
                           lambda: [r for r in routines.values() if r])
        m.reminders.on_done = follow.after_done
        yield m, follow
        m.ledger.close()


def test_a_done_plans_its_follow_up_which_replaces_the_evenings_clock_firing(day) -> None:
    m, follow = day
    stretch_clock = datetime(2026, 11, 23, 22, 30, tzinfo=ZONE)
    m.timers.ahead["calf-stretch"] = [stretch_clock, stretch_clock + timedelta(days=1)]
    m.fire(T0)
    m.reminders.done("foot-soak")
    key = m.timers.key("crampguard:follow:")
    assert follow.pending() == {"calf-stretch": T0 + timedelta(minutes=20)}
    assert m.reminders.get("calf-stretch", stretch_clock).state == "skipped"  # type: ignore
    assert m.timers.ahead["calf-stretch"] == [stretch_clock + timedelta(days=1)]
    m.timers.run(key, m.clock)
    assert [n.title for n in m.notifier.sent] == ["Warm foot soak", "calf-stretch"]


def test_a_follow_up_survives_a_restart_and_honours_a_pause(day) -> None:
    from scheduler.daemon.followups import FollowUps

    m, follow = day
    assert follow.after_event("workout", T0, clock.now()) == ["water"]
    m.reminders.pause(T0 + timedelta(hours=2))
    restarted = m.restart()
    again = FollowUps(restarted.reminders.machine, restarted.timers,
                      lambda: [r for r in m.routines.values() if r])
    again.restore(clock.now())
    assert again.pending() == {"water": T0 + timedelta(hours=1)}
    restarted.timers.run(restarted.timers.key("crampguard:follow:"), m.clock)
    assert restarted.notifier.sent == []
    assert restarted.reminders.get("water", T0 + timedelta(hours=1)).state == "held"  # type: ignore


def test_a_done_on_a_routine_that_marks_a_workout_plans_the_waters(day) -> None:
    m, follow = day
    warm = datetime(2026, 11, 23, 17, 45, tzinfo=ZONE)
    m.clock.move_to(warm)
    m.fire(warm, "warm-up")
    m.reminders.done("warm-up")
    assert follow.pending() == {"water": warm + timedelta(hours=1)}


def test_the_same_event_twice_plans_one_follow_up(day) -> None:
    m, follow = day
    assert follow.after_event("workout", T0, clock.now()) == ["water"]
    assert follow.after_event("workout", T0, clock.now()) == []


def test_a_check_in_button_records_the_night_just_gone(tmp_path: Path) -> None:
    checkin = Routine.model_validate({
        "schema_version": 1, "id": "morning-checkin", "title": "Any leg cramps last night?",
        "message": "m", "schedule": {"at": "07:15"},
        "notify": {"actions": ["cramps none", "cramps one", "cramps several"]}})
    morning = datetime(2026, 11, 24, 7, 15, tzinfo=ZONE)
    with time_machine.travel(morning, tick=False) as traveller:
        m = build(tmp_path / "j.sqlite3", traveller, {"morning-checkin": checkin})
        m.fire(morning, "morning-checkin")
        m.clock.move_to(morning + timedelta(hours=3))  # answered late: still last night
        m.reminders.action(1, "cramps:one")
        (cramp,) = m.events("cramp")
        assert cramp.detail["night"] == "2026-11-23" and cramp.detail["count"] == 1
        assert m.kinds("morning-checkin") == ["due", "delivered", "done"]
        m.ledger.close()


def test_a_missed_check_in_is_asked_again_the_next_morning_for_its_own_night(
        tmp_path: Path) -> None:
    checkin = Routine.model_validate({
        "schema_version": 1, "id": "morning-checkin", "title": "Any leg cramps last night?",
        "message": "m", "schedule": {"at": "07:15", "catch_up": "4h"},
        "notify": {"actions": ["cramps none", "cramps one", "cramps several"]}})
    monday = datetime(2026, 11, 23, 7, 15, tzinfo=ZONE)
    with time_machine.travel(monday + timedelta(hours=5), tick=False) as traveller:
        m = build(tmp_path / "j.sqlite3", traveller, {"morning-checkin": checkin})
        m.fire(monday, "morning-checkin")  # 5 h late: missed
        assert m.notifier.sent == []
        m.clock.move_to(monday + timedelta(days=1))
        m.fire(monday + timedelta(days=1), "morning-checkin")
        assert len(m.notifier.sent) == 2  # today's, and Monday's asked again
        m.reminders.action(2, "cramps:none")  # the button on Monday's
        (quiet,) = m.events("no_cramp")
        assert quiet.detail["night"] == "2026-11-22"
        m.clock.move_to(monday + timedelta(days=2))
        m.fire(monday + timedelta(days=2), "morning-checkin")
        assert len(m.notifier.sent) == 3, "answered, and never more than one night back"
        m.ledger.close()


def test_the_same_press_heard_twice_answers_once(machine: Machine) -> None:
    machine.fire(T0)
    machine.reminders.action(1, "snooze:10m")
    machine.reminders.action(1, "snooze:10m")  # a broadcast heard on a second connection
    assert machine.kinds() == ["due", "delivered", "snoozed"]
    assert machine.notifier.withdrawn == [1]
    machine.reminders.action(1, "done")  # another button on it still counts
    assert machine.kinds() == ["due", "delivered", "snoozed", "done"]


# --- the notification server gone ------------------------------------------------------------

SERVER_GONE = "the notification server (org.freedesktop.Notifications) is gone"


def test_a_reminder_due_while_the_server_is_gone_waits_and_is_shown_on_its_return(
        machine: Machine) -> None:
    machine.notifier.away = SERVER_GONE
    machine.fire(T0)
    assert machine.reminders.get("foot-soak", T0).state == "waiting"  # type: ignore[union-attr]
    machine.clock.move_to(T0 + timedelta(minutes=5))
    machine.reminders.release()  # something else changed: still gone, nothing new recorded
    (held,) = machine.events("held")
    assert held.detail == {"reason": SERVER_GONE, "waiting": True}
    machine.notifier.away = None
    machine.reminders.machine.server_back(clock.now())  # the server has its name again
    machine.reminders.release()
    assert len(machine.notifier.sent) == 1
    assert machine.kinds() == ["held", "due", "delivered"]


def test_a_reminder_the_server_stayed_away_for_past_catch_up_failed(machine: Machine) -> None:
    machine.notifier.away = SERVER_GONE
    machine.fire(T0)
    machine.timers.run(machine.timers.key("crampguard:wait:"), machine.clock)
    machine.notifier.away = None
    machine.reminders.release()
    assert machine.notifier.sent == []
    assert machine.kinds() == ["held", "due", "failed"]
    (failed,) = machine.events("failed")
    assert failed.detail == {"reason": SERVER_GONE}


# --- found by the model (tests/test_model.py) --------------------------------------------------

def test_skip_passes_over_a_firing_already_skipped_when_it_is_planned_again(
        machine: Machine) -> None:
    ahead = [T0 + timedelta(days=1), T0 + timedelta(days=2), T0 + timedelta(days=3)]
    machine.timers.ahead["foot-soak"] = list(ahead)
    machine.reminders.skip("foot-soak")
    machine.timers.ahead["foot-soak"] = list(ahead)  # planned from now again (a restart)
    reply = machine.reminders.skip("foot-soak")
    assert reply["skipped"] == ahead[1].astimezone(ZONE).isoformat()
    assert machine.kinds() == ["skipped", "skipped"]
    assert [e.due for e in machine.events("skipped")] == [ahead[1], ahead[0]]


def test_a_snooze_still_waiting_at_the_end_of_its_catch_up_is_missed_not_waited_again(
        present) -> None:
    m, seen = present
    m.fire(T0)
    m.reminders.snooze("foot-soak")
    seen.idle_seconds = 600
    m.timers.run(m.timers.key("crampguard:snooze:"), m.clock)
    m.timers.run(m.timers.key("crampguard:wait:"), m.clock)  # its catch_up ends, still away
    assert not any(k.startswith("crampguard:wait:") for k in m.timers.timers)
    assert m.kinds()[-1] == "missed" and len(m.notifier.sent) == 1


def test_done_after_the_skip_button_keeps_the_one_final_answer(machine: Machine) -> None:
    machine.fire(T0)
    machine.reminders.action(1, "skip")
    with pytest.raises(CrampguardError, match="was skipped"):
        machine.reminders.done("foot-soak")
    assert machine.kinds() == ["due", "delivered", "skipped"]


def test_a_snooze_after_the_skip_button_is_refused_and_a_second_skip_is_not_counted(
        machine: Machine) -> None:
    machine.fire(T0)
    machine.reminders.action(1, "skip")
    with pytest.raises(CrampguardError, match="already skipped"):
        machine.reminders.snooze("foot-soak")
    machine.reminders.action(1, "skip")
    assert machine.kinds() == ["due", "delivered", "skipped"]


# --- the notification server gone, met by the other paths -------------------------------------

def test_a_trigger_while_the_server_is_gone_fails_now_and_is_never_due(
        machine: Machine) -> None:
    machine.notifier.away = SERVER_GONE
    with pytest.raises(CrampguardError, match="no notifier could show"):
        machine.reminders.trigger("foot-soak")
    assert not any(k.startswith("crampguard:wait:") for k in machine.timers.timers)
    assert machine.kinds() == ["failed"]


def test_a_repeat_while_the_server_is_gone_is_held_and_the_next_still_comes(
        tmp_path: Path) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        m = build(tmp_path / "j.sqlite3", traveller, {"foot-soak": repeating()})
        m.fire(T0)
        m.notifier.away = SERVER_GONE
        m.timers.run(m.timers.key("crampguard:repeat:"), m.clock)
        m.notifier.away = None
        m.reminders.machine.server_back(clock.now())
        m.timers.run(m.timers.key("crampguard:repeat:"), m.clock)  # the second repeat
        assert m.kinds() == ["due", "delivered", "held", "repeated"]
        assert m.events("held")[0].detail == {"reason": SERVER_GONE, "repeat": 1}
        m.ledger.close()


def test_a_snooze_return_while_the_server_is_gone_is_held_once_and_not_shown_later(
        machine: Machine) -> None:
    machine.fire(T0)
    machine.reminders.snooze("foot-soak")
    machine.notifier.away = SERVER_GONE
    machine.timers.run(machine.timers.key("crampguard:snooze:"), machine.clock)
    machine.notifier.away = None
    machine.reminders.machine.server_back(clock.now())  # "not shown again" holds
    assert len(machine.notifier.sent) == 1
    assert machine.kinds() == ["due", "delivered", "snoozed", "held"]


def test_a_reminder_waiting_for_the_server_tried_again_is_recorded_once(
        machine: Machine) -> None:
    machine.notifier.away = SERVER_GONE
    machine.fire(T0)
    machine.clock.move_to(T0 + timedelta(minutes=5))
    machine.reminders.machine.server_back(clock.now())  # a flap: gone again at once
    assert machine.kinds() == ["held"]
    assert machine.reminders.get("foot-soak", T0).state == "waiting"
    machine.timers.run(machine.timers.key("crampguard:wait:"), machine.clock)
    assert machine.kinds() == ["held", "due", "failed"]


def test_a_trigger_while_the_server_is_gone_is_never_counted_due(machine: Machine) -> None:
    machine.notifier.away = SERVER_GONE
    with pytest.raises(CrampguardError, match="no notifier could show"):
        machine.reminders.trigger("foot-soak")
    machine.notifier.away = None
    machine.reminders.machine.server_back(clock.now())
    assert machine.events("due") == []


# --- answers from the phone's calendar (a to-do completed there) ------------------------------

def test_a_todo_completed_on_the_phone_before_the_desktop_shows_it_is_not_shown_again(
        machine: Machine) -> None:
    """The daemon was down when the phone rang; the user completed the to-do there. The
    restart's catch-up finds the reminder answered and never shows it."""
    answers = machine.reminders.answers
    completed = T0 + timedelta(minutes=3)
    machine.clock.move_to(T0 + timedelta(minutes=10))
    assert answers.completed_elsewhere("foot-soak", T0, clock.now(), source="calendar",
                                       completed=completed)
    machine.fire(T0)  # the timer, or the catch-up after a restart
    restarted = machine.restart()
    restarted.fire(T0)
    assert machine.notifier.sent == [] and restarted.notifier.sent == []
    assert machine.kinds() == ["due", "delivered", "done"]
    (done,) = machine.events("done")
    assert done.detail == {"source": "calendar", "completed": completed.isoformat(),
                           "reason": "completed in the calendar"}
    (delivered,) = machine.events("delivered")
    assert delivered.backend == "calendar"
    restarted.ledger.close()


def test_a_phone_completion_after_the_desktops_done_is_not_counted_twice(
        machine: Machine, caplog: pytest.LogCaptureFixture) -> None:
    machine.fire(T0)
    machine.clock.move_to(T0 + timedelta(minutes=2))
    machine.reminders.done("foot-soak")
    caplog.set_level("INFO", logger="crampguard")
    assert not machine.reminders.answers.completed_elsewhere(
        "foot-soak", T0, clock.now(), source="calendar")
    assert machine.kinds() == ["due", "delivered", "done"]
    assert "completed in the calendar: already done, not counted again" in caplog.text


def test_a_phone_completion_answers_the_notice_on_screen_and_ends_its_repeats(
        tmp_path: Path) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        repeating = Routine.model_validate({
            "schema_version": 1, "id": "foot-soak", "title": "Warm foot soak",
            "message": "Soak your feet.", "schedule": {"at": "21:45"},
            "notify": {"repeat": {"every": "10m", "times": 2}}})
        m = build(tmp_path / "journal.sqlite3", traveller, {"foot-soak": repeating})
        m.fire(T0)
        assert any(k.startswith("crampguard:repeat:") for k in m.timers.timers)
        m.clock.move_to(T0 + timedelta(minutes=4))
        assert m.reminders.answers.completed_elsewhere("foot-soak", T0, clock.now(),
                                                       source="calendar")
        assert not any(k.startswith("crampguard:repeat:") for k in m.timers.timers)
        assert m.notifier.withdrawn == [1]
        assert m.kinds() == ["due", "delivered", "done"]
        m.ledger.close()


def test_a_phone_completion_of_a_firing_skipped_ahead_is_not_counted(machine: Machine) -> None:
    machine.timers.ahead["foot-soak"] = [T0 + timedelta(days=1), T0 + timedelta(days=2)]
    machine.reminders.skip("foot-soak")
    assert not machine.reminders.answers.completed_elsewhere(
        "foot-soak", T0 + timedelta(days=1), clock.now(), source="calendar")
    assert machine.kinds() == ["skipped"]


def test_a_short_pause_begun_after_the_clock_stepped_back_does_not_end_the_longer_one(
        machine: Machine) -> None:
    """Pause 56 minutes; the clock steps back a minute; pause one minute: the short
    pause's end (where the long one began) leaves the long one running to its end."""
    machine.reminders.pause(T0 + timedelta(minutes=56))
    machine.clock.move_to(T0 - timedelta(minutes=1))
    machine.reminders.pause(T0)
    machine.timers.run(PAUSE_TIMER, machine.clock)
    assert machine.reminders.paused_until == T0 + timedelta(minutes=56)
    machine.fire(T0 + timedelta(minutes=5))
    assert machine.notifier.sent == []
    machine.timers.run(PAUSE_TIMER, machine.clock)
    assert machine.reminders.paused_until is None
