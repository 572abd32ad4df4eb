"""The reminder state machine in process: a fake engine (timers the test runs by hand), a
recording notifier, the real journal, and a clock moved by time-machine. Fast, so each
rule and the combinations that matter are pinned without a real daemon."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from scheduler.config.routine import Routine
from scheduler.daemon.reminders import PAUSE_TIMER, SNOOZE_TIMER, Reminders, catch_up
from scheduler.errors import CrampguardError
from scheduler.journal.store import Journal
from scheduler.notify import Delivery, Notice

ZONE = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 23, 20, 45, tzinfo=UTC)  # 21:45 in Berlin


@dataclass
class FakeTimers:
    """The engine as the state machine sees it: timers by key, and each routine's next
    firings (a list the test sets) for `skip`."""

    timers: dict[str, tuple[datetime, Callable[..., None], tuple[Any, ...]]] = \
        field(default_factory=dict)
    ahead: dict[str, list[datetime]] = field(default_factory=dict)

    def once(self, key: str, when: datetime, fn: Callable[..., None], *args: Any,
             grace: timedelta | None) -> None:
        self.timers[key] = (when, fn, args)

    def cancel(self, key: str) -> None:
        self.timers.pop(key, None)

    def skip_next(self, routine_id: str) -> tuple[datetime, datetime | None] | None:
        upcoming = self.ahead.get(routine_id, [])
        if not upcoming:
            return None
        dropped = upcoming.pop(0)
        return dropped, upcoming[0] if upcoming else None

    def run(self, key: str, traveller: Any) -> None:
        """Move the clock to the timer and run it, as the engine would."""
        when, fn, args = self.timers.pop(key)
        traveller.move_to(when)
        fn(*args)


@dataclass
class RecordingNotifier:
    sent: list[Notice] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)

    def send(self, notice: Notice) -> Delivery:
        self.sent.append(notice)
        return Delivery("fake", id=len(self.sent), actions_shown=True)

    def withdraw(self, backend: str, notification_id: int) -> None:
        self.withdrawn.append(notification_id)


def routine(routine_id: str = "foot-soak", **schedule: Any) -> Routine:
    return Routine.model_validate({
        "schema_version": 1, "id": routine_id, "title": "Warm foot soak",
        "message": "Soak your feet.", "schedule": {"at": "21:45", **schedule}})


@dataclass
class Machine:
    reminders: Reminders
    timers: FakeTimers
    notifier: RecordingNotifier
    journal: Journal
    clock: Any
    routines: dict[str, Routine | None]

    def kinds(self, routine_id: str = "foot-soak") -> list[str]:
        return [e.kind for e in reversed(self.journal.events(routine=routine_id))]

    def restart(self) -> Machine:
        """A new state machine on the same journal, as after a restart of the daemon."""
        return build(self.journal, self.clock, self.routines)


def build(journal: Journal, traveller: Any, routines: dict[str, Routine | None]) -> Machine:
    timers, notifier = FakeTimers(), RecordingNotifier()
    reminders = Reminders(journal=journal, timers=timers, routine=routines.get,
                          send=notifier.send, withdraw=notifier.withdraw, zone=lambda: ZONE)
    return Machine(reminders, timers, notifier, journal, traveller, routines)


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Machine]:
    with time_machine.travel(T0, tick=False) as traveller, \
            Journal.open(tmp_path / "journal.sqlite3") as journal:
        yield build(journal, traveller, {"foot-soak": routine()})


def test_a_due_reminder_is_delivered_with_its_buttons(machine: Machine) -> None:
    machine.reminders.fire("foot-soak", T0)
    (notice,) = machine.notifier.sent
    assert notice.title == "Warm foot soak"
    assert [key for key, _ in notice.actions] == ["done", "snooze:10m"]
    assert machine.kinds() == ["due", "delivered"]


def test_catch_up_delivers_the_latest_within_its_window_and_misses_the_rest(
        machine: Machine) -> None:
    machine.clock.move_to(T0 + timedelta(minutes=20))
    machine.reminders.settle("foot-soak", [T0 - timedelta(days=1), T0], 30 * 60)
    assert len(machine.notifier.sent) == 1
    assert machine.kinds() == ["due", "missed", "due", "delivered"]


def test_catch_up_past_its_window_delivers_nothing(machine: Machine) -> None:
    machine.clock.move_to(T0 + timedelta(minutes=31))
    machine.reminders.settle("foot-soak", [T0], 30 * 60)
    assert machine.notifier.sent == []
    (missed,) = machine.journal.events(kinds=["missed"])
    assert missed.detail["reason"] == "1860s late, catch_up is 1800s"


def test_the_catch_up_rule_alone() -> None:
    late, latest = catch_up([T0, T0 + timedelta(hours=1)], T0 + timedelta(hours=1, seconds=5),
                            10)
    assert late == [(T0, "superseded by a later one")]
    assert latest == T0 + timedelta(hours=1)


def test_a_reminder_due_during_a_pause_is_skipped_and_the_pause_ends_itself(
        machine: Machine) -> None:
    machine.reminders.pause(T0 + timedelta(hours=1))
    assert PAUSE_TIMER in machine.timers.timers
    machine.reminders.fire("foot-soak", T0)
    assert machine.notifier.sent == []
    (skipped,) = machine.journal.events(kinds=["skipped"])
    assert skipped.detail == {"reason": "paused"}
    machine.timers.run(PAUSE_TIMER, machine.clock)
    assert machine.reminders.paused_until is None
    assert [e.detail["reason"] for e in machine.journal.events(kinds=["resumed"])] == [
        "the pause ended"]


def test_a_pause_must_end_in_the_future(machine: Machine) -> None:
    with pytest.raises(CrampguardError, match="in the future"):
        machine.reminders.pause(T0 - timedelta(minutes=1))


def test_a_snooze_delivers_the_same_reminder_again(machine: Machine) -> None:
    machine.reminders.fire("foot-soak", T0)
    reply = machine.reminders.snooze("foot-soak")
    assert reply["until"] == (T0 + timedelta(minutes=10)).astimezone(ZONE).isoformat()
    machine.timers.run(SNOOZE_TIMER + "foot-soak", machine.clock)
    assert len(machine.notifier.sent) == 2
    again = machine.journal.events(kinds=["delivered"])[0]
    assert again.due == T0 and again.detail == {"snoozed": True}


def test_a_snooze_that_returns_during_a_pause_is_skipped(machine: Machine) -> None:
    machine.reminders.fire("foot-soak", T0)
    machine.reminders.snooze("foot-soak")
    machine.reminders.pause(T0 + timedelta(hours=1))
    machine.timers.run(SNOOZE_TIMER + "foot-soak", machine.clock)
    assert len(machine.notifier.sent) == 1
    (skipped,) = machine.journal.events(kinds=["skipped"])
    assert skipped.due == T0 and skipped.detail == {"reason": "paused", "snoozed": True}


def test_skip_drops_the_next_firing_and_says_which(machine: Machine) -> None:
    tomorrow = T0 + timedelta(days=1)
    machine.timers.ahead["foot-soak"] = [tomorrow, tomorrow + timedelta(days=1)]
    reply = machine.reminders.skip("foot-soak")
    assert reply["skipped"] == tomorrow.astimezone(ZONE).isoformat()
    assert reply["next"] == (tomorrow + timedelta(days=1)).astimezone(ZONE).isoformat()
    (skipped,) = machine.journal.events(kinds=["skipped"])
    assert skipped.due == tomorrow and skipped.detail == {"reason": "skip"}


def test_skip_with_nothing_ahead_is_an_error(machine: Machine) -> None:
    with pytest.raises(CrampguardError, match="no firing ahead"):
        machine.reminders.skip("foot-soak")


def test_done_credits_the_last_delivered_reminder_once(machine: Machine) -> None:
    with pytest.raises(CrampguardError, match="has not reminded you yet"):
        machine.reminders.done("foot-soak")
    machine.reminders.fire("foot-soak", T0)
    assert machine.reminders.done("foot-soak")["already"] is False
    assert machine.reminders.done("foot-soak")["already"] is True
    (done,) = machine.journal.events(kinds=["done"])
    assert done.due == T0


def test_a_button_answers_its_notice_and_takes_it_down(machine: Machine) -> None:
    machine.reminders.fire("foot-soak", T0)
    machine.reminders.action(1, "done")
    assert machine.notifier.withdrawn == [1]
    assert machine.kinds() == ["due", "delivered", "done"]
    machine.reminders.action(1, "done")  # already answered: nothing more
    assert machine.kinds() == ["due", "delivered", "done"]


def test_a_button_on_someone_elses_notice_is_ignored(machine: Machine) -> None:
    machine.reminders.action(99, "done")
    assert machine.journal.events() == []


def test_a_pause_survives_a_restart_and_still_ends_itself(machine: Machine) -> None:
    machine.reminders.pause(T0 + timedelta(hours=1))
    restarted = machine.restart()
    assert restarted.reminders.paused_until == T0 + timedelta(hours=1)
    restarted.reminders.fire("foot-soak", T0 + timedelta(minutes=5))
    assert restarted.notifier.sent == []
    assert PAUSE_TIMER in restarted.timers.timers


def test_a_pause_that_ended_while_stopped_is_over_at_restart(machine: Machine) -> None:
    machine.reminders.pause(T0 + timedelta(hours=1))
    machine.clock.move_to(T0 + timedelta(hours=2))
    restarted = machine.restart()
    assert restarted.reminders.paused_until is None
    restarted.reminders.fire("foot-soak", T0 + timedelta(hours=2))
    assert len(restarted.notifier.sent) == 1


def test_a_disabled_routine_fires_nothing(tmp_path: Path) -> None:
    with time_machine.travel(T0, tick=False) as traveller, \
            Journal.open(tmp_path / "journal.sqlite3") as journal:
        m = build(journal, traveller, {})
        m.reminders.fire("foot-soak", T0)
        assert m.notifier.sent == [] and journal.events() == []
        with pytest.raises(CrampguardError, match="no enabled routine"):
            m.reminders.trigger("foot-soak")
