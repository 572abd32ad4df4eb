"""The CLI's side of the control commands: build the request, send it to the running
daemon, hand the reply to the renderer. "not running" is an error (exit 1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from scheduler import clock
from scheduler.cli.times import parse_instant
from scheduler.errors import CrampguardError
from scheduler.timing import grammar

if TYPE_CHECKING:
    from scheduler.config.context import App

DEFAULT_PAUSE = timedelta(hours=1)


@dataclass(frozen=True)
class LiveReply:
    command: str
    data: dict[str, Any]


def call(app: App, command: str, **args: Any) -> LiveReply:
    from scheduler.control.server import request

    reply = request(app.paths.control_socket, {"cmd": command, **args})
    if not reply.get("ok"):
        raise CrampguardError(str(reply.get("error") or "the daemon refused the request"))
    data = {k: v for k, v in reply.items() if k != "ok"}
    return LiveReply(command, data)


def pause_until(words: list[str], now: datetime, zone: tzinfo) -> datetime:
    """``[]`` (an hour), ``["30m"]``, ``["until", "21:00"]`` or ``["until", ISO]``."""
    if not words:
        return now + DEFAULT_PAUSE
    if words[0] == "until":
        text = " ".join(words[1:]).strip()
        if not text:
            raise CrampguardError('pause until: give a time, e.g. "pause until 21:00"')
        try:
            clock_time = grammar.parse_clock(text)
        except ValueError:
            return parse_instant(text, zone, "pause until",
                                 hint='write HH:MM or ISO 8601, e.g. "2026-11-23T21:00"')
        return next_wall(clock_time, now, zone)
    try:
        return now + grammar.parse_duration(" ".join(words))
    except ValueError as exc:
        raise CrampguardError(f'pause: {exc}, or "until 21:00"') from None


def next_wall(at: time, now: datetime, zone: tzinfo) -> datetime:
    """The next time the local clock shows ``at`` (today, or tomorrow if it has passed)."""
    from scheduler.timing.plans import resolve

    local = now.astimezone(zone)
    for day in (local.date(), local.date() + timedelta(days=1)):
        instant = resolve(datetime.combine(day, at), zone)
        if instant > now:
            return instant
    raise AssertionError("a wall time recurs within two days")


def pause(app: App, words: list[str]) -> LiveReply:
    until = pause_until(words, clock.now(), app.settings.zone)
    return call(app, "pause", until=until.isoformat())


def snooze(app: App, routine_id: str, duration: str | None) -> LiveReply:
    args: dict[str, Any] = {"id": routine_id}
    if duration:
        try:
            args["seconds"] = grammar.parse_duration(duration).total_seconds()
        except ValueError as exc:
            raise CrampguardError(f"snooze: {exc}") from None
    return call(app, "snooze", **args)
