"""The user's answers to reminders: Done, Snooze, Skip and the check-in's night, from a
button on a notice or a control command — one answer per showing, however many times a
server signals the same press.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from scheduler import clock
from scheduler.config import defaults
from scheduler.config.routine import CRAMPS_KEY
from scheduler.daemon.decide import Up, decide
from scheduler.daemon.memory import Memory
from scheduler.daemon.reminders import (
    BUTTONS_BACKEND,
    Reminders,
    repeat_keys,
    snooze_key,
    wait_key,
)
from scheduler.errors import CrampguardError
from scheduler.journal import nights
from scheduler.journal.events import Reminder
from scheduler.timing import grammar

log = logging.getLogger("crampguard")

#: How far back `done` looks for the reminder to credit, without --due.
DONE_LOOKBACK = timedelta(days=1)
#: `done --due 21:45` names a minute; the reminder due within it is the one.
DUE_MATCH = timedelta(minutes=1)


class Answers:
    def __init__(self, reminders: Reminders, withdraw: Callable[[str, int], None]):
        self._reminders = reminders
        self._memory: Memory = reminders.memory
        self._withdraw = withdraw
        #: called with a reminder just answered done (follow-ups hang on it)
        self.on_done: Callable[[Reminder, datetime], None] = lambda reminder, now: None
        #: called after any answer (the calendar marks the answered firing)
        self.on_answer: Callable[[Reminder], None] = lambda reminder: None

    def action(self, notification_id: int, key: str) -> None:
        """A button pressed on a notice: it answers the reminder it sits on, whichever run
        of the daemon showed it — once: a server that signals the press again (to every
        listener on the bus) finds the notice answered."""
        now = clock.now()
        notice = f"{BUTTONS_BACKEND}/{notification_id}"
        shown = self._memory.by_notice(notice)
        if shown is None:
            return  # another program's notice
        if _answered_before(shown, key):
            log.info("button %r on %s due %s: already %s", key, shown.routine,
                     self._memory.local(shown.due), shown.answer)
            return
        try:
            if key == "done":
                self.done(shown.routine, now, due=shown.due)
            elif key.startswith("snooze:"):
                self.snooze(shown.routine, now, grammar.parse_duration(key.split(":", 1)[1]),
                            due=shown.due)
            elif key == "skip":
                self.answer(shown, "skipped", now, reason="the Skip button")
            elif key.startswith(CRAMPS_KEY):
                self.answer_night(shown, key.removeprefix(CRAMPS_KEY), now)
            else:
                return  # the default action (a click on the body): nothing to record
        except (CrampguardError, ValueError) as exc:
            log.warning("button %r on %s: %s", key, shown.routine, exc)
            return
        # Answered: some servers (dunst) leave the notice up after a button; take it down.
        self._withdraw(BUTTONS_BACKEND, notification_id)

    def completed_elsewhere(self, routine_id: str, due: datetime, now: datetime, *,
                            source: str, completed: datetime | None = None) -> bool:
        """A reminder completed where crampguard put it beyond the desk (a to-do in the
        phone's calendar): one answer, done, through the same path as a button. One not
        shown here yet is recorded as shown there, so the desktop never shows it again;
        one already answered keeps its answer (the second is logged with the reason).
        Whether it was counted."""
        routine = self._reminders.routine(routine_id)
        if routine is None:
            log.info("%s due %s completed in the %s: no enabled routine %r, not counted",
                     routine_id, self._memory.local(due), source, routine_id)
            return False
        known = self._memory.get(routine_id, due)
        final = known.answer if known is not None and known.answer in ("done", "skipped") \
            else "skipped" if known is not None and known.state == "skipped" else None
        if final is not None:  # one final answer per reminder (a skip ahead is one)
            log.info("%s due %s completed in the %s: already %s, not counted again",
                     routine_id, self._memory.local(due), source, final)
            return False
        if known is None or known.state in ("pending", "waiting"):
            known = self.shown_there(routine_id, due, now, source)
        else:
            self.off_the_desk(known)
        detail: dict[str, Any] = {"source": source}
        if completed is not None:
            detail["completed"] = min(completed, now).isoformat()
        self.answer(known, "done", now, reason=f"completed in the {source}", detail=detail)
        return True

    def shown_there(self, routine_id: str, due: datetime, now: datetime,
                     source: str) -> Reminder:
        """Shown there, not here: its row now says so, and a reminder with a row is never
        shown again (a restart's catch-up, a follow-up, the end of a wait)."""
        self._reminders.timers.cancel(wait_key(routine_id, due))
        known = Reminder(routine_id, due, "delivered")
        self._memory.put(known, now)
        self._memory.event("due", routine_id, at=now, due=due)
        self._memory.event("delivered", routine_id, at=now, due=due, backend=source,
                           detail={"source": source})
        return known

    def off_the_desk(self, known: Reminder) -> None:
        """Answered elsewhere: the notice on the desk goes."""
        if known.notice and known.notice.startswith(f"{BUTTONS_BACKEND}/"):
            number = known.notice.partition("/")[2]
            if number.isdigit():
                self._withdraw(BUTTONS_BACKEND, int(number))

    def answer_night(self, checkin: Reminder, answer: str, now: datetime) -> None:
        """A morning check-in's button: the cramp log's entry for the night just gone (the
        night before the check-in was due, however late it is answered)."""
        night = nights.night_before(checkin.due, self._memory.zone)
        self._memory.ledger.write(lambda j: j.log_night(night, answer, at=now,
                                                        source="check-in"))
        log.info("night of %s: %s (check-in)", night.isoformat(), answer)
        if checkin.answer != "done":
            self.answer(checkin, "done", now, reason=f"cramps: {answer}")

    def done(self, routine_id: str, now: datetime, *,
             due: datetime | None = None) -> dict[str, Any]:
        """Credit the most recent unanswered reminder of the routine (delivered or missed,
        up to a day back), or the one due at ``due``."""
        target = self._answerable(routine_id, due, now)
        if target.answer == "done":
            return {"routine": routine_id, "due": self._memory.iso(target.due),
                    "already": True}
        if target.answer == "skipped":
            # one final answer per reminder: counted both skipped and done, it would say
            # the user both did and did not do it
            raise CrampguardError(
                f"{routine_id} due {self._memory.local(target.due)} was skipped; give "
                f"--due TIME for another reminder")
        self.answer(target, "done", now)
        return {"routine": routine_id, "due": self._memory.iso(target.due), "already": False}

    def snooze(self, routine_id: str, now: datetime, wait: timedelta = defaults.SNOOZE, *,
               due: datetime | None = None) -> dict[str, Any]:
        """Show the reminder again after ``wait``; the reply says what the return will meet
        (a pause or quiet hours hold it), and that is what happens."""
        target = self._answerable(routine_id, due, now, states=("delivered",))
        if target.answer in ("done", "skipped"):  # a final answer stands: one per reminder
            raise CrampguardError(f"{routine_id} due {self._memory.local(target.due)} is "
                                  f"already {target.answer}")
        until = now + wait
        routine = self._reminders.require(routine_id)
        ahead = decide(Up.of(routine, target.due, "snooze", at=until),
                       self._reminders.world(routine_id, until, ahead=True))
        then = None if ahead.kind != "hold" else \
            f"{ahead.reason} then: it will not be shown again"
        self.answer(target, "snoozed", now, until=until,
                     detail={"until": until.isoformat(), "seconds": int(wait.total_seconds())})
        return {"routine": routine_id, "until": self._memory.iso(until),
                "due": self._memory.iso(target.due), "then": then}

    def answer(self, target: Reminder, answer: str, now: datetime, *,
                until: datetime | None = None, reason: str | None = None,
                detail: dict[str, Any] | None = None) -> None:
        answered = replace(target, answer=answer, until=until)
        self._memory.put(answered, now)
        detail = dict(detail or {})
        if reason:
            detail["reason"] = reason
        if target.manual:
            detail["manual"] = True
        self._memory.event(answer, target.routine, at=now, due=target.due,
                           detail=detail or None)
        timers = self._reminders.timers
        for key in repeat_keys(target, self._reminders.routine(target.routine)):
            timers.cancel(key)  # an answer ends the repeats
        if until is None:
            timers.cancel(snooze_key(target))
        else:
            timers.once(snooze_key(target), until, self._reminders.snooze_ended,
                        target.routine, target.due)
        log.info("%s %s%s (due %s)", answer, target.routine,
                 f" until {self._memory.local(until)}" if until else "",
                 self._memory.local(target.due))
        if answer == "done":
            self.on_done(answered, now)
        self.on_answer(answered)

    def _answerable(self, routine_id: str, due: datetime | None, now: datetime,
                    states: tuple[str, ...] = ("delivered", "missed")) -> Reminder:
        self._reminders.require(routine_id)
        if due is not None:
            found = [r for r in self._memory.recent(routine_id, due - DUE_MATCH)
                     if abs(r.due - due) < DUE_MATCH and r.state in states]
            if not found:
                raise CrampguardError(
                    f"{routine_id} had no reminder due at {self._memory.local(due)}; "
                    f"`crampguard history` lists them")
            return min(found, key=lambda r: abs(r.due - due))
        recent = [r for r in self._memory.recent(routine_id, now - DONE_LOOKBACK)
                  if r.state in states]
        unanswered = [r for r in recent if r.answer in (None, "snoozed")]
        if unanswered:
            return unanswered[0]
        if recent:
            return recent[0]
        raise CrampguardError(
            f"{routine_id} has no reminder from the last day to answer; give --due TIME "
            f"for an older one")


def _answered_before(shown: Reminder, key: str) -> bool:
    """Whether a press answers nothing new: the same press heard twice (a server that
    broadcasts its signals reaches every listener), or any press after a final answer.
    A snooze then a Done on the same notice is two answers, the second the final one; a
    check-in's cramp buttons may correct the night (the latest about a night counts)."""
    if key.startswith(CRAMPS_KEY):
        return False
    answer = ("snoozed" if key.startswith("snooze:") else "skipped" if key == "skip"
              else "done" if key == "done" else None)
    return shown.answer in ("done", "skipped") or (
        answer is not None and shown.answer == answer)
