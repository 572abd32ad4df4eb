"""A reminder's life: what happens when one is up, and everything planned around it.

Each firing is one reminder, identified by (routine, due instant), with one state:
pending (a follow-up) → delivered | waiting | held | missed | skipped | failed. Whenever one
is up, the pure ``decide`` says show, wait, hold or miss; this module does it and records
it, and plans what comes next (the end of a wait, a repeat, a snooze's return) as timers
whose facts are in the journal, so a restart picks them up (``resume``).

A (routine, due) that has a state is never shown again, whatever the clock does and however
often the daemon restarts. Showing a notice never waits on the journal: the notice goes
first, the record follows through the ``Ledger``. Runs on the daemon's loop thread only;
each entry point (a timer, a control command, a change of presence) reads the clock once
and passes ``now`` down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from scheduler import clock
from scheduler.config.routine import CRAMPS_KEY, Routine
from scheduler.daemon.decide import (
    Pause,
    PresenceView,
    Up,
    Verdict,
    Why,
    World,
    decide,
    wait_ends,
)
from scheduler.daemon.memory import Memory
from scheduler.errors import CrampguardError
from scheduler.journal import nights
from scheduler.journal.events import Reminder
from scheduler.notify import Delivery, Notice, NotifierAway, NotifyError
from scheduler.planning import notices
from scheduler.timing.plans import Timetable

log = logging.getLogger("crampguard")

#: Timer keys; ":" never occurs in a routine id.
PAUSE_TIMER = "crampguard:pause-end"
SNOOZE_TIMER = "crampguard:snooze:"
WAIT_TIMER = "crampguard:wait:"
REPEAT_TIMER = "crampguard:repeat:"
REACH_TIMER = "crampguard:reach:"
#: How far back a morning check-in looks for yesterday's missed one to ask again.
ASK_AGAIN_REACH = timedelta(hours=36)
#: How many firings `next_shown` looks through (a week of a 10-minute routine).
NEXT_SHOWN_LOOKAHEAD = 1000
#: Buttons come back from the notification server (the only backend with buttons).
BUTTONS_BACKEND = "dbus"


class Reach(Protocol):
    """The ``[reach]`` channels, as the state machine meets them (daemon.reach_flow, loaded
    only with a ``[reach]`` table)."""

    def away(self, up: Up, verdict: Verdict, now: datetime) -> None: ...

    def also(self, up: Up, now: datetime) -> None: ...

    def shown(self, routine: Routine, due: datetime, now: datetime) -> None: ...

    def trouble(self, routine_id: str, due: datetime) -> str | None: ...

    def resume(self, now: datetime) -> None: ...


class Timers(Protocol):
    """What the state machine needs from the engine and the daemon's plans."""

    def once(self, key: str, when: datetime, fn: Callable[..., None], *args: Any) -> None: ...

    def cancel(self, key: str) -> None: ...

    def skip_next(self, routine_id: str) -> tuple[datetime, datetime | None] | None: ...

    def timetable(self, routine_id: str) -> Timetable | None: ...

    def next_time(self, routine_id: str) -> datetime | None: ...

    def upcoming(self, routine_id: str, start: datetime) -> Iterable[datetime]: ...


@dataclass(frozen=True)
class LastDelivery:
    routine: str
    due: datetime
    at: datetime
    backend: str


