"""A model of the reminder state machine, driven by Hypothesis through random days.

The real ``Reminders``, ``Answers``, ``Memory`` and ``FollowUps`` run over the real
``Ledger`` and the real SQLite journal in a temporary folder, and the routines' firings
come from the daemon's own ``RoutineTimers`` and ``Plans`` (timers.py, plans.py). Around
them: an engine of fake one-off timers by key (all ``RoutineTimers`` needs of the engine),
a recording notifier that the desktop's server can leave, a presence the test sets, read
through the daemon's own ``Tracker`` for the absences that restart an interval, and the
clock moved by time-machine in Europe/Berlin.

The rules are what the user and the world do: time passing (timers, the routines' own
among them, run in time order), the clock stepped forward or back, a suspend, pause and
resume, away, lock, do-not-disturb, a presence source that vanishes, Done / Snooze / Skip
as commands and each routine's buttons (signalled twice, as some servers do; the morning
check-in's are the cramp-night answers), `crampguard trigger`, restarts on the same
journal, an edited routine, a workout, and the disk filling and emptying. After every step
the invariants say what must always hold: at most one showing per reminder, nothing shown
when it must not be, one state per reminder, one final answer, manual showings never
counted as due, statistics that agree with the events, and, once the journal takes writes
again, every event in it.

It runs with a fixed seed in about a minute. ``DEEP_MODEL_TEST=1`` runs a deeper
search (many more and longer runs, still derandomized) before a release or after a change
to the daemon's state machine.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from scheduler import clock
from scheduler.config.routine import CRAMPS_KEY, Routine
from scheduler.config.settings import load_settings
from scheduler.daemon.answers import Answers
from scheduler.daemon.away import intervals_to_restart
from scheduler.daemon.followups import FollowUps
from scheduler.daemon.ledger import Ledger
from scheduler.daemon.memory import Memory
from scheduler.daemon.reach_flow import ReachFlow
from scheduler.daemon.reminders import REPEAT_TIMER, SNOOZE_TIMER, Reminders
from scheduler.daemon.service import RESTART_REACH, due_between
from scheduler.daemon.timers import RoutineTimers
from scheduler.errors import CrampguardError
from scheduler.journal import stats
from scheduler.journal.events import Reminder
from scheduler.journal.store import Journal
from scheduler.notify import Delivery, Notice, NotifierAway
from scheduler.planning.schedule import timetable_for
from scheduler.presence.state import Absence, Reading, Tracker
from scheduler.reach.base import Answer

ZONE = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 23, 8, 55, tzinfo=ZONE)
QUIET = (time(23, 0), time(7, 0))
SETTINGS = load_settings(Path("/nonexistent/config.toml"),
                         {"timezone": "Europe/Berlin", "quiet_hours": "23:00-07:00"}, {})
#: Idle long enough to be away for every routine here (away_resets is 5 minutes).
AWAY_IDLE = 600.0
#: Idle this long is away to the presence tracker (the shortest away_resets here).
AWAY_AFTER = 300.0
#: One step runs at most this many timers and firings: more is a loop that never ends.
STEP_LIMIT = 2000
DEEP = os.environ.get("DEEP_MODEL_TEST") == "1"
CHECKIN_ACTIONS = ["cramps none", "cramps one", "cramps several"]


def _routine(routine_id: str, title: str, schedule: dict[str, Any],
             notify: dict[str, Any] | None = None) -> Routine:
    return Routine.model_validate({
        "schema_version": 1, "id": routine_id, "title": title, "message": "m",
        "schedule": schedule,
        "notify": {"actions": ["done", "snooze 10m", "skip"], **(notify or {})}})


def keys_of(routine: Routine) -> list[str]:
    """The keys a server signals for the routine's buttons."""
    return [action.key for action in routine.notify.actions]


