"""The control commands, declared once: each command's name, the fields of its request with
their checks, the type of its reply, and the words the command line shows for it.

The daemon's handlers (daemon/handlers.py), the CLI's requests and their typed replies, the
printers (cli/render.py) and the parser entries (cli/daemon_commands.py) all read
``COMMANDS``, so a new command is one entry here, its handler and its printer.

Replies cross the socket as JSON objects; ``Reply.from_wire`` checks one against its type
(a field missing or of the wrong type is a malformed reply, not a KeyError later), and
``to_wire`` gives back the same object, so ``--json`` prints what the daemon sent.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar, Union

from scheduler.config import defaults
from scheduler.errors import CrampguardError
from scheduler.i18n import N_

# --- the request's fields ---------------------------------------------------------------


def _routine_id(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise CrampguardError("give a routine id")
    return value


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise CrampguardError(f"{key}: give a text")
    return value


def _instant(key: str, value: Any) -> datetime:
    try:
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise CrampguardError(f"{key}: give an ISO 8601 time with its UTC offset")
    return at


def _seconds_up_to(most: timedelta) -> Callable[[str, Any], timedelta]:
    def check(key: str, value: Any) -> timedelta:
        if not isinstance(value, int | float) or isinstance(value, bool) or \
                not 0 < value <= most.total_seconds():
            raise CrampguardError(f"{key}: give a number of seconds, at most "
                                  f"{int(most.total_seconds())}")
        return timedelta(seconds=value)

    return check


@dataclass(frozen=True)
class Field:
    """One field of a request: its key on the wire, the check that turns the wire's value
    into the handler's (raising ``CrampguardError`` with the key), and how the command line
    takes it: ``typed`` names the reader of what the user types (cli/daemon_commands.py),
    ``flag`` an option (else a positional argument named ``key``)."""

    key: str
    check: Callable[[str, Any], Any]
    required: bool = True
    typed: str = "text"
    flag: str | None = None
    metavar: str | None = None
    help: str | None = None
    #: argparse's nargs for a positional ("?", "*"); None: one word
    nargs: str | None = None


ROUTINE_ID = Field("id", _routine_id, metavar="ID")
#: `done` and `snooze`: another reminder than the latest
DUE = Field("due", _instant, required=False, typed="when", flag="--due", metavar="TIME",
            help=N_('the reminder due at TIME: "21:45" (the last time the clock showed it), '
                 'or ISO 8601'))


# --- the replies --------------------------------------------------------------------------

#: Field metadata: left out of the wire (and of --json) while it holds its default.
OMITTED_WHEN_DEFAULT = {"omit": True}


def optional(default: Any = None) -> Any:
    """A reply field the daemon sends only in some cases (a trigger still on its way)."""
    return field(default=default, metadata=OMITTED_WHEN_DEFAULT)


R = TypeVar("R", bound="Reply")


@dataclass(frozen=True)
class Reply:
    """A reply's fields, in the order the daemon sends them."""

    @classmethod
    def from_wire(cls: type[R], data: dict[str, Any]) -> R:
        return typing.cast(R, _decode(cls, data, cls.__name__))

    def to_wire(self) -> dict[str, Any]:
        return typing.cast(dict[str, Any], _encode(self))


@dataclass(frozen=True)
class RoutineNext:
    id: str
    title: str
    next: datetime | None


@dataclass(frozen=True)
class Delivery:
    routine: str
    due: datetime
    at: datetime
    backend: str


@dataclass(frozen=True)
class ChannelResult:
    at: datetime
    ok: bool
    text: str


@dataclass(frozen=True)
class ChannelStatus:
    """A ``[reach]`` channel: where it goes (never a secret) and how its last try went."""

    name: str
    kind: str
    to: str
    two_way: bool
    last: ChannelResult | None


@dataclass(frozen=True)
class StatusReply(Reply):
    pid: int
    running_since: datetime
    paused_until: datetime | None
    zone: str
    notifiers: list[str]
    routines: list[RoutineNext]
    last_delivery: Delivery | None
    problems: list[str]
    #: the [reach] channels, when there are any
    channels: list[ChannelStatus] = field(default_factory=list, metadata=OMITTED_WHEN_DEFAULT)


@dataclass(frozen=True)
class PauseReply(Reply):
    paused_until: datetime


@dataclass(frozen=True)
class ResumeReply(Reply):
    was_paused_until: datetime | None


@dataclass(frozen=True)
class SnoozeReply(Reply):
    routine: str
    until: datetime
    due: datetime
    #: what the return will meet when a pause or quiet hours hold it, else None
    then: str | None = None


@dataclass(frozen=True)
class SkipReply(Reply):
    routine: str
    skipped: datetime
    next: datetime | None


@dataclass(frozen=True)
class DoneReply(Reply):
    routine: str
    due: datetime
    already: bool


@dataclass(frozen=True)
class TriggerReply(Reply):
    routine: str
    at: datetime | None = optional()
    backend: str | None = optional()
    #: the notifier tried first, and how long showing took: a console delivery after a
    #: notification server that hung reads apart from one chosen in the settings
    first_choice: str | None = optional()
    seconds: float | None = optional()
    #: the outcome of the trigger before, which was answered "still on its way"
    earlier: bool = optional(False)
    #: the daemon is still showing it (past the reply's wait)
    in_progress: bool = optional(False)


