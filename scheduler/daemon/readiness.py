"""Telling the service manager how the daemon is doing: systemd's sd_notify protocol, in
the standard library (no libsystemd binding to load into the daemon).

Under ``Type=notify`` systemd passes ``$NOTIFY_SOCKET``, a datagram socket (a path, or an
abstract name written with a leading "@"), and counts the unit as started only once the
daemon sends ``READY=1``: ``systemctl start`` then returns when the routines are
scheduled, and a daemon that dies on the way is a failed start rather than a "started"
unit that is not there. Without the variable (a terminal, the XDG autostart, launchd)
every call is a no-op. A message that cannot be sent is logged and dropped: the reminders
matter more than the report.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger("crampguard")


def ready(status: str = "") -> bool:
    """Started, or done re-reading the files."""
    return notify("READY=1", *([f"STATUS={status}"] if status else []))


def reloading() -> bool:
    """Re-reading the files (SIGHUP, `crampguard reload`, an edit). systemd ≥ 253 wants the
    monotonic time with it, to match it up with the reload it asked for (on Linux, Python's
    monotonic clock is CLOCK_MONOTONIC, the one systemd means)."""
    return notify("RELOADING=1", f"MONOTONIC_USEC={time.monotonic_ns() // 1000}")


def stopping() -> bool:
    return notify("STOPPING=1")


def notify(*fields: str, env: Mapping[str, str] | None = None) -> bool:
    """Send ``fields`` (``KEY=value`` each) in one datagram; whether it went out."""
    address = (os.environ if env is None else env).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        target = "\0" + address[1:]  # Linux's abstract namespace
    elif address.startswith("/"):
        target = address
    else:  # vsock: and other transports systemd may add: not spoken here
        log.debug("NOTIFY_SOCKET %r: not a Unix socket; not reporting", address)
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(target)
            sock.sendall("\n".join(fields).encode())
    except OSError as exc:
        log.warning("could not tell the service manager %s (NOTIFY_SOCKET %s): %s",
                    fields[0], address, exc)
        return False
    return True
