"""The daemon's side of the control commands: one JSON request in, one JSON reply out.

The commands, their fields' checks and their replies are declared in control/commands.py;
here is what each one does. Runs on the loop thread (the control server's thread hands
requests over), so it sees a consistent state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from scheduler import clock
from scheduler.config import defaults
from scheduler.config.loader import RoutineSet
from scheduler.config.routine import EVENTS
from scheduler.control.commands import (
    COMMANDS,
    DoneReply,
    EventReply,
    PauseReply,
    ReloadReply,
    Reply,
    ResumeReply,
    SkipReply,
    SnoozeReply,
    StatusReply,
    TriggerReply,
)
from scheduler.daemon.answers import Answers
from scheduler.daemon.calls import LoopCalls
from scheduler.daemon.followups import FollowUps
from scheduler.daemon.reminders import Reminders
from scheduler.errors import CrampguardError


class Service(Protocol):
    """What the handlers need of the running daemon (``service.Daemon`` implements it)."""

    reminders: Reminders
    answers: Answers
    routines: RoutineSet
    followups: FollowUps
    calls: LoopCalls

    @property
    def notifiers(self) -> tuple[str, ...]: ...

    def status(self) -> dict[str, Any]: ...

    def reload(self) -> None: ...

    def problems(self) -> list[str]: ...

    def pending_timers(self) -> dict[str, int]: ...


Handler = Callable[[Service, dict[str, Any]], Reply]


def handle(daemon: Service, request: dict[str, Any]) -> dict[str, Any]:
    command = COMMANDS.get(str(request.get("cmd")))
    if command is None:
        return {"ok": False, "error": f"unknown command {request.get('cmd')!r}; known: "
                                      f"{', '.join(sorted(COMMANDS))}"}
    try:
        reply = HANDLERS[command.name](daemon, command.values(request))
    except CrampguardError as exc:
        return {"ok": False, "error": "\n".join(exc.problems)}
    return {"ok": True, **reply.to_wire()}


def _status(daemon: Service, values: dict[str, Any]) -> StatusReply:
    return StatusReply.from_wire(daemon.status())


def _pause(daemon: Service, values: dict[str, Any]) -> PauseReply:
    until, now = values["until"], clock.now()
    if until - now > defaults.PAUSE_MAX:
        raise CrampguardError(f"a pause is at most {defaults.PAUSE_MAX.days} days; for "
                              "longer, disable the routines (enabled = false)")
    return PauseReply.from_wire(daemon.reminders.pause(until, now))


def _resume(daemon: Service, values: dict[str, Any]) -> ResumeReply:
    now = clock.now()
    reply = daemon.reminders.resume(now)
    daemon.reminders.release(now)  # what the pause held back and still waits
    return ResumeReply.from_wire(reply)


def _snooze(daemon: Service, values: dict[str, Any]) -> SnoozeReply:
    return SnoozeReply.from_wire(daemon.answers.snooze(
        values["id"], clock.now(), values["seconds"] or defaults.SNOOZE, due=values["due"]))


def _skip(daemon: Service, values: dict[str, Any]) -> SkipReply:
    return SkipReply.from_wire(daemon.reminders.skip(values["id"], clock.now()))


def _done(daemon: Service, values: dict[str, Any]) -> DoneReply:
    return DoneReply.from_wire(daemon.answers.done(values["id"], clock.now(),
                                                   due=values["due"]))


def _trigger(daemon: Service, values: dict[str, Any]) -> TriggerReply:
    routine_id = values["id"]
    earlier = daemon.calls.earlier_trigger(routine_id)
    if earlier is not None:  # the one before was answered "accepted": not shown twice
        return TriggerReply.from_wire(
            {**{k: v for k, v in earlier.items() if k != "ok"}, "earlier": True})
    started = time.monotonic()
    reply = daemon.reminders.trigger(routine_id, clock.now())
    # Which notifier came first, and how long it took, tell a console delivery after a
    # hung notification server from one chosen in the settings.
    return TriggerReply.from_wire({**reply, "first_choice": daemon.notifiers[0],
                                   "seconds": round(time.monotonic() - started, 1)})


def _reload(daemon: Service, values: dict[str, Any]) -> ReloadReply:
    daemon.reload()
    # Routines only, as the log line counts them; the daemon's own timers apart.
    return ReloadReply(routines=len(daemon.routines.enabled),
                       pending=daemon.pending_timers(), problems=daemon.problems())


def _event(daemon: Service, values: dict[str, Any]) -> EventReply:
    name, when = values["name"], values["at"]
    if name not in EVENTS:
        raise CrampguardError(f"name: give one of {', '.join(EVENTS)}")
    # A workout logged for last January plans nothing: after_event leaves out each
    # follower whose wait and catch_up are over, the same rule as after a restart.
    return EventReply(event=name, followups=daemon.followups.after_event(name, when,
                                                                           clock.now()))


HANDLERS: dict[str, Handler] = {
    "status": _status, "pause": _pause, "resume": _resume, "snooze": _snooze,
    "skip": _skip, "done": _done, "trigger": _trigger, "reload": _reload, "event": _event,
}