def routines(soak_at: str = "21:45") -> dict[str, Routine]:
    return {r.id: r for r in (
        _routine("foot-soak", "Foot soak", {"at": soak_at, "catch_up": "2h"}),
        _routine("sitting", "Sitting break", {"every": "50m", "between": "09:00-17:30",
                                               "when_away": "skip", "catch_up": "5m"}),
        _routine("calf", "Calf stretch", {"at": "21:00"},
                 {"repeat": {"every": "10m", "times": 2}}),
        _routine("water", "Water", {"after": "workout + 1h"}),
        _routine("urgent", "Urgent", {"at": "22:30"}, {"urgency": "critical"}),
        _routine("night", "Night", {"at": "23:30", "quiet_hours": "ignore"}),
        # routines/morning-checkin.toml, at a fixed time (no wake anchor here)
        _routine("checkin", "Any leg cramps last night?",
                 {"at": "07:15", "catch_up": "4h"}, {"actions": CHECKIN_ACTIONS}),
    )}


TITLES = {r.title: r.id for r in routines().values()}


# --- the world around the state machine ------------------------------------------------------

class FakeEngine:
    """Named one-off timers: all ``RoutineTimers`` needs of ``engine.Engine``. The model
    runs them in time order; those due at the same instant in APScheduler's order (by job
    id, the key and its arming's serial)."""

    def __init__(self) -> None:
        self.timers: dict[str, tuple[datetime, str, Callable[..., None], tuple[Any, ...]]] = {}
        self._serial = itertools.count()

    def once(self, key: str, when: datetime, fn: Callable[..., None], *args: Any) -> None:
        self.timers[key] = (when, f"{key}#{next(self._serial)}", fn, args)

    def cancel(self, key: str) -> None:
        self.timers.pop(key, None)

    def keys(self) -> list[str]:
        return list(self.timers)

    def earliest(self) -> tuple[datetime, str, str] | None:
        """The next timer to run: (when, job id, key)."""
        return min(((when, job, key) for key, (when, job, _, _) in self.timers.items()),
                   default=None)

    def take(self, key: str) -> tuple[Callable[..., None], tuple[Any, ...]]:
        """The timer, gone from the engine before it runs (``Engine._fire``)."""
        _, _, fn, args = self.timers.pop(key)
        return fn, args


@dataclass
class Showing:
    routine: str
    at: datetime
    id: int
    replaces: int


class Notifier:
    """Records what is shown; while ``away``, the desktop's server is gone. Checks at the
    very instant of showing that nothing forbids it (but a showing the user asked for
    with `crampguard trigger`, while ``manual``)."""

    def __init__(self, model: ReminderModel):
        self.model = model
        self.away = False
        self.manual = False
        self.shown: list[Showing] = []
        self.withdrawn: list[int] = []
        self._next_id = 0

    def send(self, notice: Notice) -> Delivery:
        if self.away:
            raise NotifierAway("the notification server left the bus")
        # the check-in asked again names its night after the title
        routine_id = TITLES[notice.title.split(" (asked again:")[0]]
        if not self.manual:
            self.model.check_may_show(routine_id)
        if notice.replaces_id:
            number = notice.replaces_id  # a server keeps the id of the notice it replaces
        else:
            self._next_id += 1
            number = self._next_id
        showing = Showing(routine_id, clock.now(), number, notice.replaces_id)
        self.shown.append(showing)
        self.model.just_shown = showing
        return Delivery("dbus", id=number, actions_shown=True)

    def withdraw(self, backend: str, notification_id: int) -> None:
        self.withdrawn.append(notification_id)


@dataclass
class Presence:
    idle_seconds: float | None = 0.0
    locked: bool = False
    dnd: str | None = None
    #: a source that answered has gone: nobody can tell whether the user is there
    unknown: str | None = None


class DiskJournal:
    """The real journal, whose writes fail as on a full disk while ``full``."""

    WRITES = frozenset({"record", "put_reminder", "set_state", "log_event", "log_night",
                        "checkpoint"})

    def __init__(self, journal: Journal, disk: Disk):
        self._journal, self._disk = journal, disk
        self.path = journal.path

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._journal, name)
        if name in self.WRITES and self._disk.full:
            def fail(*args: Any, **kw: Any) -> Any:
                raise CrampguardError(f"{self.path}: database or disk is full")
            return fail
        return found


class Disk:
    def __init__(self) -> None:
        self.full = False

    def open(self, path: Path) -> Any:
        if self.full:  # opening writes too (the schema, a probe)
            raise CrampguardError(f"{path}: database or disk is full")
        return DiskJournal(Journal.open(path), self)


