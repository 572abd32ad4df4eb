"""What every channel shares: the message, the answer, the errors and the contract.

A channel is a class subclassing ``Channel``, in a module of its own named in
``registry.KINDS``; it exposes it as the module's ``CHANNEL``. The daemon calls it from
threads of its own, never from its loop (see ``Channel``'s text for which thread calls what).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from scheduler import footprint, paths
from scheduler.errors import CrampguardError

#: How long the daemon lets ``Channel.answers`` wait for an answer (a long poll): at
#: most about one wakeup a minute on an idle channel.
LISTEN_TIMEOUT = 50.0
#: A channel's name, the key of its ``[reach.NAME]`` table (journal backends and timer keys
#: carry it, so no ":" or "/").
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class ChannelError(CrampguardError):
    """The channel cannot do it and trying again will not help (a refused token, a room
    the account is not in, a program that does not exist): recorded as failed at once."""


class ChannelDown(ChannelError):
    """The channel's server cannot be reached now (refused, timed out, 5xx): tried again
    with back-off within the reminder's ``catch_up``."""


@dataclass(frozen=True)
class Message:
    """One reminder as a channel carries it.

    ``answers`` are the desktop's button keys and labels, in order: ``("done", "Done")``,
    ``("snooze:10m", "Snooze 10 min")``, ``("skip", "Skip")``, and on the check-in
    ``("cramps:none", "No cramps")``, ``("cramps:1", …)``, ``("cramps:several", …)``. A
    two-way channel offers them; an ``Answer`` names one by its key.
    """

    routine: str
    #: the reminder's due instant, aware UTC: with ``routine`` the reminder's key
    due: datetime
    title: str
    body: str
    answers: tuple[tuple[str, str], ...] = ()
    urgency: str = "normal"
    #: `crampguard notify-test --reach NAME`: no reminder behind it, no answer expected
    test: bool = False

    @property
    def key(self) -> str:
        """The reminder's key as text, the same on every machine: ``routine@due``."""
        return reminder_key(self.routine, self.due)


@dataclass(frozen=True)
class Answer:
    """An answer heard on a channel, for the reminder (routine, due)."""

    routine: str
    due: datetime
    #: one of the message's answer keys ("done", "skip", "snooze:10m", "cramps:none" …)
    key: str
    #: the channel's name (``[reach.NAME]``)
    channel: str
    #: who answered, as the channel knows them (a Matrix ID; "reply topic" for ntfy)
    sender: str
    #: when it was given (the channel's own time where it has one), aware UTC
    at: datetime
    #: the channel's id of the answering event: the same answer heard twice has the same
    ref: str = ""


class Channel:
    """One ``[reach.NAME]`` channel. Subclass it, set ``kind`` (and ``two_way``), and
    implement the methods below; ``registry`` builds it as ``CHANNEL(name, settings,
    state_dir)``.

    Threads: ``send`` and ``withdraw`` run on the channel's sending thread, one at a time;
    ``answers`` runs on its listening thread (two-way channels only), and may block up to
    ``timeout`` seconds (a long poll) — ``close`` from another thread makes it return soon;
    ``check`` runs on the CLI's thread (`doctor`) or a fresh object. None of them ever
    touches the journal or the daemon: they return data, and the daemon records it.

    Errors: raise ``ChannelDown`` for what may work later (tried again with back-off
    within the reminder's ``catch_up``), ``ChannelError`` for what will not. The text of an
    error is logged and shown in `status`: it never carries a token or a password.
    """

    kind: ClassVar[str] = ""
    two_way: ClassVar[bool] = False

    def __init__(self, name: str, settings: Any, state_dir: Path) -> None:
        self.name = name
        #: the channel's ``[reach.NAME]`` table, a pydantic model (config.settings.Reach*)
        self.settings = settings
        #: the daemon's state folder, for what the channel keeps (ntfy's reply topic)
        self.state_dir = state_dir

    def describe(self) -> str:
        """Where the channel goes, for `status` and `doctor` (no secret): "ntfy.sh/alerts"."""
        return self.kind

    def send(self, message: Message) -> str:
        """Put the message before the user; the channel's id for it (used by ``withdraw``;
        "" when the channel has none)."""
        raise NotImplementedError

    def already_sent(self, message: Message) -> str | None:
        """The id of this reminder's message if it is already there (another daemon of the
        same person posted it): then the daemon does not send it again. Default: never."""
        return None

    def withdraw(self, sent: str, note: str) -> None:
        """The reminder was answered elsewhere: take the message down or say so (``note``:
        "done on the desktop"). Best effort; a one-way channel does nothing."""

    def answers(self, since: str | None, timeout: float) -> tuple[list[Answer], str | None]:
        """Two-way only: the answers given after ``since`` (the cursor this method returned
        last, kept across restarts; None the first time: from now), waiting up to
        ``timeout`` seconds for one; and the cursor to pass next time."""
        return [], since

    def check(self) -> list[str]:
        """`doctor`: what is wrong, without sending anything (reachable, signed in, room
        joined); an empty list when all is well."""
        return []

    def wake(self) -> None:
        """The computer woke from sleep (the wall clock jumped ahead): a long poll under way
        may hang on a connection the server dropped meanwhile; end it so that ``answers``
        returns at once (no error) and the next poll reads what was said while it slept.
        Called from the daemon's loop. Default: nothing."""

    def close(self) -> None:
        """Stop: end a long poll under way, drop connections. Called once, from any thread."""


def reminder_key(routine: str, due: datetime) -> str:
    return f"{routine}@{due.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def parse_reminder_key(text: str) -> tuple[str, datetime] | None:
    """``routine@2026-03-29T19:45:00Z`` back to (routine, due); None when it is not one."""
    routine, sep, when = text.strip().partition("@")
    if not sep or not routine:
        return None
    try:
        due = datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    from datetime import UTC

    return routine, due.replace(tzinfo=UTC)


def read_secret(path: Path, what: str) -> str:
    """A token or password from its 0600 file (``what`` names the key in errors:
    "reach.phone.token_file"), its trouble said as the channel's."""
    try:
        return paths.read_secret(path, what)
    except CrampguardError as exc:
        raise ChannelError(exc.problems) from None


def loopback(host: str | None) -> bool:
    """Whether a host is this machine: the one place plain http or SMTP is allowed."""
    return bool(host) and (host in ("localhost", "::1") or str(host).startswith("127."))


def plain_text(message: Message, extra: Sequence[str] = ()) -> str:
    """The message as lines of text, for channels without buttons."""
    return "\n".join([message.body, *extra]).strip()


def allow_tls() -> None:
    """Lift the daemon's start-up block on TLS and OpenSSL's hashes (``run`` keeps them
    out of its memory while nothing needs them): a channel over TLS does."""
    footprint.allow("ssl", "_hashlib")
