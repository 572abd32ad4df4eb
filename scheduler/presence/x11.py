"""The X11 presence source, through ctypes on the system's Xlib (no Python X library).

- Idle time: the MIT-SCREEN-SAVER extension (``XScreenSaverQueryInfo``, libXss).
- When it crosses the threshold: two alarms on the SYNC extension's IDLETIME counter, one
  as it rises past the threshold (the user went away), one as it falls back below it
  (they are back). The X server sends each alarm once per crossing: no polling. A server
  without IDLETIME leaves the crossings to a look at the time (see monitor.py).
- Fullscreen: the EWMH ``_NET_ACTIVE_WINDOW`` on the root window and that window's
  ``_NET_WM_STATE``. Read when asked; followed through PropertyNotify events only while
  the daemon holds a reminder (focus changes are frequent: no wakeup for each otherwise).

The display's events are read on the presence thread (``fileno``/``on_readable``); queries
come from it and from the daemon's thread, so every Xlib call holds one lock (Xlib is not
thread-safe unless XInitThreads ran before anything else, which a library cannot ensure).
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Mapping, Sequence
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    byref,
    c_char_p,
    c_int,
    c_long,
    c_uint,
    c_ulong,
    c_void_p,
)

from .source import DND, IDLE, Source, Unavailable
from .state import FULLSCREEN

PROPERTY_NOTIFY = 28
PROPERTY_CHANGE_MASK = 1 << 22
ALARM_NOTIFY = 1  # XSyncAlarmNotify, added to the extension's event base
ANY_PROPERTY_TYPE = 0
SUCCESS = 0
QUEUED_ALREADY = 0
# XSyncAlarmAttributes value mask bits, value type, test types
CA_COUNTER, CA_VALUE_TYPE, CA_VALUE, CA_TEST_TYPE, CA_DELTA, CA_EVENTS = 1, 2, 4, 8, 16, 32
ABSOLUTE = 0
POSITIVE_TRANSITION, NEGATIVE_TRANSITION = 0, 1
LIBRARIES = {"x11": "libX11.so.6", "xext": "libXext.so.6", "xss": "libXss.so.1"}
EVENT_SIZE = 192  # sizeof(XEvent): 24 longs
# Offsets in an XEvent (64-bit and 32-bit layouts alike start with int type, then longs).
_LONG = ctypes.sizeof(c_long)
PROPERTY_WINDOW_AT = 4 * _LONG  # type (padded), serial, send_event (padded), display
PROPERTY_ATOM_AT = 5 * _LONG


class XSyncValue(Structure):
    _fields_ = [("hi", c_int), ("lo", c_uint)]


class XSyncTrigger(Structure):
    _fields_ = [("counter", c_ulong), ("value_type", c_int), ("wait_value", XSyncValue),
                ("test_type", c_int)]


class XSyncAlarmAttributes(Structure):
    _fields_ = [("trigger", XSyncTrigger), ("delta", XSyncValue), ("events", c_int),
                ("state", c_int)]


class XSyncSystemCounter(Structure):
    _fields_ = [("name", c_char_p), ("counter", c_ulong), ("resolution", XSyncValue)]


class XScreenSaverInfo(Structure):
    _fields_ = [("window", c_ulong), ("state", c_int), ("kind", c_int),
                ("til_or_since", c_ulong), ("idle", c_ulong), ("event_mask", c_ulong)]


_ERROR_HANDLER = CFUNCTYPE(c_int, c_void_p, c_void_p)
_IO_ERROR_HANDLER = CFUNCTYPE(c_int, c_void_p)
_IO_EXIT_HANDLER = CFUNCTYPE(None, c_void_p, c_void_p)
_handlers: dict[str, object] = {}  # ctypes callbacks must outlive every Xlib call
_dead_displays: set[int] = set()


def _ignore_error(_display: int, _event: int) -> int:
    # A window that closed between two requests (BadWindow) is no reason to end the
    # process, which is what Xlib's default handler does.
    return 0


def _io_error(_display: int) -> int:
    return 0


def _display_lost(display: int, _data: int) -> None:
    # libX11 ≥ 1.7 calls this instead of exit() when the server goes away; the source then
    # answers nothing, as where there is no display.
    _dead_displays.add(display)


def _load() -> dict[str, ctypes.CDLL]:
    libs = {}
    for key, soname in LIBRARIES.items():
        try:
            libs[key] = ctypes.CDLL(soname)
        except OSError as exc:
            if key == "x11":
                raise Unavailable(f"no Xlib ({soname}: {exc})") from exc
    x11 = libs["x11"]
    x11.XOpenDisplay.restype = c_void_p
    x11.XOpenDisplay.argtypes = [c_char_p]
    # Declared for both tables below (the second has pointer and None restypes): mypy would
    # type them from the first table alone.
    restype: type | None
    argtypes: Sequence[object]
    for name, restype, argtypes in (
        ("XCloseDisplay", c_int, [c_void_p]),
        ("XDefaultRootWindow", c_ulong, [c_void_p]),
        ("XConnectionNumber", c_int, [c_void_p]),
        ("XPending", c_int, [c_void_p]),
        ("XEventsQueued", c_int, [c_void_p, c_int]),
        ("XNextEvent", c_int, [c_void_p, c_void_p]),
        ("XInternAtom", c_ulong, [c_void_p, c_char_p, c_int]),
        ("XGetWindowProperty", c_int, [c_void_p, c_ulong, c_ulong, c_long, c_long, c_int,
                                       c_ulong, POINTER(c_ulong), POINTER(c_int),
                                       POINTER(c_ulong), POINTER(c_ulong),
                                       POINTER(c_void_p)]),
        ("XFree", c_int, [c_void_p]),
        ("XSelectInput", c_int, [c_void_p, c_ulong, c_long]),
        ("XFlush", c_int, [c_void_p]),
    ):
        function = getattr(x11, name)
        function.restype, function.argtypes = restype, argtypes
    if "xext" in libs:
        xext = libs["xext"]
        for name, restype, argtypes in (
            ("XSyncQueryExtension", c_int, [c_void_p, POINTER(c_int), POINTER(c_int)]),
            ("XSyncInitialize", c_int, [c_void_p, POINTER(c_int), POINTER(c_int)]),
            ("XSyncListSystemCounters", POINTER(XSyncSystemCounter),
             [c_void_p, POINTER(c_int)]),
            ("XSyncFreeSystemCounterList", None, [POINTER(XSyncSystemCounter)]),
            ("XSyncCreateAlarm", c_ulong, [c_void_p, c_ulong,
                                           POINTER(XSyncAlarmAttributes)]),
            ("XSyncChangeAlarm", c_int, [c_void_p, c_ulong, c_ulong,
                                         POINTER(XSyncAlarmAttributes)]),
            ("XSyncDestroyAlarm", c_int, [c_void_p, c_ulong]),
            ("XSyncQueryCounter", c_int, [c_void_p, c_ulong, POINTER(XSyncValue)]),
        ):
            function = getattr(xext, name)
            function.restype, function.argtypes = restype, argtypes
    if "xss" in libs:
        xss = libs["xss"]
        xss.XScreenSaverQueryExtension.restype = c_int
        xss.XScreenSaverQueryExtension.argtypes = [c_void_p, POINTER(c_int), POINTER(c_int)]
        xss.XScreenSaverAllocInfo.restype = POINTER(XScreenSaverInfo)
        xss.XScreenSaverAllocInfo.argtypes = []
        xss.XScreenSaverQueryInfo.restype = c_int
        xss.XScreenSaverQueryInfo.argtypes = [c_void_p, c_ulong, POINTER(XScreenSaverInfo)]
    if not _handlers:
        _handlers["error"] = _ERROR_HANDLER(_ignore_error)
        _handlers["io"] = _IO_ERROR_HANDLER(_io_error)
        x11.XSetErrorHandler.argtypes = [_ERROR_HANDLER]
        x11.XSetErrorHandler.restype = c_void_p
        x11.XSetErrorHandler(_handlers["error"])
        x11.XSetIOErrorHandler.argtypes = [_IO_ERROR_HANDLER]
        x11.XSetIOErrorHandler.restype = c_void_p
        x11.XSetIOErrorHandler(_handlers["io"])
    return libs


class X11(Source):
    name = "x11"

    def __init__(self, changed: Callable[[Source], None], env: Mapping[str, str],
                 *, use_sync: bool = True) -> None:
        super().__init__(changed)
        self._display_name = env.get("DISPLAY", "")
        self._wayland = env.get("WAYLAND_DISPLAY", "")
        #: False: never use the IDLETIME alarms (to test the look-at-the-time path)
        self._use_sync = use_sync
        self._lock = threading.Lock()
        self._dpy: int | None = None
        self._root = 0
        self._atoms: dict[str, int] = {}
        self._libs: dict[str, ctypes.CDLL] = {}
        self._info: ctypes._Pointer[XScreenSaverInfo] | None = None
        self._sync_base = -1
        self._idletime = 0  # the IDLETIME counter's id, 0 without one
        self._alarms: tuple[int, int] | None = None  # (going away, coming back)
        self._alarm_ms = 0
        self._following = False
        self._followed = 0  # the active window whose state we follow

    def open(self) -> str:
        if not self._display_name:
            raise Unavailable("no X display (DISPLAY is not set)")
        if self._wayland:
            raise Unavailable("a Wayland session: X11's idle time and windows would be "
                              "XWayland's, not the session's")
        self._libs = _load()
        x11 = self._libs["x11"]
        dpy = x11.XOpenDisplay(self._display_name.encode())
        if not dpy:
            raise Unavailable(f"cannot open the X display {self._display_name}")
        self._dpy = dpy
        self._root = x11.XDefaultRootWindow(dpy)
        self._atoms = {name: x11.XInternAtom(dpy, name.encode(), 0) for name in (
            "_NET_ACTIVE_WINDOW", "_NET_WM_STATE", "_NET_WM_STATE_FULLSCREEN")}
        idle_from = self._open_screensaver()
        changes = self._open_sync()
        if not idle_from and self._idletime:
            idle_from = "SYNC IDLETIME"  # the same idle time, where libXss is missing
        self.provides = (IDLE, DND) if idle_from else (DND,)
        if _set_exit_handler(x11, dpy):
            detail = ""
        else:
            detail = "; libX11 < 1.7: losing the display ends the process"
        idle = (f"idle from {idle_from}, crossings from {changes}" if idle_from
                else "no idle time (no MIT-SCREEN-SAVER or SYNC IDLETIME)")
        return f"display {self._display_name}: {idle}; fullscreen from EWMH{detail}"

    def _open_screensaver(self) -> str:
        xss = self._libs.get("xss")
        base, error = c_int(), c_int()
        if xss is None or not xss.XScreenSaverQueryExtension(self._dpy, byref(base),
                                                              byref(error)):
            return ""
        self._info = xss.XScreenSaverAllocInfo()
        return "MIT-SCREEN-SAVER"

    def _open_sync(self) -> str:
        xext = self._libs.get("xext")
        if xext is None:
            return "a timer (no libXext)"
        base, error, major, minor = c_int(), c_int(), c_int(), c_int()
        if not (xext.XSyncQueryExtension(self._dpy, byref(base), byref(error))
                and xext.XSyncInitialize(self._dpy, byref(major), byref(minor))):
            return "a timer (no SYNC extension)"
        self._sync_base = base.value
        count = c_int()
        counters = xext.XSyncListSystemCounters(self._dpy, byref(count))
        try:
            for index in range(count.value):
                if counters[index].name == b"IDLETIME":
                    self._idletime = counters[index].counter
        finally:
            if counters:
                xext.XSyncFreeSystemCounterList(counters)
        if not self._idletime:
            return "a timer (no IDLETIME counter)"
        if not self._use_sync:
            return "a timer (the IDLETIME alarms are not used)"
        return "the SYNC IDLETIME alarms (no polling)"

    def close(self) -> None:
        with self._lock:
            dpy, self._dpy = self._dpy, None
            if dpy is not None and dpy not in _dead_displays:
                if self._info:
                    self._libs["x11"].XFree(self._info)
                self._libs["x11"].XCloseDisplay(dpy)  # frees the alarms too

    # -- the roles ------------------------------------------------------------------------

    def idle_seconds(self) -> float | None:
        with self._lock:
            dpy = self._live()
            if dpy is None:
                return None
            if self._info:
                if not self._libs["xss"].XScreenSaverQueryInfo(dpy, self._root, self._info):
                    return None
                idle_ms = self._info.contents.idle
            elif self._idletime:
                idle_ms = self._query_idletime(dpy)
            else:
                return None
            self._note_queued(dpy)
        return idle_ms / 1000

    def arm(self, away_after_s: float, idle_away: bool) -> bool:
        if not (self._use_sync and self._idletime):
            return False
        ms = max(1, round(away_after_s * 1000))
        with self._lock:
            dpy = self._live()
            if dpy is None:
                return False
            xext = self._libs["xext"]
            if self._alarms is None:
                self._alarms = (
                    xext.XSyncCreateAlarm(dpy, _ALL, byref(self._alarm(ms, POSITIVE_TRANSITION))),
                    xext.XSyncCreateAlarm(dpy, _ALL, byref(self._alarm(ms, NEGATIVE_TRANSITION))),
                )
            elif ms != self._alarm_ms:
                for alarm, test in zip(self._alarms, (POSITIVE_TRANSITION, NEGATIVE_TRANSITION),
                                       strict=True):
                    xext.XSyncChangeAlarm(dpy, alarm, _ALL, byref(self._alarm(ms, test)))
            self._alarm_ms = ms
            self._libs["x11"].XFlush(dpy)
        return True

    def dnd(self) -> str | None:
        with self._lock:
            dpy = self._live()
            if dpy is None:
                return None
            active = self._active_window(dpy)
            states = self._longs(dpy, active, "_NET_WM_STATE") if active else []
            self._note_queued(dpy)
        return FULLSCREEN if self._atoms["_NET_WM_STATE_FULLSCREEN"] in states else None

    def follow(self, on: bool) -> None:
        with self._lock:
            dpy = self._live()
            if dpy is None or on == self._following:
                return
            self._following = on
            x11 = self._libs["x11"]
            x11.XSelectInput(dpy, self._root, PROPERTY_CHANGE_MASK if on else 0)
            self._follow_window(dpy, self._active_window(dpy) if on else 0)
            x11.XFlush(dpy)

    def fileno(self) -> int | None:
        with self._lock:
            dpy = self._live()
            return None if dpy is None else self._libs["x11"].XConnectionNumber(dpy)

    def on_readable(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Handle the events that came (on the presence thread)."""
        changed = False
        with self._lock:
            dpy = self._live()
            if dpy is None:
                return
            x11 = self._libs["x11"]
            event = ctypes.create_string_buffer(EVENT_SIZE)
            while x11.XPending(dpy):
                x11.XNextEvent(dpy, event)
                kind = c_int.from_buffer(event).value & 0x7F  # the high bit: sent by a client
                if kind == self._sync_base + ALARM_NOTIFY:
                    changed = True
                elif kind == PROPERTY_NOTIFY:
                    window = _long_at(event, PROPERTY_WINDOW_AT)
                    atom = _long_at(event, PROPERTY_ATOM_AT)
                    if window == self._root and atom == self._atoms["_NET_ACTIVE_WINDOW"]:
                        if self._following:
                            self._follow_window(dpy, self._active_window(dpy))
                        changed = True
                    elif atom == self._atoms["_NET_WM_STATE"]:
                        changed = True
        if changed:
            self.changed(self)

    # -- Xlib, under the lock -------------------------------------------------------------

    def _live(self) -> int | None:
        dpy = self._dpy
        return None if dpy is None or dpy in _dead_displays else dpy

    def _note_queued(self, dpy: int) -> None:
        # A reply this thread waited for may have brought events along, which Xlib keeps
        # in its queue: the socket stays quiet and the presence thread would not wake.
        if self._libs["x11"].XEventsQueued(dpy, QUEUED_ALREADY):
            self.changed(self)

    def _alarm(self, ms: int, test: int) -> XSyncAlarmAttributes:
        attrs = XSyncAlarmAttributes()
        attrs.trigger.counter = self._idletime
        attrs.trigger.value_type = ABSOLUTE
        attrs.trigger.wait_value = XSyncValue(ms >> 32, ms & 0xFFFFFFFF)
        attrs.trigger.test_type = test
        attrs.delta = XSyncValue(0, 0)  # with a transition test: stays armed, fires each time
        attrs.events = 1
        return attrs

    def _query_idletime(self, dpy: int) -> int:
        value = XSyncValue()
        self._libs["xext"].XSyncQueryCounter(dpy, self._idletime, byref(value))
        return (value.hi << 32) | value.lo

    def _active_window(self, dpy: int) -> int:
        windows = self._longs(dpy, self._root, "_NET_ACTIVE_WINDOW")
        return windows[0] if windows else 0

    def _follow_window(self, dpy: int, window: int) -> None:
        if window == self._followed:
            return
        x11 = self._libs["x11"]
        if self._followed:
            x11.XSelectInput(dpy, self._followed, 0)
        if window:
            x11.XSelectInput(dpy, window, PROPERTY_CHANGE_MASK)
        self._followed = window

    def _longs(self, dpy: int, window: int, prop: str) -> list[int]:
        """A format-32 property (window ids, atoms) as numbers; [] when unset or gone."""
        actual_type, actual_format = c_ulong(), c_int()
        count, after, data = c_ulong(), c_ulong(), c_void_p()
        status = self._libs["x11"].XGetWindowProperty(
            dpy, window, self._atoms[prop], 0, 1024, 0, ANY_PROPERTY_TYPE,
            byref(actual_type), byref(actual_format), byref(count), byref(after), byref(data))
        if status != SUCCESS or not data.value:
            return []
        try:
            if actual_format.value != 32:
                return []
            # Xlib hands format-32 data back as C longs, whatever their size.
            return list((c_ulong * count.value).from_address(data.value))
        finally:
            self._libs["x11"].XFree(data)


_ALL = CA_COUNTER | CA_VALUE_TYPE | CA_VALUE | CA_TEST_TYPE | CA_DELTA | CA_EVENTS


def _long_at(event: ctypes.Array[ctypes.c_char], offset: int) -> int:
    return c_ulong.from_buffer(event, offset).value


def _set_exit_handler(x11: ctypes.CDLL, dpy: int) -> bool:
    try:
        setter = x11.XSetIOErrorExitHandler
    except AttributeError:
        return False
    handler = _handlers.setdefault("exit", _IO_EXIT_HANDLER(_display_lost))
    setter.restype, setter.argtypes = None, [c_void_p, _IO_EXIT_HANDLER, c_void_p]
    setter(dpy, handler, None)
    return True
