"""What the ``[reach]`` channels mean for a reminder's life: sent away from the desk when
the user is away at its instant (it waits as it would until a channel shows it, and fails
with the channel's reason when none does within its ``catch_up``), sent too when it is
still unanswered ``reach_after`` after it was shown, and an answer heard on a channel
taken through the one answer path. Loop thread only; ``ReachLink`` does the sending and
listening on threads of its own. Imported only when the settings have a ``[reach]`` table:
a daemon without one loads none of this.
"""

from __future__ import annotations

import logging
from datetime import datetime

from scheduler import clock
from scheduler.config.routine import CRAMPS_KEY, Routine
from scheduler.daemon.answers import Answers
from scheduler.daemon.decide import Up, Verdict, decide, wait_ends
from scheduler.daemon.reach_link import ReachLink
from scheduler.daemon.reminders import (
    REACH_TIMER,
    LastDelivery,
    Reminders,
    wait_key,
)
from scheduler.errors import CrampguardError
from scheduler.journal.events import Reminder
from scheduler.planning import notices
from scheduler.reach.base import Answer
from scheduler.timing import grammar

log = logging.getLogger("crampguard")


def reach_key(routine_id: str, due: datetime) -> str:
    return f"{REACH_TIMER}{routine_id}@{due.isoformat()}"


