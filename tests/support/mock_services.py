"""Small D-Bus services that stand in for the desktop's presence sources in tests.

    with PrivateBus() as session, PrivateBus() as system:
        with MockMutter(session.address) as mutter, MockLogind(system.address) as logind:
            ...                                   # run the code under test against
            mutter.activity()                     # DBUS_SESSION_BUS_ADDRESS=session.address
            logind.set_session(LockedHint=("b", True))  # and DBUS_SYSTEM_BUS_ADDRESS

Each service is a real D-Bus peer on a real dbus-daemon (a private bus, no activation):
it owns its well-known name, answers method calls and Properties.Get/GetAll, and sends
the signals the real one sends (PropertiesChanged with the new values, WatchFired to the
watch's owner, ActiveChanged, PrepareForSleep). What each answers is what the real
service answers for the calls crampguard makes, nothing more.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jeepney import (
    DBusAddress,
    HeaderFields,
    Message,
    MessageType,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.bus_messages import message_bus
from jeepney.io.threading import DBusConnection, ReceiveStopped, open_dbus_connection

from tests.support.desktop import _BUS_CONFIG, START_TIMEOUT_S, _end, _parent_death_signal

PROPERTIES = "org.freedesktop.DBus.Properties"

#: A method's answer: (signature, body); raise MockError for an error reply.
Handler = Callable[[Message], tuple[str | None, tuple]]


class MockError(Exception):
    def __init__(self, name: str, text: str) -> None:
        super().__init__(text)
        self.name = name


class PrivateBus:
    """A dbus-daemon of its own (no service files: nothing is started on demand)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="crampguard-bus-"))
        self.address = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._programs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> PrivateBus:
        socket_path = self.dir / "bus"
        (self.dir / "bus.conf").write_text(_BUS_CONFIG.format(socket=socket_path))
        with open(self.dir / "bus.log", "ab") as log:
            self._proc = subprocess.Popen(
                ["dbus-daemon", "--nofork", f"--config-file={self.dir / 'bus.conf'}"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_parent_death_signal())
        self.address = f"unix:path={socket_path}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while not socket_path.exists():
            if time.monotonic() > deadline or self._proc.poll() is not None:
                raise RuntimeError(f"dbus-daemon did not start: {self.log()}")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for proc in [*self._programs, self._proc]:
            if proc is not None:
                _end(proc)
        self._programs, self._proc = [], None
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        path = self.dir / "bus.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, argv: list[str], env: dict[str, str]) -> None:
        """Start a program on this bus; it is stopped with the bus."""
        with open(self.dir / f"{Path(argv[0]).name}.log", "ab") as log:
            self._programs.append(subprocess.Popen(
                argv, env={**env, "DBUS_SESSION_BUS_ADDRESS": self.address},
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_parent_death_signal()))


class Service:
    """A peer owning ``name`` that answers the methods registered with ``method`` and the
    properties set with ``set``; its thread sleeps in receive() until a call comes."""

    def __init__(self, address: str, name: str) -> None:
        self.name = name
        self.calls: list[str] = []  # every method called, by member name
        self._methods: dict[tuple[str, str, str], Handler] = {}
        self._props: dict[tuple[str, str], dict[str, tuple[str, Any]]] = {}
        self._lock = threading.Lock()
        self._conn: DBusConnection = open_dbus_connection(address)
        self._request_name()
        self._thread = threading.Thread(target=self._serve, name=f"mock {name}", daemon=True)
        self._thread.start()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def method(self, path: str, interface: str, member: str, handler: Handler) -> None:
        self._methods[(path, interface, member)] = handler

    def set(self, path: str, interface: str, emit: bool = True, **values: tuple[str, Any]) -> None:
        """Set properties (name=(signature, value)); PropertiesChanged with the new values."""
        with self._lock:
            self._props.setdefault((path, interface), {}).update(values)
        if emit:
            self.emit(path, PROPERTIES, "PropertiesChanged", "sa{sv}as",
                      (interface, dict(values), []))

    def emit(self, path: str, interface: str, member: str, signature: str | None = None,
             body: tuple = (), destination: str | None = None) -> None:
        signal = new_signal(DBusAddress(path, interface=interface), member, signature, body)
        if destination is not None:
            signal.header.fields[HeaderFields.destination] = destination
        self._conn.send(signal)

    def stop(self) -> None:
        self._conn.interrupt()
        self._thread.join(5)
        self._conn.close()

    def _request_name(self) -> None:
        self._conn.send(message_bus.RequestName(self.name))
        while True:  # the reply to Hello came during connecting; this one is ours
            reply = self._conn.receive(timeout=START_TIMEOUT_S)
            if reply.header.message_type is MessageType.method_return:
                if reply.body != (1,):  # 1: the primary owner
                    raise RuntimeError(f"could not own {self.name}: {reply.body}")
                return

    def _serve(self) -> None:
        try:
            while True:
                message = self._conn.receive()
                if message.header.message_type is MessageType.method_call:
                    self._answer(message)
        except (ReceiveStopped, OSError, ValueError):
            pass

    def _answer(self, call: Message) -> None:
        fields = call.header.fields
        path, interface = fields.get(HeaderFields.path), fields.get(HeaderFields.interface)
        member = fields.get(HeaderFields.member)
        self.calls.append(member)
        try:
            if interface == PROPERTIES:
                signature, body = self._property(path, member, call.body)
            else:
                handler = self._methods.get((path, interface, member))
                if handler is None:
                    raise MockError("org.freedesktop.DBus.Error.UnknownMethod",
                                    f"no method {interface}.{member} on {path}")
                signature, body = handler(call)
            reply = new_method_return(call, signature, body)
        except MockError as exc:
            reply = new_error(call, exc.name, "s", (str(exc),))
        self._conn.send(reply)

    def _property(self, path: str, member: str, args: tuple) -> tuple[str, tuple]:
        with self._lock:
            values = dict(self._props.get((path, args[0]), {}))
        if member == "GetAll":
            return "a{sv}", (values,)
        if member == "Get" and args[1] in values:
            return "v", (values[args[1]],)
        raise MockError("org.freedesktop.DBus.Error.InvalidArgs", f"No such property {args}")


def sender(message: Message) -> str:
    return message.header.fields[HeaderFields.sender]


def _reply(signature: str | None, *body: Any) -> tuple[str | None, tuple]:
    return signature, tuple(body)


# -- the mocks ---------------------------------------------------------------------------


class MockMutter(Service):
    """org.gnome.Mutter.IdleMonitor: idle time since the last ``activity()``; idle watches
    fire (to their owner) each time the idle time reaches their interval, user-active
    watches once, at the next activity."""

    PATH = "/org/gnome/Mutter/IdleMonitor/Core"
    INTERFACE = "org.gnome.Mutter.IdleMonitor"

    def __init__(self, address: str) -> None:
        super().__init__(address, "org.gnome.Mutter.IdleMonitor")
        self._last_input = time.monotonic()
        self._ids = itertools.count(1)
        self._idle_watches: dict[int, tuple[int, str]] = {}  # id -> (interval ms, owner)
        self._active_watches: dict[int, str] = {}
        self._timers: list[threading.Timer] = []
        for member, handler in (("GetIdletime", self._get_idletime),
                                ("AddIdleWatch", self._add_idle_watch),
                                ("AddUserActiveWatch", self._add_active_watch),
                                ("RemoveWatch", self._remove_watch)):
            self.method(self.PATH, self.INTERFACE, member, handler)

    def activity(self) -> None:
        """The user touched the keyboard or mouse."""
        with self._lock:
            self._last_input = time.monotonic()
            fired, self._active_watches = self._active_watches, {}
            self._schedule()
        for watch_id, owner in fired.items():
            self._fire(watch_id, owner)

    def stop(self) -> None:
        with self._lock:
            for timer in self._timers:
                timer.cancel()
        super().stop()

    def _get_idletime(self, _call: Message) -> tuple[str | None, tuple]:
        return _reply("t", round((time.monotonic() - self._last_input) * 1000))

    def _add_idle_watch(self, call: Message) -> tuple[str | None, tuple]:
        watch_id = next(self._ids)
        with self._lock:
            self._idle_watches[watch_id] = (call.body[0], sender(call))
            self._schedule()
        return _reply("u", watch_id)

    def _add_active_watch(self, call: Message) -> tuple[str | None, tuple]:
        watch_id = next(self._ids)
        with self._lock:
            self._active_watches[watch_id] = sender(call)
        return _reply("u", watch_id)

    def _remove_watch(self, call: Message) -> tuple[str | None, tuple]:
        with self._lock:
            self._idle_watches.pop(call.body[0], None)
            self._active_watches.pop(call.body[0], None)
            self._schedule()
        return _reply(None)

    def _schedule(self) -> None:
        """Under the lock: a timer for each idle watch still to fire since the last input."""
        for timer in self._timers:
            timer.cancel()
        idle_ms = (time.monotonic() - self._last_input) * 1000
        self._timers = []
        for watch_id, (interval, owner) in self._idle_watches.items():
            if interval > idle_ms:
                timer = threading.Timer((interval - idle_ms) / 1000, self._fire,
                                        (watch_id, owner))
                timer.daemon = True
                timer.start()
                self._timers.append(timer)

    def _fire(self, watch_id: int, owner: str) -> None:
        self.emit(self.PATH, self.INTERFACE, "WatchFired", "u", (watch_id,), destination=owner)


class MockScreenSaver(Service):
    """org.freedesktop.ScreenSaver as KDE's answers (idle time since the last
    ``activity()``, in milliseconds) or, with ``gnome=True``, GNOME Shell's
    org.gnome.ScreenSaver (no idle time)."""

    def __init__(self, address: str, *, gnome: bool = False) -> None:
        base = "org.gnome.ScreenSaver" if gnome else "org.freedesktop.ScreenSaver"
        super().__init__(address, base)
        self.path, self.interface = "/" + base.replace(".", "/"), base
        self.active = False
        self._last_input = time.monotonic()
        self.method(self.path, self.interface, "GetActive",
                    lambda _call: _reply("b", self.active))
        if not gnome:
            self.method(self.path, self.interface, "GetSessionIdleTime", lambda _call: _reply(
                "u", round((time.monotonic() - self._last_input) * 1000)))

    def activity(self) -> None:
        self._last_input = time.monotonic()

    def set_active(self, active: bool) -> None:
        self.active = active
        self.emit(self.path, self.interface, "ActiveChanged", "b", (active,))


class MockLogind(Service):
    """org.freedesktop.login1 on a "system" bus: one user with one session (id "c7"),
    found by id, by pid (``by_pid``: the pids in it) and as the user's display session."""

    MANAGER = "/org/freedesktop/login1"
    SESSION = "/org/freedesktop/login1/session/c7"
    USER = "/org/freedesktop/login1/user/_1000"

    def __init__(self, address: str, *, session_type: str = "x11",
                 by_pid: tuple[int, ...] = (), display: bool = True) -> None:
        super().__init__(address, "org.freedesktop.login1")
        manager = "org.freedesktop.login1.Manager"
        self._by_pid = by_pid
        self.method(self.MANAGER, manager, "GetSession", self._get_session)
        self.method(self.MANAGER, manager, "GetSessionByPID", self._get_session_by_pid)
        self.method(self.MANAGER, manager, "GetUser", lambda _call: _reply("o", self.USER))
        self.set(self.SESSION, "org.freedesktop.login1.Session", emit=False,
                 Id=("s", "c7"), Type=("s", session_type), IdleHint=("b", False),
                 IdleSinceHint=("t", 0), IdleSinceHintMonotonic=("t", 0),
                 LockedHint=("b", False))
        self.set(self.USER, "org.freedesktop.login1.User", emit=False,
                 Display=("(so)", ("c7", self.SESSION) if display else ("", "/")))

    def set_session(self, **values: tuple[str, Any]) -> None:
        self.set(self.SESSION, "org.freedesktop.login1.Session", **values)

    def idle(self, idle: bool) -> None:
        """The desktop sets (or clears) the idle hint, as logind reports it."""
        now_us = round(time.time() * 1e6)
        mono_us = round(time.monotonic() * 1e6)
        self.set_session(IdleHint=("b", idle), IdleSinceHint=("t", now_us),
                         IdleSinceHintMonotonic=("t", mono_us))

    def prepare_for_sleep(self, going: bool) -> None:
        self.emit(self.MANAGER, "org.freedesktop.login1.Manager", "PrepareForSleep", "b",
                  (going,))

    def _get_session(self, call: Message) -> tuple[str | None, tuple]:
        if call.body[0] != "c7":
            raise MockError("org.freedesktop.login1.NoSuchSession",
                            f"No session '{call.body[0]}' known")
        return _reply("o", self.SESSION)

    def _get_session_by_pid(self, call: Message) -> tuple[str | None, tuple]:
        if call.body[0] not in self._by_pid:
            raise MockError("org.freedesktop.login1.NoSessionForPID",
                            f"PID {call.body[0]} does not belong to any known session")
        return _reply("o", self.SESSION)


class MockNotifications(Service):
    """A notification server that is not dunst: KDE's (the Inhibited property) or, with
    ``server="gnome-shell"``, GNOME Shell's (its banners follow a GSettings key).

    It shows notices as Plasma and LXQt do: ``Notify`` returns the next id (the notice is
    kept in ``notices``: id -> (summary, actions)), and ``press`` broadcasts
    ActionInvoked, addressed to no one, as those servers send it."""

    PATH = "/org/freedesktop/Notifications"
    INTERFACE = "org.freedesktop.Notifications"

    def __init__(self, address: str, *, server: str = "Plasma", inhibited: bool | None = None):
        super().__init__(address, self.INTERFACE)
        self.notices: dict[int, tuple[str, list[str]]] = {}
        self._ids = itertools.count(1)
        self.method(self.PATH, self.INTERFACE, "GetServerInformation",
                    lambda _call: _reply("ssss", server, "KDE", "6.0", "1.2"))
        self.method(self.PATH, self.INTERFACE, "GetCapabilities",
                    lambda _call: _reply("as", ["body", "actions"]))
        self.method(self.PATH, self.INTERFACE, "Notify", self._notify)
        self.method(self.PATH, self.INTERFACE, "CloseNotification", lambda _call: _reply(None))
        if inhibited is not None:
            self.set(self.PATH, self.INTERFACE, emit=False, Inhibited=("b", inhibited))

    def inhibit(self, on: bool) -> None:
        self.set(self.PATH, self.INTERFACE, Inhibited=("b", on))

    def press(self, notification_id: int, key: str) -> None:
        """The user pressed a button: one ActionInvoked, broadcast."""
        self.emit(self.PATH, self.INTERFACE, "ActionInvoked", "us", (notification_id, key))

    def _notify(self, call: Message) -> tuple[str | None, tuple]:
        _app, replaces, _icon, summary, _body, actions, _hints, _timeout = call.body
        notification_id = replaces or next(self._ids)
        with self._lock:
            self.notices[notification_id] = (summary, list(actions[::2]))
        return _reply("u", notification_id)


def dconf_env(folder: Path) -> dict[str, str]:
    """Where a private dconf keeps its database, for dconf-service and gsettings alike."""
    for sub in ("config", "runtime", "cache"):
        (folder / sub).mkdir(exist_ok=True)
    (folder / "runtime").chmod(0o700)
    return {**os.environ, "XDG_CONFIG_HOME": str(folder / "config"),
            "XDG_RUNTIME_DIR": str(folder / "runtime"), "XDG_CACHE_HOME": str(folder / "cache"),
            "GSETTINGS_BACKEND": "dconf"}

