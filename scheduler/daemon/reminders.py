"""What happens to a reminder once it falls due, and to the user's answers to it.

Delivered, missed, skipped by a pause, done, snoozed, skipped, triggered: each decision is
made here, written to the journal, and shared by the notification buttons and the control
commands. Runs on the daemon's loop thread only.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger

from scheduler import clock
from scheduler.config.routine import Routine
from scheduler.errors import CrampguardError
from scheduler.journal.store import Journal
from scheduler.notify import Delivery, Notice, NotifyError
from scheduler.timing import grammar

log = logging.getLogger("crampguard")

#: Internal jobs run by APScheduler's inline executor; ":" never occurs in a routine id.
PAUSE_JOB = "crampguard:pause-end"
SNOOZE_JOB = "crampguard:snooze:"
INTERNAL_EXECUTOR = "internal"
DEFAULT_SNOOZE = timedelta(minutes=10)
#: notification ids remembered for their buttons (a day of reminders, comfortably)
_SENT_MEMORY = 500


def notice_for(routine: Routine) -> Notice:
    timeout = routine.notify.timeout
    return Notice(
        title=routine.title, body=routine.message, urgency=routine.notify.urgency,
        timeout_s=timeout.total_seconds() if timeout is not None else None,
        icon=routine.notify.icon,
        actions=tuple((a.key, a.label) for a in routine.notify.actions),
        hint_command=f"crampguard done {routine.id}",
    )


@dataclass(frozen=True)
class LastDelivery:
    routine: str
    due: datetime
    at: datetime
    backend: str


class Reminders:
    def __init__(self, *, journal: Journal, scheduler: BaseScheduler,
                 routine: Callable[[str], Routine | None], send: Callable[[Notice], Delivery],
                 withdraw: Callable[[str, int], None], zone: Callable[[], Any]):
        self.journal = journal
        self.scheduler = scheduler
        self._routine = routine
        self._send = send
        self._withdraw = withdraw
        self._zone = zone
        self.paused_until: datetime | None = None
        self.last_delivery: LastDelivery | None = None
        #: notification id -> (routine, due, backend), for the buttons
        self._sent: OrderedDict[int, tuple[str, datetime, str]] = OrderedDict()
        self._restore_pause()

    # --- firing --------------------------------------------------------------------------

    def fire(self, routine_id: str, due: datetime) -> None:
        """A routine's firing came due (the executor calls this within catch_up)."""
        routine = self._routine(routine_id)
        if routine is None:
            return
        now = clock.now()
        self.journal.record("due", routine_id, at=now, due=due)
        if not self._held_by_pause(routine_id, due, now):
            self._show(routine, due, now)

    def missed(self, routine_id: str, due: datetime, why: str) -> None:
        now = clock.now()
        self.journal.record("due", routine_id, at=now, due=due)
        self.journal.record("missed", routine_id, at=now, due=due, detail={"reason": why})
        log.warning("missed %s due %s: %s", routine_id, self._local(due), why)

    def _held_by_pause(self, routine_id: str, due: datetime, now: datetime,
                       **detail: Any) -> bool:
        """During a pause a reminder is recorded as skipped, and never shown later."""
        if not self.paused(now):
            return False
        self.journal.record("skipped", routine_id, at=now, due=due,
                            detail={"reason": "paused", **detail})
        log.info("skipped %s due %s: paused until %s", routine_id, self._local(due),
                 self._local(self.paused_until))
        return True

    def _show(self, routine: Routine, due: datetime, now: datetime, **detail: Any) -> None:
        try:
            delivery = self._send(notice_for(routine))
        except NotifyError as exc:  # the console backend makes this next to impossible
            self.journal.record("failed", routine.id, at=now, due=due,
                                detail={"error": str(exc), **detail})
            log.error("could not deliver %s: %s", routine.id, exc)
            return
        self.journal.record("delivered", routine.id, at=clock.now(), due=due,
                            backend=delivery.backend, detail=detail or None)
        self.last_delivery = LastDelivery(routine.id, due, now, delivery.backend)
        if delivery.id is not None:
            self._sent[delivery.id] = (routine.id, due, delivery.backend)
            while len(self._sent) > _SENT_MEMORY:
                self._sent.popitem(last=False)
        shown = f" as #{delivery.id}" if delivery.id is not None else ""
        log.info("delivered %s via %s%s (due %s, %.3fs late)%s", routine.id, delivery.backend,
                 shown, self._local(due), (now - due).total_seconds(),
                 f" {detail}" if detail else "")

    # --- answers (buttons and control commands) -------------------------------------------

    def action(self, notification_id: int, key: str) -> None:
        """A button pressed on a notification we sent."""
        sent = self._sent.get(notification_id)
        if sent is None:
            return  # someone else's notification, or one from before a restart
        routine_id, due, backend = sent
        try:
            if key == "done":
                self.done(routine_id, due=due)
            elif key.startswith("snooze:"):
                self.snooze(routine_id, grammar.parse_duration(key.split(":", 1)[1]),
                            due=due)
            elif key == "skip":
                self.skip(routine_id)
            else:
                return  # the default action (a click on the body): nothing to record
        except (CrampguardError, ValueError) as exc:
            log.warning("button %r on %s: %s", key, routine_id, exc)
            return
        # Answered: some servers (dunst) leave the notice up after a button; take it down.
        del self._sent[notification_id]
        self._withdraw(backend, notification_id)

    def done(self, routine_id: str, *, due: datetime | None = None) -> dict[str, Any]:
        due = due or self._last_due(routine_id)
        already = self.journal.events(routine=routine_id, kinds=["done"], limit=1)
        if already and already[0].due == due:
            return {"routine": routine_id, "due": self._iso(due), "already": True}
        self.journal.record("done", routine_id, at=clock.now(), due=due)
        log.info("done: %s (due %s)", routine_id, self._local(due))
        return {"routine": routine_id, "due": self._iso(due), "already": False}

    def snooze(self, routine_id: str, wait: timedelta = DEFAULT_SNOOZE, *,
               due: datetime | None = None) -> dict[str, Any]:
        routine = self._require(routine_id)
        due = due or self._last_due(routine_id)
        now = clock.now()
        until = now + wait
        self.journal.record("snoozed", routine_id, at=now, due=due,
                            detail={"until": until.isoformat(),
                                    "seconds": int(wait.total_seconds())})
        self.scheduler.add_job(
            self._snoozed_again, DateTrigger(until), args=[routine.id, due],
            id=SNOOZE_JOB + routine.id, replace_existing=True, executor=INTERNAL_EXECUTOR,
            misfire_grace_time=int(routine.schedule.catch_up.total_seconds()) or 1)
        log.info("snoozed %s until %s", routine_id, self._local(until))
        return {"routine": routine_id, "until": self._iso(until)}

    def _snoozed_again(self, routine_id: str, due: datetime) -> None:
        routine = self._routine(routine_id)
        if routine is None:
            return
        now = clock.now()
        if not self._held_by_pause(routine_id, due, now, snoozed=True):
            self._show(routine, due, now, snoozed=True)

    def skip(self, routine_id: str) -> dict[str, Any]:
        """Drop the routine's next firing."""
        self._require(routine_id)
        job = self.scheduler.get_job(routine_id)
        if job is None or job.next_run_time is None:
            raise CrampguardError(f"{routine_id} has no firing ahead to skip")
        dropped = job.next_run_time
        following = job.trigger.get_next_fire_time(dropped, dropped)
        if following is None:
            job.remove()
        else:
            job.modify(next_run_time=following)
        self.journal.record("skipped", routine_id, at=clock.now(), due=dropped,
                            detail={"reason": "skip"})
        log.info("skipped the next %s (due %s)", routine_id, self._local(dropped))
        return {"routine": routine_id, "skipped": self._iso(dropped),
                "next": self._iso(following)}

    def trigger(self, routine_id: str) -> dict[str, Any]:
        routine = self._require(routine_id)
        now = clock.now()
        self._show(routine, now, now, manual=True)
        return {"routine": routine_id, "at": self._iso(now)}

    # --- pause ---------------------------------------------------------------------------

    def paused(self, now: datetime) -> bool:
        return self.paused_until is not None and now < self.paused_until

    def pause(self, until: datetime) -> dict[str, Any]:
        now = clock.now()
        if until <= now:
            raise CrampguardError("a pause must end in the future")
        self.paused_until = until
        self.journal.set_state("paused_until", until.isoformat())
        self.journal.record("paused", None, at=now, detail={"until": until.isoformat()})
        self._end_pause_at(until)
        log.info("paused until %s", self._local(until))
        return {"paused_until": self._iso(until)}

    def resume(self, reason: str = "resume", *, from_job: bool = False) -> dict[str, Any]:
        was = self.paused_until
        self.paused_until = None
        self.journal.set_state("paused_until", None)
        # The pause-end job removes itself once it has run: APScheduler insists.
        if not from_job and self.scheduler.get_job(PAUSE_JOB) is not None:
            self.scheduler.remove_job(PAUSE_JOB)
        if was is not None:
            self.journal.record("resumed", None, at=clock.now(), detail={"reason": reason})
            log.info("resumed (%s)", reason)
        return {"was_paused_until": self._iso(was)}

    def _end_pause_at(self, until: datetime) -> None:
        self.scheduler.add_job(self._pause_ended, DateTrigger(until), id=PAUSE_JOB,
                               replace_existing=True, executor=INTERNAL_EXECUTOR,
                               misfire_grace_time=None)

    def _pause_ended(self) -> None:
        self.resume("the pause ended", from_job=True)

    def _restore_pause(self) -> None:
        """A pause survives a restart of the daemon, and still ends by itself."""
        text = self.journal.get_state("paused_until")
        until = datetime.fromisoformat(text) if text else None
        if until is not None and until > clock.now():
            self.paused_until = until
            self._end_pause_at(until)
        elif until is not None:
            self.resume("the pause ended while crampguard was stopped")

    # --- helpers -------------------------------------------------------------------------

    def _require(self, routine_id: str) -> Routine:
        routine = self._routine(routine_id)
        if routine is None:
            raise CrampguardError(f"no enabled routine {routine_id!r}")
        return routine

    def _last_due(self, routine_id: str) -> datetime:
        self._require(routine_id)
        last = self.journal.last(routine_id, ["delivered"])
        if last is None or last.due is None:
            raise CrampguardError(f"{routine_id} has not reminded you yet")
        return last.due

    def _iso(self, at: datetime | None) -> str | None:
        """Instants in replies carry the user's wall clock and offset."""
        return at.astimezone(self._zone()).isoformat() if at else None

    def _local(self, at: datetime | None) -> str:
        return grammar.format_instant(at, self._zone())
