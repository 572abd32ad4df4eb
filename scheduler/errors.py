"""One error hierarchy. ``CrampguardError`` is what the user reads: caught at the CLI edge
(printed, exit 1), and in the daemon where one bad input must not stop the others."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class CrampguardError(Exception):
    """Bad input or an impossible request, with every problem found in one go.

    Each problem is one ready-to-print line (``PATH:LINE: field: message``); the CLI prints
    them to stderr and exits 1.
    """

    def __init__(self, problems: str | Iterable[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class NotRunning(CrampguardError):
    """Nothing listens on the control socket: the daemon is not running."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"crampguard is not running (no daemon listens on {path})")


class NotifyError(CrampguardError):
    """A notification backend could not deliver a notice; the chain moves on to the next."""


class NotifierAway(NotifyError):
    """The desktop's notification server that this run has shown notices on is gone (it is
    restarting, or the session is changing): the chain stops here instead of printing the
    notice to a console nobody reads. The message says why."""
