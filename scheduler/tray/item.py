"""The tray icon on the session bus: a StatusNotifierItem with a com.canonical.dbusmenu menu,
spoken with jeepney (no GTK, no Qt: the panel draws both).

One connection and the notifier's reader thread (``_Link``: it sleeps in the kernel until
bytes arrive). The panel's calls (GetLayout, Event, property reads) are answered on that
thread from the last View the daemon's loop handed over, which is only ever replaced whole,
never changed; a click is passed on as its entry's key, and the daemon's loop acts on it.
The panel hears of a change through the spec's signals (NewIcon, NewToolTip, NewStatus,
LayoutUpdated): nothing here runs on a timer.

The StatusNotifierWatcher is the panel's registry. Its name getting a new owner (a panel
started, or restarted) is heard through NameOwnerChanged, and the icon registers again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jeepney import (
    DBusAddress,
    HeaderFields,
    MatchRule,
    Message,
    MessageType,
    message_bus,
    new_error,
    new_method_call,
    new_method_return,
    new_signal,
)
from jeepney.io.threading import open_dbus_connection
from jeepney.low_level import MessageFlag

# The notifier's reader and its idea of the session bus, reused (as presence does).
from scheduler.notify.dbus import _ConnectionBroken, _Link, session_bus_address
from scheduler.tray.menu import Entry, View
from scheduler.tray.names import (
    INTROSPECT_IFACE,
    ITEM_IFACE,
    ITEM_PATH,
    MENU_IFACE,
    MENU_PATH,
    PROPS_IFACE,
)

WATCHER = DBusAddress("/StatusNotifierWatcher", bus_name="org.kde.StatusNotifierWatcher",
                      interface="org.kde.StatusNotifierWatcher")
CALL_TIMEOUT_S = 2.0
#: Seconds between the tries to register with a watcher that has just come (see _register).
REGISTER_RETRIES = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)
log = logging.getLogger("crampguard")


class TrayError(Exception):
    """No session bus to show the icon on, or it refused us."""


@dataclass(frozen=True)
class _Layout:
    """A View's menu as dbusmenu items: id -> (properties, child ids), id -> key."""

    revision: int
    items: dict[int, tuple[dict[str, tuple[str, Any]], list[int]]] = field(default_factory=dict)
    keys: dict[int, str] = field(default_factory=dict)


class _Ids:
    """Menu item ids. An entry with a key keeps its id for as long as it is in the menu, so
    a click the panel sends about a menu drawn before a change still means that entry (a
    reminder answered meanwhile moves the others up, never under the pointer)."""

    def __init__(self) -> None:
        self._last = 0
        self._by_key: dict[str, int] = {}

    def layout(self, revision: int, menu: tuple[Entry, ...]) -> _Layout:
        by_key, self._by_key = self._by_key, {}
        layout = _Layout(revision)
        layout.items[0] = ({"children-display": ("s", "submenu")},
                           [self._add(layout, entry, by_key) for entry in menu])
        return layout

    def _add(self, layout: _Layout, entry: Entry, by_key: dict[str, int]) -> int:
        if entry.key is not None and entry.key in by_key:
            item_id = by_key[entry.key]
        else:
            self._last += 1
            item_id = self._last
        if entry.key is not None:
            self._by_key[entry.key] = item_id
            layout.keys[item_id] = entry.key
        props: dict[str, tuple[str, Any]]
        if entry.label is None:
            props = {"type": ("s", "separator")}
        else:
            # a lone underscore marks a mnemonic: a label's own is doubled
            props = {"label": ("s", entry.label.replace("_", "__")),
                     "enabled": ("b", entry.enabled)}
        if entry.children:
            props["children-display"] = ("s", "submenu")
        layout.items[item_id] = (props, [self._add(layout, child, by_key)
                                         for child in entry.children])
        return item_id


