"""The daemon's hold on the journal: no reminder ever waits for it.

A write that fails (a full disk, a read-only folder, the file removed or replaced under the
running daemon) is kept in memory, in order, and written once the journal takes writes
again; the trouble is reported once when it starts and once when it ends. A read that fails
answers ``default``: the state machine then goes by what this run remembers.

The file is checked on every use: SQLite keeps writing to a file that was deleted or
replaced under it, so without the check every later reminder would be recorded nowhere.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from scheduler.errors import CrampguardError
from scheduler.journal.store import Journal

log = logging.getLogger("crampguard")
T = TypeVar("T")
D = TypeVar("D")

#: Writes kept while the journal is away: weeks of reminders; beyond it the oldest go
#: (and the log says so) rather than the daemon's memory growing without end.
MAX_PENDING = 5000
#: While writes wait in memory, the loop tries them again this often: they land within
#: seconds of the journal working again, not at the loop's next clock check or the stop.
RETRY_AFTER = 2.0


class Ledger:
    def __init__(self, path: Path, open_journal: Callable[[Path], Journal], *,
                 on_trouble: Callable[[str], None], on_recovered: Callable[[str], None]):
        self.path = path
        self._open = open_journal
        self._on_trouble = on_trouble
        self._on_recovered = on_recovered
        self._journal: Journal | None = None
        self._identity: tuple[int, int] | None = None
        self._pending: deque[Callable[[Journal], object]] = deque()
        #: the problem being reported, until the journal works again
        self.trouble: str | None = None
        #: the latest failure: the trouble may have changed since it was reported
        self._last_error: str | None = None

    def attach(self, journal: Journal) -> None:
        """The journal the daemon opened at start."""
        self._journal, self._identity = journal, _identity(journal.path)

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def retry_after(self) -> float | None:
        """Seconds until the writes kept in memory are worth trying again; None when none
        wait (the daemon's loop bounds its wait by it)."""
        return RETRY_AFTER if self._pending else None

    def write(self, fn: Callable[[Journal], object]) -> None:
        """Run ``fn`` on the journal now, or as soon as the journal can take it."""
        if len(self._pending) >= MAX_PENDING:
            self._pending.popleft()
            log.error("the journal has been unwritable for too long: dropped its oldest "
                      "unwritten event")
        self._pending.append(fn)
        self.flush()

    def flush(self) -> bool:
        """Write what is waiting; True when nothing is left."""
        if not self._pending:
            return True
        journal = self._current()
        if journal is None:
            return False
        try:
            while self._pending:
                self._pending[0](journal)
                self._pending.popleft()
            journal.checkpoint()
        except CrampguardError as exc:
            self._failed(str(exc))
            return False
        self._working()
        return True

    def read(self, fn: Callable[[Journal], T], default: D) -> T | D:
        journal = self._current()
        if journal is None:
            return default
        try:
            result = fn(journal)
        except CrampguardError as exc:
            self._failed(str(exc))
            return default
        if not self._pending:
            self._working()
        return result

    def close(self) -> None:
        """Write what is waiting, then let go of the journal. A connection that failed
        (a full disk) may go on failing after the disk has room again, so the last chance
        before the events are lost is a fresh connection."""
        if not self.flush() and self._journal is not None:
            self._journal.close()
            self._journal = None
            self.flush()
        if self._pending:
            log.error("%d journal event(s) could not be written before stopping: %s",
                      len(self._pending), self._last_error or self.trouble)
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _current(self) -> Journal | None:
        """The open journal if its file is still the one at ``path``, else a fresh open."""
        now_identity = _identity(self.path)
        if self._journal is not None and now_identity == self._identity:
            return self._journal
        if self._journal is not None:
            self._journal.close()
            self._journal = None
            log.warning("%s was %s while crampguard ran; opening %s", self.path,
                        "removed" if now_identity is None else "replaced",
                        "a new one" if now_identity is None else "the file there now")
        try:
            self._journal = self._open(self.path)
        except CrampguardError as exc:
            self._failed(str(exc))
            return None
        self._identity = _identity(self.path)
        return self._journal

    def _failed(self, problem: str) -> None:
        self._last_error = problem
        if self.trouble is None:
            self.trouble = problem
            self._on_trouble(problem)

    def _working(self) -> None:
        self._last_error = None
        if self.trouble is not None:
            was, self.trouble = self.trouble, None
            self._on_recovered(was)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino
