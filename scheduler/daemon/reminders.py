"""What happens to a reminder once it falls due, and to the user's answers to it.

Delivered, missed (the catch-up rule), skipped by a pause, done, snoozed, skipped,
triggered: each decision is made here, written to the journal, and shared by the
notification buttons and the control commands. Runs on the daemon's loop thread only.
Timers come from a small ``Timers`` interface (the engine, or a fake in tests).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from scheduler import clock
from scheduler.config import defaults
from scheduler.config.routine import Routine
from scheduler.errors import CrampguardError
from scheduler.journal.store import Journal
from scheduler.notify import Delivery, Notice, NotifyError
from scheduler.planning import notices
from scheduler.timing import grammar

log = logging.getLogger("crampguard")

#: Timer keys; ":" never occurs in a routine id.
PAUSE_TIMER = "crampguard:pause-end"
SNOOZE_TIMER = "crampguard:snooze:"
#: notification ids remembered for their buttons (a day of reminders, comfortably)
_SENT_MEMORY = 500


class Timers(Protocol):
    """What the state machine needs from the engine."""

    def once(self, key: str, when: datetime, fn: Callable[..., None], *args: Any,
             grace: timedelta | None) -> None: ...

    def cancel(self, key: str) -> None: ...

    def skip_next(self, routine_id: str) -> tuple[datetime, datetime | None] | None: ...


def catch_up(run_times: list[datetime], now: datetime,
             grace_seconds: float | None) -> tuple[list[tuple[datetime, str]], datetime | None]:
    """The catch-up rule: of the due run times, only the latest may be delivered, and only
    if it is at most ``grace_seconds`` late; the others are missed (with why)."""
    if not run_times:
        return [], None
    *older, latest = run_times
    missed = [(run_time, "superseded by a later one") for run_time in older]
    late = now - latest
    grace = timedelta(seconds=grace_seconds or 0)
    if late > grace:
        missed.append((latest, f"{int(late.total_seconds())}s late, catch_up is "
                               f"{int(grace.total_seconds())}s"))
        return missed, None
    return missed, latest


@dataclass(frozen=True)
class LastDelivery:
    routine: str
    due: datetime
    at: datetime
    backend: str


class Reminders:
    def __init__(self, *, journal: Journal, timers: Timers,
                 routine: Callable[[str], Routine | None], send: Callable[[Notice], Delivery],
                 withdraw: Callable[[str, int], None], zone: Callable[[], Any]):
        self.journal = journal
        self.timers = timers
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

    def settle(self, routine_id: str, run_times: list[datetime], grace_seconds: float, *,
               why_missed: str = "") -> None:
        """A routine's due run times (from the engine, or found after a restart): the
        missed ones are recorded, the one that may still be is delivered."""
        late, latest = catch_up(run_times, clock.now(), grace_seconds)
        for run_time, why in late:
            self.missed(routine_id, run_time, why + why_missed)
        if latest is not None:
            self.fire(routine_id, latest)

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
            delivery = self._send(notices.reminder(routine))
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

    def snooze(self, routine_id: str, wait: timedelta = defaults.SNOOZE, *,
               due: datetime | None = None) -> dict[str, Any]:
        routine = self._require(routine_id)
        due = due or self._last_due(routine_id)
        now = clock.now()
        until = now + wait
        self.journal.record("snoozed", routine_id, at=now, due=due,
                            detail={"until": until.isoformat(),
                                    "seconds": int(wait.total_seconds())})
        self.timers.once(SNOOZE_TIMER + routine.id, until, self._snoozed_again, routine.id, due,
                         grace=routine.schedule.catch_up)
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
        skipped = self.timers.skip_next(routine_id)
        if skipped is None:
            raise CrampguardError(f"{routine_id} has no firing ahead to skip")
        dropped, following = skipped
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
        # The pause-end timer removes itself once it has run: APScheduler insists.
        if not from_job:
            self.timers.cancel(PAUSE_TIMER)
        if was is not None:
            self.journal.record("resumed", None, at=clock.now(), detail={"reason": reason})
            log.info("resumed (%s)", reason)
        return {"was_paused_until": self._iso(was)}

    def _end_pause_at(self, until: datetime) -> None:
        self.timers.once(PAUSE_TIMER, until, self._pause_ended, grace=None)

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
