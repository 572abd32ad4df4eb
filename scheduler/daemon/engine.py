"""The daemon's timer engine: APScheduler 3's blocking scheduler behind a small interface.

The only module that imports APScheduler. A routine's pure ``Timetable`` becomes a job
through ``TimetableTrigger``; the one-off timers (a snooze, the end of a pause) are date
jobs. Due routine jobs are handed to ``on_due`` with every run time APScheduler collected
(the reminders' state machine applies the catch-up rule to them).

APScheduler sleeps on a monotonic timeout, which stops during suspend and ignores clock
steps, so after a resume it would wake at its old deadline. The loop therefore caps each
wait at ``CLOCK_CHECK`` seconds and compares the wall clock with the monotonic clock on
every wake: a change in their gap is a jump, and the due reminders are handled at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, tzinfo
from threading import TIMEOUT_MAX
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.debug import DebugExecutor
from apscheduler.job import Job
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger

from scheduler.timing.plans import Restart, Timetable, restart_interval

#: Longest sleep between clock checks: a jump is noticed within this many seconds, at the
#: cost of that many wakeups (6 a minute at 10 s).
CLOCK_CHECK = 10.0
#: A change in the wall/monotonic gap beyond this is a jump, not drift or NTP slewing.
JUMP_THRESHOLD = 2.0
#: One-off timers run inline on their own executor; ":" never occurs in a routine id.
_TIMERS = "timers"

#: (routine id, the due run times in order, catch_up in seconds)
OnDue = Callable[[str, list[datetime], float], None]


class TimetableTrigger(BaseTrigger):
    """APScheduler's view of a pure timetable, and of an interval restarted on the user's
    return (``Restart``: its own firings until the window closes, then the timetable's)."""

    def __init__(self, timetable: Timetable, restart: Restart | None = None):
        self.timetable = timetable
        self.restart = restart

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        after, inclusive = (now, True) if previous_fire_time is None else \
            (previous_fire_time, False)
        if self.restart is not None and after < self.restart.resume_after:
            ahead = (at for at in self.restart.firings
                     if at > after or (inclusive and at == after))
            at = next(ahead, None)
            if at is not None:
                return at
            after, inclusive = self.restart.resume_after, False
        # Every firing, held ones too: the state machine records each as held (quiet
        # hours are a decision on the due instant, not a gap in the plan).
        return next((f.at for f in self.timetable.firings(after, inclusive=inclusive)), None)

    def __str__(self) -> str:
        return str(self.timetable)


class _DueExecutor(BaseExecutor):
    """Runs routine jobs inline in the loop (no worker threads to wake) and hands their
    run times to ``on_due``; APScheduler's own coalescing would drop the older ones
    unseen, and the journal records each."""

    def __init__(self, on_due: OnDue):
        super().__init__()
        self._on_due = on_due

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        try:
            self._on_due(job.id, run_times, float(job.misfire_grace_time or 0))
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


class _Loop(BlockingScheduler):
    """``BlockingScheduler`` whose wait is also bounded by ``next_wait`` and which calls
    ``on_wake`` before every round of due jobs."""

    def __init__(self, on_wake: Callable[[], None], next_wait: Callable[[], float],
                 **options: Any):
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


class Engine:
    """One job per routine, planned from its timetable, and named one-off timers."""

    def __init__(self, *, zone: tzinfo, on_wake: Callable[[], None],
                 next_wait: Callable[[], float], on_due: OnDue):
        self._scheduler = _Loop(on_wake, next_wait, timezone=zone)
        self._scheduler.add_executor(_DueExecutor(on_due), "default")
        self._scheduler.add_executor(DebugExecutor(), _TIMERS)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)

    # --- the loop ------------------------------------------------------------------------

    def run(self, on_started: Callable[[], None]) -> None:
        """Block in the loop until ``stop``; ``on_started`` runs once every job has been
        planned from the real "now"."""
        self._scheduler.add_listener(lambda event: on_started(), EVENT_SCHEDULER_STARTED)
        self._scheduler.start()

    def stop(self) -> None:
        self._scheduler.shutdown(wait=False)

    def wakeup(self) -> None:
        """From any thread: end the current wait now."""
        self._scheduler.wakeup()

    @property
    def running(self) -> bool:
        return self._scheduler.running

    # --- routines ------------------------------------------------------------------------

    def plan(self, routine_id: str, title: str, timetable: Timetable,
             catch_up: timedelta) -> None:
        """(Re)plan a routine: before the loop runs, it is planned from the real "now" at
        start."""
        self._scheduler.add_job(
            _noop, trigger=TimetableTrigger(timetable), id=routine_id, name=title,
            replace_existing=True, coalesce=False, max_instances=1,
            misfire_grace_time=max(1, int(catch_up.total_seconds())))

    def drop(self, routine_id: str) -> None:
        self._scheduler.remove_job(routine_id)

    def planned(self) -> list[tuple[str, str, datetime | None]]:
        """(id, title, next time) of every routine job."""
        return [(job.id, job.name, job.next_run_time) for job in self._scheduler.get_jobs()
                if job.executor != _TIMERS]

    def timers(self) -> list[str]:
        """The keys of the one-off timers still to run (a snooze's end, a follow-up, a
        repeat): the daemon's own jobs, not routines."""
        return [job.id for job in self._scheduler.get_jobs() if job.executor == _TIMERS]

    def timetable(self, routine_id: str) -> Timetable | None:
        job = self._scheduler.get_job(routine_id)
        return job.trigger.timetable if job is not None else None

    def next_time(self, routine_id: str) -> datetime | None:
        job = self._scheduler.get_job(routine_id)
        return job.next_run_time if job is not None else None

    def catch_up(self, routine_id: str) -> float:
        job = self._scheduler.get_job(routine_id)
        return float(job.misfire_grace_time or 0) if job is not None else 0.0

    def upcoming(self, routine_id: str, start: datetime) -> Iterator[datetime]:
        """The routine's firings from ``start`` as planned, an interval restarted on the
        user's return included."""
        job = self._scheduler.get_job(routine_id)
        if job is None:
            return
        at = job.trigger.get_next_fire_time(None, start)
        while at is not None:
            yield at
            at = job.trigger.get_next_fire_time(at, at)

    def skip_next(self, routine_id: str) -> tuple[datetime, datetime | None] | None:
        """Drop a routine's next firing: (the dropped time, the one after), or None when
        nothing is ahead."""
        job = self._scheduler.get_job(routine_id)
        if job is None or job.next_run_time is None:
            return None
        dropped = job.next_run_time
        following = job.trigger.get_next_fire_time(dropped, dropped)
        if following is None:
            job.remove()
        else:
            job.modify(next_run_time=following)
        return dropped, following

    def restart_interval(self, routine_id: str, at: datetime) -> datetime | None:
        """Start an interval routine's run again at ``at`` (the user is back from a break
        long enough to count as one); returns its next firing, or None when nothing
        changed (not an interval, or outside its window)."""
        job = self._scheduler.get_job(routine_id)
        if job is None:
            return None
        restart = restart_interval(job.trigger.timetable, at)
        if restart is None:
            return None
        trigger = TimetableTrigger(job.trigger.timetable, restart)
        next_time = trigger.get_next_fire_time(None, at)
        job.modify(trigger=trigger, next_run_time=next_time)
        return next_time

    def replan(self, now: datetime) -> None:
        """Plan every routine from ``now`` (after the clock stepped back: otherwise the next
        reminders would wait until the old future instant comes round again)."""
        for job in self._scheduler.get_jobs():
            if job.executor != _TIMERS:
                job.modify(next_run_time=job.trigger.get_next_fire_time(None, now))

    # --- one-off timers ------------------------------------------------------------------

    def once(self, key: str, when: datetime, fn: Callable[..., None], *args: Any,
             grace: timedelta | None = None) -> None:
        """Run ``fn(*args)`` on the loop at ``when`` (replacing a timer of the same key);
        at most ``grace`` late, or however late with None."""
        self._scheduler.add_job(
            fn, DateTrigger(when), args=list(args), id=key, replace_existing=True,
            executor=_TIMERS,
            misfire_grace_time=None if grace is None else max(1, int(grace.total_seconds())))

    def cancel(self, key: str) -> None:
        """Remove a timer that has not run yet (one that is running removes itself)."""
        if self._scheduler.get_job(key) is not None:
            self._scheduler.remove_job(key)


def _noop() -> None:
    """Routine jobs carry only their id; the executor hands their run times to on_due."""