class Reminders:
    def __init__(self, *, memory: Memory, timers: Timers,
                 routine: Callable[[str], Routine | None],
                 enabled: Callable[[], Iterable[Routine]], send: Callable[[Notice], Delivery],
                 presence: Callable[[], PresenceView | None] = lambda: None):
        self.memory = memory
        self.timers = timers
        self._routine = routine
        self._enabled = enabled
        self._send = send
        self._presence = presence
        self.last_delivery: LastDelivery | None = None
        #: why the desktop's notification server cannot show a notice, while it cannot
        self.server_away: str | None = None
        #: the channels away from the desk; None without a ``[reach]`` table
        self.reach: Reach | None = None

    # --- the world, as the decision sees it ----------------------------------------------

    def world(self, routine_id: str, now: datetime, *, ahead: bool = False) -> World:
        """The world at ``now`` for a routine; ``ahead``: a prediction for a future instant
        (presence and the server are not known then)."""
        timetable = self.timers.timetable(routine_id)
        seen = None if ahead else self._presence()
        return World(
            now=now, zone=self.memory.zone, pauses=self.memory.pauses,
            quiet=timetable.is_quiet if timetable is not None else (lambda at: False),
            presence=seen, server_away=None if ahead else self.server_away,
            channels=self.reach is not None)

    def would_hold(self, routine: Routine, at: datetime) -> Verdict | None:
        """The hold a firing at ``at`` will meet (a pause, quiet hours), if any."""
        verdict = decide(Up.of(routine, at, "first"), self.world(routine.id, at, ahead=True))
        return verdict if verdict.kind == "hold" else None

    # --- due firings ---------------------------------------------------------------------

    def settle(self, routine_id: str, run_times: list[datetime], now: datetime, *,
               why: Why = "first", why_missed: str = "") -> None:
        """A routine's due run times (from its timer, after a restart or a clock step, or a
        follow-up): each is decided at most once; of several, only the latest may be shown."""
        routine = self._routine(routine_id)
        if routine is None:
            return
        open_times = []
        for due in run_times:
            known = self.memory.get(routine_id, due)
            if known is not None and known.state != "pending":
                log.info("%s due %s is already %s: not shown again", routine_id,
                         self.memory.local(due), known.state)
                continue
            open_times.append(due)
        if not open_times:
            return
        *older, latest = open_times
        world = self.world(routine_id, now)
        for due in older:
            verdict = decide(Up.of(routine, due, "catch-up"), world)
            if verdict.kind != "hold":
                verdict = Verdict("miss", "superseded by a later one", counts_as_due=True)
            self._record(routine.id, due, verdict, now, why_missed)
        up = Up.of(routine, latest, why)
        verdict = decide(up, world)
        self._act(up, verdict, now, why_missed)
        if verdict.kind == "show":
            self._ask_again(routine, latest, now)

    def _act(self, up: Up, verdict: Verdict, now: datetime, why_missed: str = "") -> None:
        """Do what the verdict says for a reminder up for the first time or released."""
        if verdict.kind == "show":
            shown = self._deliver(up, now)
            if verdict.also_reach and shown.state == "delivered" and self.reach is not None:
                self.reach.also(up, now)
        elif verdict.kind == "wait":
            self._wait(up, verdict, now)
        elif verdict.kind == "reach" and self.reach is not None:
            self.reach.away(up, verdict, now)
        else:
            self._record(up.routine.id, up.due, verdict, now, why_missed)

    def _record(self, routine_id: str, due: datetime, verdict: Verdict, now: datetime,
                why_missed: str = "") -> None:
        state = "held" if verdict.kind == "hold" else "missed"
        reason = verdict.reason + (why_missed if state == "missed" else "")
        self.settle_as(routine_id, due, state, reason, now,
                       counts_as_due=verdict.counts_as_due)

    def settle_as(self, routine_id: str, due: datetime, state: str, reason: str,
                  now: datetime, *, counts_as_due: bool = False) -> None:
        self.memory.put(Reminder(routine_id, due, state), now)
        if counts_as_due:
            self.memory.event("due", routine_id, at=now, due=due)
        self.memory.event(state, routine_id, at=now, due=due, detail={"reason": reason})
        level = logging.WARNING if state in ("missed", "failed") else logging.INFO
        log.log(level, "%s %s due %s: %s", state, routine_id, self.memory.local(due), reason)

    def _ask_again(self, routine: Routine, due: datetime, now: datetime) -> None:
        """A morning check-in missed yesterday (never shown: the laptop stayed shut, or
        the user was away past its catch_up) is asked once more with today's, for the night
        before; never more than one night back. Shown once, so still at most once."""
        if not any(a.key.startswith(CRAMPS_KEY) for a in routine.notify.actions):
            return
        earlier = [r for r in self.memory.recent(routine.id, due - ASK_AGAIN_REACH)
                   if r.due < due and r.state == "missed" and r.answer is None]
        if not earlier:
            return
        up = Up.of(routine, earlier[0].due, "asked-again", at=now)
        if decide(up, self.world(routine.id, now)).kind == "show":
            self._deliver(up, now, again=earlier[0])

    # --- waiting for the user, do-not-disturb, or the notification server -----------------

    def _wait(self, up: Up, verdict: Verdict, now: datetime) -> None:
        routine = up.routine
        known = self.memory.get(routine.id, up.due)
        if known is None or known.state != "waiting":  # tried again: recorded once
            self.memory.put(Reminder(routine.id, up.due, "waiting"), now)
            self.memory.event("held", routine.id, at=now, due=up.due,
                              detail={"reason": verdict.reason, "waiting": True})
            log.info("waiting to show %s due %s: %s", routine.id,
                     self.memory.local(up.due), verdict.reason)
        self.arm_wait(up, now)

    def arm_wait(self, up: Up, now: datetime) -> None:
        self.timers.once(wait_key(up.routine.id, up.due),
                         max(wait_ends(up), now), self._wait_over, up.routine.id, up.due)

    def _wait_over(self, routine_id: str, due: datetime) -> None:
        """The end of a wait, at its instant plus catch_up (a reminder waiting, or a
        snooze's return): shown if nothing holds it now; a hold stays a hold; what would
        still wait ends — missed, or failed when it is the notification server that never
        came back."""
        now = clock.now()
        target, routine = self.memory.get(routine_id, due), self._routine(routine_id)
        if target is None or routine is None:
            return
        trouble = self.reach.trouble(routine_id, due) if self.reach is not None else None
        if target.state == "waiting" and trouble is not None:
            # sent to the channels, which never took it: failed, with the channel's reason
            self.settle_as(routine_id, due, "failed", trouble, now, counts_as_due=True)
            return
        if target.state == "waiting":
            up = Up.of(routine, due, "release")
        elif target.until is not None:
            up = Up.of(routine, due, "snooze", at=target.until)
        else:
            return  # shown or ended since
        # Judged at the wait's own end: the timer runs a little after it, and "too late"
        # would otherwise hide what kept the reminder off the screen.
        verdict = decide(up, self.world(routine_id, min(now, wait_ends(up))))
        if verdict.kind == "wait" and verdict.on_server and up.why == "release":
            self.settle_as(routine_id, due, "failed", verdict.reason, now,
                           counts_as_due=True)
            return
        if verdict.kind == "wait":
            grace = int(routine.schedule.catch_up.total_seconds())
            verdict = Verdict("miss", f"held until past its catch_up ({grace}s): "
                                      f"{verdict.reason}", counts_as_due=True)
        if up.why == "snooze":
            self._snooze_outcome(up, target, verdict, now)
        else:
            self._act(up, verdict, now)

    def release(self, now: datetime) -> None:
        """The world changed (the user is back, do-not-disturb ended, the server returned, a
        pause began or ended): decide again what waited, and snoozes due meanwhile."""
        for known in self.memory.known():
            routine = self._routine(known.routine)
            if routine is None:
                continue
            if known.state == "waiting":
                up = Up.of(routine, known.due, "release")
                verdict = decide(up, self.world(routine.id, now))
                if verdict.kind != "wait":
                    self.timers.cancel(wait_key(routine.id, known.due))
                    self._act(up, verdict, now)
            elif known.until is not None and known.until <= now:
                self.snooze_ended(routine.id, known.due, now)

    def server_back(self, now: datetime) -> None:
        """The desktop's notification server has its name on the bus again."""
        self.server_away = None
        self.release(now)

    def holding(self) -> bool:
        """Whether something waits for the world to change."""
        now = clock.now()
        return any(r.state == "waiting" or (r.until is not None and r.until <= now)
                   for r in self.memory.known())

    # --- showing -------------------------------------------------------------------------

    def _deliver(self, up: Up, now: datetime, *, again: Reminder | None = None,
                 repeat: int = 0, manual: bool = False, shown_again: bool = False
                 ) -> Reminder:
        """Show the notice, then record it: the record never holds the notice back.
        ``again``: the reminder shown once more (a snooze's return, a repeat or a showing
        again after a restart in its notice's place, the check-in asked again)."""
        routine, due = up.routine, up.due
        replaces = _notice_id(again.notice) if again is not None and (repeat or shown_again) \
            else 0
        # The check-in asked again names its night: two check-ins never look alike.
        night = nights.night_before(due, self.memory.zone) if up.why == "asked-again" else None
        try:
            delivery = self._send(notices.reminder(routine, replaces_id=replaces, night=night))
        except NotifyError as exc:
            # The server gone: what is due waits for it; a trigger is answered now, so it
            # fails like any other failure.
            if isinstance(exc, NotifierAway) and not manual:
                self.server_away = str(exc)
                if again is None:
                    self._wait(up, Verdict("wait", str(exc), on_server=True), now)
                    return Reminder(routine.id, due, "waiting")
                self._not_shown_again(routine, again, now, str(exc), repeat)
                return again
            log.error("could not deliver %s: %s", routine.id, exc)
            failed = again or Reminder(routine.id, due, "failed", manual=manual)
            self.memory.put(replace(failed, until=None), now)
            if again is None and not manual:
                self.memory.event("due", routine.id, at=now, due=due)
            self.memory.event("failed", routine.id, at=now, due=due,
                              detail={"error": str(exc)})
            return failed
        self.server_away = None
        notice = f"{delivery.backend}/{delivery.id}" if delivery.id is not None else None
        if up.why == "asked-again":
            assert again is not None
            shown = replace(again, state="delivered", notice=notice)
        elif again is not None:
            shown = replace(again, answer=None, until=None, notice=notice)
        else:
            shown = Reminder(routine.id, due, "delivered", notice=notice, manual=manual)
        self.memory.put(shown, now)
        kind, detail = ("triggered", {"manual": True}) if manual else \
            ("repeated", {"repeat": repeat}) if repeat else \
            ("repeated", {"shown_again": "restart"}) if shown_again else \
            ("delivered", {"asked_again": True}) if up.why == "asked-again" else \
            ("delivered", {"snoozed": True} if again else None)
        if kind == "delivered" and again is None:
            self.memory.event("due", routine.id, at=now, due=due)
        self.memory.event(kind, routine.id, at=now, due=due, backend=delivery.backend,
                          detail=detail)
        self.last_delivery = LastDelivery(routine.id, due, now, delivery.backend)
        log.info("delivered %s via %s%s (due %s, %.3fs late)%s", routine.id, delivery.backend,
                 f" as #{delivery.id}" if delivery.id is not None else "",
                 self.memory.local(due), (now - due).total_seconds(),
                 f" {detail}" if detail else "")
        if not manual and not shown_again:  # its repeats are planned already
            self._arm_repeat(routine, shown, repeat + 1, now + _every(routine))
        if self.reach is not None and again is None and not manual:
            self.reach.shown(routine, due, now)
        return shown

    def _not_shown_again(self, routine: Routine, target: Reminder, now: datetime,
                         reason: str, repeat: int = 0) -> None:
        """A reminder already shown once that is not shown again now (a snooze's return, a
        repeat, the check-in asked again): the row keeps its first outcome, the event says
        why; a snooze's return is over, and the next repeat is still planned."""
        if target.until is not None:
            self.memory.put(replace(target, until=None), now)
        detail: dict[str, Any] = {"reason": reason}
        if repeat:
            detail["repeat"] = repeat
        self.memory.event("held", routine.id, at=now, due=target.due, detail=detail)
        what = f"repeat {repeat} of {routine.id}" if repeat else routine.id
        log.info("%s due %s held, not shown again: %s", what,
                 self.memory.local(target.due), reason)
        if repeat:
            self._arm_repeat(routine, target, repeat + 1, now + _every(routine))

    def trigger(self, routine_id: str, now: datetime) -> dict[str, Any]:
        """Show a routine's reminder now, recorded as manual: nothing was due."""
        routine = self.require(routine_id)
        shown = self._deliver(Up.of(routine, now, "first"), now, manual=True)
        if shown.state != "delivered" or self.last_delivery is None:
            raise CrampguardError(f"no notifier could show {routine_id} (recorded as failed; "
                                  f"the daemon's log says why)")
        return {"routine": routine_id, "at": self.memory.iso(now),
                "backend": self.last_delivery.backend}

    # --- repeat until answered -------------------------------------------------------------

    def _arm_repeat(self, routine: Routine, shown: Reminder, count: int,
                    at: datetime) -> None:
        repeat = routine.notify.repeat
        if repeat is None or count > repeat.times:
            return
        # A key per repeat: the timer that runs re-arms the next, and an engine may drop
        # a timer of its own key once its run ends.
        self.timers.once(repeat_key(shown, count), at, self._repeat, shown.routine,
                         shown.due, count)

    def _repeat(self, routine_id: str, due: datetime, count: int) -> None:
        """The repeat timer: show the unanswered reminder again in its notice's place;
        what holds it holds this repeat alone, and the next one is still planned."""
        now = clock.now()
        current, routine = self.memory.get(routine_id, due), self._routine(routine_id)
        if current is None or routine is None or current.state != "delivered" \
                or current.answer is not None:
            return  # answered (or gone) since
        up = Up.of(routine, due, "repeat", at=now)
        verdict = decide(up, self.world(routine_id, now))
        if verdict.kind == "show":
            self._deliver(up, now, again=current, repeat=count)
            return
        self._not_shown_again(routine, current, now, verdict.reason, count)

    # --- a snooze's return -----------------------------------------------------------------

    def snooze_ended(self, routine_id: str, due: datetime, now: datetime | None = None) -> None:
        now = now or clock.now()
        target = self.memory.get(routine_id, due)
        routine = self._routine(routine_id)
        if target is None or target.until is None or routine is None:
            return  # answered since, or the routine is gone
        up = Up.of(routine, due, "snooze", at=target.until)
        verdict = decide(up, self.world(routine_id, now))
        if verdict.kind == "wait":
            # ``until`` stays set: decided again on release, or when the wait ends
            self.arm_wait(up, now)
            return
        self._snooze_outcome(up, target, verdict, now)

    def _snooze_outcome(self, up: Up, target: Reminder, verdict: Verdict,
                        now: datetime) -> None:
        if verdict.kind == "show":
            self._deliver(up, now, again=target)
        elif verdict.kind == "reach" and self.reach is not None:
            # away when it returns: to the channels, answerable there
            self.memory.put(replace(target, answer=None, until=None), now)
            self.reach.also(up, now)
        elif verdict.kind == "miss":
            self.memory.put(replace(target, until=None), now)
            self.memory.event("missed", up.routine.id, at=now, due=up.due,
                              detail={"reason": f"snoozed: {verdict.reason}"})
            log.info("%s due %s not shown again after its snooze: %s", up.routine.id,
                     self.memory.local(up.due), verdict.reason)
        else:
            self._not_shown_again(up.routine, target, now, f"snoozed: {verdict.reason}")

    # --- pause ---------------------------------------------------------------------------

    def pause(self, until: datetime, now: datetime) -> dict[str, Any]:
        if until <= now:
            raise CrampguardError("a pause must end in the future")
        self.memory.set_pauses([p for p in self.memory.pauses if not p.covers(now)]
                               + [Pause(now, until)], now)
        self.memory.event("paused", None, at=now, detail={"until": until.isoformat()})
        self.timers.once(PAUSE_TIMER, until, self._pause_ended)
        log.info("paused until %s", self.memory.local(until))
        self.release(now)  # what waits is held now: nothing is shown inside a pause
        return {"paused_until": self.memory.iso(until)}

    def resume(self, now: datetime, reason: str = "resume", *,
               from_timer: bool = False) -> dict[str, Any]:
        was = self.memory.paused_until(now)
        if not from_timer:
            self.timers.cancel(PAUSE_TIMER)
        if was is not None:
            self.memory.set_pauses([replace(p, end=now) if p.covers(now) else p
                                    for p in self.memory.pauses], now)
        if was is not None or from_timer:
            self.memory.event("resumed", None, at=now, detail={"reason": reason})
            log.info("resumed (%s)", reason)
        return {"was_paused_until": self.memory.iso(was)}

    def _pause_ended(self) -> None:
        now = clock.now()
        later = self.memory.paused_until(now)
        if later is not None:
            # a pause begun after the clock stepped back ended, and an older one still
            # covers now: the one pause timer waits for that one's end instead
            self.timers.once(PAUSE_TIMER, later, self._pause_ended)
            return
        self.resume(now, "the pause ended", from_timer=True)
        self.release(now)

    # --- skipping ahead and what comes next ------------------------------------------------

    def skip(self, routine_id: str, now: datetime) -> dict[str, Any]:
        """Drop the routine's next firing (one that would be shown, not one held anyway)."""
        routine = self.require(routine_id)
        while True:
            skipped = self.timers.skip_next(routine_id)
            if skipped is None:
                raise CrampguardError(f"{routine_id} has no firing ahead to skip")
            dropped, following = skipped
            known = self.memory.get(routine_id, dropped)
            if known is not None and known.state != "pending":
                # planned again from an earlier instant (a restart, the clock stepped
                # back): settled already, so a second record would count it twice
                continue
            hold = self.would_hold(routine, dropped)
            if hold is None:
                break
            # it would have been held: record that, and skip the next one
            self._record(routine_id, dropped, hold, now)
        self.settle_as(routine_id, dropped, "skipped", "crampguard skip", now)
        return {"routine": routine_id, "skipped": self.memory.iso(dropped),
                "next": self.memory.iso(following)}

    def next_shown(self, routine_id: str, start: datetime | None) -> datetime | None:
        """The routine's next firing from ``start`` that will be shown: not held by a pause
        or quiet hours, not skipped ahead (what `status` calls next)."""
        routine = self._routine(routine_id)
        if routine is None or start is None:
            return None
        for count, at in enumerate(self.timers.upcoming(routine_id, start)):
            if count >= NEXT_SHOWN_LOOKAHEAD:
                return None
            if self.would_hold(routine, at) is None \
                    and self.memory.get(routine_id, at) is None:
                return at
        return None

    # --- after a restart -----------------------------------------------------------------

    def resume_planned(self, now: datetime) -> None:
        """After a restart, once the routines are planned: the end of the pause, snoozes,
        waiting reminders and repeats come back as if the daemon had run on."""
        active = self.memory.paused_until(now)
        if active is not None:
            self.timers.once(PAUSE_TIMER, active, self._pause_ended)
        for target in self.memory.restore(self.memory.ledger.read(lambda j: j.snoozed(), [])):
            assert target.until is not None
            self.timers.once(snooze_key(target), max(target.until, now), self.snooze_ended,
                             target.routine, target.due)
        for row in self.memory.restore(self.memory.ledger.read(lambda j: j.waiting(), [])):
            routine = self._routine(row.routine)
            if routine is not None:
                self.arm_wait(Up.of(routine, row.due, "release"), now)
        self._resume_repeats(now)
        if self.reach is not None:
            self.reach.resume(now)
        self.release(now)

    def show_earlier_again(self, now: datetime, presses_lost: Callable[[], bool]) -> None:
        """After a restart, on a server that loses the presses on notices an earlier run
        showed (GNOME Shell): each reminder still unanswered within its catch_up is shown
        again in its notice's place, from this run, so its buttons answer it again. The
        same reminder and row; the showing is recorded as one more, like a repeat. The
        server is asked (``presses_lost``) only when such a notice is there."""
        reach = max((r.schedule.catch_up for r in self._enabled()), default=None)
        if reach is None:
            return
        rows = self.memory.restore(self.memory.ledger.read(
            lambda j: j.unanswered(since=now - reach), []))
        shown = [(routine, row) for row in rows if _notice_id(row.notice)
                 and (routine := self._routine(row.routine)) is not None]
        if not shown or not presses_lost():
            return
        for routine, row in shown:
            up = Up.of(routine, row.due, "shown-again")
            verdict = decide(up, self.world(routine.id, now))
            if verdict.kind == "show":
                self._deliver(up, now, again=row, shown_again=True)
            elif verdict.kind == "hold":
                self._not_shown_again(routine, row, now, verdict.reason)
            else:  # past its catch_up: the old notice stays as it is
                log.info("%s due %s not shown again: %s", routine.id,
                         self.memory.local(row.due), verdict.reason)

    def _resume_repeats(self, now: datetime) -> None:
        reach = max((repeat.every * (repeat.times + 1) for r in self._enabled()
                     if (repeat := r.notify.repeat) is not None), default=None)
        if reach is None:
            return
        for row in self.memory.restore(self.memory.ledger.read(
                lambda j: j.unanswered(since=now - reach), [])):
            routine = self._routine(row.routine)
            if routine is None or routine.notify.repeat is None:
                continue
            shown = self._showings(row)
            count = len(shown)  # the first showing, then each repeat held or shown
            last = max(shown, default=row.due)
            self._arm_repeat(routine, row, count, max(last + _every(routine), now))

    def events_of(self, row: Reminder) -> list[Any]:
        """The journal's events of a reminder's routine since its due instant."""
        return self.memory.ledger.read(
            lambda j: j.events(routine=row.routine, since=row.due), [])

    def _showings(self, row: Reminder) -> list[datetime]:
        events = self.events_of(row)
        return [e.at for e in events if e.due == row.due and (
            e.kind in ("delivered", "repeated")
            or (e.kind == "held" and "repeat" in e.detail))]

    # --- small helpers -------------------------------------------------------------------

    def enabled(self) -> Iterable[Routine]:
        return self._enabled()

    def routine(self, routine_id: str) -> Routine | None:
        """The enabled routine of that id, if there is one."""
        return self._routine(routine_id)

    def require(self, routine_id: str) -> Routine:
        routine = self._routine(routine_id)
        if routine is None:
            raise CrampguardError(f"no enabled routine {routine_id!r}")
        return routine


def snooze_key(reminder: Reminder) -> str:
    return f"{SNOOZE_TIMER}{reminder.routine}@{reminder.due.isoformat()}"


def wait_key(routine_id: str, due: datetime) -> str:
    return f"{WAIT_TIMER}{routine_id}@{due.isoformat()}"


def repeat_key(reminder: Reminder, count: int) -> str:
    return f"{REPEAT_TIMER}{reminder.routine}@{reminder.due.isoformat()}#{count}"


def repeat_keys(reminder: Reminder, routine: Routine | None) -> list[str]:
    """Every repeat timer a reminder may have (an answer ends them all)."""
    times = routine.notify.repeat.times if routine and routine.notify.repeat else 0
    return [repeat_key(reminder, count) for count in range(1, times + 1)]


def _every(routine: Routine) -> timedelta:
    return routine.notify.repeat.every if routine.notify.repeat else timedelta()


def _notice_id(notice: str | None) -> int:
    """The server's id in a notice reference ("dbus/42"), 0 when there is none."""
    backend, _, number = (notice or "").partition("/")
    return int(number) if backend == BUTTONS_BACKEND and number.isdigit() else 0
