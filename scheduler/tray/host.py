"""Whether a panel would show the tray icon, asked once for `crampguard doctor`."""

from __future__ import annotations

from jeepney import Properties, message_bus
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import unwrap_msg

from scheduler.tray.item import CALL_TIMEOUT_S, WATCHER


def missing_host(address: str | None) -> str | None:
    """Why a panel would not show the icon now, for `crampguard doctor`: "no-bus",
    "no-watcher" (nothing hosts StatusNotifierItems), "no-host" (a watcher, but no panel
    registered with it); None where the icon would be shown. Asked once and let go."""
    if address is None:
        return "no-bus"
    try:
        with open_dbus_connection(address, auth_timeout=CALL_TIMEOUT_S) as conn:
            ask = message_bus.NameHasOwner(WATCHER.bus_name)
            (owned,) = unwrap_msg(conn.send_and_get_reply(ask, timeout=CALL_TIMEOUT_S))
            if not owned:
                return "no-watcher"
            ask = Properties(WATCHER).get("IsStatusNotifierHostRegistered")
            ((_sig, hosted),) = unwrap_msg(conn.send_and_get_reply(ask,
                                                                   timeout=CALL_TIMEOUT_S))
            return None if hosted else "no-host"
    except Exception:  # jeepney: OSError, AuthenticationError, DBusErrorResponse, timeout
        return "no-bus"
