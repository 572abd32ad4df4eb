"""Follow the day: reminders a set time after something happens (issue 10).

A routine with ``after = "foot-soak done + 20m"`` fires 20 minutes after the foot soak is
answered done; with ``after = "workout + 1h"``, an hour after the user reports a workout
(`crampguard log workout`, or a Done on a routine that ``marks`` one). A follow-up is a
reminder like any other: a "pending" row in the journal until it falls due (so it survives
a restart), then the state machine's (held by a pause or quiet hours, waiting while the user
is away, at most once). One cause twice (a workout logged twice) plans one: a follow-up
pending or shown within the same evening is the one. A routine that also has a clock time
keeps it on the days nothing happens; on a day the follow-up comes, it replaces that
evening's clock firing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from scheduler import clock
from scheduler.config.routine import Routine
from scheduler.daemon.memory import Memory
from scheduler.daemon.reminders import Reminders, Timers
from scheduler.journal.events import Event, Reminder, happened_at
from scheduler.timing import grammar

log = logging.getLogger("crampguard")

FOLLOW_TIMER = "crampguard:follow:"
#: A follow-up replaces the routine's clock firing this close to it, and is not added when
#: the routine was shown this shortly before: one stretch an evening, not two.
SAME_EVENING = timedelta(hours=12)


class FollowUps:
    def __init__(self, reminders: Reminders, timers: Timers,
                 routines: Callable[[], Iterable[Routine]]):
        self._reminders = reminders
        self._memory: Memory = reminders.memory
        self._timers = timers
        self._routines = routines

    def after_done(self, done: Reminder, now: datetime) -> None:
        """A reminder was answered done: its followers, and the event it marks."""
        routine = self._reminders.routine(done.routine)
        for follower in self._followers("done", done.routine):
            self._plan(follower, now, f"{done.routine} done", now)
        if routine is not None and routine.marks:
            name = routine.marks
            self._memory.ledger.write(lambda j: j.log_event(
                name, when=now, at=now, source=done.routine))
            self.after_event(name, now, now)

    def after_event(self, name: str, when: datetime, now: datetime) -> list[str]:
        """The user reported ``name`` (a workout) at ``when``: plan its followers; returns
        their ids."""
        planned = []
        for follower in self._followers("event", name):
            after = follower.schedule.after
            assert after is not None
            if when + after.wait + follower.schedule.catch_up < now:
                continue  # logged too late for this one: nothing would be shown, nor due
            if self._plan(follower, when, name, now):
                planned.append(follower.id)
        return planned

    def restore(self, now: datetime) -> None:
        """After a restart: pending follow-ups come due as planned (of several already due
        for one routine, only the latest may be shown), and events reported while the
        daemon was down (`crampguard log workout` writes the journal) get their follow-ups
        now — one per evening, as ever."""
        rows = self._memory.restore(self._memory.ledger.read(lambda j: j.pending(), []))
        overdue: dict[str, list[datetime]] = {}
        for row in rows:
            if row.due <= now:
                overdue.setdefault(row.routine, []).append(row.due)
            else:
                self._arm(row.routine, row.due, now)
        for routine_id, dues in overdue.items():
            self._reminders.settle(routine_id, sorted(dues), now, why="follow-up")
        for name in {f.schedule.after.source for f in self._routines()
                     if f.schedule.after is not None and f.schedule.after.kind == "event"}:
            reach = max((f.schedule.after.wait + f.schedule.catch_up
                         for f in self._followers("event", name)
                         if f.schedule.after is not None), default=timedelta())
            for event in self._logged(name, since=now - reach):
                self.after_event(name, happened_at(event), now)

    def _logged(self, name: str, *, since: datetime) -> list[Event]:
        # A method rather than a lambda in restore's loop: the lambda had to bind the loop
        # variables as defaults, and mypy cannot type a lambda with extra parameters.
        return self._memory.ledger.read(lambda j: j.events(kinds=[name], since=since), [])

    def pending(self) -> dict[str, datetime]:
        """Each routine's earliest pending follow-up (for `status`)."""
        found: dict[str, datetime] = {}
        for row in self._memory.in_state("pending"):
            if row.routine not in found or row.due < found[row.routine]:
                found[row.routine] = row.due
        return found

    def _followers(self, kind: str, source: str) -> list[Routine]:
        return [r for r in self._routines()
                if r.enabled and r.schedule.after is not None
                and r.schedule.after.kind == kind and r.schedule.after.source == source]

    def _plan(self, routine: Routine, cause_at: datetime, cause: str, now: datetime) -> bool:
        after = routine.schedule.after
        assert after is not None
        due = cause_at + after.wait
        memory = self._memory
        if memory.get(routine.id, due) is not None:
            return False  # this very follow-up is planned already (the same event twice)
        same = [r for r in memory.recent(routine.id, due - SAME_EVENING)
                if not r.manual and abs(r.due - due) <= SAME_EVENING and (
                    r.state == "pending" or (r.state == "delivered" and r.due <= due))]
        if same:
            log.info("no second follow-up of %s after %s: %s at %s already", routine.id,
                     cause, "planned" if same[0].state == "pending" else "shown",
                     memory.local(same[0].due))
            return False
        memory.put(Reminder(routine.id, due, "pending"), now)
        self._replace_clock_firing(routine, cause_at, due, now)
        self._arm(routine.id, due, now)
        log.info("follow-up: %s at %s (%s + %s)", routine.id, memory.local(due), cause,
                 grammar.format_duration(after.wait))
        return True

    def _replace_clock_firing(self, routine: Routine, cause_at: datetime,
                              due: datetime, now: datetime) -> None:
        """The routine's next clock firing, if it is this evening's, gives way."""
        timetable = self._timers.timetable(routine.id)
        if timetable is None:
            return
        firing = next(iter(timetable.firings(cause_at)), None)
        if firing is None or abs(firing.at - due) > SAME_EVENING \
                or self._memory.get(routine.id, firing.at) is not None:
            return
        self._reminders.settle_as(routine.id, firing.at, "skipped",
                                  f"replaced by its follow-up at {self._memory.local(due)}",
                                  now)
        if self._timers.next_time(routine.id) == firing.at:
            self._timers.skip_next(routine.id)

    def _arm(self, routine_id: str, due: datetime, now: datetime) -> None:
        self._timers.once(f"{FOLLOW_TIMER}{routine_id}@{due.isoformat()}",
                          max(due, now), self._due, routine_id, due)

    def _due(self, routine_id: str, due: datetime) -> None:
        # disabled since: settle leaves the pending row as it was
        self._reminders.settle(routine_id, [due], clock.now(), why="follow-up")
