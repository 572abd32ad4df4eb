"""The one decision: whenever a reminder is up, show it, let it wait, hold it or miss it.

Pure: no clock, no journal, no bus. Every path that could put a reminder on screen (its
first firing, catch-up after sleep or downtime, a snooze's return, a repeat, a follow-up,
the check-in asked again, the release of a waiting one, a notice an earlier run left on a
screen whose buttons no longer answer it, shown again at start) asks ``decide`` with the reminder,
``now`` and the world at that moment, and does what the verdict says.

The precedence, first match wins:

1. **held on its instant**: a pause covers the reminder's instant → hold (counts as due: the
   user chose not to do it); quiet hours do, for a routine that respects them → hold (not
   due: the user asked not to be reminded then).
2. **too late**: more than ``catch_up`` after its instant → miss (counts as due).
3. **held now**: the same two, at ``now`` (a reminder handled late, or released, inside a
   pause or quiet hours is not shown there).
4. **presence unknown** (a source that answered has gone) → wait.
5. **away** or the screen locked: a break (``when_away = "skip"``) on its first showing →
   hold (the user is taking their break; not due); a routine with ``reach = "away"`` or
   ``"always"``, when a ``[reach]`` channel is configured → reach (sent to the channels
   instead of waiting for the user's return); anything else → wait.
6. **do-not-disturb**, unless the routine is critical → wait.
7. **no notification server** (the desktop's server went away) → wait.
8. otherwise → show; with ``reach = "always"`` (and a channel) → show and reach too.

A reminder shown on the desktop and still unanswered ``reach_after`` later (``why`` is
"reach-after") is held by what holds anything now (a pause, quiet hours); otherwise it
reaches the channels too.

A repeat never waits: what would wait is held for that repeat alone, and the next repeat is
still planned. A showing again at start does not wait either: held (or past its catch_up),
the old notice stays. A wait ends when the world changes (the reminder is decided again, as
a release) or at its instant + ``catch_up``: then it is missed, or failed when it was the
notification server that never came back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal, Protocol

from scheduler.config.routine import Routine
from scheduler.timing import grammar

#: Why a reminder is up now.
Why = Literal["first", "catch-up", "snooze", "repeat", "follow-up", "asked-again",
              "release", "shown-again", "reach-after"]
Kind = Literal["show", "wait", "hold", "miss", "reach"]
#: Why a reminder is up when it may go to the channels instead of waiting (not a repeat,
#: nor the check-in asked again, nor a notice shown again: those stay on the desktop).
_REACHES: tuple[Why, ...] = ("first", "catch-up", "follow-up", "release", "snooze")


class PresenceView(Protocol):
    """What the decision asks of presence (``scheduler.presence.PresenceState``)."""

    @property
    def idle_seconds(self) -> float | None: ...

    @property
    def locked(self) -> bool: ...

    @property
    def dnd(self) -> str | None: ...

    @property
    def unknown(self) -> str | None: ...


@dataclass(frozen=True)
class Pause:
    start: datetime
    end: datetime

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class Up:
    """A reminder that is up: its routine, its due instant, why, and the instant the rules
    look at (``due``; a snooze's end for its return; the repeat's own time)."""

    routine: Routine
    due: datetime
    why: Why
    at: datetime

    @classmethod
    def of(cls, routine: Routine, due: datetime, why: Why,
           at: datetime | None = None) -> Up:
        return cls(routine, due, why, due if at is None else at)


@dataclass(frozen=True)
class World:
    now: datetime
    zone: tzinfo
    pauses: tuple[Pause, ...] = ()
    #: whether quiet hours cover an instant, for the routine being decided (its timetable)
    quiet: Callable[[datetime], bool] = lambda at: False
    presence: PresenceView | None = None
    #: why no notification server can show a notice now, if so
    server_away: str | None = None
    #: whether a ``[reach]`` channel is configured
    channels: bool = False


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    reason: str = ""
    #: a hold or miss that counts as due in the statistics
    counts_as_due: bool = False
    #: a wait on the notification server (ends as "failed", not "missed")
    on_server: bool = False
    #: shown, and sent to the channels as well (``reach = "always"``)
    also_reach: bool = False


SHOW = Verdict("show")


def decide(up: Up, world: World) -> Verdict:
    """The verdict for ``up`` at ``world.now``, by the precedence in the module's text."""
    now, routine = world.now, up.routine
    held = _held(up.at, up, world)
    if held is not None:
        return held
    late = now - up.at
    grace = routine.schedule.catch_up
    # shown again: past catch_up, it stays as is; reach-after: shown already, it reaches on
    if late > grace and up.why not in ("repeat", "reach-after"):
        what = "the snooze ended {}s ago" if up.why == "snooze" else "{}s late"
        return Verdict("miss", f"{what.format(_seconds(late))}, catch_up is "
                               f"{_seconds(grace)}s", counts_as_due=True)
    held = _held(now, up, world)
    if held is not None:
        return held
    reaches = world.channels and routine.notify.reach != "never" and up.why in _REACHES
    if up.why == "reach-after":
        return Verdict("reach", f"unanswered after {_seconds(late)}s") if world.channels \
            and routine.notify.reach != "never" else Verdict("hold", "no channel")
    waiting = _wait_reason(up, world)
    if waiting is None:
        return Verdict("show", also_reach=True) if reaches and \
            routine.notify.reach == "always" and up.why != "snooze" else SHOW
    reason, away, on_server = waiting
    if up.why in ("repeat", "shown-again"):
        return Verdict("hold", reason)
    if away and routine.schedule.away == "skip" and up.why in ("first", "catch-up"):
        return Verdict("hold", f"away ({reason})")
    if away and reaches:
        return Verdict("reach", reason)
    return Verdict("wait", reason, on_server=on_server)


def _held(instant: datetime, up: Up, world: World) -> Verdict | None:
    """A pause, or quiet hours the routine respects, covering ``instant``."""
    pause = next((p for p in world.pauses if p.covers(instant)), None)
    if pause is not None:
        return Verdict("hold", f"paused until {_local(pause.end, world.zone)}",
                       counts_as_due=True)
    if up.routine.schedule.quiet_hours == "respect" and world.quiet(instant):
        return Verdict("hold", "quiet hours")
    return None


def _wait_reason(up: Up, world: World) -> tuple[str, bool, bool] | None:
    """(why, is it absence, is it the server) when the reminder cannot be shown now."""
    seen = world.presence
    if seen is not None and seen.unknown:
        return f"presence unknown: {seen.unknown}", False, False
    if seen is not None:
        if seen.locked:
            return "the screen is locked", True, False
        idle = seen.idle_seconds
        if idle is not None and idle >= up.routine.schedule.away_resets.total_seconds():
            return f"away for {grammar.format_duration(timedelta(seconds=int(idle)))}", \
                True, False
        if seen.dnd and up.routine.notify.urgency != "critical":
            return seen.dnd, False, False
    if world.server_away:
        return world.server_away, False, True
    return None


def wait_ends(up: Up) -> datetime:
    """When a waiting reminder gives up: its instant plus its ``catch_up``."""
    return up.at + up.routine.schedule.catch_up


def _seconds(span: timedelta) -> int:
    return int(span.total_seconds())


def _local(at: datetime, zone: tzinfo) -> str:
    return grammar.format_instant(at, zone)