class ReachFlow:
    def __init__(self, reminders: Reminders, answers: Answers):
        self._reminders = reminders
        self._answers = answers
        self._memory = reminders.memory
        self.link: ReachLink | None = None

    # --- sending -------------------------------------------------------------------------

    def away(self, up: Up, verdict: Verdict, now: datetime) -> None:
        """Away at its instant: the reminder goes to the channels. It waits as it would
        (so a restart or the user's return decides it again) until a channel has shown it;
        a channel that never does within its catch_up makes it failed."""
        routine = up.routine
        known = self._memory.get(routine.id, up.due)
        if known is None or known.state != "waiting":
            self._memory.put(Reminder(routine.id, up.due, "waiting"), now)
            self._memory.event("held", routine.id, at=now, due=up.due,
                               detail={"reason": verdict.reason, "waiting": True,
                                       "reach": True})
            log.info("reaching %s due %s away from the desk: %s", routine.id,
                     self._memory.local(up.due), verdict.reason)
        self._reminders.arm_wait(up, now)
        self._send(up, now, primary=True)

    def also(self, up: Up, now: datetime) -> None:
        """Shown (or answerable) elsewhere: the channels carry it too."""
        self._send(up, now, primary=False)

    def _send(self, up: Up, now: datetime, *, primary: bool) -> None:
        if self.link is None:
            return
        routine = up.routine
        deadline = wait_ends(up) if primary else now + routine.schedule.catch_up
        self.link.send(routine, up.due, notices.reminder(routine), deadline=deadline,
                       primary=primary)

    def trouble(self, routine_id: str, due: datetime) -> str | None:
        return self.link.trouble(routine_id, due) if self.link is not None else None

    # --- reach_after ---------------------------------------------------------------------

    def shown(self, routine: Routine, due: datetime, now: datetime) -> None:
        """Shown on the desktop: with ``reach = "away"`` and ``reach_after``, the channels
        follow if it is still unanswered then."""
        after = routine.notify.reach_after
        if after is not None and routine.notify.reach == "away":
            self._reminders.timers.once(reach_key(routine.id, due), now + after,
                                        self._after, routine.id, due)

    def _after(self, routine_id: str, due: datetime) -> None:
        """``reach_after`` since it was shown: still unanswered → the channels too."""
        now = clock.now()
        current = self._memory.get(routine_id, due)
        routine = self._reminders.routine(routine_id)
        if current is None or routine is None or current.state != "delivered" \
                or current.answer is not None:
            return  # answered (or gone) since
        up = Up.of(routine, due, "reach-after")
        verdict = decide(up, self._reminders.world(routine_id, now))
        if verdict.kind == "reach":
            log.info("reaching %s due %s away from the desk too: %s", routine_id,
                     self._memory.local(due), verdict.reason)
            self.also(up, now)
        else:
            log.info("%s due %s not sent to the channels: %s", routine_id,
                     self._memory.local(due), verdict.reason)

    def resume(self, now: datetime) -> None:
        """A reminder shown on the desktop and still unanswered goes to the channels at
        its ``reach_after``, after a restart too (unless a channel already carried it)."""
        routines = {r.id: r for r in self._reminders.enabled()
                    if r.notify.reach == "away" and r.notify.reach_after is not None}
        if not routines:
            return
        reach = max(r.notify.reach_after + r.schedule.catch_up  # type: ignore[operator]
                    for r in routines.values())
        for row in self._memory.restore(self._memory.ledger.read(
                lambda j: j.unanswered(since=now - reach), [])):
            routine = routines.get(row.routine)
            if routine is None or routine.notify.reach_after is None \
                    or (row.notice or "").startswith("reach:"):
                continue
            if any(e.kind == "reached" and e.due == row.due
                   for e in self._reminders.events_of(row)):
                continue
            self._reminders.timers.once(
                reach_key(row.routine, row.due), max(row.due + routine.notify.reach_after, now),
                self._after, row.routine, row.due)

    # --- what the channels report (from ReachLink, on the loop) ---------------------------

    def reached(self, routine_id: str, due: datetime, channel: str, sent: str,
                now: datetime) -> None:
        """A channel showed the reminder. One that waited for the user is delivered
        through that channel: its one row says so; one already shown (on the desktop, or by
        another channel) notes that this channel carried it too."""
        backend = f"reach:{channel}"
        known = self._memory.get(routine_id, due)
        if known is not None and known.state == "waiting":
            self._reminders.timers.cancel(wait_key(routine_id, due))
            self._memory.put(Reminder(routine_id, due, "delivered",
                                      notice=f"{backend}/{sent}"), now)
            self._memory.event("due", routine_id, at=now, due=due)
            self._memory.event("delivered", routine_id, at=now, due=due, backend=backend,
                               detail={"channel": channel})
            self._reminders.last_delivery = LastDelivery(routine_id, due, now, backend)
            log.info("delivered %s via %s (due %s, %.3fs late)", routine_id, backend,
                     self._memory.local(due), (now - due).total_seconds())
            return
        self._memory.event("reached", routine_id, at=now, due=due, backend=backend,
                           detail={"channel": channel})
        log.info("%s due %s sent via %s too", routine_id, self._memory.local(due), backend)

    def unreached(self, routine_id: str, due: datetime, reason: str, now: datetime) -> None:
        """No channel could show it within its catch_up."""
        known = self._memory.get(routine_id, due)
        if known is not None and known.state == "waiting":
            self._reminders.timers.cancel(wait_key(routine_id, due))
            self._reminders.settle_as(routine_id, due, "failed", reason, now,
                                      counts_as_due=True)
        else:
            log.warning("%s due %s did not reach the channels: %s", routine_id,
                        self._memory.local(due), reason)

    def answered(self, answer: Answer, now: datetime) -> bool:
        """An answer heard on a channel: the same answer a button on the notice would
        give, through the same path, once per reminder. One that answers nothing (no such
        reminder, one already answered, a word the reminder does not offer) is recorded as
        ignored, with the reason. Whether it was counted."""
        where = f"reach:{answer.channel}"
        routine = self._reminders.routine(answer.routine)
        known = self._memory.get(answer.routine, answer.due) if routine else None
        keys = {a.key for a in routine.notify.actions} | {"done", "skip"} if routine else set()
        reason = None
        if routine is None:
            reason = f"no enabled routine {answer.routine!r}"
        elif known is None or known.state not in ("waiting", "delivered", "missed"):
            reason = "no such reminder was shown" if known is None or \
                known.state == "pending" else f"the reminder was {known.state}"
        elif answer.key not in keys and not (answer.key.startswith("snooze:")
                                              and any(k.startswith("snooze:") for k in keys)):
            reason = f"{answer.key!r} is not an answer this reminder offers"
        elif not answer.key.startswith(CRAMPS_KEY) and known.answer in ("done", "skipped"):
            reason = f"already {known.answer}"
        if reason is not None or known is None:
            self._ignored(answer, now, reason or "no such reminder")
            return False
        if known.state == "waiting":
            known = self._answers.shown_there(answer.routine, answer.due, now, where)
        detail = {"source": where, "by": answer.sender}
        try:
            if answer.key == "done":
                self._answers.answer(known, "done", now, reason=f"answered via {where}",
                                     detail=detail)
            elif answer.key == "skip":
                self._answers.answer(known, "skipped", now, reason=f"answered via {where}",
                                     detail=detail)
            elif answer.key.startswith("snooze:"):
                self._answers.snooze(answer.routine, now,
                                     grammar.parse_duration(answer.key.split(":", 1)[1]),
                                     due=answer.due)
            else:
                self._answers.answer_night(known, answer.key.removeprefix(CRAMPS_KEY), now)
        except (CrampguardError, ValueError) as exc:
            self._ignored(answer, now, str(exc))
            return False
        self._answers.off_the_desk(known)
        return True

    def _ignored(self, answer: Answer, now: datetime, reason: str) -> None:
        log.info("answer %r to %s due %s via reach:%s not counted: %s", answer.key,
                 answer.routine, self._memory.local(answer.due), answer.channel, reason)
        routine = answer.routine if self._reminders.routine(answer.routine) else None
        self._memory.event("ignored", routine, at=now, due=answer.due,
                           backend=f"reach:{answer.channel}",
                           detail={"reason": reason, "answer": answer.key,
                                   "by": answer.sender})
