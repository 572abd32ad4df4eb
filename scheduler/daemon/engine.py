"""The daemon's timer queue: named one-off timers on APScheduler 3's blocking scheduler.

The only module that imports APScheduler, and the only one that knows its private loop
(``_main_loop``, ``_process_jobs``, ``_event``: tests/test_engine.py fails when a release
changes them). Each timer is a date job that runs inline on the loop however late it
is: lateness is the state machine's to judge, not the library's. A routine's next firing
is one such timer, armed by the daemon from its own plan (``daemon/plans.py``).

Between rounds the loop sleeps in ``sleep.py``: until the earliest timer on the wall
clock, a wake from another thread, or (on Linux) the moment the wall clock is set.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.executors.debug import DebugExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger

from scheduler.daemon.sleep import Sleep, open_sleep

log = logging.getLogger("crampguard")


class _Loop(BlockingScheduler):
    """``BlockingScheduler`` that sleeps on ``Sleep`` (bounded by ``next_wait``) instead of
    its ``Event``, and calls ``on_wake`` before every round of due jobs."""

    def __init__(self, sleep: Sleep, on_wake: Callable[[], None],
                 next_wait: Callable[[], float | None], **options: Any):
        super().__init__(**options)
        self._sleep = sleep
        self._on_wake = on_wake
        self._next_wait = next_wait

    def _main_loop(self) -> None:
        while self.state != STATE_STOPPED:
            self._sleep.sleep(self._earliest(), self._next_wait())
            if self.state == STATE_STOPPED:
                break
            self._on_wake()
            self._process_jobs()

    def _earliest(self) -> datetime | None:
        return min((job.next_run_time for job in self.get_jobs()
                    if job.next_run_time is not None), default=None)

    def wakeup(self) -> None:
        self._sleep.wake()

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)
        self._sleep.wake()


class Engine:
    """Named one-off timers, run on the loop's thread."""

    def __init__(self, *, zone: tzinfo, on_wake: Callable[[], None],
                 next_wait: Callable[[], float | None], sleep: Sleep | None = None):
        self.sleep = sleep if sleep is not None else open_sleep()
        self._scheduler = _Loop(self.sleep, on_wake, next_wait, timezone=zone)
        self._scheduler.add_executor(DebugExecutor(), "default")  # inline: no worker threads
        # Job ids are unique per arming: APScheduler removes a date job by its id once it
        # has run, which would take a timer its own callback set again under that key.
        self._jobs: dict[str, str] = {}
        self._serial = itertools.count()
        logging.getLogger("apscheduler").setLevel(logging.WARNING)

    # --- the loop ------------------------------------------------------------------------

    def run(self, on_started: Callable[[], None]) -> None:
        """Block in the loop until ``stop``; ``on_started`` runs once, before the first
        round."""
        self._scheduler.add_listener(lambda event: on_started(), EVENT_SCHEDULER_STARTED)
        self._scheduler.start()

    def stop(self) -> None:
        self._scheduler.shutdown(wait=False)

    def close(self) -> None:
        self.sleep.close()

    def wakeup(self) -> None:
        """From any thread: end the current wait now."""
        self.sleep.wake()

    @property
    def running(self) -> bool:
        return self._scheduler.running

    # --- timers --------------------------------------------------------------------------

    def once(self, key: str, when: datetime, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` on the loop at ``when``, however late (replacing a timer of
        the same key)."""
        self.cancel(key)
        job_id = f"{key}#{next(self._serial)}"
        self._jobs[key] = job_id
        self._scheduler.add_job(self._fire, DateTrigger(when), args=[key, job_id, fn, args],
                                id=job_id, misfire_grace_time=None)

    def cancel(self, key: str) -> None:
        """Remove a timer that has not run yet (one running is already gone)."""
        job_id = self._jobs.pop(key, None)
        if job_id is not None:
            try:
                self._scheduler.remove_job(job_id)
            except JobLookupError:
                pass

    def keys(self) -> list[str]:
        """The keys of the timers still to run."""
        return list(self._jobs)

    def _fire(self, key: str, job_id: str, fn: Callable[..., None],
              args: tuple[Any, ...]) -> None:
        if self._jobs.get(key) == job_id:
            del self._jobs[key]
        try:
            fn(*args)
        except Exception:  # a bug in one timer must not stop the others
            log.exception("the timer %s failed", key)