class Tray:
    def __init__(self, view: View, on_click: Callable[[str], None], *,
                 address: str | None = None) -> None:
        self._address = address or session_bus_address()
        self._on_click = on_click
        self._ids = _Ids()
        self._view = view
        self._layout = self._ids.layout(1, view.menu)
        self._link: _Link | None = None
        self._name = f"org.kde.StatusNotifierItem-{os.getpid()}-1"
        #: the watcher this icon last registered with (its unique name), None: none yet
        self.registered_with: str | None = None
        self._register_lock = threading.Lock()

    # --- the daemon's side (its loop thread) -----------------------------------------------

    def start(self) -> bool:
        """Connect, export the icon and its menu, and register with the panel's watcher if
        one runs; whether one does. Raises TrayError without a usable session bus."""
        if self._address is None:
            raise TrayError("no D-Bus session bus")
        try:
            conn = open_dbus_connection(self._address, auth_timeout=CALL_TIMEOUT_S)
        except Exception as exc:  # jeepney: OSError, AuthenticationError, RuntimeError, ...
            raise TrayError(f"cannot connect to the session bus: {exc}") from exc
        self._link = _Link(conn, self._on_message)
        self._link.thread.name = "crampguard-tray"
        rule = MatchRule(type="signal", sender=message_bus.bus_name,
                         interface=message_bus.interface, path=message_bus.object_path,
                         member="NameOwnerChanged")
        rule.add_arg_condition(0, WATCHER.bus_name)
        self._call(message_bus.AddMatch(rule))
        self._call(message_bus.RequestName(self._name, 4))  # 4: do not queue
        (owned,) = self._call(message_bus.NameHasOwner(WATCHER.bus_name))
        if owned:
            self._register_soon()
        return bool(owned)

    def show(self, view: View) -> None:
        """Hand over what to show now; the panel hears what changed."""
        old, self._view = self._view, view
        if view.menu != old.menu:
            self._layout = self._ids.layout(self._layout.revision + 1, view.menu)
            self._emit(MENU_PATH, MENU_IFACE, "LayoutUpdated", "ui",
                       (self._layout.revision, 0))
        if view.look != old.look:
            self._emit(ITEM_PATH, ITEM_IFACE, "NewIcon")
            self._emit(ITEM_PATH, ITEM_IFACE, "NewAttentionIcon")
        if view.title != old.title:
            self._emit(ITEM_PATH, ITEM_IFACE, "NewTitle")
        if (view.title, view.tooltip) != (old.title, old.tooltip):
            self._emit(ITEM_PATH, ITEM_IFACE, "NewToolTip")
        if view.status != old.status:
            self._emit(ITEM_PATH, ITEM_IFACE, "NewStatus", "s", (view.status,))

    def close(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            link.close()

    def _register_soon(self) -> None:
        # On a thread of its own: the watcher's reply comes through the reader, which may be
        # the very thread that heard the watcher arrive, and the loop must not wait for it.
        threading.Thread(target=self._register, name="crampguard-tray-register",
                         daemon=True).start()

    def _register(self) -> None:
        """RegisterStatusNotifierItem with our well-known name. A watcher takes its name
        a moment before its object answers (status-notifier-watcher does): a refusal then
        is tried again a few times, sooner first — after the name came, not on a timer."""
        with self._register_lock:
            for wait in (*REGISTER_RETRIES, None):
                try:
                    self._call(new_method_call(WATCHER, "RegisterStatusNotifierItem", "s",
                                               (self._name,)))
                    (owner,) = self._call(message_bus.GetNameOwner(WATCHER.bus_name))
                    break
                except TrayError as exc:
                    if wait is None or self._link is None:
                        log.warning("tray: the StatusNotifierWatcher did not take the icon: %s",
                                    exc)
                        return
                    time.sleep(wait)
            self.registered_with = owner
        log.info("tray: the icon is on the panel (StatusNotifierWatcher %s)", owner)

    def _call(self, message: Message) -> tuple:
        link = self._link
        if link is None:
            raise TrayError("the tray is closed")
        message.header.flags |= MessageFlag.no_auto_start
        try:
            reply = link.call(message, CALL_TIMEOUT_S)
        except TimeoutError as exc:
            raise TrayError(f"no answer within {CALL_TIMEOUT_S:g} s") from exc
        except (_ConnectionBroken, OSError, ValueError) as exc:
            raise TrayError(f"the session bus connection broke: {exc}") from exc
        if reply.header.message_type is MessageType.error:
            name = reply.header.fields.get(HeaderFields.error_name)
            raise TrayError(f"{name}: {' '.join(str(part) for part in reply.body)}")
        return tuple(reply.body)

    def _emit(self, path: str, interface: str, member: str, signature: str | None = None,
              body: tuple = ()) -> None:
        link = self._link
        if link is None:
            return
        try:
            link.conn.send(new_signal(DBusAddress(path, interface=interface), member,
                                      signature, body))
        except (OSError, ValueError) as exc:  # the bus is gone: the reader ends too
            log.debug("tray: could not send %s: %s", member, exc)

    # --- the panel's side (the reader thread) --------------------------------------------

    def _on_message(self, message: Message) -> None:
        header = message.header
        if header.message_type is MessageType.signal:
            if header.fields.get(HeaderFields.member) == "NameOwnerChanged" \
                    and message.body[0] == WATCHER.bus_name:
                self._watcher_changed(message.body[2])
            return
        if header.message_type is not MessageType.method_call:
            return
        try:
            reply = self._answer(message)
        except _Refused as refused:
            reply = new_error(message, refused.name, "s", (refused.text,))
        except Exception:  # a bug must not end the reader: the next call still gets an answer
            log.exception("tray: answering %s failed",
                          header.fields.get(HeaderFields.member))
            reply = new_error(message, "org.freedesktop.DBus.Error.Failed", "s",
                              ("crampguard failed to answer",))
        if header.flags & MessageFlag.no_reply_expected:
            return
        link = self._link
        if link is not None:
            try:
                link.conn.send(reply)
            except (OSError, ValueError):
                pass  # the bus is gone; the reader ends with it

    def _watcher_changed(self, owner: str) -> None:
        if not owner:
            log.info("tray: the StatusNotifierWatcher left the session bus (the panel "
                     "stopped); the icon comes back when it returns")
            self.registered_with = None
            return
        self._register_soon()

    def _answer(self, message: Message) -> Message:
        fields = message.header.fields
        path, interface = fields.get(HeaderFields.path), fields.get(HeaderFields.interface)
        member, body = fields.get(HeaderFields.member), message.body
        if interface == INTROSPECT_IFACE and member == "Introspect":
            from scheduler.tray.introspection import describe

            return new_method_return(message, "s", (describe(path),))
        if path == ITEM_PATH:
            if interface == PROPS_IFACE:
                return _properties(message, ITEM_IFACE, self._item_properties())
            if interface in (ITEM_IFACE, None) and member in (
                    "Activate", "SecondaryActivate", "ContextMenu", "Scroll"):
                return new_method_return(message)  # ItemIsMenu: the panel opens the menu
        if path == MENU_PATH:
            if interface == PROPS_IFACE:
                return _properties(message, MENU_IFACE, _MENU_PROPERTIES)
            if interface in (MENU_IFACE, None):
                return self._menu_call(message, member, body)
        raise _Refused("org.freedesktop.DBus.Error.UnknownMethod",
                       f"no method {interface}.{member} at {path}")

    def _item_properties(self) -> dict[str, tuple[str, Any]]:
        from scheduler.tray import icon  # drawn once a panel asks for it

        view = self._view
        pixmaps = icon.pixmaps(view.look)
        return {
            "Category": ("s", "ApplicationStatus"),
            "Id": ("s", "crampguard"),
            "Title": ("s", view.title),
            "Status": ("s", view.status),
            "WindowId": ("i", 0),
            "IconName": ("s", ""),
            "IconPixmap": ("a(iiay)", pixmaps),
            "AttentionIconName": ("s", ""),
            "AttentionIconPixmap": ("a(iiay)", pixmaps),
            "OverlayIconName": ("s", ""),
            "OverlayIconPixmap": ("a(iiay)", []),
            "AttentionMovieName": ("s", ""),
            "IconThemePath": ("s", ""),
            "ToolTip": ("(sa(iiay)ss)", ("", [], view.title, view.tooltip)),
            "ItemIsMenu": ("b", True),
            "Menu": ("o", MENU_PATH),
        }

    def _menu_call(self, message: Message, member: str | None, body: tuple) -> Message:
        layout = self._layout
        if member == "GetLayout":
            parent, depth, names = body
            if parent not in layout.items:
                raise _Refused("org.freedesktop.DBus.Error.InvalidArgs", f"no item {parent}")
            return new_method_return(message, "u(ia{sv}av)",
                                     (layout.revision, _node(layout, parent, depth, names)))
        if member == "GetGroupProperties":
            ids, names = body
            wanted = ids or list(layout.items)
            return new_method_return(message, "a(ia{sv})", (
                [(i, _only(layout.items[i][0], names)) for i in wanted if i in layout.items],))
        if member == "GetProperty":
            item_id, name = body
            props = layout.items.get(item_id, ({}, []))[0]
            if name not in props:
                raise _Refused("org.freedesktop.DBus.Error.InvalidArgs",
                               f"no property {name} on item {item_id}")
            return new_method_return(message, "v", (props[name],))
        if member == "Event":
            item_id, event_id, _data, _timestamp = body
            self._event(layout, item_id, event_id)
            return new_method_return(message)
        if member == "EventGroup":
            (events,) = body
            for item_id, event_id, _data, _timestamp in events:
                self._event(layout, item_id, event_id)
            return new_method_return(message, "ai",
                                     ([e[0] for e in events if e[0] not in layout.items],))
        if member == "AboutToShow":
            return new_method_return(message, "b", (False,))
        if member == "AboutToShowGroup":
            return new_method_return(message, "aiai", ([], []))
        raise _Refused("org.freedesktop.DBus.Error.UnknownMethod",
                       f"no method {MENU_IFACE}.{member}")

    def _event(self, layout: _Layout, item_id: int, event_id: str) -> None:
        key = layout.keys.get(item_id)
        if event_id != "clicked" or key is None:
            return  # hovered, opened, closed; a heading
        try:
            self._on_click(key)
        except Exception:
            log.exception("tray: handling the click on %r failed", key)


class _Refused(Exception):
    def __init__(self, name: str, text: str) -> None:
        super().__init__(text)
        self.name, self.text = name, text


_MENU_PROPERTIES: dict[str, tuple[str, Any]] = {
    "Version": ("u", 3), "TextDirection": ("s", "ltr"), "Status": ("s", "normal"),
    "IconThemePath": ("as", [])}


def _node(layout: _Layout, item_id: int, depth: int, names: list[str]) -> tuple:
    """GetLayout's (ia{sv}av) for an item and its children ``depth`` deep (-1: all)."""
    props, children = layout.items[item_id]
    below = [] if depth == 0 else [
        ("(ia{sv}av)", _node(layout, child, depth - 1 if depth > 0 else -1, names))
        for child in children]
    return (item_id, _only(props, names), below)


def _only(props: dict[str, tuple[str, Any]], names: list[str]) -> dict[str, tuple[str, Any]]:
    return {k: v for k, v in props.items() if k in names} if names else dict(props)


def _properties(message: Message, interface: str,
                props: dict[str, tuple[str, Any]]) -> Message:
    member, body = message.header.fields.get(HeaderFields.member), message.body
    if member == "GetAll":
        return new_method_return(message, "a{sv}", (props if body[0] == interface else {},))
    if member == "Get" and body[0] == interface and body[1] in props:
        return new_method_return(message, "v", (props[body[1]],))
    if member == "Set":
        raise _Refused("org.freedesktop.DBus.Error.PropertyReadOnly", "read-only")
    raise _Refused("org.freedesktop.DBus.Error.UnknownProperty",
                   f"no property {body[:2]}")



