"""org.freedesktop.Notifications spoken directly on the session bus, with jeepney.

One blocking connection, opened on the first send and kept: the server sends its
NotificationClosed and ActionInvoked signals to the connection that sent the notice (dunst
addresses them to the sender's unique name), so whoever listens for Done and Snooze later
needs this same connection. No threads, no polling: signals that arrive in between are read
and dropped by the next call. A lock keeps two reminders that fire together (the scheduler
runs jobs in a thread pool) from reading each other's replies off the one connection.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from xml.sax.saxutils import escape

from jeepney import DBusAddress, DBusErrorResponse, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.wrappers import unwrap_msg

from .base import Delivery, Notice, NotifyError, body_with_hint, icon_of

SERVER = DBusAddress(
    "/org/freedesktop/Notifications",
    bus_name="org.freedesktop.Notifications",
    interface="org.freedesktop.Notifications",
)
_URGENCY_BYTE = {"low": 0, "normal": 1, "critical": 2}
_INT32_MAX = 2**31 - 1


def session_bus_address(env: Mapping[str, str] | None = None) -> str | None:
    """The session bus to use, or None when this session has none."""
    env = os.environ if env is None else env
    address = env.get("DBUS_SESSION_BUS_ADDRESS", "")
    if address:
        return address
    # libdbus, sd-bus and GDBus fall back to the per-user socket that systemd opens; a daemon
    # started without the variable (cron, a bare `systemd-run`) still finds the desktop then.
    runtime_dir = env.get("XDG_RUNTIME_DIR", "")
    if runtime_dir and os.path.exists(os.path.join(runtime_dir, "bus")):
        return f"unix:path={runtime_dir}/bus"
    return None


class _ConnectionBroken(Exception):
    """The socket under a kept connection failed; a fresh connection may still work."""


class DbusNotifier:
    name = "dbus"

    def __init__(
        self,
        address: str | None = None,
        *,
        call_timeout_s: float = 5.0,
        desktop_entry: str = "crampguard",
    ) -> None:
        # address None: read the environment when connecting, not now, so a daemon started
        # before the desktop session exported its bus still finds it on a later send.
        self._address = address
        # Long enough for the bus to start a D-Bus-activated server on a cold session, short
        # enough that a hung server does not hold up the next reminder for long.
        self._timeout = call_timeout_s
        self._desktop_entry = desktop_entry
        self._conn: DBusConnection | None = None
        self._caps: frozenset[str] | None = None
        self._lock = threading.Lock()

    def send(self, notice: Notice) -> Delivery:
        with self._lock:
            # A connection kept from an earlier send may have died with the bus since (a
            # session restart); it gets one second chance on a fresh connection.
            retry = self._conn is not None
            while True:
                try:
                    return self._notify(notice)
                except _ConnectionBroken as broken:
                    self._disconnect()
                    if not retry:
                        raise NotifyError(f"lost the D-Bus connection: {broken}") from broken
                    retry = False

    def capabilities(self) -> frozenset[str]:
        """What the server says it can do ("actions", "body-markup", ...), asked once per
        connection and again after the server failed a call (another one may answer next).
        Called by send, under its lock."""
        if self._caps is None:
            (caps,) = self._call("GetCapabilities")
            self._caps = frozenset(caps)
        return self._caps

    def close(self) -> None:
        with self._lock:
            self._disconnect()

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        self._caps = None
        if conn is not None:
            conn.close()

    def _notify(self, notice: Notice) -> Delivery:
        caps = self.capabilities()
        show_actions = bool(notice.actions) and "actions" in caps
        body = notice.body if show_actions else body_with_hint(notice)
        if "body-markup" in caps:
            # Such a server parses the body as markup: a bare "&" or "<" would garble it.
            body = escape(body)
        actions = [part for pair in notice.actions for part in pair] if show_actions else []
        hints = {
            "urgency": ("y", _URGENCY_BYTE[notice.urgency]),
            "desktop-entry": ("s", self._desktop_entry),
        }
        (notification_id,) = self._call(
            "Notify",
            "susssasa{sv}i",
            (
                notice.app_name,
                0,  # replaces_id: every reminder is a notice of its own
                icon_of(notice),
                notice.title,
                body,
                actions,
                hints,
                _expire_ms(notice.timeout_s),
            ),
        )
        return Delivery(self.name, id=notification_id, actions_shown=show_actions)

    def _call(self, method: str, signature: str | None = None, body: tuple = ()) -> tuple:
        conn = self._connection()
        message = new_method_call(SERVER, method, signature, body)
        try:
            reply = conn.send_and_get_reply(message, timeout=self._timeout)
        except TimeoutError as exc:  # before OSError: TimeoutError is one
            raise NotifyError(
                f"the notification server did not answer {method} within {self._timeout:g} s"
            ) from exc
        except (OSError, ValueError) as exc:
            raise _ConnectionBroken(str(exc) or type(exc).__name__) from exc
        try:
            return unwrap_msg(reply)
        except DBusErrorResponse as exc:
            self._caps = None
            detail = " ".join(str(part) for part in exc.data)
            raise NotifyError(f"{method} failed: {exc.name}: {detail}") from exc

    def _connection(self) -> DBusConnection:
        if self._conn is not None:
            return self._conn
        address = self._address or session_bus_address()
        if address is None:
            raise NotifyError(
                "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set "
                "and $XDG_RUNTIME_DIR/bus does not exist"
            )
        try:
            self._conn = open_dbus_connection(address, auth_timeout=self._timeout)
        except Exception as exc:  # jeepney: OSError, AuthenticationError, RuntimeError, ...
            raise NotifyError(f"cannot connect to the D-Bus session bus {address}: {exc}") from exc
        self._caps = None
        return self._conn


def _expire_ms(timeout_s: float | None) -> int:
    """The spec's expire_timeout: -1 = the server's default, 0 = never, else milliseconds."""
    if timeout_s is None:
        return -1
    if timeout_s == 0:
        return 0
    # A tiny positive timeout must not round to 0, which would mean "never expire".
    return min(max(round(timeout_s * 1000), 1), _INT32_MAX)
