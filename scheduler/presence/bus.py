"""One D-Bus connection shared by the presence sources on a bus (session or system).

The reading is the notifier's ``_Link`` (one thread that sleeps in the kernel until bytes
arrive, hands replies to their callers and everything else to us). Signals go to the
handlers whose rule matches, on that thread; the bus itself filters by the same rules
(AddMatch), so a signal nobody here asked for never wakes the process.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from jeepney import (
    DBusAddress,
    HeaderFields,
    MatchRule,
    Message,
    MessageType,
    Properties,
    message_bus,
)
from jeepney import new_method_call as method_call
from jeepney.io.threading import open_dbus_connection
from jeepney.low_level import MessageFlag

# The notifier's reader, reused rather than written twice; it belongs in a module both
# can import (tests/test_layers.py names this crossing until then).
from scheduler.notify.dbus import _ConnectionBroken, _Link, session_bus_address

SYSTEM_BUS_SOCKET = "/run/dbus/system_bus_socket"
CALL_TIMEOUT_S = 2.0
BUS = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
                  interface="org.freedesktop.DBus")

#: The errors that mean "no such service here", said in fewer words.
_NOBODY = ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner")
Handler = Callable[[Message], None]
log = logging.getLogger(__name__)


class Unanswered(Exception):
    """A call got no usable answer (an error reply, no reply in time, a broken connection)."""


def bus_address(which: str, env: Mapping[str, str] | None = None) -> str | None:
    """The address of the "session" or "system" bus in ``env``, None where there is none."""
    env = os.environ if env is None else env
    if which == "session":
        return session_bus_address(env)
    address = env.get("DBUS_SYSTEM_BUS_ADDRESS", "")
    if address:
        return address
    return f"unix:path={SYSTEM_BUS_SOCKET}" if os.path.exists(SYSTEM_BUS_SOCKET) else None


class Bus:
    def __init__(self, which: str, address: str) -> None:
        self.which = which
        self.address = address
        conn = open_dbus_connection(address, auth_timeout=CALL_TIMEOUT_S)
        self._subscribed: list[tuple[MatchRule, Handler]] = []
        self._lock = threading.Lock()
        self._link = _Link(conn, self._dispatch)
        self._link.thread.name = f"crampguard-presence-{which}-bus"

    @classmethod
    def connect(cls, which: str, env: Mapping[str, str]) -> Bus | str | None:
        """The connection; None where ``env`` names no such bus; why not where it names one
        that does not answer (a stale address: worth saying in doctor)."""
        address = bus_address(which, env)
        if address is None:
            return None
        try:
            return cls(which, address)
        except Exception as exc:  # jeepney: OSError, AuthenticationError, RuntimeError, ...
            return f"cannot connect to the {which} bus {address}: {exc}"

    def call(self, target: DBusAddress, method: str, signature: str | None = None,
             body: tuple = (), timeout: float = CALL_TIMEOUT_S, *,
             start: bool = False) -> tuple:
        """Call a method; its reply's body. Raises Unanswered. ``start``: let the bus
        start the service if it can (only for a service that is a mere go-between)."""
        message = method_call(target, method, signature, body)
        return self._send(message, f"{target.bus_name} {method}", timeout, start=start)

    def get(self, target: DBusAddress, name: str) -> Any:
        """A property of ``target``'s interface. Raises Unanswered."""
        message = Properties(target).get(name)
        (value,) = self._send(message, f"{target.bus_name} property {name}")
        return value[1]

    def get_all(self, target: DBusAddress) -> dict[str, Any]:
        message = Properties(target).get_all()
        (values,) = self._send(message, f"{target.bus_name} properties")
        return {key: value for key, (_sig, value) in values.items()}

    def subscribe(self, handler: Handler, *, args: Mapping[int, tuple[str, str]] | None = None,
                  **fields: str) -> None:
        """Call ``handler`` (on the reader thread) with each signal matching ``fields``
        (sender, interface, member, path) and ``args`` ({argno: (value, kind)}).

        The sender is checked by the bus only: it knows which unique name owns a
        well-known one, the message names only the unique one. Raises Unanswered."""
        rule = MatchRule(type="signal", **fields)
        local = MatchRule(type="signal", **{k: v for k, v in fields.items() if k != "sender"})
        for argno, (value, kind) in (args or {}).items():
            rule.add_arg_condition(argno, value, kind)
            local.add_arg_condition(argno, value, kind)
        with self._lock:
            self._subscribed.append((local, handler))
        self._send(message_bus.AddMatch(rule), "AddMatch")

    def watch_owner(self, name: str, handler: Callable[[bool], None]) -> None:
        """Call ``handler(owned)`` when ``name`` gets a new owner (True) or loses it (a
        restarted server: False, then True)."""
        self.subscribe(lambda message: handler(bool(message.body[2])), sender=BUS.bus_name,
                       interface=BUS.interface, member="NameOwnerChanged",
                       path=BUS.object_path, args={0: (name, "string")})

    def close(self) -> None:
        self._link.close()

    def _send(self, message: Message, what: str, timeout: float = CALL_TIMEOUT_S, *,
              start: bool = False) -> tuple:
        # Presence only looks: asking must not start a screensaver or a notification server
        # that D-Bus could start on demand (a doctor run least of all).
        if not start:
            message.header.flags |= MessageFlag.no_auto_start
        try:
            reply = self._link.call(message, timeout)
        except TimeoutError as exc:  # before OSError: TimeoutError is one
            raise Unanswered(f"{what}: no answer within {timeout:g} s") from exc
        except (_ConnectionBroken, OSError, ValueError) as exc:
            raise Unanswered(f"{what}: the {self.which} bus connection broke: {exc}") from exc
        if reply.header.message_type is MessageType.error:
            name = reply.header.fields.get(HeaderFields.error_name, "an error")
            text = " ".join(str(part) for part in reply.body)
            target = message.header.fields.get(HeaderFields.destination)
            if name in _NOBODY:
                if reply.header.fields.get(HeaderFields.sender) == BUS.bus_name:
                    raise Unanswered(f"{target} is not on the {self.which} bus")
                # The service is there and passes on the bus's word about another one it
                # needs (GNOME's screensaver without the shell's lock screen).
                raise Unanswered(f"{target} is on the {self.which} bus but answered an "
                                 f"error ({name}: {text})")
            raise Unanswered(f"{what}: {name}" + (f": {text}" if text else ""))
        return tuple(reply.body)

    def _dispatch(self, message: Message) -> None:
        with self._lock:
            handlers = [handler for rule, handler in self._subscribed if rule.matches(message)]
        for handler in handlers:
            try:
                handler(message)
            except Exception:
                # A bug in one source must not end the reader the others share.
                log.exception("a presence source failed on a %s bus signal", self.which)
