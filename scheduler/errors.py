"""The one user-facing error type, caught only at the CLI edge (and the daemon's reload)."""

from __future__ import annotations

from collections.abc import Iterable


class CrampguardError(Exception):
    """Bad input or an impossible request, with every problem found in one go.

    Each problem is one ready-to-print line (``PATH:LINE: field: message``); the CLI prints
    them to stderr and exits 1.
    """

    def __init__(self, problems: str | Iterable[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))
