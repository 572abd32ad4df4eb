"""A reminder's life: the one state machine, and the user's answers to it.

Each firing is one reminder, identified by (routine, due instant), with one state:
delivered | held (a pause or quiet hours) | missed | skipped | failed, and then an answer:
done | snoozed | skipped. Every decision is made on the reminder's **due** instant, never on
"now" (only lateness, the catch-up rule, compares the two). A (routine, due) that has a
state is never shown again, whatever the clock does and however often the daemon restarts:
the row in the journal says so, and this run's memory says so while the journal is away.

Showing a notice never waits on the journal: the notice goes first, the record follows
through the ``Ledger``. Runs on the daemon's loop thread only; timers come from a small
``Timers`` interface (the engine, or a fake in tests).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from scheduler import clock
from scheduler.config import defaults
from scheduler.config.routine import CRAMPS_KEY, Routine
from scheduler.daemon.ledger import Ledger
from scheduler.errors import CrampguardError
from scheduler.journal import stats
from scheduler.journal.events import Reminder
from scheduler.notify import Delivery, Notice, NotifyError
from scheduler.planning import notices
from scheduler.timing import grammar
from scheduler.timing.plans import Timetable

log = logging.getLogger("crampguard")

#: Timer keys; ":" never occurs in a routine id.
PAUSE_TIMER = "crampguard:pause-end"
SNOOZE_TIMER = "crampguard:snooze:"
WAIT_TIMER = "crampguard:wait:"
REPEAT_TIMER = "crampguard:repeat:"
#: How far back a morning check-in looks for yesterday's missed one to ask again.
ASK_AGAIN_REACH = timedelta(hours=36)
#: How far back `done` looks for the reminder to credit, without --due.
DONE_LOOKBACK = timedelta(days=1)
#: How long this run remembers decisions and past pauses (the restart catch-up's reach).
MEMORY = timedelta(days=8)
#: `done --due 21:45` names a minute; the reminder due within it is the one.
DUE_MATCH = timedelta(minutes=1)
#: How many firings `next_shown` looks through (a week of a 10-minute routine).
NEXT_SHOWN_LOOKAHEAD = 1000
#: Buttons come back from the notification server (the only backend with buttons).
BUTTONS_BACKEND = "dbus"


class PresenceView(Protocol):
    """What the state machine asks of presence (``scheduler.presence``) on a due instant."""

    @property
    def idle_seconds(self) -> float | None: ...

    @property
    def locked(self) -> bool: ...

    @property
    def dnd(self) -> str | None: ...


class Timers(Protocol):
    """What the state machine needs from the engine."""

    def once(self, key: str, when: datetime, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` at ``when``, however late: lateness is decided here."""

    def cancel(self, key: str) -> None: ...

    def skip_next(self, routine_id: str) -> tuple[datetime, datetime | None] | None: ...

    def timetable(self, routine_id: str) -> Timetable | None: ...

    def next_time(self, routine_id: str) -> datetime | None: ...

    def upcoming(self, routine_id: str, start: datetime) -> Iterator[datetime]:
        """The firings at or after ``start``, an interval restarted on return included."""


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
class Pause:
    start: datetime
    end: datetime

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class LastDelivery:
    routine: str
    due: datetime
    at: datetime
    backend: str


