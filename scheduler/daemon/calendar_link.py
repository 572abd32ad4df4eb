"""The daemon's side of the phone's calendar: the ``[calendar]`` collection kept in step
with the plans, on a thread of its own so a server that hangs never holds the loop.

A sync runs at start, after a reload that changes a plan, soon after an answer (so the
phone does not ring for a reminder already answered), and once a day; one that fails is
tried again, and the trouble is one of the daemon's problems (`status`, `doctor`) until a
sync succeeds. To-dos completed on the phone come back as answers through ``Answers``.
Imported only when the settings have a ``[calendar]`` table.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

from scheduler import clock
from scheduler.calendar.collection import open_collection
from scheduler.calendar.items import Firing
from scheduler.calendar.plan import Completion
from scheduler.calendar.sync import SyncResult, sync
from scheduler.config.settings import Calendar
from scheduler.errors import CrampguardError

log = logging.getLogger("crampguard")

SYNC_TIMER = "crampguard:calendar-sync"
#: A sync once a day keeps the days ahead filled in on a daemon that is never reloaded.
DAILY = timedelta(days=1)
#: After a failure, the next try (the server may be back by then).
RETRY = timedelta(minutes=5)
#: An answer is written to the calendar this soon: a burst of answers is one sync.
AFTER_ANSWER = timedelta(seconds=2)

Snapshot = Callable[[datetime], tuple[list[Firing], tzinfo]]
Once = Callable[..., None]


class CalendarLink:
    def __init__(self, settings: Calendar, *, snapshot: Snapshot,
                 post: Callable[[Callable[[], None]], None], once: Once,
                 cancel: Callable[[str], None],
                 completed: Callable[[list[Completion], datetime], int]):
        self.settings = settings
        self._snapshot = snapshot  # loop thread: the firings to write, from the plans
        self._post = post  # any thread: run on the loop
        self._once = once
        self._cancel = cancel
        self._completed = completed
        self._running = False
        self._again = False
        #: why the last sync failed, while it stands
        self.trouble: str | None = None
        self.last: SyncResult | None = None
        self.last_at: datetime | None = None
        self._closed = False

    def soon(self, wait: timedelta = timedelta(0), now: datetime | None = None) -> None:
        """Sync after ``wait`` (loop thread); an earlier plan of one gives way."""
        now = now or clock.now()
        self._once(SYNC_TIMER, now + wait, self.start)

    def start(self) -> None:
        """Begin a sync now (loop thread), unless one is under way: then once more after."""
        if self._closed:
            return
        if self._running:
            self._again = True
            return
        now = clock.now()
        firings, zone = self._snapshot(now)
        self._running = True
        threading.Thread(target=self._work, args=(firings, zone, now),
                         name="crampguard-calendar", daemon=True).start()

    def _work(self, firings: list[Firing], zone: tzinfo, now: datetime) -> None:
        try:
            collection = open_collection(self.settings)
            try:
                result = sync(collection, firings, zone, now)
            finally:
                collection.close()
        except CrampguardError as exc:
            problem = "\n".join(exc.problems)
            self._post(lambda: self._failed(problem))
            return
        self._post(lambda: self._done(result))

    def _done(self, result: SyncResult) -> None:
        now = clock.now()
        self._running = False
        if self.trouble is not None:
            log.info("calendar: %s answers again", self.settings.url)
        self.trouble = None
        self.last, self.last_at = result, now
        log.info("calendar synced: %d written, %d deleted, %d unchanged (%.2fs)", result.put,
                 result.deleted, result.unchanged, result.seconds)
        answered = self._completed(result.completed, now) if result.completed else 0
        if self._again or answered:
            self._again = False
            self.soon(now=now)  # the answers' items are marked, the missed change written
        else:
            self.soon(DAILY, now)

    def _failed(self, problem: str) -> None:
        now = clock.now()
        self._running = False
        self._again = False
        if problem != self.trouble:
            log.warning("%s; trying again in %d minutes", problem,
                        RETRY.total_seconds() // 60)
        self.trouble = problem
        self.soon(RETRY, now)

    def close(self) -> None:
        self._closed = True
        self._cancel(SYNC_TIMER)

    def problems(self) -> list[str]:
        if self.trouble is None:
            return []
        return [f"calendar: not in step since "
                f"{self.last_at.isoformat(timespec='seconds') if self.last_at else 'the start'}"
                f": {self.trouble.removeprefix('calendar: ')}"]
