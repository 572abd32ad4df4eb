"""org.freedesktop.Notifications spoken directly on the session bus, with jeepney.

One connection, opened on the first send and kept, and one thread that reads it. The server
sends its ActionInvoked and NotificationClosed signals to the connection that sent the notice
(dunst addresses them to the sender's unique name), so the buttons (Done, Snooze) can only
come back on this same connection. The reader hands each reply to the call waiting for it and
each ActionInvoked to ``on_action``. It waits in the kernel until bytes arrive or close()
interrupts it: no polling, no wakeups while nothing happens. When the bus goes away the reader
ends, and the next send opens a fresh connection with a fresh reader (and match rules).

Once a server has answered in this run, its name losing its owner (the server restarting,
the desktop changing) makes a send raise NotifierAway rather than NotifyError: the chain
then waits for the server instead of printing the notice to a console. ``on_available``
hears the name get an owner again (NameOwnerChanged, on the reader thread).

A lock keeps two reminders that fire together (the scheduler runs jobs in a thread pool) one
after the other on the one connection, as it did when there was no reader.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass

from jeepney import (
    DBusAddress,
    DBusErrorResponse,
    HeaderFields,
    MatchRule,
    Message,
    MessageType,
    message_bus,
    new_method_call,
)
from jeepney.io.threading import DBusConnection, ReceiveStopped, open_dbus_connection
from jeepney.wrappers import unwrap_msg

from .base import (
    ActionCallback,
    Delivery,
    Notice,
    NotifierAway,
    NotifyError,
    body_with_hint,
    icon_of,
)

SERVER = DBusAddress(
    "/org/freedesktop/Notifications",
    bus_name="org.freedesktop.Notifications",
    interface="org.freedesktop.Notifications",
)
_URGENCY_BYTE = {"low": 0, "normal": 1, "critical": 2}
_INT32_MAX = 2**31 - 1
#: The name GNOME Shell's notification server gives (GetServerInformation).
GNOME_SHELL = "gnome-shell"
#: The signals the server sends about a notice once it is shown.
_SIGNALS = ("ActionInvoked", "NotificationClosed")
#: How long close() waits for the reader; it leaves at once when interrupted.
_JOIN_TIMEOUT_S = 2.0
#: The bus's answers when no program owns the server's name (nor can be started for it).
_NO_OWNER = ("org.freedesktop.DBus.Error.ServiceUnknown",
             "org.freedesktop.DBus.Error.NameHasNoOwner")
_SPAWN_FAILED = "org.freedesktop.DBus.Error.Spawn."


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


def _escape(text: str) -> str:
    """What ``xml.sax.saxutils.escape`` does, without its import: that pulls urllib and
    http.client into the daemon, 0.7 MiB of its resident memory."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class ServerInfo:
    """The notification server, as GetServerInformation and GetCapabilities describe it."""

    name: str
    vendor: str
    version: str
    spec_version: str
    capabilities: frozenset[str]

    @property
    def gnome_shell(self) -> bool:
        """GNOME Shell: a notice's buttons are on its banner alone (its message list shows
        none), and a press on a notice whose sender has left the bus reaches no one: the
        shell broadcasts it under its own name, not the server's, and its server passes it
        on only to the sender."""
        return self.name == GNOME_SHELL


class _ConnectionBroken(Exception):
    """The socket under a kept connection failed; a fresh connection may still work."""