class Reminders:
    def __init__(self, *, ledger: Ledger, timers: Timers,
                 routine: Callable[[str], Routine | None], send: Callable[[Notice], Delivery],
                 withdraw: Callable[[str, int], None], zone: Callable[[], Any],
                 presence: Callable[[], PresenceView | None] = lambda: None):
        self.ledger = ledger
        self._presence = presence
        self.timers = timers
        self._routine = routine
        self._send = send
        self._withdraw = withdraw
        self._zone = zone
        self.last_delivery: LastDelivery | None = None
        #: called with a reminder just answered done (follow-ups hang on it)
        self.on_done: Callable[[Reminder], None] = lambda reminder: None
        #: this run's decisions (and what it read back), so "at most once" holds while the
        #: journal cannot be read
        self._known: dict[tuple[str, datetime], Reminder] = {}
        self.pauses: list[Pause] = []
        self._restore()

    # --- firing --------------------------------------------------------------------------

    def settle(self, routine_id: str, run_times: list[datetime], grace_seconds: float, *,
               why_missed: str = "") -> None:
        """A routine's due run times (from the engine, or found after a restart or a clock
        step): each is held, missed or delivered at most once, decided on its due instant."""
        routine = self._routine(routine_id)
        if routine is None:
            return
        open_times = []
        for due in run_times:
            known = self.get(routine_id, due)
            if known is not None and known.state != "pending":  # pending: a follow-up
                log.info("%s due %s is already %s: not shown again", routine_id,
                         self.local(due), known.state)
                continue
            reason = self._hold_reason(routine_id, due)
            if reason:
                self.settle_as(routine_id, due, "held", reason)
            else:
                open_times.append(due)
        late, latest = catch_up(open_times, clock.now(), grace_seconds)
        for due, why in late:
            self.settle_as(routine_id, due, "missed", why + why_missed, counts_as_due=True)
        if latest is not None:
            self._show_or_wait(routine, latest)
            self._ask_again(routine, latest)

    def _ask_again(self, routine: Routine, due: datetime) -> None:
        """A morning check-in missed yesterday (never shown: the laptop stayed shut, or
        the user was away past its catch_up) is asked once more with today's, for the night
        before; never more than one night back. Shown once, so still at most once."""
        if not any(a.key.startswith(CRAMPS_KEY) for a in routine.notify.actions):
            return
        earlier = [r for r in self.recent(routine.id, due - ASK_AGAIN_REACH)
                   if r.due < due and r.state == "missed" and r.answer is None]
        if earlier and self._presence_hold(routine) is None:
            self._deliver(routine, due=earlier[0].due, again=earlier[0], asked_again=True)

    # --- presence: away, locked, do-not-disturb ---------------------------------------------

    def _presence_hold(self, routine: Routine) -> tuple[str, str] | None:
        """("away" | "dnd", why) when the reminder should not be shown now."""
        seen = self._presence()
        if seen is None:
            return None  # no presence source: shown as always
        if seen.locked:
            return "away", "the screen is locked"
        idle = seen.idle_seconds
        if idle is not None and idle >= routine.schedule.away_resets.total_seconds():
            return "away", f"away for {grammar.format_duration(timedelta(seconds=int(idle)))}"
        if seen.dnd and routine.notify.urgency != "critical":
            return "dnd", seen.dnd
        return None

    def _show_or_wait(self, routine: Routine, due: datetime) -> None:
        """Away: a break (when_away = "skip") is the user's own break, recorded and not
        shown; anything else waits for their return, as it waits for do-not-disturb to
        end, within its catch_up."""
        hold = self._presence_hold(routine)
        if hold is None:
            self._deliver(routine, due=due)
            return
        kind, why = hold
        if kind == "away" and routine.schedule.away == "skip":
            self.settle_as(routine.id, due, "held", f"away ({why})")
            return
        self.put(Reminder(routine.id, due, "waiting"))
        self._event("held", routine.id, at=clock.now(), due=due,
                    detail={"reason": why, "waiting": True})
        self._arm_wait(routine, due)
        log.info("waiting to show %s due %s: %s", routine.id, self.local(due), why)

    def _arm_wait(self, routine: Routine, due: datetime) -> None:
        self.timers.once(f"{WAIT_TIMER}{routine.id}@{due.isoformat()}",
                         max(due + routine.schedule.catch_up, clock.now()), self._wait_over,
                         routine.id, due)

    def _wait_over(self, routine_id: str, due: datetime) -> None:
        waiting = self.get(routine_id, due)
        if waiting is not None and waiting.state == "waiting":
            routine = self._routine(routine_id)
            grace = routine.schedule.catch_up if routine else timedelta()
            self.settle_as(routine_id, due, "missed",
                            f"held until past its catch_up ({grammar.format_duration(grace)})",
                            counts_as_due=True)

    def release(self) -> None:
        """Presence changed (the user is back, do-not-disturb ended): show what waited,
        within its catch_up, and what a snooze brought back meanwhile."""
        now = clock.now()
        for (routine_id, due), known in list(self._known.items()):
            routine = self._routine(routine_id)
            if routine is None or self._presence_hold(routine) is not None:
                continue
            if known.state == "waiting":
                self.timers.cancel(f"{WAIT_TIMER}{routine_id}@{due.isoformat()}")
                if now - due > routine.schedule.catch_up:
                    self._wait_over(routine_id, due)
                else:
                    self._deliver(routine, due=due)
            elif known.until is not None and known.until <= now:
                self._snooze_ended(routine_id, due)

    def holding(self) -> bool:
        """Whether something waits for the user's return or the end of do-not-disturb."""
        now = clock.now()
        return any(r.state == "waiting" or (r.until is not None and r.until <= now)
                   for r in self._known.values())

    def resume_waiting(self) -> None:
        """After a restart, once the routines are planned: reminders that were waiting
        wait on (or are shown, or missed) as if the daemon had run on."""
        for row in self.ledger.read(lambda j: j.waiting(), []):
            self._known.setdefault((row.routine, row.due), row)
            routine = self._routine(row.routine)
            if routine is not None:
                self._arm_wait(routine, row.due)
        self.release()

    def _hold_reason(self, routine_id: str, due: datetime) -> str | None:
        """Why a reminder due then is held back, if it is: a pause, or quiet hours."""
        for pause in self.pauses:
            if pause.covers(due):
                return f"paused until {self.local(pause.end)}"
        timetable = self.timers.timetable(routine_id)
        if timetable is not None and timetable.is_quiet(due):
            return "quiet hours"
        return None

    def settle_as(self, routine_id: str, due: datetime, state: str, reason: str, *,
                   counts_as_due: bool = False) -> None:
        self.put(Reminder(routine_id, due, state))
        now = clock.now()
        if counts_as_due:
            self._event("due", routine_id, at=now, due=due)
        self._event(state, routine_id, at=now, due=due, detail={"reason": reason})
        level = logging.WARNING if state == "missed" else logging.INFO
        log.log(level, "%s %s due %s: %s", state, routine_id, self.local(due), reason)

    def _deliver(self, routine: Routine, *, due: datetime, manual: bool = False,
                 again: Reminder | None = None, repeat: int = 0,
                 asked_again: bool = False) -> Reminder:
        """Show the notice, then record it: the record never holds the notice back.
        ``again``: the reminder shown once more (a snooze's return, or a ``repeat``, which
        takes its notice's place on screen)."""
        now = clock.now()
        replaces = _notice_id(again.notice) if again is not None and repeat else 0
        try:
            delivery = self._send(notices.reminder(routine, replaces_id=replaces))
        except NotifyError as exc:  # the console backend makes this next to impossible
            log.error("could not deliver %s: %s", routine.id, exc)
            failed = again or Reminder(routine.id, due, "failed", manual=manual)
            self.put(replace(failed, until=None))
            self._event("failed", routine.id, at=now, due=due, detail={"error": str(exc)})
            return failed
        notice = f"{delivery.backend}/{delivery.id}" if delivery.id is not None else None
        if asked_again:
            assert again is not None  # _ask_again passes the missed reminder it asks about
            shown = replace(again, state="delivered", notice=notice)
        elif again is not None:
            shown = replace(again, answer=None, until=None, notice=notice)
        else:
            shown = Reminder(routine.id, due, "delivered", notice=notice, manual=manual)
        self.put(shown)
        kind, detail = ("triggered", {"manual": True}) if manual else \
            ("repeated", {"repeat": repeat}) if repeat else \
            ("delivered", {"asked_again": True}) if asked_again else \
            ("delivered", {"snoozed": True} if again else None)
        if kind == "delivered" and again is None:
            self._event("due", routine.id, at=now, due=due)
        self._event(kind, routine.id, at=clock.now(), due=due, backend=delivery.backend,
                    detail=detail)
        self.last_delivery = LastDelivery(routine.id, due, now, delivery.backend)
        log.info("delivered %s via %s%s (due %s, %.3fs late)%s", routine.id, delivery.backend,
                 f" as #{delivery.id}" if delivery.id is not None else "", self.local(due),
                 (now - due).total_seconds(), f" {detail}" if detail else "")
        if not manual:
            self._arm_repeat(routine, shown, repeat + 1)
        return shown

    # --- repeat until answered ------------------------------------------------------------

    def _arm_repeat(self, routine: Routine, shown: Reminder, count: int) -> None:
        repeat = routine.notify.repeat
        if repeat is None or count > repeat.times:
            return
        self.timers.once(self._repeat_key(shown), clock.now() + repeat.every, self._repeat,
                         shown.routine, shown.due, count)

    def _repeat(self, routine_id: str, due: datetime, count: int) -> None:
        """The repeat timer: show the unanswered reminder again in its notice's place,
        unless a pause, quiet hours, absence or do-not-disturb hold it (then this repeat
        is recorded as held, and the next one is still planned)."""
        current, routine = self.get(routine_id, due), self._routine(routine_id)
        if current is None or routine is None or current.state != "delivered" \
                or current.answer is not None:
            return  # answered (or gone) since
        now = clock.now()
        presence = self._presence_hold(routine)
        reason = self._hold_reason(routine_id, now) or (presence[1] if presence else None)
        if reason is None:
            self._deliver(routine, due=due, again=current, repeat=count)
            return
        self._event("held", routine_id, at=now, due=due,
                    detail={"reason": reason, "repeat": count})
        log.info("repeat %d of %s due %s held: %s", count, routine_id, self.local(due),
                 reason)
        self._arm_repeat(routine, current, count + 1)

    @staticmethod
    def _repeat_key(reminder: Reminder) -> str:
        return f"{REPEAT_TIMER}{reminder.routine}@{reminder.due.isoformat()}"

    # --- answers (buttons and control commands) -------------------------------------------

    def action(self, notification_id: int, key: str) -> None:
        """A button pressed on a notice: it answers the reminder it sits on, whichever run
        of the daemon showed it."""
        notice = f"{BUTTONS_BACKEND}/{notification_id}"
        shown = next((r for r in self._known.values() if r.notice == notice), None) or \
            self.ledger.read(lambda j: j.reminder_by_notice(notice), None)
        if shown is None:
            return  # another program's notice
        try:
            if key == "done":
                self.done(shown.routine, due=shown.due)
            elif key.startswith("snooze:"):
                self.snooze(shown.routine, grammar.parse_duration(key.split(":", 1)[1]),
                            due=shown.due)
            elif key == "skip":
                self._answer(self._current(shown), "skipped", reason="the Skip button")
            elif key.startswith(CRAMPS_KEY):
                self._answer_night(self._current(shown), key.removeprefix(CRAMPS_KEY))
            else:
                return  # the default action (a click on the body): nothing to record
        except (CrampguardError, ValueError) as exc:
            log.warning("button %r on %s: %s", key, shown.routine, exc)
            return
        # Answered: some servers (dunst) leave the notice up after a button; take it down.
        self._withdraw(BUTTONS_BACKEND, notification_id)

    def _answer_night(self, checkin: Reminder, answer: str) -> None:
        """A morning check-in's button: the cramp log's entry for the night just gone (the
        night before the check-in was due, however late it is answered)."""
        night = stats.night_before(checkin.due, self._zone())
        at = clock.now()
        self.ledger.write(lambda j: j.log_night(night, answer, at=at, source="check-in"))
        log.info("night of %s: %s (check-in)", night.isoformat(), answer)
        if checkin.answer != "done":
            self._answer(checkin, "done", reason=f"cramps: {answer}")

    def done(self, routine_id: str, *, due: datetime | None = None) -> dict[str, Any]:
        """Credit the most recent unanswered reminder of the routine (delivered or missed,
        up to a day back), or the one due at ``due``."""
        target = self._answerable(routine_id, due)
        if target.answer == "done":
            return {"routine": routine_id, "due": self._iso(target.due), "already": True}
        self._answer(target, "done")
        return {"routine": routine_id, "due": self._iso(target.due), "already": False}

    def snooze(self, routine_id: str, wait: timedelta = defaults.SNOOZE, *,
               due: datetime | None = None) -> dict[str, Any]:
        target = self._answerable(routine_id, due, states=("delivered",))
        if target.answer == "done":
            raise CrampguardError(f"{routine_id} due {self.local(target.due)} is already done")
        until = clock.now() + wait
        self._answer(target, "snoozed", until=until,
                     detail={"until": until.isoformat(), "seconds": int(wait.total_seconds())})
        return {"routine": routine_id, "until": self._iso(until), "due": self._iso(target.due)}

    def _answer(self, target: Reminder, answer: str, *, until: datetime | None = None,
                reason: str | None = None, detail: dict[str, Any] | None = None) -> None:
        answered = replace(target, answer=answer, until=until)
        self.put(answered)
        detail = dict(detail or {})
        if reason:
            detail["reason"] = reason
        if target.manual:
            detail["manual"] = True
        self._event(answer, target.routine, at=clock.now(), due=target.due,
                    detail=detail or None)
        self.timers.cancel(self._repeat_key(target))  # an answer ends the repeats
        key = self._snooze_key(target)
        if until is None:
            self.timers.cancel(key)
        else:
            self.timers.once(key, until, self._snooze_ended, target.routine, target.due)
        log.info("%s %s%s (due %s)", answer, target.routine,
                 f" until {self.local(until)}" if until else "", self.local(target.due))
        if answer == "done":
            self.on_done(answered)

    def _snooze_ended(self, routine_id: str, due: datetime) -> None:
        target = self.get(routine_id, due)
        routine = self._routine(routine_id)
        if target is None or target.until is None or routine is None:
            return  # answered since, or the routine is gone
        late = clock.now() - target.until
        grace = routine.schedule.catch_up
        reason = self._hold_reason(routine_id, target.until)
        if reason is None and late > grace:
            reason = f"the snooze ended {int(late.total_seconds())}s ago, catch_up is " \
                     f"{int(grace.total_seconds())}s"
        if reason is None and self._presence_hold(routine) is not None:
            return  # kept (``until`` stays set): shown by release() when the user is back
        if reason:
            self.put(replace(target, until=None))
            self._event("missed", routine_id, at=clock.now(), due=due,
                        detail={"reason": f"snoozed: {reason}"})
            log.info("%s due %s not shown again after its snooze: %s", routine_id,
                     self.local(due), reason)
            return
        self._deliver(routine, due=due, again=target)

    def skip(self, routine_id: str) -> dict[str, Any]:
        """Drop the routine's next firing (one that would be shown, not one held anyway)."""
        self._require(routine_id)
        while True:
            skipped = self.timers.skip_next(routine_id)
            if skipped is None:
                raise CrampguardError(f"{routine_id} has no firing ahead to skip")
            dropped, following = skipped
            reason = self._hold_reason(routine_id, dropped)
            if reason:  # it would have been held: record that, and skip the next one
                self.settle_as(routine_id, dropped, "held", reason)
                continue
            break
        self.settle_as(routine_id, dropped, "skipped", "crampguard skip")
        return {"routine": routine_id, "skipped": self._iso(dropped),
                "next": self._iso(following)}

    def next_shown(self, routine_id: str, start: datetime | None) -> datetime | None:
        """The routine's next firing from ``start`` that will be shown: not held by a pause
        or quiet hours, not skipped ahead (what `status` calls next)."""
        if start is None:
            return None
        for count, at in enumerate(self.timers.upcoming(routine_id, start)):
            if count >= NEXT_SHOWN_LOOKAHEAD:
                return None
            if self._hold_reason(routine_id, at) is None and (routine_id, at) not in self._known:
                return at
        return None

    def trigger(self, routine_id: str) -> dict[str, Any]:
        """Show a routine's reminder now, recorded as manual: nothing was due."""
        routine = self._require(routine_id)
        now = clock.now()
        shown = self._deliver(routine, due=now, manual=True)
        if shown.state == "failed" or self.last_delivery is None:
            raise CrampguardError(f"no notifier could show {routine_id} (recorded as failed; "
                                  f"the daemon's log says why)")
        return {"routine": routine_id, "at": self._iso(now),
                "backend": self.last_delivery.backend}

    def _answerable(self, routine_id: str, due: datetime | None,
                    states: tuple[str, ...] = ("delivered", "missed")) -> Reminder:
        self._require(routine_id)
        if due is not None:
            found = [r for r in self.recent(routine_id, due - DUE_MATCH)
                     if abs(r.due - due) < DUE_MATCH and r.state in states]
            if not found:
                raise CrampguardError(
                    f"{routine_id} had no reminder due at {self.local(due)}; "
                    f"`crampguard history` lists them")
            return min(found, key=lambda r: abs(r.due - due))
        recent = [r for r in self.recent(routine_id, clock.now() - DONE_LOOKBACK)
                  if r.state in states]
        unanswered = [r for r in recent if r.answer in (None, "snoozed")]
        if unanswered:
            return unanswered[0]
        if recent:
            return recent[0]
        raise CrampguardError(
            f"{routine_id} has no reminder from the last day to answer; give --due TIME "
            f"for an older one")

    def recent(self, routine_id: str, since: datetime) -> list[Reminder]:
        """The routine's reminders due since ``since``, newest first: the journal's, with
        this run's memory over them (newer, and there while the journal is away)."""
        rows = {r.due: r for r in self.ledger.read(
            lambda j: j.reminders(routine_id, since=since, limit=500), [])}
        rows.update({due: r for (rid, due), r in self._known.items()
                     if rid == routine_id and due >= since})
        return sorted(rows.values(), key=lambda r: r.due, reverse=True)

    def _current(self, reminder: Reminder) -> Reminder:
        return self.get(reminder.routine, reminder.due) or reminder

    # --- pause ---------------------------------------------------------------------------

    @property
    def paused_until(self) -> datetime | None:
        now = clock.now()
        return next((p.end for p in self.pauses if p.covers(now)), None)

    def paused(self, now: datetime) -> bool:
        return any(p.covers(now) for p in self.pauses)

    def pause(self, until: datetime) -> dict[str, Any]:
        now = clock.now()
        if until <= now:
            raise CrampguardError("a pause must end in the future")
        self._set_pauses([p for p in self.pauses if not p.covers(now)] + [Pause(now, until)])
        self._event("paused", None, at=now, detail={"until": until.isoformat()})
        self.timers.once(PAUSE_TIMER, until, self._pause_ended)
        log.info("paused until %s", self.local(until))
        return {"paused_until": self._iso(until)}

    def resume(self, reason: str = "resume", *, from_job: bool = False) -> dict[str, Any]:
        now = clock.now()
        was = self.paused_until
        # The pause-end timer removes itself once it has run: APScheduler insists.
        if not from_job:
            self.timers.cancel(PAUSE_TIMER)
        if was is not None:
            self._set_pauses([replace(p, end=now) if p.covers(now) else p
                              for p in self.pauses])
        if was is not None or from_job:
            self._event("resumed", None, at=now, detail={"reason": reason})
            log.info("resumed (%s)", reason)
        return {"was_paused_until": self._iso(was)}

    def _pause_ended(self) -> None:
        self.resume("the pause ended", from_job=True)

    def _set_pauses(self, pauses: list[Pause]) -> None:
        cutoff = clock.now() - MEMORY
        self.pauses = sorted((p for p in pauses if p.end > cutoff), key=lambda p: p.start)
        text = json.dumps([[p.start.isoformat(), p.end.isoformat()] for p in self.pauses])
        self.ledger.write(lambda j: j.set_state("pauses", text))

    # --- restoring after a restart -----------------------------------------------------

    def _restore(self) -> None:
        """Pauses (past ones too: a reminder due during one is held, however late it is
        handled) and snoozes survive a restart of the daemon."""
        now = clock.now()
        text = self.ledger.read(lambda j: j.get_state("pauses"), None)
        if text:
            self.pauses = [Pause(datetime.fromisoformat(a), datetime.fromisoformat(b))
                           for a, b in json.loads(text)]
        elif legacy := self.ledger.read(lambda j: j.get_state("paused_until"), None):
            # Written by an earlier crampguard: the end only; its start is long past.
            self._set_pauses([Pause(now - MEMORY, datetime.fromisoformat(legacy))])
            self.ledger.write(lambda j: j.set_state("paused_until", None))
        active = self.paused_until
        if active is not None:
            self.timers.once(PAUSE_TIMER, active, self._pause_ended)
        for target in self.ledger.read(lambda j: j.snoozed(), []):
            self._known[(target.routine, target.due)] = target
            assert target.until is not None
            self.timers.once(self._snooze_key(target), max(target.until, now),
                             self._snooze_ended, target.routine, target.due)

    # --- memory and journal ------------------------------------------------------------

    def routine(self, routine_id: str) -> Routine | None:
        """The enabled routine of that id, if there is one."""
        return self._routine(routine_id)

    def remember(self, reminder: Reminder) -> None:
        """A row read back from the journal at start (a pending follow-up)."""
        self._known.setdefault((reminder.routine, reminder.due), reminder)

    def in_state(self, state: str) -> list[Reminder]:
        return [r for r in self._known.values() if r.state == state]

    def get(self, routine_id: str, due: datetime) -> Reminder | None:
        """The reminder's state: this run's memory, else the journal."""
        key = (routine_id, due)
        if key in self._known:
            return self._known[key]
        found = self.ledger.read(lambda j: j.reminder(routine_id, due), None)
        if found is not None:
            self._known[key] = found
        return found

    def put(self, reminder: Reminder) -> None:
        self._known[(reminder.routine, reminder.due)] = reminder
        if len(self._known) > 4000:  # a day of a one-minute routine, several times over
            cutoff = clock.now() - MEMORY
            self._known = {k: r for k, r in self._known.items()
                           if r.due > cutoff or r.until is not None}
        self.ledger.write(lambda j: j.put_reminder(reminder))

    def _event(self, kind: str, routine_id: str | None, *, at: datetime,
               due: datetime | None = None, backend: str | None = None,
               detail: dict[str, Any] | None = None) -> None:
        self.ledger.write(lambda j: j.record(kind, routine_id, at=at, due=due,
                                             backend=backend, detail=detail))

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    def _snooze_key(reminder: Reminder) -> str:
        return f"{SNOOZE_TIMER}{reminder.routine}@{reminder.due.isoformat()}"

    def _require(self, routine_id: str) -> Routine:
        routine = self._routine(routine_id)
        if routine is None:
            raise CrampguardError(f"no enabled routine {routine_id!r}")
        return routine

    def _iso(self, at: datetime | None) -> str | None:
        """Instants in replies carry the user's wall clock and offset."""
        return at.astimezone(self._zone()).isoformat() if at else None

    def local(self, at: datetime | None) -> str:
        return grammar.format_instant(at, self._zone())


def _notice_id(notice: str | None) -> int:
    """The server's id in a notice reference ("dbus/42"), 0 when there is none."""
    backend, _, number = (notice or "").partition("/")
    return int(number) if backend == BUTTONS_BACKEND and number.isdigit() else 0
