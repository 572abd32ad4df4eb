"""``Presence``: the sources put together for the daemon, and ``probe`` for doctor.

Idle time comes from the first source that answers, in this order: GNOME's idle monitor
(signals), swayidle on other Wayland compositors (its lines: signals), X11 (SYNC alarms:
signals; after swayidle, as under Wayland it sees only the X programs' input),
freedesktop's screensaver (idle time only by asking), logind (signals, but counted from
the desktop's own idle delay). The order is "signals over asking", then "the user's own
threshold over the desktop's". The lock comes from every lock source that answers
(either may know), do-not-disturb from every switch that answers.

One thread, "crampguard-presence", does the work: it sleeps in the kernel (select on a
wake pipe, the X display and swayidle's pipe) until a source signals, a look at the time
is due, or the daemon changed something; then it reads what changed, works out the state
and calls the daemon's callbacks. Looks at the time exist only for sources without
signals: one as the idle time reaches the threshold, and one a second while away if the
daemon holds a reminder (``set_watching``). With signalling sources nothing wakes it
while nothing changes.
"""

from __future__ import annotations

import logging
import os
import selectors
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial

from scheduler import clock

from .bus import Bus
from .dbus_sources import (
    FREEDESKTOP_SCREENSAVER,
    GNOME_SCREENSAVER,
    GnomeBanners,
    Logind,
    MutterIdle,
    ScreenSaver,
    dunst_paused,
    notifications_inhibited,
)
from .source import DND, IDLE, LOCK, Source, Unavailable
from .state import (
    DEFAULT_AWAY_AFTER_S,
    PresenceState,
    Reading,
    SourceReport,
    Tracker,
    describe,
)
from .wayland import Swayidle, fullscreen_report
from .x11 import X11

#: How often a source without signals is asked while away and a reminder waits for the
#: user's return (the budget from return to notice is 2 s).
POLL_S = 1.0
#: Looked at just after the idle time reaches the threshold, not just before.
MARGIN_S = 0.05
JOIN_TIMEOUT_S = 3.0

log = logging.getLogger(__name__)


def _candidates(env: Mapping[str, str], changed: Callable[[Source], None],
                on_sleep: Callable[[bool], None], session: Bus | None,
                system: Bus | None, x11_sync: bool = True) -> list[Source]:
    """Every source, in the order of preference for idle time (and do-not-disturb)."""
    return [
        MutterIdle(changed, session),
        Swayidle(changed, env),
        X11(changed, env, use_sync=x11_sync),
        ScreenSaver(changed, session, FREEDESKTOP_SCREENSAVER, "freedesktop-screensaver"),
        ScreenSaver(changed, session, GNOME_SCREENSAVER, "gnome-screensaver",
                    env.get("XDG_CURRENT_DESKTOP", "")),
        Logind(changed, system, env, on_sleep),
        dunst_paused(changed, session),
        notifications_inhibited(changed, session),
        GnomeBanners(changed, session, env),
    ]


def _connect(env: Mapping[str, str]) -> tuple[Bus | None, Bus | None, list[SourceReport]]:
    """The session and system buses (None: not there, its sources say so), and a report on
    each bus that is named but does not answer."""
    buses: list[Bus | None] = []
    broken = []
    for which in ("session", "system"):
        bus = Bus.connect(which, env)
        if isinstance(bus, str):
            broken.append(SourceReport(f"{which}-bus", False, bus))
            bus = None
        buses.append(bus)
    return buses[0], buses[1], broken