@dataclass(frozen=True)
class Expected:
    kind: str
    routine: str | None
    at: datetime
    due: datetime | None


class Watched(Memory):
    """The real memory; the model notes each row and event it is asked to keep."""

    def __init__(self, model: ReminderModel, ledger: Ledger):
        super().__init__(ledger, lambda: ZONE)
        self.model = model

    def put(self, reminder: Reminder, now: datetime) -> None:
        self.model.rows_put(reminder)
        super().put(reminder, now)

    def event(self, kind: str, routine_id: str | None, *, at: datetime,
              due: datetime | None = None, backend: str | None = None,
              detail: dict[str, Any] | None = None) -> None:
        self.model.expected.append(Expected(kind, routine_id, at, due))
        self.model.step_events.append((kind, routine_id, due, dict(detail or {})))
        super().event(kind, routine_id, at=at, due=due, backend=backend, detail=detail)


# --- the model -------------------------------------------------------------------------------

class ReminderModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.path = Path(self.folder.name) / "journal.sqlite3"
        self.traveller = time_machine.travel(START, tick=False)
        self.clock = self.traveller.start()
        self.disk = Disk()
        self.presence = Presence()
        self.routines = routines()
        self.notifier = Notifier(self)
        #: the pauses as the user asked for them: (start, end)
        self.pauses: list[tuple[datetime, datetime]] = []
        #: every event the state machine asked to record, in order
        self.expected: list[Expected] = []
        self.step_events: list[tuple[str, str | None, datetime | None, dict[str, Any]]] = []
        #: every (routine, due) handed over as due, and each notice's reminder
        self.settled: set[tuple[str, datetime]] = set()
        self.notices: dict[int, tuple[str, datetime]] = {}
        #: per reminder: showings not in a notice's place (one, and one more per snooze)
        self.first_showings: Counter[tuple[str, datetime]] = Counter()
        self.presses: list[tuple[int, str]] = []
        self.just_shown: Showing | None = None
        #: (routine, instant) of every `crampguard trigger`: a manual reminder's key
        self.triggered: set[tuple[str, datetime]] = set()
        #: reminders completed in the phone's calendar before the desktop showed them
        self.answered_on_phone: set[tuple[str, datetime]] = set()
        self._build()

    def teardown(self) -> None:
        try:
            self.ledger.close()
        finally:
            self.traveller.stop()
            self.folder.cleanup()

    # --- building, as the daemon's run() does ------------------------------------------------

    def _build(self) -> None:
        now = clock.now()
        self.ledger = Ledger(self.path, self.disk.open, on_trouble=lambda problem: None,
                             on_recovered=lambda problem: None)
        try:
            self.ledger.attach(self.disk.open(self.path))
        except CrampguardError as exc:
            self.ledger.trouble = str(exc)
        self.memory = Watched(self, self.ledger)
        self.memory.load_pauses(now)
        last_alive = self.memory.last_alive()
        self.engine = FakeEngine()
        self.timers = RoutineTimers(self.engine, self._due, clock.now)
        for routine_id, routine in self.routines.items():
            self.timers.plan(routine_id, timetable_for(routine, SETTINGS))
        self.reminders = Reminders(
            memory=self.memory, timers=self.timers, routine=self._enabled,
            enabled=lambda: list(self.routines.values()), send=self._send,
            presence=lambda: self.presence)
        self.answers = Answers(self.reminders, withdraw=self.notifier.withdraw)
        self.followups = FollowUps(self.reminders, self.timers,
                                   lambda: list(self.routines.values()))
        self.answers.on_done = self.followups.after_done
        self.reach = ReachFlow(self.reminders, self.answers)  # answers heard on a channel
        # a new process: presence is tracked afresh (away.Away), its first reading now
        self.tracker = Tracker(AWAY_AFTER)
        self.handled_absence: Absence | None = None
        self._observe(now)
        # service._started, in its order
        plans = self.timers.plans.ids()
        if last_alive is not None:  # service._catch_up_after_restart
            since = max(last_alive, now - RESTART_REACH)
            for routine_id in plans:
                table = self.timers.timetable(routine_id)
                assert table is not None
                self._settle(routine_id, due_between(table, since, now), now,
                             why="catch-up", why_missed=" (crampguard was not running)")
        self.reminders.resume_planned(now)
        self.followups.restore(now)
        for routine_id in plans:
            self.timers.skip_settled(routine_id, self.memory.get)  # service._skip_settled

    def _enabled(self, routine_id: str) -> Routine | None:
        return self.routines.get(routine_id)

    def _send(self, notice: Notice) -> Delivery:
        return self.notifier.send(notice)

    def _due(self, routine_id: str, run_times: list[datetime]) -> None:
        """A routine's own timer fired (service._due)."""
        self._settle(routine_id, run_times, clock.now())

    def _settle(self, routine_id: str, run_times: list[datetime], now: datetime,
                **kw: Any) -> None:
        self.settled.update((routine_id, due) for due in run_times)
        self.reminders.settle(routine_id, run_times, now, **kw)

    # --- what the model sees the machine do ----------------------------------------------

    def rows_put(self, row: Reminder) -> None:
        """The row written right after a notice was shown names the reminder it shows."""
        showing, self.just_shown = self.just_shown, None
        if showing is None or row.notice != f"dbus/{showing.id}":
            return
        key = (row.routine, row.due)
        assert key not in self.answered_on_phone, \
            f"{key} shown on the desktop after it was completed on the phone"
        self.notices[showing.id] = key
        if showing.replaces:
            return  # a repeat, in its notice's place
        self.first_showings[key] += 1
        snoozes = sum(1 for e in self.expected if e.kind == "snoozed"
                      and (e.routine, e.due) == key)
        assert self.first_showings[key] <= 1 + snoozes, (
            f"{key} shown {self.first_showings[key]} times, snoozed {snoozes} times")

    def check_may_show(self, routine_id: str) -> None:
        now, routine = clock.now(), self.routines[routine_id]
        assert not any(start <= now < end for start, end in self.pauses), \
            f"{routine_id} shown inside a pause at {now}"
        local = now.astimezone(ZONE).time()
        if routine.schedule.quiet_hours == "respect":
            assert not (local >= QUIET[0] or local < QUIET[1]), \
                f"{routine_id} shown in quiet hours at {local}"
        seen = self.presence
        assert seen.unknown is None, f"{routine_id} shown while presence is unknown"
        assert not seen.locked, f"{routine_id} shown while the screen is locked"
        assert not (seen.idle_seconds or 0) >= AWAY_IDLE, f"{routine_id} shown while away"
        if routine.notify.urgency != "critical":
            assert seen.dnd is None, f"{routine_id} shown in do-not-disturb"

    # --- time ------------------------------------------------------------------------------

    def _run_until(self, target: datetime) -> None:
        """Run every timer and firing due by ``target`` in time order, as the engine does;
        the clock at each one's instant, or now when it is already past."""
        for _ in range(STEP_LIMIT):
            found = self.engine.earliest()
            if found is None or found[0] > target:
                break
            when, _, key = found
            now = max(when, clock.now())
            self.clock.move_to(now)
            self.memory.mark_alive(now)  # each wake of the loop notes it
            fn, args = self.engine.take(key)
            fn(*args)
        else:
            raise AssertionError("the timers never settle: one re-arms itself at once")
        self.clock.move_to(max(target, clock.now()))
        self.memory.mark_alive(clock.now())

    @rule(minutes=st.integers(1, 90))
    def time_passes(self, minutes: int) -> None:
        self._run_until(clock.now() + timedelta(minutes=minutes))

    @rule(minutes=st.integers(1, 15))
    def a_little_time_passes(self, minutes: int) -> None:
        self._run_until(clock.now() + timedelta(minutes=minutes))

    @rule(hours=st.integers(3, 40))
    def suspend(self, hours: int) -> None:
        """The laptop sleeps: nothing runs until it wakes, then everything due at once."""
        woke = clock.now() + timedelta(hours=hours)
        self.clock.move_to(woke)
        self._run_until(woke)

    @rule(minutes=st.integers(1, 600))
    def clock_steps_back(self, minutes: int) -> None:
        now = clock.now() - timedelta(minutes=minutes)
        self.clock.move_to(now)
        self.timers.replan(now)  # service._after_jump

    # --- the user --------------------------------------------------------------------------

    @rule(minutes=st.integers(1, 180))
    def pause(self, minutes: int) -> None:
        now = clock.now()
        until = now + timedelta(minutes=minutes)
        self.pauses = [p for p in self.pauses if not p[0] <= now < p[1]] + [(now, until)]
        self.reminders.pause(until, now)

    @rule()
    def resume(self) -> None:
        now = clock.now()
        self.pauses = [(s, now) if s <= now < e else (s, e) for s, e in self.pauses]
        self.reminders.resume(now)
        self.reminders.release(now)

    @rule(routine_id=st.sampled_from(sorted(routines())))
    def done(self, routine_id: str) -> None:
        try:
            self.answers.done(routine_id, clock.now())
        except CrampguardError:
            pass

    @rule(routine_id=st.sampled_from(sorted(routines())), which=st.integers(-2, 2))
    def todo_completed_on_the_phone(self, routine_id: str, which: int) -> None:
        """The routine's to-do in the phone's calendar ticked off (a sync brings it in):
        one of its firings around now, shown on the desktop or not yet."""
        table = self.timers.timetable(routine_id)
        if table is None:
            return
        now = clock.now()
        ahead = [f.at for _, f in zip(range(3), table.firings(now), strict=False)]
        behind = [f.at for _, f in zip(range(3), table.firings(now - timedelta(days=1)),
                                         strict=False) if f.at < now][-2:]
        dues = [*behind, *ahead]
        if not dues:
            return
        due = dues[min(max(which + len(behind), 0), len(dues) - 1)]
        before = self.memory.get(routine_id, due)
        if self.answers.completed_elsewhere(routine_id, due, now, source="calendar",
                                            completed=now) and (
                before is None or before.state in ("pending", "waiting")):
            self.answered_on_phone.add((routine_id, due))

    @rule(routine_id=st.sampled_from(sorted(routines())), minutes=st.integers(1, 90))
    def snooze(self, routine_id: str, minutes: int) -> None:
        try:
            self.answers.snooze(routine_id, clock.now(), timedelta(minutes=minutes))
        except CrampguardError:
            pass

    @rule(routine_id=st.sampled_from(sorted(routines())))
    def skip_ahead(self, routine_id: str) -> None:
        try:
            self.reminders.skip(routine_id, clock.now())
        except CrampguardError:
            pass

    @precondition(lambda self: bool(self.notifier.shown))
    @rule(data=st.data(), twice=st.booleans())
    def button(self, data: st.DataObject, twice: bool) -> None:
        """A button of the notice's own routine (a server signals only those)."""
        number = data.draw(st.sampled_from(sorted({s.id for s in self.notifier.shown})))
        routine_id = next(s.routine for s in self.notifier.shown if s.id == number)
        key = data.draw(st.sampled_from(keys_of(self.routines[routine_id])))
        for _ in range(2 if twice else 1):
            self._press(number, key)

    def _press(self, number: int, key: str) -> None:
        before = self.memory.by_notice(f"dbus/{number}")
        self.step_events.clear()
        self.answers.action(number, key)
        if before is not None and key.startswith(CRAMPS_KEY):
            # the check-in's answer is the cramp log's entry for its night
            kind = "no_cramp" if key == CRAMPS_KEY + "none" else "cramp"
            self.expected.append(Expected(kind, None, clock.now(), None))
        answers = [e for e in self.step_events if e[0] in ("done", "snoozed", "skipped")
                   and (e[1], e[2]) == (before.routine if before else None,
                                        before.due if before else None)]
        assert len(answers) <= 1, f"one press on #{number} answered {len(answers)} times"
        if (number, key) in self.presses[-1:]:
            assert not answers, f"the same press on #{number} signalled twice answered twice"
        self.presses.append((number, key))

    @precondition(lambda self: bool(self.notifier.shown))
    @rule(data=st.data(), where=st.sampled_from(["tray", "channel"]), twice=st.booleans())
    def answer_elsewhere(self, data: st.DataObject, where: str, twice: bool) -> None:
        """A shown reminder answered from the tray's menu, or on a channel (the phone's
        ntfy or Matrix), once or twice (a channel that reconnects reads it again)."""
        number = data.draw(st.sampled_from(sorted({s.id for s in self.notifier.shown})))
        row = self.memory.by_notice(f"dbus/{number}")
        if row is None:
            return
        key = data.draw(st.sampled_from(keys_of(self.routines[row.routine])))
        self.step_events.clear()
        for _ in range(2 if twice else 1):
            now = clock.now()
            if where == "tray":
                before = self.memory.get(row.routine, row.due)
                self.answers.tray(row.routine, row.due, key, now)
                counted = before is not None and before.state == "delivered"
            else:
                counted = self.reach.answered(
                    Answer(row.routine, row.due, key, "phone", "@me:example.org", now,
                           ref=f"$answer-{number}"), now)
            if counted and key.startswith(CRAMPS_KEY):
                kind = "no_cramp" if key == CRAMPS_KEY + "none" else "cramp"
                self.expected.append(Expected(kind, None, now, None))
        finals = [e for e in self.step_events if e[0] in ("done", "skipped")
                  and (e[1], e[2]) == (row.routine, row.due)]
        assert len(finals) <= 1, f"{where}: one answer to {row.routine} counted {finals}"

    @rule(routine_id=st.sampled_from(sorted(routines())), ms=st.integers(1, 999))
    def trigger(self, routine_id: str, ms: int) -> None:
        """`crampguard trigger`: a command lands between whole minutes, never on a firing's
        instant (a manual reminder's key is its instant)."""
        self._run_until(clock.now() + timedelta(milliseconds=ms))
        now = clock.now()
        self.triggered.add((routine_id, now))
        self.notifier.manual = True
        try:
            self.reminders.trigger(routine_id, now)
        except CrampguardError:
            pass
        finally:
            self.notifier.manual = False

    @rule()
    def workout(self) -> None:
        now = clock.now()
        self.followups.after_event("workout", now, now)

    @rule(at=st.sampled_from(["21:15", "21:45", "22:10", "20:30"]))
    def edit_soak_time(self, at: str) -> None:
        """The user changes the foot soak's time: the reload plans it again from now."""
        self.routines["foot-soak"] = routines(at)["foot-soak"]
        # service._schedule, the loop running
        self.timers.plan("foot-soak", timetable_for(self.routines["foot-soak"], SETTINGS))
        self.timers.skip_settled("foot-soak", self.memory.get)

    # --- the world -------------------------------------------------------------------------

    def _observe(self, now: datetime) -> Absence | None:
        """The presence tracker's reading now; a new absence, once it has ended."""
        seen = self.presence
        state = self.tracker.observe(now, Reading(seen.idle_seconds, seen.locked, seen.dnd,
                                                  seen.unknown))
        absence = state.last_absence
        if absence is None or absence == self.handled_absence:
            return None
        self.handled_absence = absence
        return absence

    def _changed(self) -> None:
        """As away.Away._changed_on_loop does on every change: back from a long enough
        absence, interval routines start again; then what waited is decided again."""
        now = clock.now()
        absence = self._observe(now)
        if absence is not None:
            away = timedelta(seconds=absence.seconds or 0)
            for routine_id in intervals_to_restart(self.routines.values(), away):
                self.timers.restart_interval(routine_id, now)
        self.reminders.release(now)

    @rule(what=st.sampled_from(["away", "back", "lock", "unlock", "dnd", "dnd off",
                                "vanish", "return"]))
    def presence_changes(self, what: str) -> None:
        seen = self.presence
        if what == "away":
            seen.idle_seconds = AWAY_IDLE
        elif what == "back":
            seen.idle_seconds = 0.0
        elif what in ("lock", "unlock"):
            seen.locked = what == "lock"
        elif what in ("dnd", "dnd off"):
            seen.dnd = "dunst paused" if what == "dnd" else None
        else:
            seen.unknown = "the idle source left the bus" if what == "vanish" else None
        self._changed()

    @precondition(lambda self: self.presence.locked
                  or (self.presence.idle_seconds or 0) >= AWAY_IDLE)
    @rule(minutes=st.integers(1, 120))
    def user_returns(self, minutes: int) -> None:
        """Back from a break after a while (a random walk of presence changes seldom
        leaves and comes back in that order): an interval may start again."""
        self._run_until(clock.now() + timedelta(minutes=minutes))
        self.presence.idle_seconds, self.presence.locked = 0.0, False
        self._changed()

    @rule(away=st.booleans())
    def notification_server(self, away: bool) -> None:
        """The daemon learns that the server left from a failed send, and that it is back
        from the bus (the notifier's on_available: service hands it server_back)."""
        self.notifier.away = away
        if not away:
            self.reminders.server_back(clock.now())

    def _returns(self) -> list[str]:
        return sorted(key for key in self.engine.keys()
                      if key.startswith((SNOOZE_TIMER, REPEAT_TIMER)))

    @precondition(lambda self: bool(self._returns()))
    @rule(data=st.data())
    def server_leaves_before_a_return(self, data: st.DataObject) -> None:
        """The server leaves while a snooze's return or a repeat is due: a random walk
        seldom has one planned just then."""
        key = data.draw(st.sampled_from(self._returns()))
        self.notifier.away = True
        self._run_until(self.engine.timers[key][0])

    @rule(full=st.booleans())
    def disk_fills(self, full: bool) -> None:
        self.disk.full = full
        if not full:
            self.ledger.flush()

    @precondition(lambda self: not self.disk.full)
    @rule()
    def restart(self) -> None:
        """Stop (the last sign of life noted) and start on the same journal."""
        self.memory.mark_alive(clock.now())
        self.ledger.close()
        self._build()

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def every_due_reminder_has_one_state(self) -> None:
        for routine_id, due in self.settled:
            row = self.memory.get(routine_id, due)
            assert row is not None and row.state != "pending", \
                f"{routine_id} due {due} came due and has no state: {row}"

    @invariant()
    def at_most_one_final_answer_and_one_due(self) -> None:
        finals = Counter((e.routine, e.due) for e in self.expected
                         if e.kind in ("done", "skipped") and e.due is not None)
        twice = {key: n for key, n in finals.items() if n > 1}
        assert not twice, f"answered done or skipped more than once: {twice}"
        dues = Counter((e.routine, e.due) for e in self.expected if e.kind == "due")
        counted_twice = {key: n for key, n in dues.items() if n > 1}
        assert not counted_twice, f"counted as due more than once: {counted_twice}"

    @invariant()
    def manual_showings_are_never_due(self) -> None:
        counted = [(e.routine, e.due) for e in self.expected if e.kind == "due"]
        manual = [key for key in counted if key in self.triggered]
        assert not manual, f"a manual showing counted as due: {manual}"
        ours = [e for e in self.memory_events() if (e.routine, e.due) in self.triggered]
        now = clock.now()
        for routine_stats in stats.routine_stats(ours, now=now, zone=ZONE, days=30):
            assert routine_stats.due == 0, f"a manual showing in stats' due: {routine_stats}"

    def memory_events(self) -> list[Any]:
        """The journal's events, or none while it cannot be read."""
        if self.disk.full or self.ledger.pending:
            return []
        with Journal.open(self.path) as journal:
            return journal.events()

    @invariant()
    def the_journal_holds_everything_once_it_works(self) -> None:
        if self.disk.full or self.ledger.pending:
            return
        with Journal.open(self.path) as journal:
            events = journal.events()
            recorded = Counter((e.kind, e.routine, e.at, e.due) for e in events)
            wanted = Counter((e.kind, e.routine, e.at, e.due) for e in self.expected)
            assert recorded == wanted, (
                f"journal lacks {wanted - recorded}, has extra {recorded - wanted}")
            for (routine_id, due), row in self.memory._known.items():
                assert journal.reminder(routine_id, due) == row, \
                    f"the journal's row for {routine_id} due {due} is not the machine's"
            now = clock.now()
            window = stats.window(now=now, zone=ZONE, days=30)
            from_events = stats.routine_stats(events, now=now, zone=ZONE, days=30)
            from_sql = stats.routine_stats(journal.tally(window), now=now, zone=ZONE,
                                           days=30)
        assert from_events == from_sql
        for counted in from_events:
            assert counted.adherence is None or counted.adherence <= 1, counted


ReminderModel.TestCase.settings = settings(
    max_examples=1000 if DEEP else 400,
    stateful_step_count=100 if DEEP else 50,
    deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestReminderModel = ReminderModel.TestCase
