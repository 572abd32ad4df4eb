"""The commands that talk to the running daemon, one per entry of the control table
(control/commands.py): its parser entry, the request built from what was typed, the reply
as its type. "not running" is an error (exit 1)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scheduler import clock
from scheduler.cli import times
from scheduler.cli.parsing import Group, context, json_option
from scheduler.config import defaults
from scheduler.control.commands import COMMANDS, Command, Field, Reply
from scheduler.errors import CrampguardError, NotRunning
from scheduler.i18n import N_, _
from scheduler.timing.grammar import format_duration

if TYPE_CHECKING:
    from scheduler.config.context import Context

LIVE_HELP = N_(" Talks to the running daemon; prints \"not running\" and exits 1 without "
              "one.")


def help_values() -> dict[str, str]:
    """What the table's help texts leave to the command line to fill in."""
    return {"pause": times.in_words(defaults.PAUSE), "pause_rule": times.pause_rule(),
            "snooze": times.in_words(defaults.SNOOZE),
            "snooze_short": format_duration(defaults.SNOOZE),
            "snooze_max": times.in_words(times.SNOOZE_MAX)}


def _pause(words: list[str], field: Field, ctx: Context) -> str:
    return times.pause_until(words, clock.now(), ctx.settings.zone).isoformat()


def _snooze(text: str, field: Field, ctx: Context) -> float:
    return times.duration(text, "snooze", times.SNOOZE_MAX).total_seconds()


def _when(text: str, field: Field, ctx: Context) -> str:
    return times.parse_when(text, clock.now(), ctx.settings.zone,
                            field.flag or field.key).isoformat()


#: How what the user typed becomes a field's value on the wire, by the field's ``typed``
#: (the settings, for the zone, are read only by those that need them: `status` stays
#: light).
READERS: dict[str, Callable[[Any, Field, Context], Any]] = {
    "text": lambda text, field, ctx: text, "pause": _pause, "snooze": _snooze, "when": _when}


def add_parsers(group: Group) -> None:
    values = help_values()
    for command in COMMANDS.values():
        if not command.cli:
            continue
        # The table's texts are message ids, looked up now that the language is known.
        p = group.add(command.name, _handler(command), _(command.help).format(**values),
                      _(command.description).format(**values) + _(LIVE_HELP))
        for f in command.fields:
            options: dict[str, Any] = {"metavar": f.metavar}
            if f.help:
                options["help"] = _(f.help).format(**values)
            if f.flag:
                p.add_argument(f.flag, dest=f.key, **options)
            else:
                p.add_argument(f.key, nargs=f.nargs, **options)
        json_option(p)


def _handler(command: Command) -> Callable[[argparse.Namespace], Reply]:
    def handler(args: argparse.Namespace) -> Reply:
        ctx = context(args)
        values = {}
        for f in command.fields:
            typed = getattr(args, f.key)
            if typed is not None and typed != "":
                values[f.key] = READERS[f.typed](typed, f, ctx)
        return call(ctx.paths.control_socket, command, **values)

    return handler


class Refused(CrampguardError):
    """The daemon answered, and said no (its reason is the message)."""


def call(socket: Any, command: Command, *, timeout: float | None = None,
         **values: Any) -> Any:
    from scheduler.control import wire
    from scheduler.control.client import request

    reply = request(socket, command.request(**values),
                    timeout=wire.CLIENT_TIMEOUT if timeout is None else timeout)
    if not reply.get("ok"):
        raise Refused(str(reply.get("error") or "the daemon refused the request"))
    return command.reply.from_wire({k: v for k, v in reply.items() if k != "ok"})


def tell_event(ctx: Context, name: str, when: datetime) -> str | None:
    """Tell the running daemon that ``name`` (a workout) happened at ``when``, so that the
    routines following it are timed now; None when it took it, else why not. Never an
    error: the event is in the journal already, which the daemon reads when it starts."""
    try:
        call(ctx.paths.control_socket, COMMANDS["event"], name=name, at=when.isoformat())
    except NotRunning:
        return "not running"
    except CrampguardError as exc:
        return str(exc)
    return None
