"""What every presence source is: found or not, then asked or listened to.

A source is opened (``open``: does it answer here? raises Unavailable with the reason), and
only under ``Presence`` listened to (``listen``: subscribe to its signals). What it knows
it tells through the role methods; a source overrides those of its roles and leaves the
rest saying "nothing". Signals arrive on a reader thread, where a source only calls
``changed(self)``; the reading itself (``refresh``) happens later on the presence thread,
which may make calls on the bus (a reader thread waiting for a reply only it can read would
hang).
"""

from __future__ import annotations

from collections.abc import Callable

from .state import DND, IDLE, LOCK, SLEEP

__all__ = ["DND", "IDLE", "LOCK", "SLEEP", "Source", "Unavailable"]


class Unavailable(Exception):
    """The source does not answer here; the message says why, in words for the user."""


class Source:
    name = ""
    #: the well-known D-Bus name whose arrival makes a source that was not found worth
    #: another try (a notification server D-Bus starts with the first notice); None: none
    appears_as: str | None = None

    def __init__(self, changed: Callable[[Source], None]) -> None:
        #: call (from any thread) when what this source knows may have changed
        self.changed = changed
        #: what it tells, once open() found it (IDLE, LOCK, DND, SLEEP)
        self.provides: tuple[str, ...] = ()
        #: why it cannot be read: its bus name lost its owner (the desktop shell
        #: restarting); None while it is there
        self.gone: str | None = None

    def open(self) -> str:
        """Connect and read; return what answered. Raises Unavailable."""
        raise NotImplementedError

    def listen(self) -> None:
        """Subscribe to the changes (after open)."""

    def refresh(self) -> None:
        """Read again what a signal said has changed (on the presence thread)."""

    def close(self) -> None:
        """Stop listening and free what open() took."""

    def owner_moved(self, name: str, owned: bool) -> None:
        """On a reader thread: ``name``, the service this source reads, lost its owner or
        got one (the same service restarted, or another in its place)."""
        self.gone = None if owned else f"{name} went away"
        self.changed(self)

    # -- the roles ------------------------------------------------------------------------

    def idle_seconds(self) -> float | None:
        """Seconds since the last input, read now (never on a reader thread)."""
        return None

    def arm(self, away_after_s: float, idle_away: bool) -> bool:
        """Make sure the next crossing of ``away_after_s`` (going away while present, coming
        back while away) is signalled; False where only a look at the time can tell."""
        return False

    def locked(self) -> bool:
        return False

    def dnd(self) -> str | None:
        """Why reminders should wait now, or None."""
        return None

    def follow(self, on: bool) -> None:
        """Follow, or stop following, what costs wakeups to follow (busy event streams):
        only while the daemon holds a reminder."""

    # -- an event source of its own (the X display): polled by the presence thread --------

    def fileno(self) -> int | None:
        return None

    def on_readable(self) -> None:
        """The file descriptor has data (on the presence thread)."""
