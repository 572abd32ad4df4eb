"""`crampguard run`: keep the active routines scheduled and deliver each reminder on time.

State lives here and changes only on the loop's thread: signal handlers and the file
watcher just leave a note and wake the loop.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.job import Job

from scheduler import clock
from scheduler.app import App
from scheduler.errors import CrampguardError
from scheduler.instance import InstanceLock
from scheduler.loader import RoutineSet, load_set
from scheduler.loop import CLOCK_CHECK, ClockWatch, make_scheduler
from scheduler.model import Routine
from scheduler.notify import Notice, NotifyError, build_chain
from scheduler.schedule import describe, trigger_for
from scheduler.settings import Settings, load_settings
from scheduler.watch import Watcher

#: Editors write a file in several steps; wait this long after the last event.
DEBOUNCE = 0.2
log = logging.getLogger("crampguard")


def notice_for(routine: Routine) -> Notice:
    timeout = routine.notify.timeout
    return Notice(
        title=routine.title, body=routine.message, urgency=routine.notify.urgency,
        timeout_s=timeout.total_seconds() if timeout is not None else None,
        icon=routine.notify.icon,
        actions=tuple((a.key, a.label) for a in routine.notify.actions),
        hint_command=f"crampguard done {routine.id}",
    )


class Daemon:
    def __init__(self, app: App):
        self.app = app
        self.settings: Settings = app.settings  # a broken config.toml stops the start here
        self.routines = RoutineSet()
        self.last_good: dict[Path, Routine] = {}
        self._reported: set[str] = set()
        self._reload_at: float | None = None
        self._stop_requested = False
        self._clock = ClockWatch()
        self.chain = build_chain(self.settings.notifier, log)
        self.scheduler = make_scheduler(zone=self.settings.zone, on_wake=self._on_wake,
                                        next_wait=self._next_wait, deliver=self.deliver,
                                        missed=self.missed)
        self.watcher = Watcher(self.request_reload)

    # --- running ------------------------------------------------------------------------

    def run(self) -> int:
        lock = InstanceLock(self.app.paths.runtime_dir)
        lock.acquire()
        previous = self._install_signals()
        try:
            # Watch first: an edit made while the files are being read is not lost.
            try:
                self.watcher.start(self._watch_targets())
            except OSError as exc:  # e.g. the inotify watch limit; SIGHUP still reloads
                log.warning("live edits are off (%s); send SIGHUP to reload", exc)
            self._apply(self._load_routines(self.settings), self.settings, [], starting=True)
            self.scheduler.add_listener(self._started, EVENT_SCHEDULER_STARTED)
            self.scheduler.start()  # blocks in the loop until stop()
        finally:
            self.watcher.stop()
            self.chain.close()
            lock.release()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("crampguard stopped")
        return 0

    def _install_signals(self) -> dict[int, Any]:
        def stop(signum: int, frame: Any) -> None:
            self._stop_requested = True
            self.scheduler.wakeup()

        def hup(signum: int, frame: Any) -> None:
            log.info("SIGHUP: reloading")
            self._reload_at = time.monotonic()
            self.scheduler.wakeup()

        handlers: dict[int, Callable[[int, Any], None]] = {
            signal.SIGTERM: stop, signal.SIGINT: stop, signal.SIGHUP: hup}
        return {sig: signal.signal(sig, h) for sig, h in handlers.items()}

    def request_reload(self) -> None:
        """From the watcher's thread: reload once the files have settled."""
        self._reload_at = time.monotonic() + DEBOUNCE
        self.scheduler.wakeup()

    def _next_wait(self) -> float:
        if self._reload_at is not None:
            return max(0.0, min(CLOCK_CHECK, self._reload_at - time.monotonic()))
        return CLOCK_CHECK

    def _on_wake(self) -> None:
        if self._stop_requested:
            self.scheduler.shutdown(wait=False)
            return
        jumped = self._clock.jump()
        if jumped:
            self._after_jump(jumped)
        if self._reload_at is not None and time.monotonic() >= self._reload_at:
            self._reload_at = None
            self.reload()

    def _after_jump(self, seconds: float) -> None:
        log.info("the wall clock jumped %+.0fs (resume or clock change): re-planning", seconds)
        if seconds > 0:
            return  # what fell due meanwhile is handled now, under each catch_up rule
        # Back in time: plan from the new "now", or the next reminders would wait until
        # the old future instant comes round again.
        now = clock.now()
        for job in self.scheduler.get_jobs():
            job.modify(next_run_time=job.trigger.get_next_fire_time(None, now))

    # --- loading and re-planning ---------------------------------------------------------

    def _load_routines(self, settings: Settings) -> RoutineSet:
        routines = load_set(self.app.paths.routine_dirs, settings, self.app.catalog,
                            last_good=self.last_good)
        self.last_good.update({p: r for p, r in routines.files.items() if r is not None})
        for path in [p for p in self.last_good if p not in routines.files]:
            del self.last_good[path]  # deleted files are gone, not "last good"
        return routines

    def reload(self) -> None:
        settings, problems = self.settings, []
        try:
            settings = load_settings(self.app.paths.config_file, self.app.flags, self.app.env)
        except CrampguardError as exc:
            problems = exc.problems
        routines = self._load_routines(settings)
        self._apply(routines, settings, problems)
        try:
            self.watcher.refresh(self._watch_targets())
        except OSError as exc:
            log.warning("could not watch the folders (%s); send SIGHUP to reload", exc)
        log.info("reloaded: %d routine(s) scheduled", len(self.scheduler.get_jobs()))

    def _apply(self, routines: RoutineSet, settings: Settings, settings_problems: list[str],
               *, starting: bool = False) -> None:
        self._report(settings_problems + routines.problems)
        replan_all = settings != self.settings or starting
        if settings.notifier != self.settings.notifier:
            self.chain.close()
            self.chain = build_chain(settings.notifier, log)
        self.settings = settings
        old = {r.id: r for r in self.routines.enabled}
        new = {r.id: r for r in routines.enabled}
        self.routines = routines
        for gone in old.keys() - new.keys():
            self.scheduler.remove_job(gone)
            log.info("unscheduled %s", gone)
        for routine_id, routine in new.items():
            if not replan_all and old.get(routine_id) == routine:
                continue
            self._schedule(routine)

    def _schedule(self, routine: Routine) -> None:
        job = self.scheduler.add_job(
            self._noop, trigger=trigger_for(routine, self.settings), id=routine.id,
            name=routine.title, replace_existing=True, coalesce=False, max_instances=1,
            misfire_grace_time=max(1, int(routine.schedule.catch_up.total_seconds())),
        )
        if self.scheduler.running:  # at start-up, _started logs them with their next time
            self._log_scheduled(job)

    def _log_scheduled(self, job: Job) -> None:
        routine = self.routines.routines[job.id]
        when = f"{job.next_run_time.astimezone(self.settings.zone):%a %Y-%m-%d %H:%M:%S %z}" \
            if job.next_run_time else "never"
        log.info("scheduled %s: %s; next %s", job.id,
                 describe(routine.schedule, self.settings.anchors), when)

    def _started(self, event: Any) -> None:
        """Once the scheduler has planned every job from the real "now"."""
        for job in self.scheduler.get_jobs():
            self._log_scheduled(job)
        log.info("crampguard running: %d routine(s) scheduled, zone %s, notifier %s",
                 len(self.scheduler.get_jobs()), self.settings.zone,
                 "+".join(self.chain.names))

    @staticmethod
    def _noop() -> None:
        """Jobs carry only their id; the executor calls ``deliver`` with the due time."""

    def _watch_targets(self) -> list[Path]:
        paths = self.app.paths
        folders = [paths.only_routines] if paths.only_routines else [paths.user_routines]
        return [paths.config_file, *[f for f in folders if f is not None]]

    def _report(self, problems: list[str]) -> None:
        """Log every problem; show one notification per new breakage, not per reload."""
        for problem in problems:
            log.error("%s (the last good version keeps running)", problem)
        new = set(problems) - self._reported
        self._reported = set(problems)  # a fixed problem that comes back is news again
        if not new:
            return
        first = sorted(new)[0]
        what = "the settings file" if first.startswith(
            (str(self.app.paths.config_file), "environment")) else "a routine file"
        notice = Notice(
            title=f"crampguard: {what} is broken",
            body=f"{first}\nThe last good version keeps running. "
                 f"Run `crampguard check` for every problem.",
            urgency="normal", hint_command="crampguard check",
        )
        self._send(notice, "config error")

    # --- delivering ----------------------------------------------------------------------

    def deliver(self, routine_id: str, due: datetime) -> None:
        routine = self.routines.routines.get(routine_id)
        if routine is None:
            return
        late = (clock.now() - due).total_seconds()
        delivery = self._send(notice_for(routine), routine_id)
        if delivery is not None:
            log.info("delivered %s via %s (due %s, %.3fs late)", routine_id, delivery.backend,
                     f"{due.astimezone(self.settings.zone):%H:%M:%S}", late)

    def missed(self, routine_id: str, due: datetime, why: str) -> None:
        log.warning("missed %s due %s: %s", routine_id,
                    f"{due.astimezone(self.settings.zone):%a %Y-%m-%d %H:%M:%S %z}", why)

    def _send(self, notice: Notice, what: str) -> Any:
        try:
            return self.chain.send(notice)
        except NotifyError as exc:  # the console backend makes this next to impossible
            log.error("could not deliver %s: %s", what, exc)
            return None
