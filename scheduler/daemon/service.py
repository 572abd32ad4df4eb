"""`crampguard run`: keep the active routines scheduled and deliver each reminder on time.

State lives here and changes only on the loop's thread: signal handlers and the file
watcher just leave a note and wake the loop.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduler import clock, i18n
from scheduler.config.context import Context
from scheduler.config.loader import RoutineSet, load_set
from scheduler.config.routine import Routine
from scheduler.config.settings import Settings, load_settings, unknown_variables
from scheduler.control.server import ControlServer
from scheduler.daemon import handlers, readiness
from scheduler.daemon.answers import Answers
from scheduler.daemon.away import Away
from scheduler.daemon.calls import STOPPING, LoopCalls
from scheduler.daemon.engine import Engine
from scheduler.daemon.followups import FOLLOW_TIMER, FollowUps
from scheduler.daemon.ledger import Ledger
from scheduler.daemon.lock import InstanceLock
from scheduler.daemon.memory import Memory
from scheduler.daemon.reminders import (
    PAUSE_TIMER,
    REACH_TIMER,
    REPEAT_TIMER,
    SNOOZE_TIMER,
    WAIT_TIMER,
    Reminders,
)
from scheduler.daemon.sleep import ClockWatch
from scheduler.daemon.timers import RoutineTimers
from scheduler.daemon.watcher import open_watcher
from scheduler.errors import CrampguardError
from scheduler.i18n import N_
from scheduler.journal import recovery
from scheduler.journal.store import Journal
from scheduler.notify import Notice, NotifyError, build_chain
from scheduler.planning import notices
from scheduler.planning.schedule import describe, timetable_for
from scheduler.planning.warnings import routine_warnings
from scheduler.timing import grammar
from scheduler.timing.plans import Timetable

if TYPE_CHECKING:
    from scheduler.daemon.calendar_link import CalendarLink
    from scheduler.daemon.reach_link import ReachLink
    from scheduler.daemon.tray_link import TrayLink

#: Editors write a file in several steps; wait this long after the last event.
DEBOUNCE = 0.2
#: How far back a restarted daemon looks for reminders it missed while it was down (from
#: when it was last alive, but no further: a month of missed firings says enough).
RESTART_REACH = timedelta(days=31)
#: The settings file as it was when it last loaded cleanly, in the state folder: a daemon
#: started on a broken config.toml runs on it rather than refusing to start.
LAST_GOOD_CONFIG = "config.last-good.toml"
log = logging.getLogger("crampguard")
#: The daemon's own timers by key prefix, as the reload counts them apart from routines.
_TIMER_KINDS = ((SNOOZE_TIMER, "snooze"), (FOLLOW_TIMER, "follow-up"),
                (REPEAT_TIMER, "repeat"), (WAIT_TIMER, "held reminder"), (PAUSE_TIMER, "pause"),
                ("crampguard:calendar", "calendar sync"), (REACH_TIMER, "reach"))


def _release_startup_memory() -> None:
    """Start-up (imports, pydantic schemas) leaves freed heap behind; the daemon then idles
    for days, so hand it back to the system once (glibc only; elsewhere a no-op)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


