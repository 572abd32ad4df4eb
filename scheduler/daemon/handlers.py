"""The daemon's side of the control commands: one JSON request in, one JSON reply out.

Checks each request's arguments and calls the service; runs on the loop thread (the control
server's thread hands requests over), so it sees a consistent state. A new control command
is one handler here, one parser entry and one printer in the CLI.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from scheduler import clock
from scheduler.config import defaults
from scheduler.config.loader import RoutineSet
from scheduler.config.routine import EVENTS
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


Handler = Callable[[Service, dict[str, Any]], dict[str, Any]]


def handle(daemon: Service, request: dict[str, Any]) -> dict[str, Any]:
    handler = COMMANDS.get(str(request.get("cmd")))
    if handler is None:
        return {"ok": False, "error": f"unknown command {request.get('cmd')!r}; known: "
                                      f"{', '.join(sorted(COMMANDS))}"}
    try:
        return {"ok": True, **handler(daemon, request)}
    except CrampguardError as exc:
        return {"ok": False, "error": "\n".join(exc.problems)}


def _routine_id(request: dict[str, Any]) -> str:
    value = request.get("id")
    if not isinstance(value, str) or not value:
        raise CrampguardError("give a routine id")
    return value


def _instant(request: dict[str, Any], key: str) -> datetime:
    value = request.get(key)
    try:
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise CrampguardError(f"{key}: give an ISO 8601 time with its UTC offset")
    return at


def _seconds(request: dict[str, Any], key: str, default: timedelta,
             most: timedelta) -> timedelta:
    value = request.get(key)
    if value is None:
        return default
    if not isinstance(value, int | float) or isinstance(value, bool) or \
            not 0 < value <= most.total_seconds():
        raise CrampguardError(f"{key}: give a number of seconds, at most "
                              f"{int(most.total_seconds())}")
    return timedelta(seconds=value)


def _status(daemon: Service, request: dict[str, Any]) -> dict[str, Any]:
    return daemon.status()


def _pause(daemon: Service, request: dict[str, Any]) -> dict[str, Any]:
    until, now = _instant(request, "until"), clock.now()
    if until - now > defaults.PAUSE_MAX:
        raise CrampguardError(f"a pause is at most {defaults.PAUSE_MAX.days} days; for "
                              "longer, disable the routines (enabled = false)")
    return daemon.reminders.pause(until, now)


def _resume(daemon: Service, request: dict[str, Any]) -> dict[str, Any]:
    now = clock.now()
    reply = daemon.reminders.resume(now)
    daemon.reminders.release(now)  # what the pause held back and still waits
    return reply


def _snooze(daemon: Service, request: dict[str, Any]) -> dict[str, Any]:
    return daemon.answers.snooze(_routine_id(request), clock.now(),
                                 _seconds(request, "seconds", defaults.SNOOZE,
                                          defaults.SNOOZE_MAX))


def _skip(daemon: Service, request: dict[str, Any]) -> dict[str, Any]:
    return daemon.reminders.skip(_routine_id(request), clock.now())


def _done(daemon: Service, request: dict[str, Any]) -> dict[str, Any]:
    due = _instant(request, "due") if request.get("due") is not None else None
    return daemon.answers.done(_routine_id(request), clock.now(), due=due)


def _trigger(daemon: Service, request: dict[str, Any]) -> dict[str, Any]:
    routine_id = _routine_id(request)
    earlier = daemon.calls.earlier_trigger(routine_id)
    if earlier is not None:  # the one before was answered "accepted": not shown twice
        return {**{k: v for k, v in earlier.items() if k != "ok"}, "earlier": True}
    started = time.monotonic()
    reply = daemon.reminders.trigger(routine_id, clock.now())
    # Which notifier came first, and how long it took, tell a console delivery after a
    # hung notification server from one chosen in the settings.
    return {**reply, "first_choice": daemon.notifiers[0],
            "seconds": round(time.monotonic() - started, 1)}


def _reload(daemon: Service, request: dict[str, Any]) -> dict[str, Any]:
    daemon.reload()
    # Routines only, as the log line counts them; the daemon's own timers apart.
    return {"routines": len(daemon.routines.enabled), "pending": daemon.pending_timers(),
            "problems": daemon.problems()}


def _event(daemon: Service, request: dict[str, Any]) -> dict[str, Any]:
    name = request.get("name")
    if name not in EVENTS:
        raise CrampguardError(f"name: give one of {', '.join(EVENTS)}")
    when = _instant(request, "at")
    return {"event": name, "followups": daemon.followups.after_event(str(name), when)}


COMMANDS: dict[str, Handler] = {
    "status": _status, "pause": _pause, "resume": _resume, "snooze": _snooze,
    "skip": _skip, "done": _done, "trigger": _trigger, "reload": _reload, "event": _event,
}
