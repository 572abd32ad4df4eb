"""Stands in for gdm on a private system bus: only what GNOME Shell 43 asks before it
makes its lock screen (the display manager's Version, RegisterSession). Run as
``python -m tests.support.fake_gdm`` with DBUS_SYSTEM_BUS_ADDRESS set."""

from __future__ import annotations

from jeepney import HeaderFields, MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection


def main() -> None:
    conn = open_dbus_connection("SYSTEM")
    conn.send_and_get_reply(message_bus.RequestName("org.gnome.DisplayManager"))
    while True:
        msg = conn.receive()
        if msg.header.message_type is not MessageType.method_call:
            continue
        member = msg.header.fields.get(HeaderFields.member)
        if member == "Get" and msg.body[1] == "Version":
            conn.send(new_method_return(msg, "v", (("s", "43.0"),)))
        elif member == "GetAll":
            conn.send(new_method_return(msg, "a{sv}", ({"Version": ("s", "43.0")},)))
        elif member == "RegisterSession":
            conn.send(new_method_return(msg))
        else:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s",
                                (f"no {member} here",)))


if __name__ == "__main__":
    main()