class Daemon:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.settings, self._settings_problems = self._first_settings()
        #: enabled routines that never reach the user (planning.warnings)
        self._warnings: list[str] = []
        self.routines = RoutineSet()
        self.last_good: dict[Path, Routine] = {}
        self._reported: set[str] = set()
        self._reload_at: float | None = None
        self._hup = False  # set by the SIGHUP handler, acted on by the loop
        self._stop_requested = False
        self._clock = ClockWatch()
        self.calls = LoopCalls(lambda: self.engine.wakeup())
        self.started_at = clock.now()
        self.chain = self._chain(self.settings.notifier)
        self.engine = Engine(zone=self.settings.zone, on_wake=self._on_wake,
                             next_wait=self._next_wait)
        self.timers = RoutineTimers(self.engine, self._due, clock.now)
        self.watcher = open_watcher(self.request_reload)
        self.away = Away(ctx.env, self.calls.post)
        self.control = ControlServer(ctx.paths.control_socket, self._handle_request,
                                     log)
        self.reminders: Reminders
        #: the [calendar] collection kept in step; None without one (nothing imported)
        self.calendar: CalendarLink | None = None
        #: the tray icon; None with `tray = false` (nothing of it imported)
        self.tray: TrayLink | None = None
        #: the [reach] channels; None without one (nothing imported, no thread started)
        self.reach: ReachLink | None = None

    def _due(self, routine_id: str, run_times: list[datetime]) -> None:
        """A routine's run times came due (its timer fired)."""
        self.reminders.settle(routine_id, run_times, clock.now())
        self.away.follow()

    def _chain(self, choice: str) -> Any:
        return build_chain(choice, log, on_action=lambda nid, key: self.calls.post(
            lambda: self.answers.action(nid, key)),
            # What waited for the notification server to come back is shown now.
            on_available=lambda: self.calls.post(
                lambda: self.reminders.server_back(clock.now())))

    # --- running ------------------------------------------------------------------------

    def run(self) -> int:
        # `kill -USR1 PID` writes every thread's stack to the log: what a stuck daemon does.
        faulthandler.register(signal.SIGUSR1, all_threads=True)
        lock = InstanceLock(self.ctx.paths)
        lock.acquire()
        self.ledger = Ledger(self.ctx.paths.journal, self._open_journal,
                             on_trouble=self._journal_trouble,
                             on_recovered=self._journal_recovered)
        try:
            self.ledger.attach(self._open_journal(self.ctx.paths.journal))
        except CrampguardError as exc:  # it keeps reminding, and tries again as it goes
            self.ledger.trouble = str(exc)
            self._journal_trouble(str(exc))
        self.memory = Memory(self.ledger, lambda: self.settings.zone)
        self.memory.load_pauses(clock.now())
        # Read before this run notes its own life: the restart catches up from here.
        self._last_alive = self.memory.last_alive()
        self.reminders = Reminders(
            memory=self.memory, timers=self.timers, routine=self._enabled_routine,
            enabled=lambda: self.routines.enabled,
            send=lambda notice: self.chain.send(notice), presence=self.away.view)
        self.answers = Answers(self.reminders,
                               withdraw=lambda backend, nid: self.chain.withdraw(backend, nid))
        self.away.bind(self.timers, self.reminders, lambda: self.routines.enabled)
        self.followups = FollowUps(self.reminders, self.timers, lambda: self.routines.enabled)
        self.answers.on_done = self.followups.after_done
        self.answers.on_answer = self._answered
        previous = self._install_signals()
        try:
            self.control.start()
            # Watch first: an edit made while the files are being read is not lost.
            try:
                self.watcher.start(self._watch_targets())
            except OSError as exc:  # e.g. the inotify watch limit; SIGHUP still reloads
                log.warning("live edits are off (%s); send SIGHUP to reload", exc)
            self._apply(self._load_routines(self.settings), self.settings,
                        self._settings_problems, starting=True)
            self.away.start()
            self.engine.run(on_started=self._started)  # blocks in the loop until stop()
        finally:
            readiness.stopping()
            self._stop_requested = True
            self.calls.run(stopping=True)
            self.memory.mark_alive(clock.now(), stopping=True)
            self.control.stop()
            self.watcher.stop()
            self.away.stop()
            if self.calendar is not None:
                self.calendar.close()
            if self.tray is not None:
                self.tray.close()
            if self.reach is not None:
                self.reach.close()
            self.ledger.close()  # before the notifiers: its trouble may still be shown
            self.chain.close()
            lock.release()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(self._previous_wakeup_fd)
            self.engine.close()
        log.info("crampguard stopped")
        return 0

    def _install_signals(self) -> dict[int, Any]:
        # The handlers only leave a note for the loop. Python runs them on the main thread,
        # but the kernel may hand a signal to any thread (presence, the bus readers): the
        # wakeup fd ends the loop's wait whichever thread it lands on, and the handler runs
        # as the wait returns.
        def stop(signum: int, frame: Any) -> None:
            self._stop_requested = True

        def hup(signum: int, frame: Any) -> None:
            self._hup = True

        handlers: dict[int, Callable[[int, Any], None]] = {
            signal.SIGTERM: stop, signal.SIGINT: stop, signal.SIGHUP: hup}
        self._previous_wakeup_fd = signal.set_wakeup_fd(self.engine.sleep.wake_fd(),
                                                        warn_on_full_buffer=False)
        return {sig: signal.signal(sig, h) for sig, h in handlers.items()}

    def request_reload(self) -> None:
        """From the watcher's thread: reload once the files have settled."""
        self._reload_at = time.monotonic() + DEBOUNCE
        self.engine.wakeup()

    def _next_wait(self) -> float | None:
        """How long the loop may sleep at most: until a debounced reload is due, or the
        journal's next try while events wait for it; None: until the next timer.

        Asked once per round, after its timers ran and just before the loop sleeps: the
        tray icon is brought up to date here, with whatever the round changed."""
        if self.tray is not None:
            self.tray.refresh(clock.now())
        waits = [] if self.ledger.retry_after is None else [self.ledger.retry_after]
        if self._reload_at is not None:
            waits.append(max(0.0, self._reload_at - time.monotonic()))
        return min(waits, default=None)

    def _handle_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """The control server's thread: the loop answers (calls.LoopCalls.answer)."""
        if self._stop_requested:
            return STOPPING
        return self.calls.answer(request, lambda req: handlers.handle(self, req))

    def _on_wake(self) -> None:
        if self._stop_requested:
            self.engine.stop()
            return
        if self.ledger.pending:  # first: the commands below then see the journal as it is
            self.ledger.flush()
        self.memory.mark_alive(clock.now())
        self.calls.run()
        jumped = self._clock.jump()
        if jumped:
            self._after_jump(jumped)
        if self._hup:
            self._hup = False
            log.info("SIGHUP: reloading")
            self._reload_at = time.monotonic()
        if self._reload_at is not None and time.monotonic() >= self._reload_at:
            self._reload_at = None
            self.reload()

    def _after_jump(self, seconds: float) -> None:
        log.info("the wall clock jumped %+.0fs (resume or clock change): re-planning", seconds)
        if seconds > 0:
            if self.reach is not None:
                self.reach.woke()  # answers given while it slept: read now, not at a timeout
            return  # what fell due meanwhile is handled now, under each catch_up rule
        # Back in time: plan from the new "now", or the next reminders would wait until
        # the old future instant comes round again.
        self.timers.replan(clock.now())

    # --- loading and re-planning ---------------------------------------------------------

    def _load_routines(self, settings: Settings) -> RoutineSet:
        routines = load_set(self.ctx.paths.routine_dirs, settings, self.ctx.catalog,
                            last_good=self.last_good)
        self.last_good.update({p: r for p, r in routines.files.items() if r is not None})
        for path in [p for p in self.last_good if p not in routines.files]:
            del self.last_good[path]  # deleted files are gone, not "last good"
        return routines

    def _first_settings(self) -> tuple[Settings, list[str]]:
        """The settings to start on: the files', else the last good ones this machine saw,
        else the defaults, so a broken config.toml never stops the reminders."""
        try:
            settings = self.ctx.read_settings()
        except CrampguardError as exc:
            last_good = self.ctx.paths.state_dir / LAST_GOOD_CONFIG
            try:
                fallback = load_settings(last_good, self.ctx.flags)
                which = "last good" if last_good.exists() else "default"
            except CrampguardError:  # the environment or a flag is what is broken
                # No source at all: not the file, not CRAMPGUARD_*, not the flags.
                fallback, which = Settings.model_construct(), "default"
            log.error("running on the %s settings until the problem is fixed", which)
            self._on_defaults = which == "default"
            return fallback, exc.problems
        self._on_defaults = False
        self._keep_good_config()
        return settings, []

    def _keep_good_config(self) -> None:
        """Remember the settings file as it loaded cleanly (see LAST_GOOD_CONFIG)."""
        source, copy = self.ctx.paths.config_file, self.ctx.paths.state_dir / LAST_GOOD_CONFIG
        try:
            if not source.exists():
                copy.unlink(missing_ok=True)  # the defaults are the good settings now
                return
            data = source.read_bytes()
            if not copy.exists() or copy.read_bytes() != data:
                copy.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                tmp = copy.with_suffix(".tmp")
                tmp.write_bytes(data)
                tmp.replace(copy)
        except OSError as exc:  # a read-only state folder: the reminders matter more
            log.warning("could not keep a copy of the good settings: %s", exc)

    def reload(self) -> None:
        readiness.reloading()
        settings, problems = self.settings, []
        try:
            settings = self.ctx.read_settings()
        except CrampguardError as exc:
            problems = exc.problems
        else:
            self._on_defaults = False
            self._keep_good_config()
        self._settings_problems = problems
        routines = self._load_routines(settings)
        self._apply(routines, settings, problems)
        # a reload asked for (`crampguard reload`, SIGHUP, an edit) syncs even when no plan
        # changed: the phone's answers come in with it
        self._calendar_soon(timedelta(0))
        try:
            self.watcher.refresh(self._watch_targets())
        except OSError as exc:
            log.warning("could not watch the folders (%s); send SIGHUP to reload", exc)
        scheduled = len(self.routines.enabled)
        pending = self.pending_timers()
        log.info("reloaded: %d routine(s) scheduled%s", scheduled, _also_pending(pending))
        readiness.ready(f"{scheduled} routine(s) scheduled")

    def pending_timers(self) -> dict[str, int]:
        """The daemon's own timers still to run, by kind ({"snooze": 1}): told apart from
        the routines, which they are not (the reload's log line and its reply)."""
        found: dict[str, int] = {}
        for key in self.timers.own_timers():
            kind = next((name for prefix, name in _TIMER_KINDS if key.startswith(prefix)),
                        "other")
            found[kind] = found.get(kind, 0) + 1
        return found

    def _apply(self, routines: RoutineSet, settings: Settings, settings_problems: list[str],
               *, starting: bool = False) -> None:
        # The notices speak the user's language; the log and the replies stay English.
        i18n.use(settings.language, everywhere=False)
        self._report(settings_problems + routines.problems)
        replan_all = settings != self.settings or starting
        if settings.notifier != self.settings.notifier:
            self.chain.close()
            self.chain = self._chain(settings.notifier)
        calendar_changed = settings.calendar != self.settings.calendar or starting
        tray_changed = settings.tray != self.settings.tray
        reach_changed = settings.reach != self.settings.reach or starting
        self.settings = settings
        old = {r.id: r for r in self.routines.enabled}
        new = {r.id: r for r in routines.enabled}
        self.routines = routines
        changed = replan_all or old.keys() != new.keys()
        for gone in old.keys() - new.keys():
            self.timers.drop(gone)
            log.info("unscheduled %s", gone)
        for routine_id, routine in new.items():
            if not replan_all and old.get(routine_id) == routine:
                continue
            changed = True
            self._schedule(routine)
        if calendar_changed:
            self._link_calendar(settings)
        if tray_changed and not starting:  # at start-up, _started shows it once planned
            self._link_tray(settings)
        if reach_changed:
            self._link_reach(settings)
        if changed and not starting:  # at start-up, _started syncs once planned
            self._calendar_soon(timedelta(0))
        self.away.configure(routines.enabled)
        warnings = [str(w) for w in routine_warnings(routines.routines.values(), settings,
                                                     clock.now())]
        for warning in warnings:
            log.warning("%s", warning)
        self._warnings = warnings
        for unread in unknown_variables(self.ctx.env):  # at start and on each reload
            log.warning("%s", unread)

    def _schedule(self, routine: Routine) -> None:
        self.timers.plan(routine.id, timetable_for(routine, self.settings))
        if self.engine.running:  # at start-up, _started does both once planned from "now"
            self.timers.skip_settled(routine.id, self.memory.get)
            self._log_scheduled(routine.id)

    def _log_scheduled(self, routine_id: str) -> None:
        routine = self.routines.routines[routine_id]
        next_time = self.timers.next_time(routine_id)
        when = grammar.format_instant(next_time, self.settings.zone) if next_time else "never"
        log.info("scheduled %s: %s; next %s", routine_id,
                 describe(routine.schedule, self.settings.anchors), when)

    def _started(self) -> None:
        """Once the loop runs, before its first round."""
        self.chain.listen()  # buttons on notices a previous run left on screen
        now = clock.now()
        # first: only notices of an earlier run are unanswered yet
        self.reminders.show_earlier_again(now, self.chain.earlier_presses_lost)
        plans = self.timers.plans.ids()
        self._catch_up_after_restart(plans, now)
        self.reminders.resume_planned(now)
        self.followups.restore(now)
        self.away.follow()
        for routine_id in plans:
            self.timers.skip_settled(routine_id, self.memory.get)
            self._log_scheduled(routine_id)
        log.info("crampguard running: %d routine(s) scheduled, zone %s, notifier %s",
                 len(plans), self.settings.zone, "+".join(self.chain.names))
        self._link_tray(self.settings)
        readiness.ready(f"{len(plans)} routine(s) scheduled")
        self._calendar_soon(timedelta(0))
        _release_startup_memory()

    def _catch_up_after_restart(self, routine_ids: list[str], now: datetime) -> None:
        """Reminders that fell due while the daemon was down, since it was last alive:
        held, missed or delivered (the latest, within catch_up) by the same decision as
        any other; those it handled before it stopped have their rows and are passed over."""
        last_alive = self._last_alive
        if last_alive is None:
            return  # the first run on this journal: nothing was planned before
        since = max(last_alive, now - RESTART_REACH)
        if since > last_alive:
            log.warning("crampguard was not running since %s: firings before %s are not "
                        "recorded", grammar.format_instant(last_alive, self.settings.zone),
                        grammar.format_instant(since, self.settings.zone))
        for routine_id in routine_ids:
            timetable = self.timers.timetable(routine_id)
            if timetable is None:
                continue
            self.reminders.settle(routine_id, due_between(timetable, since, now), now,
                                  why="catch-up",
                                  why_missed=" (crampguard was not running)")

    # --- the tray icon ----------------------------------------------------------------------

    def _link_tray(self, settings: Settings) -> None:
        """The tray icon as the settings want it: nothing of it is imported with
        `tray = false`."""
        if self.tray is not None:
            self.tray.close()
            self.tray = None
        if not settings.tray:
            return
        from scheduler.daemon.tray_link import TrayLink
        from scheduler.notify.dbus import session_bus_address

        self.tray = TrayLink(self, self.calls.post)
        self.tray.start(session_bus_address(self.ctx.env))

    # --- the phone's calendar ---------------------------------------------------------------

    def _link_calendar(self, settings: Settings) -> None:
        """The [calendar] collection as the settings name it: nothing of the calendar is
        imported without one (a daemon's memory and start-up stay as they were)."""
        if self.calendar is not None:
            self.calendar.close()
            self.calendar = None
        if settings.calendar is None:
            return
        from scheduler.daemon.calendar_link import CalendarLink

        self.calendar = CalendarLink(
            settings.calendar, snapshot=self._calendar_firings, post=self.calls.post,
            once=self.timers.once, cancel=self.timers.cancel,
            completed=self._calendar_completed)
        log.info("calendar: keeping %s in step, %d days ahead", settings.calendar.url,
                 settings.calendar.days)

    def _calendar_soon(self, wait: timedelta | None = None) -> None:
        if self.calendar is None or not self.engine.running:
            return
        from scheduler.daemon.calendar_link import AFTER_ANSWER

        self.calendar.soon(AFTER_ANSWER if wait is None else wait)

    def _calendar_firings(self, now: datetime) -> tuple[list[Any], Any]:
        """What the calendar should hold now: the enabled routines' firings ahead, with
        this daemon's answers, planned follow-ups and skips (loop thread)."""
        from scheduler.calendar.sync import LOOKBACK, wanted

        assert self.settings.calendar is not None
        routines = self.routines.enabled
        answered = {(row.routine, row.due): row.answer
                    for r in routines for row in self.memory.recent(r.id, now - LOOKBACK)
                    if row.answer in ("done", "skipped")}
        pending = [(r.routine, r.due) for r in self.memory.in_state("pending")]
        skipped = [(r.routine, r.due) for r in self.memory.in_state("skipped")]
        return wanted(routines, self.settings, now, self.settings.calendar.days,
                      answered=answered, pending=pending, skipped=skipped), self.settings.zone

    def _calendar_completed(self, completions: list[Any], now: datetime) -> int:
        """To-dos completed on the phone: answers, through the one answer path."""
        return sum(self.answers.completed_elsewhere(c.routine, c.due, now, source="calendar",
                                                    completed=c.at)
                   for c in completions)

    # --- the channels away from the desk ---------------------------------------------------

    def _link_reach(self, settings: Settings) -> None:
        """The [reach] channels as the settings name them: nothing of them is imported and
        no thread started without one (a daemon's memory and wakeups stay as they were)."""
        if self.reach is not None:
            self.reach.close()
            self.reach = None
            self.reminders.reach = None
        if not settings.reach:
            return
        from scheduler.daemon.reach_flow import ReachFlow
        from scheduler.daemon.reach_link import CURSOR_KEY, ReachLink
        from scheduler.reach import registry

        try:
            channels = registry.open_channels(settings.reach, self.ctx.paths.state_dir)
        except CrampguardError as exc:
            self._report(exc.problems)
            return

        def keep_cursor(name: str, cursor: str) -> None:
            self.ledger.write(lambda j: j.set_state(CURSOR_KEY.format(name=name), cursor))

        flow = ReachFlow(self.reminders, self.answers)
        self.reach = flow.link = ReachLink(
            channels, post=self.calls.post, reached=flow.reached, unreached=flow.unreached,
            answered=flow.answered,
            cursor=lambda name: self.ledger.read(
                lambda j: j.get_state(CURSOR_KEY.format(name=name)), None),
            keep_cursor=keep_cursor)
        self.reminders.reach = flow
        self.reach.start()
        for name, channel in channels.items():
            log.info("reach %s: %s %s%s", name, channel.kind, channel.describe(),
                     " (answers heard)" if channel.two_way else "")

    def _answered(self, reminder: Any) -> None:
        self._calendar_soon()
        if self.reach is not None:
            self.reach.answered(reminder)

    # --- the journal ----------------------------------------------------------------------

    def _open_journal(self, path: Path) -> Journal:
        """Open the journal; a damaged one is moved aside (never deleted) for a new one."""
        journal, moved_to = recovery.open_journal(path, clock.now(self.settings.zone))
        if moved_to is not None:
            log.error("the journal %s was damaged: moved it to %s and started a new one",
                      path, moved_to)
            self._notify(notices.journal_moved(path, moved_to))
        return journal

    def _journal_trouble(self, problem: str) -> None:
        log.error("%s; reminders are still shown, and recorded once the journal works "
                  "again", problem)
        self._notify(notices.journal_trouble(problem))

    def _journal_recovered(self, problem: str) -> None:
        log.info("the journal works again; the events kept meanwhile are written")
        self.ledger.write(lambda j: j.record("journal_error", None, at=clock.now(),
                                             detail={"problem": problem, "recovered": True}))

    def _notify(self, notice: Notice) -> None:
        try:
            self.chain.send(notice)
        except NotifyError as exc:  # the console backend makes this next to impossible
            log.error("could not show %r: %s", notice.title, exc)

    def _watch_targets(self) -> list[Path]:
        paths = self.ctx.paths
        return [paths.config_file, paths.only_routines or paths.user_routines]

    def _report(self, problems: list[str]) -> None:
        """Log every problem; show one notification per new breakage, not per reload."""
        for problem in problems:
            log.error("%s (%s)", problem, self._keeps(problem))
        new = set(problems) - self._reported
        self._reported = set(problems)  # a fixed problem that comes back is news again
        if not new:
            return
        at = clock.now()
        self.ledger.write(lambda j: j.record("config_error", None, at=at,
                                             detail={"problems": sorted(new)}))
        first = sorted(new)[0]
        what = N_("the settings file") if first.startswith(
            (str(self.ctx.paths.config_file), "environment")) else N_("a routine file")
        self._notify(notices.broken_file(what, first, more=len(new) - 1,
                                         keeps=self._keeps(first)))

    def _keeps(self, problem: str) -> str:
        """What runs while ``problem`` stands: a first start on broken settings has no
        last good version of them, only the defaults."""
        if self._on_defaults and problem in self._settings_problems:
            return N_("the default settings run until it is fixed")
        return N_("the last good version keeps running")

    # --- delivering and reporting -----------------------------------------------------------

    @property
    def notifiers(self) -> tuple[str, ...]:
        """The notifiers in the order they are tried."""
        return self.chain.names

    def _enabled_routine(self, routine_id: str) -> Routine | None:
        routine = self.routines.routines.get(routine_id)
        return routine if routine is not None and routine.enabled else None

    def status(self) -> dict[str, Any]:
        zone = self.settings.zone
        last = self.reminders.last_delivery
        # Read once: asking paused() and then paused_until reads the clock twice, and a
        # pause ending between the two left paused_until None.
        now = clock.now()
        paused_until = self.memory.paused_until(now)
        upcoming = self.next_reminders(now)
        return {
            "pid": os.getpid(),
            "running_since": self.started_at.astimezone(zone).isoformat(),
            "paused_until": paused_until.astimezone(zone).isoformat()
            if paused_until is not None else None,
            "zone": str(zone),
            "notifiers": list(self.chain.names),
            "routines": [
                {"id": routine_id, "title": title,
                 "next": next_time.astimezone(zone).isoformat() if next_time else None}
                for routine_id, title, next_time in upcoming
            ],
            "last_delivery": None if last is None else {
                "routine": last.routine, "due": last.due.astimezone(zone).isoformat(),
                "at": last.at.astimezone(zone).isoformat(), "backend": last.backend},
            "problems": self.problems(),
            **({"channels": self.reach.status()} if self.reach is not None else {}),
        }

    def next_reminders(self, now: datetime) -> list[tuple[str, str, datetime | None]]:
        """Each planned routine's next showing (a follow-up's if sooner) as (id, title,
        when), soonest first, those with none last."""
        pending = self.followups.pending()
        return sorted(((rid, self.routines.routines[rid].title,
                        _earliest(self.reminders.next_shown(rid, planned), pending.get(rid)))
                       for rid, planned in self.timers.planned()),
                      key=lambda p: (p[2] is None, p[2]))

    def problems(self) -> list[str]:
        """Everything that keeps a reminder from the user: settings, routine files, the
        journal."""
        journal = [f"journal: {self.ledger.trouble}"] if self.ledger.trouble else []
        calendar = self.calendar.problems() if self.calendar is not None else []
        return [*self._settings_problems, *self.routines.problems, *self._warnings, *journal,
                *calendar]


def due_between(timetable: Timetable, since: datetime, now: datetime) -> list[datetime]:
    """A timetable's firings after ``since`` up to ``now``: what fell due while the daemon
    was down (the model test replays a restart through the same rule)."""
    run_times = []
    for firing in timetable.firings(since, inclusive=False):
        if firing.at > now:
            break
        run_times.append(firing.at)
    return run_times


def _also_pending(pending: dict[str, int]) -> str:
    """"; also pending: 1 snooze, 2 follow-up(s)", or nothing."""
    if not pending:
        return ""
    return "; also pending: " + ", ".join(
        f"{count} {kind}{'s' if count > 1 else ''}" for kind, count in sorted(pending.items()))


def _earliest(*moments: datetime | None) -> datetime | None:
    return min((m for m in moments if m is not None), default=None)
