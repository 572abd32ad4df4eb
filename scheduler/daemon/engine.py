"""The daemon's main loop: APScheduler 3's blocking scheduler, with one wait that also
notices wall-clock jumps, and an inline executor that owns the catch-up rule.

APScheduler sleeps on a monotonic timeout, which stops during suspend and ignores clock
steps, so after a resume it would wake at its old deadline. The loop therefore caps each
wait at ``CLOCK_CHECK`` seconds and compares the wall clock with the monotonic clock on
every wake: a change in their gap is a jump, and the due reminders are handled at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from threading import TIMEOUT_MAX

from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.debug import DebugExecutor
from apscheduler.job import Job
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler

from scheduler import clock

#: Longest sleep between clock checks: a jump is noticed within this many seconds, at the
#: cost of that many wakeups (6 a minute at 10 s).
CLOCK_CHECK = 10.0
#: A change in the wall/monotonic gap beyond this is a jump, not drift or NTP slewing.
JUMP_THRESHOLD = 2.0

Deliver = Callable[[str, datetime], None]
Missed = Callable[[str, datetime, str], None]


def catch_up(run_times: list[datetime], now: datetime,
             grace_seconds: float | None) -> tuple[list[tuple[datetime, str]], datetime | None]:
    """The catch-up rule: of the due run times, only the latest may be delivered, and only
    if it is at most ``grace_seconds`` late; the others are missed (with why)."""
    if not run_times:
        return [], None
    *older, latest = run_times
    missed = [(run_time, "superseded by a later one") for run_time in older]
    late = now - latest
    grace = timedelta(seconds=grace_seconds or 0)
    if late > grace:
        missed.append((latest, f"{int(late.total_seconds())}s late, catch_up is "
                               f"{int(grace.total_seconds())}s"))
        return missed, None
    return missed, latest


def settle(job_id: str, run_times: list[datetime], grace_seconds: float | None,
           deliver: Deliver, missed: Missed) -> None:
    """Apply ``catch_up`` to a routine's due run times: report the missed ones, deliver
    the one that may still be. Shared by the executor and a restarted daemon."""
    late, latest = catch_up(run_times, clock.now(), grace_seconds)
    for run_time, why in late:
        missed(job_id, run_time, why)
    if latest is not None:
        deliver(job_id, latest)


class CatchUpExecutor(BaseExecutor):
    """Runs reminders inline in the loop (no worker threads to wake) and applies the
    catch-up rule: of the run times handed over, only the latest may be delivered, and
    only if it is at most the job's ``misfire_grace_time`` late; all others are missed."""

    def __init__(self, deliver: Deliver, missed: Missed):
        super().__init__()
        self._deliver = deliver
        self._missed = missed

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        try:
            settle(job.id, run_times, job.misfire_grace_time, self._deliver, self._missed)
        except Exception as exc:  # a bug in delivery must not stop the other reminders
            self._logger.exception("delivering %s failed", job.id)
            self._run_job_error(job.id, exc, exc.__traceback__)
        else:
            self._run_job_success(job.id, [])


class ClockWatch:
    """Remembers the gap between the wall clock and the monotonic clock."""

    def __init__(self, wall: Callable[[], float] = time.time,
                 mono: Callable[[], float] = time.monotonic):
        self._wall = wall
        self._mono = mono
        self._gap = wall() - mono()

    def jump(self) -> float:
        """Seconds the wall clock jumped since the last call (0.0 when it did not)."""
        gap = self._wall() - self._mono()
        delta, self._gap = gap - self._gap, gap
        return delta if abs(delta) > JUMP_THRESHOLD else 0.0


class ReminderScheduler(BlockingScheduler):
    """``BlockingScheduler`` whose wait is also bounded by ``next_wait`` and which calls
    ``on_wake`` before every round of due jobs."""

    def __init__(self, on_wake: Callable[[], None], next_wait: Callable[[], float],
                 **options):  # type: ignore[no-untyped-def]
        super().__init__(**options)
        self._on_wake = on_wake
        self._next_wait = next_wait

    def _main_loop(self) -> None:
        wait_seconds: float | None = TIMEOUT_MAX
        while self.state != STATE_STOPPED:
            limit = self._next_wait()
            self._event.wait(min(wait_seconds if wait_seconds is not None else TIMEOUT_MAX,
                                 limit))
            self._event.clear()
            if self.state == STATE_STOPPED:
                break
            self._on_wake()
            wait_seconds = self._process_jobs()


def make_scheduler(*, zone, on_wake: Callable[[], None], next_wait: Callable[[], float],
                   deliver: Deliver, missed: Missed,
                   internal: str) -> ReminderScheduler:  # type: ignore[no-untyped-def]
    """Routine jobs go to the catch-up executor; the daemon's own one-off jobs (a snooze,
    the end of a pause) run inline under ``internal``."""
    scheduler = ReminderScheduler(on_wake, next_wait, timezone=zone)
    scheduler.add_executor(CatchUpExecutor(deliver, missed), "default")
    scheduler.add_executor(DebugExecutor(), internal)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return scheduler
