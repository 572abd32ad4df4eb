"""Follow the day: reminders a set time after something happens (issue 10).

A routine with ``after = "foot-soak done + 20m"`` fires 20 minutes after the foot soak is
answered done; with ``after = "workout + 1h"``, an hour after the user reports a workout
(`crampguard log workout`, or a Done on a routine that ``marks`` one). A follow-up is a
reminder like any other: a "pending" row in the journal until it falls due (so it survives
a restart), then the state machine's (held by a pause or quiet hours, waiting while the user
is away, at most once). A routine that also has a clock time keeps it on the days nothing
happens; on a day the follow-up comes, it replaces that evening's clock firing, and when
the routine was already shown shortly before, no follow-up is added.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from scheduler import clock
from scheduler.config.routine import Routine
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
        self._timers = timers
        self._routines = routines

    def after_done(self, done: Reminder) -> None:
        """A reminder was answered done: its followers, and the event it marks."""
        now = clock.now()
        routine = self._reminders.routine(done.routine)
        for follower in self._followers("done", done.routine):
            self._plan(follower, now, f"{done.routine} done")
        if routine is not None and routine.marks:
            name = routine.marks
            self._reminders.ledger.write(lambda j: j.log_event(
                name, when=now, at=now, source=done.routine))
            self.after_event(name, now)

    def after_event(self, name: str, when: datetime) -> list[str]:
        """The user reported ``name`` (a workout) at ``when``: plan its followers; returns
        their ids."""
        planned = []
        for follower in self._followers("event", name):
            if self._plan(follower, when, name):
                planned.append(follower.id)
        return planned

    def restore(self) -> None:
        """After a restart: pending follow-ups come due as planned (late ones under the
        catch-up rule), and events reported while the daemon was down (`crampguard log
        workout` writes the journal) get their follow-ups now."""
        for row in self._reminders.ledger.read(lambda j: j.pending(), []):
            self._reminders.remember(row)
            self._arm(row.routine, row.due)
        now = clock.now()
        for name in {f.schedule.after.source for f in self._routines()
                     if f.schedule.after is not None and f.schedule.after.kind == "event"}:
            reach = max((f.schedule.after.wait + f.schedule.catch_up
                         for f in self._followers("event", name)
                         if f.schedule.after is not None), default=timedelta())
            for event in self._logged(name, since=now - reach):
                self.after_event(name, happened_at(event))

    def _logged(self, name: str, *, since: datetime) -> list[Event]:
        # A method rather than a lambda in restore's loop: the lambda had to bind the loop
        # variables as defaults, and mypy cannot type a lambda with extra parameters.
        return self._reminders.ledger.read(lambda j: j.events(kinds=[name], since=since), [])

    def pending(self) -> dict[str, datetime]:
        """Each routine's earliest pending follow-up (for `status`)."""
        found: dict[str, datetime] = {}
        for row in self._reminders.in_state("pending"):
            if row.routine not in found or row.due < found[row.routine]:
                found[row.routine] = row.due
        return found

    def _followers(self, kind: str, source: str) -> list[Routine]:
        return [r for r in self._routines()
                if r.enabled and r.schedule.after is not None
                and r.schedule.after.kind == kind and r.schedule.after.source == source]

    def _plan(self, routine: Routine, cause_at: datetime, cause: str) -> bool:
        after = routine.schedule.after
        assert after is not None
        due = cause_at + after.wait
        reminders = self._reminders
        shown = [r for r in reminders.recent(routine.id, due - SAME_EVENING)
                 if r.state == "delivered" and r.due <= due and not r.manual]
        if shown:
            log.info("no follow-up of %s after %s: shown at %s already", routine.id, cause,
                     reminders.local(shown[0].due))
            return False
        if reminders.get(routine.id, due) is not None:
            return False  # this very follow-up is planned already (the same event twice)
        reminders.put(Reminder(routine.id, due, "pending"))
        self._replace_clock_firing(routine, cause_at, due)
        self._arm(routine.id, due)
        log.info("follow-up: %s at %s (%s + %s)", routine.id, reminders.local(due), cause,
                 grammar.format_duration(after.wait))
        return True

    def _replace_clock_firing(self, routine: Routine, cause_at: datetime,
                              due: datetime) -> None:
        """The routine's next clock firing, if it is this evening's, gives way."""
        timetable = self._timers.timetable(routine.id)
        if timetable is None:
            return
        firing = next(iter(timetable.firings(cause_at)), None)
        if firing is None or abs(firing.at - due) > SAME_EVENING \
                or self._reminders.get(routine.id, firing.at) is not None:
            return
        self._reminders.settle_as(routine.id, firing.at, "skipped",
                                  f"replaced by its follow-up at {self._reminders.local(due)}")
        if self._timers.next_time(routine.id) == firing.at:
            self._timers.skip_next(routine.id)

    def _arm(self, routine_id: str, due: datetime) -> None:
        self._timers.once(f"{FOLLOW_TIMER}{routine_id}@{due.isoformat()}",
                          max(due, clock.now()), self._due, routine_id, due)

    def _due(self, routine_id: str, due: datetime) -> None:
        routine = self._reminders.routine(routine_id)
        if routine is None:
            return  # disabled since: the pending row stays as it was
        self._reminders.settle(routine_id, [due], routine.schedule.catch_up.total_seconds())