def probe(env: Mapping[str, str] | None = None) -> list[SourceReport]:
    """Every presence source and whether it answers here, for ``crampguard doctor``.

    Connects to the session and system buses and the X display named in ``env`` (default:
    this process's environment), asks each source once and closes everything again;
    listens to nothing. Takes well under a second where the sources answer, at most a few
    seconds per bus where one hangs. Never raises for a missing source: its report says
    ``found=False`` and why; a bus that is named (DBUS_SESSION_BUS_ADDRESS, ...) but does
    not answer gets a report of its own first ("session-bus", "system-bus"), as its sources
    only say there is no bus. The one marked ``used`` gives idle time (the first that
    answers); the lock, do-not-disturb and sleep sources that answer are all used. When no
    report is ``found``, the daemon behaves as without presence (reminders are shown
    whether or not the user is there): ``describe(reports)`` says so in one line.
    """
    env = dict(os.environ if env is None else env)
    session, system, broken = _connect(env)
    try:
        found, reports = _open(_candidates(env, lambda _source: None, lambda _going: None,
                                           session, system), listen=False)
        for source in found:
            source.close()
    finally:
        for bus in (session, system):
            if bus is not None:
                bus.close()
    fullscreen = fullscreen_report(env)
    return broken + reports + ([fullscreen] if fullscreen is not None else [])


def _open(candidates: list[Source], *, listen: bool) -> tuple[list[Source], list[SourceReport]]:
    """The sources that answer (listening, if asked), and a report on each candidate."""
    found, reports = [], []
    idle_taken = False
    for source in candidates:
        try:
            detail = source.open()
            if listen:
                source.listen()
        except Exception as exc:  # Unavailable, or a source that broke: never fatal
            source.close()
            why = str(exc) if isinstance(exc, Unavailable) else f"{type(exc).__name__}: {exc}"
            reports.append(SourceReport(source.name, False, why))
            continue
        used = IDLE in source.provides and not idle_taken
        idle_taken = idle_taken or used
        found.append(source)
        reports.append(SourceReport(source.name, True, detail, source.provides, used))
    return found, reports


