"""The daemon's side of the control commands: one JSON request in, one JSON reply out.

Checks each request's arguments and calls the daemon; runs on the loop thread (the control
server's thread hands requests over), so it sees a consistent state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from scheduler.errors import CrampguardError

if TYPE_CHECKING:
    from scheduler.daemon.service import Daemon

Handler = Callable[["Daemon", dict[str, Any]], dict[str, Any]]


def handle(daemon: Daemon, request: dict[str, Any]) -> dict[str, Any]:
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


def _seconds(request: dict[str, Any], key: str, default: timedelta) -> timedelta:
    value = request.get(key)
    if value is None:
        return default
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < 1e7:
        raise CrampguardError(f"{key}: give a number of seconds")
    return timedelta(seconds=value)


def _status(daemon: Daemon, request: dict[str, Any]) -> dict[str, Any]:
    return daemon.status()


def _pause(daemon: Daemon, request: dict[str, Any]) -> dict[str, Any]:
    return daemon.reminders.pause(_instant(request, "until"))


def _resume(daemon: Daemon, request: dict[str, Any]) -> dict[str, Any]:
    return daemon.reminders.resume()


def _snooze(daemon: Daemon, request: dict[str, Any]) -> dict[str, Any]:
    from scheduler.daemon.reminders import DEFAULT_SNOOZE

    return daemon.reminders.snooze(_routine_id(request),
                                   _seconds(request, "seconds", DEFAULT_SNOOZE))


def _skip(daemon: Daemon, request: dict[str, Any]) -> dict[str, Any]:
    return daemon.reminders.skip(_routine_id(request))


def _done(daemon: Daemon, request: dict[str, Any]) -> dict[str, Any]:
    return daemon.reminders.done(_routine_id(request))


def _trigger(daemon: Daemon, request: dict[str, Any]) -> dict[str, Any]:
    return daemon.reminders.trigger(_routine_id(request))


def _reload(daemon: Daemon, request: dict[str, Any]) -> dict[str, Any]:
    daemon.reload()
    return {"routines": len(daemon.routines.enabled), "problems": daemon.routines.problems}


COMMANDS: dict[str, Handler] = {
    "status": _status, "pause": _pause, "resume": _resume, "snooze": _snooze,
    "skip": _skip, "done": _done, "trigger": _trigger, "reload": _reload,
}
