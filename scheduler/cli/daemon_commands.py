"""The commands that talk to the running daemon: build the request, send it over the control
channel, return the reply as its type. "not running" is an error (exit 1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scheduler import clock
from scheduler.cli import times
from scheduler.cli.results import REPLIES, DaemonReply
from scheduler.config.context import Context
from scheduler.errors import CrampguardError, NotRunning


def call(ctx: Context, command: str, **args: Any) -> DaemonReply:
    from scheduler.control.client import request

    reply = request(ctx.paths.control_socket, {"cmd": command, **args})
    if not reply.get("ok"):
        raise CrampguardError(str(reply.get("error") or "the daemon refused the request"))
    return REPLIES[command]({k: v for k, v in reply.items() if k != "ok"})


def pause(ctx: Context, words: list[str]) -> DaemonReply:
    until = times.pause_until(words, clock.now(), ctx.settings.zone)
    return call(ctx, "pause", until=until.isoformat())


def snooze(ctx: Context, routine_id: str, duration: str | None) -> DaemonReply:
    args: dict[str, Any] = {"id": routine_id}
    if duration:
        args["seconds"] = times.duration(duration, "snooze", times.SNOOZE_MAX).total_seconds()
    return call(ctx, "snooze", **args)


def done(ctx: Context, routine_id: str, due: str | None) -> DaemonReply:
    args: dict[str, Any] = {"id": routine_id}
    if due:
        args["due"] = times.parse_when(due, clock.now(), ctx.settings.zone,
                                       "--due").isoformat()
    return call(ctx, "done", **args)


def tell_event(ctx: Context, name: str, when: datetime) -> str | None:
    """Tell the running daemon that ``name`` (a workout) happened at ``when``, so that the
    routines following it are timed now; None when it took it, else why not. Never an
    error: the event is in the journal already, which the daemon reads when it starts."""
    from scheduler.control.client import request

    try:
        reply = request(ctx.paths.control_socket,
                        {"cmd": "event", "name": name, "at": when.isoformat()})
    except NotRunning:
        return "not running"
    except CrampguardError as exc:
        return str(exc)
    return None if reply.get("ok") else str(reply.get("error") or "refused")
