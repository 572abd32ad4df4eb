"""The state machine's memory over the journal: each reminder's row, the pauses, and when
the daemon was last alive.

The journal is the truth; this run's memory sits over it so that "at most once" holds while
the journal cannot be read (a full disk), and so that the loop does not read the file for
every question. Writes go through the ``Ledger``, which never makes a notice wait.
Runs on the daemon's loop thread only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Any

from scheduler.daemon.decide import Pause
from scheduler.daemon.ledger import Ledger
from scheduler.journal.events import Reminder
from scheduler.timing import grammar

#: How long this run remembers decisions and past pauses.
MEMORY = timedelta(days=8)
#: Beyond this many rows in memory, those older than MEMORY go (a day of a one-minute
#: routine, several times over).
MEMORY_ROWS = 4000
#: The alive note is written at most this often: a burst of wakes (a reminder a second, a
#: script asking `status`) is one write, and a restart looks back at most this much more.
ALIVE_EVERY = timedelta(minutes=1)
#: State keys in the journal.
PAUSES_KEY = "pauses"
LEGACY_PAUSE_KEY = "paused_until"
ALIVE_KEY = "alive"


class Memory:
    def __init__(self, ledger: Ledger, zone: Callable[[], tzinfo]):
        self.ledger = ledger
        self._zone = zone
        self._known: dict[tuple[str, datetime], Reminder] = {}
        self.pauses: tuple[Pause, ...] = ()
        self._alive_noted: datetime | None = None

    # --- reminders -------------------------------------------------------------------------

    def get(self, routine_id: str, due: datetime) -> Reminder | None:
        """The reminder's state: this run's memory, else the journal."""
        key = (routine_id, due)
        if key in self._known:
            return self._known[key]
        found = self.ledger.read(lambda j: j.reminder(routine_id, due), None)
        if found is not None:
            self._known[key] = found
        return found

    def put(self, reminder: Reminder, now: datetime) -> None:
        self._known[(reminder.routine, reminder.due)] = reminder
        if len(self._known) > MEMORY_ROWS:
            cutoff = now - MEMORY
            self._known = {k: r for k, r in self._known.items()
                           if r.due > cutoff or r.until is not None
                           or r.state in ("waiting", "pending")}
        self.ledger.write(lambda j: j.put_reminder(reminder))

    def remember(self, reminder: Reminder) -> None:
        """A row read back from the journal at start."""
        self._known.setdefault((reminder.routine, reminder.due), reminder)

    def recent(self, routine_id: str, since: datetime) -> list[Reminder]:
        """The routine's reminders due since ``since``, newest first: the journal's, with
        this run's memory over them (newer, and there while the journal is away)."""
        rows = {r.due: r for r in self.ledger.read(
            lambda j: j.reminders(routine_id, since=since, limit=500), [])}
        rows.update({due: r for (rid, due), r in self._known.items()
                     if rid == routine_id and due >= since})
        return sorted(rows.values(), key=lambda r: r.due, reverse=True)

    def known(self) -> list[Reminder]:
        return list(self._known.values())

    def in_state(self, state: str) -> list[Reminder]:
        return [r for r in self._known.values() if r.state == state]

    def by_notice(self, notice: str) -> Reminder | None:
        """The reminder a notice on screen belongs to, whichever run showed it."""
        return next((r for r in self._known.values() if r.notice == notice), None) or \
            self.ledger.read(lambda j: j.reminder_by_notice(notice), None)

    def restore(self, rows: list[Reminder]) -> list[Reminder]:
        for row in rows:
            self.remember(row)
        return [self._known[(row.routine, row.due)] for row in rows]

    # --- events ----------------------------------------------------------------------------

    def event(self, kind: str, routine_id: str | None, *, at: datetime,
              due: datetime | None = None, backend: str | None = None,
              detail: dict[str, Any] | None = None) -> None:
        self.ledger.write(lambda j: j.record(kind, routine_id, at=at, due=due,
                                             backend=backend, detail=detail))

    # --- pauses ----------------------------------------------------------------------------

    def set_pauses(self, pauses: list[Pause], now: datetime) -> None:
        cutoff = now - MEMORY
        self.pauses = tuple(sorted((p for p in pauses if p.end > cutoff),
                                   key=lambda p: p.start))
        text = json.dumps([[p.start.isoformat(), p.end.isoformat()] for p in self.pauses])
        self.ledger.write(lambda j: j.set_state(PAUSES_KEY, text))

    def paused_until(self, now: datetime) -> datetime | None:
        return next((p.end for p in self.pauses if p.covers(now)), None)

    def load_pauses(self, now: datetime) -> None:
        """Pauses (past ones too: a reminder due during one is held, however late it is
        handled) survive a restart."""
        text = self.ledger.read(lambda j: j.get_state(PAUSES_KEY), None)
        if text:
            self.pauses = tuple(Pause(datetime.fromisoformat(a), datetime.fromisoformat(b))
                                for a, b in json.loads(text))
        elif legacy := self.ledger.read(lambda j: j.get_state(LEGACY_PAUSE_KEY), None):
            # Written by an earlier crampguard: the end only; its start is long past.
            self.set_pauses([Pause(now - MEMORY, datetime.fromisoformat(legacy))], now)
            self.ledger.write(lambda j: j.set_state(LEGACY_PAUSE_KEY, None))

    # --- the daemon's last sign of life ------------------------------------------------------

    def mark_alive(self, now: datetime, *, stopping: bool = False) -> None:
        """Noted at each wake and at stop: a restart catches up from here. Not while the
        journal is in trouble: a note per wake would crowd out the events kept for it (an
        older note only makes the restart look further back, over rows already there)."""
        if self.ledger.trouble:
            return
        noted = self._alive_noted
        if not stopping and noted is not None and noted <= now < noted + ALIVE_EVERY:
            return
        self._alive_noted = now
        stamp = now.isoformat()
        self.ledger.write(lambda j: j.set_state(ALIVE_KEY, stamp))

    def last_alive(self) -> datetime | None:
        """When the daemon was last seen running (a journal from before the note: its last
        event); None for a journal that never saw one."""
        text = self.ledger.read(lambda j: j.get_state(ALIVE_KEY), None)
        if text:
            return datetime.fromisoformat(text)
        return self.ledger.read(lambda j: j.latest(), None)

    # --- words ---------------------------------------------------------------------------

    def iso(self, at: datetime | None) -> str | None:
        """Instants in replies carry the user's wall clock and offset."""
        return at.astimezone(self._zone()).isoformat() if at else None

    def local(self, at: datetime | None) -> str:
        return grammar.format_instant(at, self._zone())

    @property
    def zone(self) -> tzinfo:
        return self._zone()