@dataclass(frozen=True)
class ReloadReply(Reply):
    routines: int
    #: the daemon's own timers still to run, by kind ("snooze": 1)
    pending: dict[str, int]
    problems: list[str]


@dataclass(frozen=True)
class EventReply(Reply):
    event: str
    #: the routines now timed after it
    followups: list[str]


# --- the table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """A control command. ``help`` and ``description`` are the parser's words; ``{pause}``,
    ``{snooze}`` and the like in them are filled in by the CLI. ``cli``: a command of its
    own on the command line (`event` is sent by `crampguard log workout`)."""

    name: str
    reply: type[Reply]
    help: str
    description: str
    fields: tuple[Field, ...] = ()
    cli: bool = True

    def request(self, **values: Any) -> dict[str, Any]:
        """The wire request; a value of None is left out."""
        return {"cmd": self.name, **{f.key: values[f.key] for f in self.fields
                                     if values.get(f.key) is not None}}

    def values(self, request: dict[str, Any]) -> dict[str, Any]:
        """The request's fields, checked, as the handler takes them (None: not given)."""
        checked: dict[str, Any] = {}
        for f in self.fields:
            value = request.get(f.key)
            if value is None and not f.required:
                checked[f.key] = None
                continue
            checked[f.key] = f.check(f.key, value)
        return checked


COMMANDS: dict[str, Command] = {c.name: c for c in (
    Command("status", StatusReply, N_("show the running daemon's state"),
            N_("Running since, paused until, each routine's next firing, the last delivery.")),
    Command("pause", PauseReply, N_("hold all reminders for a while (default {pause})"),
            N_("Hold all reminders: `pause` ({pause}), `pause 30m`, `pause until 21:00` or "
            "`pause until 2026-11-23T21:00`. A pause always ends by itself; reminders due "
            "during it are recorded as skipped, not delivered later."),
            (Field("until", _instant, typed="pause", metavar="DURATION | until TIME",
                   nargs="*", help=N_("a duration like 30m, 2h or 3d, or `until` HH:MM or an "
                                   "ISO 8601 time; {pause_rule}")),)),
    Command("resume", ResumeReply, N_("end a pause now"), N_("End a pause now.")),
    Command("snooze", SnoozeReply, N_("remind again later (default {snooze})"),
            N_("Deliver the routine's last shown reminder again after DURATION (default "
            "{snooze_short}); --due picks an older one."),
            (ROUTINE_ID,
             Field("seconds", _seconds_up_to(defaults.SNOOZE_MAX), required=False,
                   typed="snooze", metavar="DURATION", nargs="?",
                   help=N_("e.g. 10m, 1h; at most {snooze_max}")),
             DUE)),
    Command("skip", SkipReply, N_("drop the routine's next firing"),
            N_("Drop the routine's next firing (held ones are passed over); says which, and "
            "which comes after it."), (ROUTINE_ID,)),
    Command("trigger", TriggerReply, N_("deliver the routine's reminder now"),
            N_("Deliver the routine's reminder now. It is recorded as manual: adherence "
            "counts only reminders that were due."), (ROUTINE_ID,)),
    Command("done", DoneReply, N_("record a reminder as done"),
            N_("Record the routine's most recent unanswered reminder as done: one that was "
            "shown or missed (the laptop asleep, say), up to a day back. --due picks "
            "another; a reminder counts once however often it is marked."),
            (ROUTINE_ID, DUE)),
    Command("reload", ReloadReply, N_("re-read the routine files and config.toml now"),
            N_("Re-read the routine files and config.toml now.")),
    Command("event", EventReply, "tell the daemon of an event",
            "Something the user did (a workout), at a time: its follow-ups are timed now.",
            (Field("name", _text), Field("at", _instant)), cli=False),
)}


# --- replies to and from JSON -------------------------------------------------------------


def _decode(tp: Any, value: Any, where: str) -> Any:
    """``value`` (parsed JSON) as ``tp``; a ``CrampguardError`` naming ``where`` when it
    does not fit."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        (inner,) = [t for t in options if t is not type(None)]
        return _decode(inner, value, where)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise _malformed(where, value)
        hints = typing.get_type_hints(tp)
        out = {}
        for f in dataclasses.fields(tp):
            if f.name not in value:
                if f.metadata.get("omit"):
                    continue
                raise CrampguardError(f"malformed reply from the daemon: {where} has no "
                                      f"{f.name!r}")
            out[f.name] = _decode(hints[f.name], value[f.name], f"{where}.{f.name}")
        return typing.cast(Any, tp)(**out)
    if origin is list:
        if not isinstance(value, list):
            raise _malformed(where, value)
        (inner,) = typing.get_args(tp)
        return [_decode(inner, v, f"{where}[]") for v in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise _malformed(where, value)
        _, inner = typing.get_args(tp)
        return {str(k): _decode(inner, v, f"{where}.{k}") for k, v in value.items()}
    if tp is datetime:
        try:
            return _instant(where, value)
        except CrampguardError:
            raise _malformed(where, value) from None
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if tp in (str, int, bool) and type(value) is tp:
        return value
    raise _malformed(where, value)


def _malformed(where: str, value: Any) -> CrampguardError:
    return CrampguardError(f"malformed reply from the daemon: {where} is {str(value)[:80]!r}")


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not (f.metadata.get("omit") and getattr(value, f.name) == f.default)}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value

