"""The presence sources spoken over D-Bus: GNOME's idle monitor, the screensavers, logind,
and the do-not-disturb switches of dunst, KDE and GNOME.

Each listens to signals only; the bus filters them by rule, so nothing here wakes the
process while nothing changes. The one exception that is no signal at all, GNOME's banner
setting, is read with the ``gsettings`` program (dconf's file format is not worth a parser
here) when dconf says a key under it was written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from jeepney import DBusAddress

from .bus import BUS, Bus, Unanswered
from .source import DND, IDLE, LOCK, SLEEP, Source, Unavailable
from .state import BANNERS_OFF, DUNST_PAUSED, INHIBITED

PROPERTIES = "org.freedesktop.DBus.Properties"
MUTTER = DBusAddress("/org/gnome/Mutter/IdleMonitor/Core",
                     bus_name="org.gnome.Mutter.IdleMonitor",
                     interface="org.gnome.Mutter.IdleMonitor")
FREEDESKTOP_SCREENSAVER = DBusAddress("/org/freedesktop/ScreenSaver",
                                      bus_name="org.freedesktop.ScreenSaver",
                                      interface="org.freedesktop.ScreenSaver")
GNOME_SCREENSAVER = DBusAddress("/org/gnome/ScreenSaver", bus_name="org.gnome.ScreenSaver",
                                interface="org.gnome.ScreenSaver")
NOTIFICATIONS = DBusAddress("/org/freedesktop/Notifications",
                            bus_name="org.freedesktop.Notifications",
                            interface="org.freedesktop.Notifications")
DUNST = DBusAddress(NOTIFICATIONS.object_path, bus_name=NOTIFICATIONS.bus_name,
                    interface="org.dunstproject.cmd0")
LOGIN = DBusAddress("/org/freedesktop/login1", bus_name="org.freedesktop.login1",
                    interface="org.freedesktop.login1.Manager")
SESSION_INTERFACE = "org.freedesktop.login1.Session"
USER_INTERFACE = "org.freedesktop.login1.User"
GRAPHICAL = ("x11", "wayland", "mir")
BANNERS = ("org.gnome.desktop.notifications", "show-banners")
DCONF_PATH = "/org/gnome/desktop/notifications/"
GSETTINGS_TIMEOUT_S = 5.0


def _need(bus: Bus | None, which: str) -> Bus:
    if bus is None:
        raise Unavailable(f"no {which} bus")
    return bus


def _asked(action: Callable[[], Any]) -> Any:
    """Run a call; an unanswered one means the source is not there (with the reason)."""
    try:
        return action()
    except Unanswered as exc:
        raise Unavailable(str(exc)) from exc


class MutterIdle(Source):
    """GNOME's idle monitor (org.gnome.Mutter.IdleMonitor), on X11 and Wayland alike.

    An idle watch at the threshold says when the user went away, a user-active watch
    (one-shot, added once they are away) when they are back: one signal each way."""

    name = "gnome-idle-monitor"
    appears_as = MUTTER.bus_name

    def __init__(self, changed: Callable[[Source], None], bus: Bus | None) -> None:
        super().__init__(changed)
        self._bus = bus
        self._lock = threading.Lock()
        self._idle_watch: tuple[int, int] | None = None  # (id, interval in ms)
        self._active_watch: int | None = None

    def open(self) -> str:
        bus = _need(self._bus, "session")
        (ms,) = _asked(lambda: bus.call(MUTTER, "GetIdletime"))
        self.provides = (IDLE,)
        return f"GNOME's idle monitor answers (idle {ms / 1000:.0f} s); watches, no polling"

    def listen(self) -> None:
        assert self._bus is not None
        self._bus.subscribe(self._fired, interface=MUTTER.interface, member="WatchFired",
                            path=MUTTER.object_path)
        self._bus.watch_owner(MUTTER.bus_name, self._restarted)

    def idle_seconds(self) -> float | None:
        assert self._bus is not None
        try:
            (ms,) = self._bus.call(MUTTER, "GetIdletime")
        except Unanswered:
            return None
        return ms / 1000

    def arm(self, away_after_s: float, idle_away: bool) -> bool:
        assert self._bus is not None
        interval = max(1, round(away_after_s * 1000))
        try:
            with self._lock:
                watch = self._idle_watch
                if watch is not None and watch[1] != interval:
                    self._bus.call(MUTTER, "RemoveWatch", "u", (watch[0],))
                    watch = self._idle_watch = None
                if watch is None:
                    (watch_id,) = self._bus.call(MUTTER, "AddIdleWatch", "t", (interval,))
                    self._idle_watch = (watch_id, interval)
                if idle_away and self._active_watch is None:
                    (self._active_watch,) = self._bus.call(MUTTER, "AddUserActiveWatch")
        except Unanswered:
            return False
        return True

    def _fired(self, message: Any) -> None:
        (watch_id,) = message.body
        with self._lock:
            if watch_id == self._active_watch:
                self._active_watch = None  # one-shot: Mutter has dropped it
        self.changed(self)

    def _restarted(self, owned: bool) -> None:
        with self._lock:  # a new Mutter knows none of our watches
            self._idle_watch = None
            self._active_watch = None
        self.owner_moved(MUTTER.bus_name, owned)


class _Service(Source):
    """A source that is one service on the session bus, asked at ``target`` and followed
    through one of its signals (and its name's owner: a restarted service may say
    otherwise)."""

    def __init__(self, changed: Callable[[Source], None], bus: Bus | None,
                 target: DBusAddress, name: str) -> None:
        super().__init__(changed)
        self._bus = bus
        self._target = target
        self.name = name
        self.appears_as = target.bus_name

    def _follow_signal(self, member: str, interface: str | None = None,
                       args: dict[int, tuple[str, str]] | None = None) -> None:
        assert self._bus is not None
        self._bus.subscribe(lambda _message: self.changed(self), sender=self._target.bus_name,
                            interface=interface or self._target.interface, member=member,
                            path=self._target.object_path, args=args)
        self._bus.watch_owner(self._target.bus_name,
                              partial(self.owner_moved, self._target.bus_name))


class ScreenSaver(_Service):
    """A screensaver or screen locker on the session bus: freedesktop's (KDE, Xfce) or
    GNOME Shell's. GetActive and ActiveChanged say whether it is on (locked).

    freedesktop's also has GetSessionIdleTime, which has no signal: idle time from it is
    looked at only when the threshold can have been crossed, and every second while a
    reminder waits for the user's return. KDE's answers in milliseconds (KIdleTime), the
    spec says seconds: read as milliseconds, a server that answers in seconds makes the
    user never away, which is how crampguard behaved before, never always away."""

    def __init__(self, changed: Callable[[Source], None], bus: Bus | None,
                 target: DBusAddress, name: str, desktop: str = "") -> None:
        super().__init__(changed, bus, target, name)
        self._active = False
        #: $XDG_CURRENT_DESKTOP
        self._desktop = desktop.upper().split(":")

    def open(self) -> str:
        bus = _need(self._bus, "session")
        # GNOME's screensaver service is a go-between the bus starts on demand, which the
        # lock screen needs nothing else to start: on GNOME, asking starts it.
        start = self._target is GNOME_SCREENSAVER and "GNOME" in self._desktop
        (active,) = _asked(lambda: bus.call(self._target, "GetActive", start=start))
        self._active = bool(active)
        self.provides = (LOCK,)
        detail = f"{self._target.bus_name} answers (active: {str(self._active).lower()})"
        if self._target is FREEDESKTOP_SCREENSAVER:
            try:
                bus.call(self._target, "GetSessionIdleTime")
            except Unanswered as exc:
                detail += f"; no idle time ({exc})"
            else:
                self.provides = (LOCK, IDLE)
                detail += "; idle time by asking (no signal for it)"
        return detail

    def listen(self) -> None:
        self._follow_signal("ActiveChanged")

    def refresh(self) -> None:
        assert self._bus is not None
        try:
            (active,) = self._bus.call(self._target, "GetActive")
        except Unanswered:
            active = False  # gone: nothing locks the screen any more
        self._active = bool(active)

    def locked(self) -> bool:
        return self._active

    def idle_seconds(self) -> float | None:
        if IDLE not in self.provides:
            return None
        assert self._bus is not None
        try:
            (ms,) = self._bus.call(self._target, "GetSessionIdleTime")
        except Unanswered:
            return None
        return ms / 1000


class Flag(_Service):
    """A boolean property whose PropertiesChanged signal says when it flips: dunst's
    ``paused``, KDE's ``Inhibited``. True means do-not-disturb, for ``reason``."""

    def __init__(self, changed: Callable[[Source], None], bus: Bus | None,
                 target: DBusAddress, prop: str, reason: str, name: str) -> None:
        super().__init__(changed, bus, target, name)
        self._prop = prop
        self._reason = reason
        self._on = False

    def open(self) -> str:
        bus = _need(self._bus, "session")
        self._on = bool(_asked(lambda: bus.get(self._target, self._prop)))
        self.provides = (DND,)
        return (f"{self._target.interface} {self._prop} answers "
                f"({str(self._on).lower()})")

    def listen(self) -> None:
        self._follow_signal("PropertiesChanged", PROPERTIES,
                            {0: (self._target.interface, "string")})

    def refresh(self) -> None:
        assert self._bus is not None
        try:
            self._on = bool(self._bus.get(self._target, self._prop))
        except Unanswered:
            self._on = False  # the server is gone, or another one without the switch

    def dnd(self) -> str | None:
        return self._reason if self._on else None