class _Link:
    """A bus connection and the thread that reads everything arriving on it.

    The thread hands each reply to the call waiting for it (several may wait at once) and
    every other message to ``on_message``, on the thread itself. It blocks in the selector
    without a timeout until the socket has data or ``close`` writes to the connection's stop
    pipe. When the socket fails (the bus went away) it ends, and every call still waiting, or
    made later, raises _ConnectionBroken.
    """

    def __init__(self, conn: DBusConnection, on_message: Callable[[Message], None]) -> None:
        self.conn = conn
        self._on_message = on_message
        self._pending: dict[int, Future[Message]] = {}
        self._pending_lock = threading.Lock()
        #: why the reader stopped; None while it reads
        self._ended: str | None = None
        self.thread = threading.Thread(
            target=self._read, name="crampguard-dbus-reader", daemon=True
        )
        self.thread.start()

    @property
    def sock(self) -> socket.socket:
        return self.conn.sock

    def call(self, message: Message, timeout: float) -> Message:
        """Send a method call and wait for its reply (a method return or an error).

        Raises TimeoutError, _ConnectionBroken, or OSError/ValueError from the send."""
        serial = next(self.conn.outgoing_serial)
        future: Future[Message] = Future()
        with self._pending_lock:
            if self._ended is not None:
                raise _ConnectionBroken(self._ended)
            self._pending[serial] = future
        try:
            self.conn.send(message, serial=serial)
            return future.result(timeout)
        finally:
            with self._pending_lock:
                self._pending.pop(serial, None)

    def close(self) -> None:
        """Stop the reader and close the connection; the reader leaves at once."""
        self.conn.interrupt()
        self.thread.join(_JOIN_TIMEOUT_S)
        self.conn.close()
        if not self.thread.is_alive():
            # jeepney's threading connection leaves its stop pipe open on close: two file
            # descriptors a reconnect would leak. Safe to close once nothing selects on it.
            for fd in (getattr(self.conn, "_stop_r", -1), getattr(self.conn, "_stop_w", -1)):
                if fd >= 0:
                    os.close(fd)

    def _read(self) -> None:
        why = "the connection was closed"
        try:
            while True:
                message = self.conn.receive()  # no timeout: sleeps until data or close()
                if not self._hand_over_reply(message):
                    self._on_message(message)
        except ReceiveStopped:
            pass
        except Exception as exc:  # EOF (ConnectionResetError), a stream that broke
            # Not left to threading's excepthook: a bus that goes away is no bug, and the
            # next send reconnects.
            why = f"{type(exc).__name__}: {exc}"
        finally:
            with self._pending_lock:
                self._ended = why
                waiting, self._pending = self._pending, {}
            for future in waiting.values():
                future.set_exception(_ConnectionBroken(why))

    def _hand_over_reply(self, message: Message) -> bool:
        reply_to = message.header.fields.get(HeaderFields.reply_serial)
        if reply_to is None:
            return False
        with self._pending_lock:
            future = self._pending.pop(reply_to, None)
        if future is not None:  # else the reply to a call that has given up waiting
            future.set_result(message)
        return True