class Presence:
    """Whether the user is there, for the daemon.

        presence = Presence(env)
        presence.set_away_after(300)              # the routines' smallest away_resets
        presence.start(on_change, on_sleep)       # callbacks on the presence thread
        presence.state()                          # any thread, any time: PresenceState
        presence.set_watching(True)               # while a reminder is held
        presence.stop()

    Where no source answers, ``state()`` always says "there, no do-not-disturb"
    (``sources`` empty): reminders go on as without presence. A source that is not there
    at start but can come later (a notification server D-Bus starts with the first notice,
    a screensaver started after the daemon) is taken on when its name appears on the
    session bus; without a session bus and with no source, ``start`` starts nothing. A
    source of idle time or the lock whose service leaves the bus (the desktop shell
    restarting) makes ``state().unknown`` say so until that service, or another in its
    place, owns the name again: a source that went away is no sign that the user is back.
    """

    def __init__(self, env: Mapping[str, str] | None = None, *,
                 away_after_s: float = DEFAULT_AWAY_AFTER_S, x11_sync: bool = True) -> None:
        self._env = dict(os.environ if env is None else env)
        self._x11_sync = x11_sync
        self._tracker = Tracker(away_after_s)
        self._lock = threading.Lock()  # the tracker, what was last reported
        self._candidates: list[Source] = []
        self._sources: list[Source] = []  # replaced, never changed in place: read anywhere
        self._idle: Source | None = None
        self._buses: list[Bus] = []
        self._names: tuple[str, ...] = ()
        #: what start() found, source by source (as probe() reports it)
        self.reports: list[SourceReport] = []
        self._on_change: Callable[[], None] = _nothing
        self._on_sleep: Callable[[bool], None] = _nothing_bool
        # What the daemon was last told; it starts out assuming "there, no do-not-disturb".
        self._emitted = PresenceState().summary
        self._watching = False
        # What the signals asked the presence thread to do, under _pending_lock.
        self._pending_lock = threading.Lock()
        self._dirty: set[Source] = set()
        self._sleeps: list[bool] = []
        self._appeared: set[Source] = set()
        self._again = False  # this thread asked itself for another turn
        self._stopping = False
        self._wake_r = self._wake_w = -1
        self._thread: threading.Thread | None = None

    @property
    def sources(self) -> tuple[str, ...]:
        """The names of the sources in use (after start); empty: none answers."""
        return self._names

    def start(self, on_change: Callable[[], None], on_sleep: Callable[[bool], None]) -> None:
        """Find the sources, listen to them, start the presence thread.

        ``on_change()`` is called when away, locked or do-not-disturb may have changed
        (call ``state()`` for the news; a call with no news is possible); ``on_sleep(True)``
        as the machine is about to suspend, ``on_sleep(False)`` once it has resumed. Both
        on the presence thread: keep them short (hand the news to your own loop); they may
        call ``state()``. on_change is not called at start unless the state then is not
        "there, no do-not-disturb", and never where no source answers. Call once."""
        self._on_change, self._on_sleep = on_change, on_sleep
        session, system, broken = _connect(self._env)
        self._buses = [bus for bus in (session, system) if bus is not None]
        self._candidates = _candidates(self._env, self._changed, self._slept, session,
                                       system, self._x11_sync)
        found, reports = _open(self._candidates, listen=True)
        self.reports = broken + reports
        self._use(found)
        log.info("presence: %s", describe(self.reports))
        late = [source for source in self._candidates
                if source not in found and source.appears_as is not None]
        if session is not None:
            for source in late:
                assert source.appears_as is not None
                session.watch_owner(source.appears_as, partial(self._name_moved, source))
        elif not found:
            self._close_all()
            return
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        os.set_blocking(self._wake_r, False)
        self._thread = threading.Thread(target=self._run, name="crampguard-presence",
                                        daemon=True)
        self._wake()  # the first turn: arm the sources, report the state once
        self._thread.start()

    def state(self) -> PresenceState:
        """What the sources say now (asks the idle source: about a millisecond)."""
        state = self._observe()
        if self._thread is not None and state.summary != self._emitted:
            self._wake()  # so on_change reports it too, if the thread has not yet
        return state

    def set_away_after(self, seconds: float) -> None:
        """Idle this long (or locked) is away. Default 5 minutes."""
        if not seconds > 0:
            raise ValueError(f"away_after must be more than 0 seconds, not {seconds!r}")
        with self._lock:
            self._tracker.away_after_s = float(seconds)
        self._wake()

    def set_watching(self, on: bool) -> None:
        """On while the daemon holds a reminder until the user is back or do-not-disturb
        ends: then what only costs wakeups to follow is followed too (a source without
        signals is asked every second while away; the active window's fullscreen state is
        followed). Off: none of that (on_change still comes for every signalled change)."""
        self._watching = on
        for source in self._sources:
            source.follow(on)
        self._wake()

    def stop(self) -> None:
        """Stop the thread and close every connection; the callbacks are not called after."""
        thread = self._thread
        if thread is not None:
            with self._pending_lock:
                self._stopping = True
            self._wake()
            thread.join(JOIN_TIMEOUT_S)
            self._thread = None
            for fd in (self._wake_r, self._wake_w):
                os.close(fd)
            self._wake_r = self._wake_w = -1
        self._close_all()

    # -- the presence thread --------------------------------------------------------------

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._wake_r, selectors.EVENT_READ, None)
            for source in self._sources:  # late ones all live on the bus, no file of their own
                fd = source.fileno()
                if fd is not None:
                    selector.register(fd, selectors.EVENT_READ, source)
            deadline: float | None = None
            while True:
                with self._pending_lock:
                    # Work this thread gave itself (it does not write to its own pipe).
                    busy = bool(self._again or self._dirty or self._sleeps or self._appeared)
                    self._again = False
                if busy:
                    timeout: float | None = 0.0
                else:
                    timeout = None if deadline is None else max(0.0,
                                                                deadline - time.monotonic())
                for key, _mask in selector.select(timeout):
                    if key.data is None:
                        _drain(self._wake_r)
                    else:
                        key.data.on_readable()
                        if key.data.fileno() is None:  # the display went away: at its end
                            selector.unregister(key.fd)
                with self._pending_lock:
                    if self._stopping:
                        return
                    dirty, self._dirty = self._dirty, set()
                    sleeps, self._sleeps = self._sleeps, []
                    appeared, self._appeared = self._appeared, set()
                try:
                    deadline = self._turn(dirty, sleeps, appeared)
                except Exception:
                    # A bug here must not end presence for the rest of the daemon's life.
                    log.exception("presence: working out the state failed")
                    deadline = None

    def _turn(self, dirty: set[Source], sleeps: list[bool],
              appeared: set[Source]) -> float | None:
        """One turn of the presence thread; returns when to look again (None: on a signal)."""
        if appeared:
            self._take_on(appeared)
        for going in sleeps:
            _call(self._on_sleep, going)
            if not going:
                dirty = set(self._sources)  # after a resume, anything may have changed
        for source in dirty:
            source.refresh()
        state = self._observe()
        with self._lock:
            news = state.summary != self._emitted
            self._emitted = state.summary
        if news:
            _call(self._on_change)
        return self._next_look(state)

    def _next_look(self, state: PresenceState) -> float | None:
        source, idle = self._idle, state.idle_seconds
        if source is None or idle is None:
            return None
        threshold = self._tracker.away_after_s
        idle_away = idle >= threshold
        if source.arm(threshold, idle_away):
            # A crossing between the reading and the arming brings no signal: look again.
            now_idle = source.idle_seconds()
            if now_idle is not None and (now_idle >= threshold) != idle_away:
                return time.monotonic()
            return None
        if idle_away:
            return time.monotonic() + POLL_S if self._watching else None
        return time.monotonic() + (threshold - idle) + MARGIN_S

    # -- any thread -----------------------------------------------------------------------

    def _observe(self) -> PresenceState:
        # Only a source of idle time or the lock leaves presence unknown when it goes: a
        # do-not-disturb switch lives in the notification server, and with the server gone
        # nothing is shown anyway (the notifier waits for it to come back).
        unknown = next((s.gone for s in self._sources
                        if s.gone is not None and (IDLE in s.provides or LOCK in s.provides)),
                       None)
        reading = Reading(unknown=unknown) if unknown is not None else Reading(
            idle_seconds=self._idle.idle_seconds() if self._idle is not None else None,
            locked=any(s.locked() for s in self._sources if LOCK in s.provides),
            dnd=next((reason for s in self._sources if DND in s.provides
                      if (reason := s.dnd()) is not None), None),
        )
        with self._lock:
            return self._tracker.observe(clock.now(), reading, self._names)

    def _use(self, found: list[Source]) -> None:
        """Use these sources (in the order of preference)."""
        self._sources = [source for source in self._candidates if source in found]
        self._idle = next((s for s in self._sources if IDLE in s.provides), None)
        self._names = tuple(s.name for s in self._sources)

    def _take_on(self, appeared: set[Source]) -> None:
        """On the presence thread: open the sources whose name has just got an owner."""
        found = list(self._sources)
        for source in appeared - set(found):
            opened, [report] = _open([source], listen=True)
            if opened:
                log.info("presence: %s answers now: %s", source.name, report.detail)
                source.follow(self._watching)
                found.append(source)
                self.reports = [report if r.name == source.name else r for r in self.reports]
        self._use(found)
        self.reports = [replace(r, used=r.found and self._idle is not None
                                and r.name == self._idle.name) for r in self.reports]

    def _name_moved(self, source: Source, owned: bool) -> None:
        if not owned:
            return  # not taken on yet: nothing to lose
        with self._pending_lock:
            self._appeared.add(source)
        self._wake()

    def _changed(self, source: Source) -> None:
        with self._pending_lock:
            self._dirty.add(source)
        self._wake()

    def _slept(self, going: bool) -> None:
        with self._pending_lock:
            self._sleeps.append(going)
        self._wake()

    def _wake(self) -> None:
        if threading.current_thread() is self._thread:
            with self._pending_lock:
                self._again = True  # seen before the loop sleeps again
            return
        if self._wake_w >= 0:
            try:
                os.write(self._wake_w, b"!")
            except (BlockingIOError, OSError):
                pass  # full: the thread has wakes enough to read

    def _close_all(self) -> None:
        for source in self._sources:
            source.close()
        for bus in self._buses:
            bus.close()
        self._sources, self._buses = [], []


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _call(callback: Callable[..., None], *args: object) -> None:
    try:
        callback(*args)
    except Exception:
        log.exception("presence: the daemon's callback failed")


def _nothing() -> None:
    pass


def _nothing_bool(_going: bool) -> None:
    pass