def dunst_paused(changed: Callable[[Source], None], bus: Bus | None) -> Flag:
    return Flag(changed, bus, DUNST, "paused", DUNST_PAUSED, "dunst-paused")


def notifications_inhibited(changed: Callable[[Source], None], bus: Bus | None) -> Flag:
    return Flag(changed, bus, NOTIFICATIONS, "Inhibited", INHIBITED,
                "notifications-inhibited")


class GnomeBanners(Source):
    """GNOME's "Do Not Disturb": the show-banners setting, false while it is on. Used only
    where GNOME Shell shows the notices: the setting outlives a switch to another desktop,
    where it would hold every reminder for good.

    Read with ``gsettings`` (which knows the schema's default and the system's locks) at
    start and whenever dconf's writer signals a write under its folder; the bus passes on
    only those (an ``arg0path`` rule), not the other settings the desktop writes."""

    name = "gnome-banners"
    appears_as = NOTIFICATIONS.bus_name

    def __init__(self, changed: Callable[[Source], None], bus: Bus | None,
                 env: Mapping[str, str]) -> None:
        super().__init__(changed)
        self._bus = bus
        self._env = dict(env)
        self._program = shutil.which("gsettings", path=env.get("PATH", os.defpath))
        self._off = False

    def open(self) -> str:
        bus = _need(self._bus, "session")
        server = _asked(lambda: bus.call(NOTIFICATIONS, "GetServerInformation"))[0]
        if server != "gnome-shell":
            raise Unavailable(f"the notification server is {server}, not GNOME Shell")
        if self._program is None:
            raise Unavailable("no gsettings program (GNOME's settings tool) on PATH")
        self._off = self._read() is False
        self.provides = (DND,)
        return (f"{'.'.join(BANNERS)} is {str(not self._off).lower()} (gsettings); "
                "changes from dconf's signal")

    def listen(self) -> None:
        assert self._bus is not None
        self._bus.subscribe(lambda _message: self.changed(self),
                            interface="ca.desrt.dconf.Writer", member="Notify",
                            args={0: (DCONF_PATH, "path")})

    def refresh(self) -> None:
        try:
            self._off = self._read() is False
        except Unavailable:
            self._off = False

    def dnd(self) -> str | None:
        return BANNERS_OFF if self._off else None

    def _read(self) -> bool:
        assert self._program is not None
        try:
            done = subprocess.run([self._program, "get", *BANNERS], env=self._env,
                                  capture_output=True, text=True,
                                  timeout=GSETTINGS_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise Unavailable(f"gsettings get {' '.join(BANNERS)}: {exc}") from exc
        if done.returncode != 0:
            why = done.stderr.strip() or f"exit status {done.returncode}"
            raise Unavailable(f"gsettings get {' '.join(BANNERS)}: {why}")
        return done.stdout.strip() == "true"


class Logind(Source):
    """logind on the system bus: the session's IdleHint and LockedHint, and the manager's
    PrepareForSleep. The session is $XDG_SESSION_ID's, else this process's, else the
    user's graphical one (a daemon started by the user's service manager is in none).

    IdleHint is set by the desktop after its own idle delay: idle time counts from then.
    A text session (ssh, a console) has no idle or lock hints worth the name: only the
    sleep signal is used there."""

    name = "logind"

    def __init__(self, changed: Callable[[Source], None], bus: Bus | None,
                 env: Mapping[str, str], on_sleep: Callable[[bool], None]) -> None:
        super().__init__(changed)
        self._bus = bus
        self._env = env
        self._on_sleep = on_sleep
        self._session: DBusAddress | None = None
        self._hints: dict[str, Any] = {}

    def open(self) -> str:
        bus = _need(self._bus, "system")
        try:
            bus.call(BUS, "GetNameOwner", "s", (LOGIN.bus_name,))
        except Unanswered as exc:
            raise Unavailable(f"{LOGIN.bus_name} is not on the system bus") from exc
        found, how = self._find_session(bus)
        self.provides = (SLEEP,)
        if found is None:
            return f"sleep signal only: {how}"
        session = DBusAddress(found, bus_name=LOGIN.bus_name, interface=SESSION_INTERFACE)
        kind = str(_asked(lambda: bus.get(session, "Type")))
        if kind not in GRAPHICAL:
            return f"sleep signal only: session {how} is a {kind} session, not graphical"
        self._session = session
        self.refresh()
        self.provides = (SLEEP, IDLE, LOCK)
        return f"session {how} ({kind}): idle and locked hints, sleep signal"

    def listen(self) -> None:
        assert self._bus is not None
        self._bus.subscribe(self._sleep, sender=LOGIN.bus_name, interface=LOGIN.interface,
                            member="PrepareForSleep", path=LOGIN.object_path)
        if self._session is not None:
            self._bus.subscribe(lambda _message: self.changed(self), sender=LOGIN.bus_name,
                                interface=PROPERTIES, member="PropertiesChanged",
                                path=self._session.object_path,
                                args={0: (SESSION_INTERFACE, "string")})
            self._bus.watch_owner(LOGIN.bus_name, partial(self.owner_moved, LOGIN.bus_name))

    def refresh(self) -> None:
        if self._session is None or self._bus is None:
            return
        try:
            self._hints = self._bus.get_all(self._session)
        except Unanswered:
            self._hints = {}

    def idle_seconds(self) -> float | None:
        if self._session is None:
            return None
        if not self._hints.get("IdleHint"):
            return 0.0 if self._hints else None
        since = self._hints.get("IdleSinceHintMonotonic", 0)
        if since:
            return max(0.0, time.monotonic() - since / 1e6)
        return max(0.0, time.time() - self._hints.get("IdleSinceHint", 0) / 1e6)

    def arm(self, away_after_s: float, idle_away: bool) -> bool:
        # The hint's signals say when it is set and cleared; only the threshold, counted
        # from the moment it was set, needs a look at the time.
        return idle_away or not self._hints.get("IdleHint")

    def locked(self) -> bool:
        return bool(self._hints.get("LockedHint"))

    def _sleep(self, message: Any) -> None:
        (going,) = message.body
        self._on_sleep(bool(going))

    def _find_session(self, bus: Bus) -> tuple[str | None, str]:
        """(object path, how it was found) of the session; (None, why not) without one."""
        session_id = self._env.get("XDG_SESSION_ID", "")
        tried = []
        if session_id:
            try:
                (path,) = bus.call(LOGIN, "GetSession", "s", (session_id,))
                return path, f"{session_id} (XDG_SESSION_ID)"
            except Unanswered as exc:
                tried.append(f"XDG_SESSION_ID={session_id}: {exc}")
        try:
            (path,) = bus.call(LOGIN, "GetSessionByPID", "u", (os.getpid(),))
            return path, f"{_tail(path)} (this process's)"
        except Unanswered as exc:
            tried.append(f"by pid: {exc}")
        try:
            (user_path,) = bus.call(LOGIN, "GetUser", "u", (os.getuid(),))
            user = DBusAddress(user_path, bus_name=LOGIN.bus_name, interface=USER_INTERFACE)
            display_id, display_path = bus.get(user, "Display")
        except Unanswered as exc:
            tried.append(f"the user's: {exc}")
        else:
            if display_id and display_path != "/":
                return display_path, f"{display_id} (the user's display session)"
            tried.append("the user has no display session")
        return None, "no session: " + "; ".join(tried)


def _tail(path: str) -> str:
    return path.rsplit("/", 1)[-1]