class DbusNotifier:
    name = "dbus"

    def __init__(
        self,
        address: str | None = None,
        *,
        call_timeout_s: float = 5.0,
        desktop_entry: str = "crampguard",
        on_action: ActionCallback | None = None,
        on_available: Callable[[], None] | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        # address None: read the environment when connecting, not now, so a daemon started
        # before the desktop session exported its bus still finds it on a later send.
        self._address = address
        # Long enough for the bus to start a D-Bus-activated server on a cold session, short
        # enough that a hung server does not hold up the next reminder for long. It bounds
        # each public method as a whole (see _budget), not each of its calls.
        self._timeout = call_timeout_s
        self._deadline: float | None = None
        self._desktop_entry = desktop_entry
        #: called on the reader thread with (id, key) for each button pressed
        self._on_action = on_action
        #: called on the reader thread when the server's name gets an owner
        self._on_available = on_available
        #: a server has answered in this run: its going away is news, not a headless box
        self._served = False
        self._log = log or logging.getLogger(__name__)
        self._conn: _Link | None = None
        self._monitor: _Link | None = None
        #: the live connection's match rule for ActionInvoked is in place: a broadcast
        #: press reaches it, and the monitor must not pass the same press on again
        self._hears_broadcasts = False
        self._caps: frozenset[str] | None = None
        self._info: tuple[str, str, str, str] | None = None
        self._lock = threading.Lock()

    def send(self, notice: Notice) -> Delivery:
        self._refuse_on_reader_thread("send")
        with self._lock, self._budget():
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

    def withdraw(self, notification_id: int) -> None:
        """Take a shown notice off the screen (after its button was answered elsewhere, or
        pressed: dunst leaves a notice up after an action). Best effort."""
        self._refuse_on_reader_thread("withdraw")
        with self._lock, self._budget():
            if self._conn is None:
                return  # a new connection means a new server: that notice is gone
            try:
                self._call("CloseNotification", "u", (notification_id,))
            except (NotifyError, _ConnectionBroken) as exc:
                self._log.debug("could not close notification %s: %s", notification_id, exc)

    def listen(self) -> None:
        """Connect now, not at the first send, to hear the buttons of notices an earlier
        run of the daemon left on screen (best effort: no bus yet is no error)."""
        with self._lock, self._budget():
            try:
                self._connection()
            except (NotifyError, _ConnectionBroken) as exc:
                self._log.debug("not listening for buttons yet: %s", exc)
                return
            address = self._address or session_bus_address()
            if self._monitor is None and self._on_action is not None and address:
                self._watch_earlier_notices(address)

    def capabilities(self) -> frozenset[str]:
        """What the server says it can do ("actions", "body-markup", ...), asked once per
        connection and again after the server failed a call (another one may answer next).
        Called by send, under its lock."""
        if self._caps is None:
            (caps,) = self._call("GetCapabilities")
            self._caps = frozenset(caps)
        return self._caps

    def server_information(self) -> ServerInfo:
        """Who serves the notifications and what it can do (`crampguard doctor`, the
        daemon at start); shows nothing. Raises NotifyError when no server answers."""
        self._refuse_on_reader_thread("server_information")
        with self._lock, self._budget():
            try:
                return self._server()
            except _ConnectionBroken as broken:
                self._disconnect()
                raise NotifyError(f"lost the D-Bus connection: {broken}") from broken

    def earlier_presses_lost(self) -> bool:
        """Whether the server loses the presses on notices an earlier run showed (GNOME
        Shell): those are to be shown again from this run. False where no server answers."""
        self._refuse_on_reader_thread("earlier_presses_lost")
        try:
            with self._lock, self._budget():
                # the name alone: a server that hangs on its capabilities keeps that
                # for the first notice, not for the start
                if self._info is None:
                    self._info = self._call("GetServerInformation")
                return self._info[0] == GNOME_SHELL
        except _ConnectionBroken:
            self._disconnect()
            return False
        except NotifyError:
            return False

    def _server(self) -> ServerInfo:
        """Asked once per connection, like the capabilities; under the lock."""
        if self._info is None:
            self._info = self._call("GetServerInformation")
        return ServerInfo(*self._info, self.capabilities())

    def close(self) -> None:
        """Close the connection and stop its reader thread (which ends at once)."""
        self._refuse_on_reader_thread("close")
        with self._lock:
            self._disconnect()

    @contextmanager
    def _budget(self) -> Iterator[None]:
        """One timeout for everything a public method does (connect, AddMatch,
        GetCapabilities, Notify): a hung bus or server costs a send call_timeout_s in all,
        not that per call. The daemon's loop waits for the send, and a control command
        waits for the loop (control/wire.REPLY_WAIT): a bounded send is what lets `trigger`
        answer with the outcome rather than time out while the reminder is still on its
        way (and be tried again: shown twice)."""
        self._deadline = time.monotonic() + self._timeout
        try:
            yield
        finally:
            self._deadline = None

    def _left(self, what: str) -> float:
        """Seconds left for ``what`` in this method's budget."""
        if self._deadline is None:
            return self._timeout
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise NotifyError(
                f"the notification server did not answer {what} within {self._timeout:g} s")
        return left

    def _refuse_on_reader_thread(self, method: str) -> None:
        # on_action runs on the reader: a send from there would wait for a reply that only
        # this very thread could read (a hang until the call timeout), and close would join
        # it. Fail at once, with the reason, instead.
        link = self._conn
        if link is not None and threading.current_thread() is link.thread:
            raise RuntimeError(
                f"DbusNotifier.{method}() called from on_action, on the notifier's reader "
                "thread: hand the action over to another thread first"
            )

    def _disconnect(self) -> None:
        link, self._conn = self._conn, None
        monitor, self._monitor = self._monitor, None
        self._caps = self._info = None
        self._hears_broadcasts = False
        for each in (link, monitor):
            if each is not None:
                each.close()

    def _notify(self, notice: Notice) -> Delivery:
        server = self._server()
        caps = server.capabilities
        show_actions = bool(notice.actions) and "actions" in caps
        # GNOME's buttons go with its banner, after a few seconds: the command to type
        # stays in the body, where its message list still shows it.
        body = notice.body if show_actions and not server.gnome_shell \
            else body_with_hint(notice)
        if "body-markup" in caps:
            # Such a server parses the body as markup: a bare "&" or "<" would garble it.
            body = _escape(body)
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
                notice.replaces_id,  # a repeat takes its reminder's place on screen
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
        reply = self._request(new_method_call(SERVER, method, signature, body), method)
        try:
            values = unwrap_msg(reply)
        except DBusErrorResponse as exc:
            self._caps = self._info = None
            detail = " ".join(str(part) for part in exc.data)
            if self._served and (exc.name in _NO_OWNER or exc.name.startswith(_SPAWN_FAILED)):
                raise NotifierAway(
                    f"the notification server ({SERVER.bus_name}) is gone from the session "
                    f"bus: {exc.name}") from exc
            raise NotifyError(f"{method} failed: {exc.name}: {detail}") from exc
        self._served = True
        return values

    def _request(self, message: Message, what: str) -> Message:
        link = self._connection()
        try:
            return link.call(message, timeout=self._left(what))
        except TimeoutError as exc:  # before OSError: TimeoutError is one
            raise NotifyError(
                f"the notification server did not answer {what} within {self._timeout:g} s"
            ) from exc
        except (OSError, ValueError) as exc:
            raise _ConnectionBroken(str(exc) or type(exc).__name__) from exc

    def _connection(self) -> _Link:
        if self._conn is not None:
            return self._conn
        address = self._address or session_bus_address()
        if address is None:
            raise NotifyError(
                "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set "
                "and $XDG_RUNTIME_DIR/bus does not exist"
            )
        try:
            conn = open_dbus_connection(address, auth_timeout=self._left("the connection"))
        except NotifyError:
            raise
        except Exception as exc:  # jeepney: OSError, AuthenticationError, RuntimeError, ...
            raise NotifyError(f"cannot connect to the D-Bus session bus {address}: {exc}") from exc
        link = self._conn = _Link(conn, self._on_message)
        self._caps = self._info = None
        if self._on_action is not None or self._on_available is not None:
            try:
                self._listen()
            except NotifyError:
                # Without its rules this connection might never hear a button: the next
                # send starts over on a fresh one.
                self._disconnect()
                raise
        return link

    def _listen(self) -> None:
        """Ask the bus for the server's signals on this connection.

        dunst (and the servers that follow the spec's advice) send them to our unique name,
        which the bus delivers without any rule; a server that broadcasts them needs these.
        And the bus's word when the server's name changes owner, for ``on_available``.
        A refusal is logged, not raised: the notice itself can still be shown."""
        rules = []
        if self._on_action is not None:
            rules = [(member, MatchRule(type="signal", sender=SERVER.bus_name,
                                        interface=SERVER.interface, path=SERVER.object_path,
                                        member=member)) for member in _SIGNALS]
        if self._on_available is not None:
            owner = MatchRule(type="signal", sender=message_bus.bus_name,
                              interface=message_bus.interface, path=message_bus.object_path,
                              member="NameOwnerChanged")
            owner.add_arg_condition(0, SERVER.bus_name)
            rules.append(("NameOwnerChanged", owner))
        for member, rule in rules:
            reply = self._request(message_bus.AddMatch(rule), "AddMatch")
            if reply.header.message_type is MessageType.error:
                self._log.warning(
                    "the D-Bus session bus refused to pass on %s: %s %s",
                    member,
                    reply.header.fields.get(HeaderFields.error_name),
                    " ".join(str(part) for part in reply.body),
                )
            elif member == "ActionInvoked":
                self._hears_broadcasts = True

    def _watch_earlier_notices(self, address: str) -> None:
        """Hear the buttons on notices an earlier run of the daemon showed.

        The server addresses ActionInvoked to the connection that sent the notice; once that
        run has ended, the bus drops the signal before any match rule sees it. A monitor
        connection (``BecomeMonitor``) still sees it. It only reads: presses addressed to
        the live connection arrive there and are skipped here, as are broadcast ones once
        the live connection's match rule hears them; the ids are looked up in the journal,
        so another program's notices change nothing. A bus that refuses a monitor costs
        only those old buttons."""
        try:
            conn = open_dbus_connection(address, auth_timeout=self._timeout)
        except Exception as exc:  # jeepney: OSError, AuthenticationError, RuntimeError, ...
            self._log.debug("no buttons from earlier notices: %s", exc)
            return
        monitor = _Link(conn, self._on_monitored)
        rule = MatchRule(type="signal", sender=SERVER.bus_name, interface=SERVER.interface,
                         path=SERVER.object_path, member="ActionInvoked")
        become = new_method_call(
            DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
                        interface="org.freedesktop.DBus.Monitoring"),
            "BecomeMonitor", "asu", ([rule.serialise()], 0))
        try:
            reply = monitor.call(become, timeout=self._timeout)
        except (TimeoutError, OSError, ValueError, _ConnectionBroken) as exc:
            reply, refusal = None, str(exc)
        else:
            refusal = " ".join(str(part) for part in reply.body)
        if reply is None or reply.header.message_type is MessageType.error:
            self._log.debug("no buttons from earlier notices: %s", refusal)
            monitor.close()
            return
        self._monitor = monitor

    def _on_monitored(self, message: Message) -> None:
        live = self._conn
        to = message.header.fields.get(HeaderFields.destination)
        if live is not None and (to == live.conn.unique_name
                                 or (to is None and self._hears_broadcasts)):
            # Heard on the live connection already: a server that broadcasts its presses
            # (Plasma, LXQt) reaches both, and one press must count once.
            return
        self._on_message(message)

    def _on_message(self, message: Message) -> None:
        """On the reader thread: a message that is no reply to our calls."""
        header = message.header
        if (
            self._on_available is not None
            and header.message_type is MessageType.signal
            and header.fields.get(HeaderFields.sender) == message_bus.bus_name
            and header.fields.get(HeaderFields.member) == "NameOwnerChanged"
            and message.body[0] == SERVER.bus_name
        ):
            if message.body[2]:  # a new owner; "" when the name is gone
                self._log.info("the notification server is back on the session bus")
                try:
                    self._on_available()
                except Exception:  # as with on_action: the reader must go on
                    self._log.exception("handling the notification server's return failed")
            return
        if (
            self._on_action is None
            or header.message_type is not MessageType.signal
            or header.fields.get(HeaderFields.path) != SERVER.object_path
            or header.fields.get(HeaderFields.interface) != SERVER.interface
            or header.fields.get(HeaderFields.member) != "ActionInvoked"
            or header.fields.get(HeaderFields.signature) != "us"
        ):
            # NotificationClosed and anything else: nothing to do (yet).
            return
        notification_id, key = message.body
        try:
            self._on_action(notification_id, key)
        except Exception:
            # A bug in the callback must not end the reader: the next press still counts.
            self._log.exception(
                "handling the %r button of notification %d failed", key, notification_id
            )


def _expire_ms(timeout_s: float | None) -> int:
    """The spec's expire_timeout: -1 = the server's default, 0 = never, else milliseconds."""
    if timeout_s is None:
        return -1
    if timeout_s == 0:
        return 0
    # A tiny positive timeout must not round to 0, which would mean "never expire".
    return min(max(round(timeout_s * 1000), 1), _INT32_MAX)
