"""The CLI's end of the control channel: one request to the running daemon, one reply."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from scheduler.control import wire
from scheduler.errors import CrampguardError, NotRunning

#: A reply bigger than this is not from crampguard (status replies are a few KiB).
_MAX_REPLY = 4 * 1024 * 1024


def request(path: Path, message: dict[str, Any], *,
            timeout: float = wire.CLIENT_TIMEOUT) -> dict[str, Any]:
    """Send one request to the running daemon and return its reply.

    Raises ``NotRunning`` when nothing listens at ``path``, and ``CrampguardError`` when
    the daemon does not answer within ``timeout`` seconds (in all) or answers garbage.
    An ``{"ok": false}`` reply is returned, not raised: the caller words the failure.
    """
    wire.check_path_length(path)
    data = json.dumps(message).encode() + b"\n"
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.settimeout(remaining())
            sock.connect(os.fspath(path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise NotRunning(path) from None
        except TimeoutError:
            raise CrampguardError(f"{path}: the daemon did not accept the connection within "
                                  f"{timeout:g}s") from None
        except OSError as exc:
            raise CrampguardError(f"{path}: cannot connect: {exc.strerror or exc}") from None
        try:
            try:
                sock.settimeout(remaining())
                sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server refused early ("busy", "permission denied"): read why
            reply = bytearray()
            while b"\n" not in reply:
                sock.settimeout(remaining())
                try:
                    chunk = sock.recv(wire.CHUNK)
                except ConnectionResetError:
                    chunk = b""  # closed with our request unread; what arrived still counts
                if not chunk:
                    raise CrampguardError(f"{path}: the daemon closed the connection "
                                          f"without a reply")
                reply += chunk
                if len(reply) > _MAX_REPLY:
                    raise CrampguardError(f"{path}: the daemon's reply is too large")
        except TimeoutError:
            raise CrampguardError(f"{path}: the daemon did not answer within "
                                  f"{timeout:g}s") from None
        except OSError as exc:
            raise CrampguardError(f"{path}: talking to the daemon failed: "
                                  f"{exc.strerror or exc}") from None
    return _parse_reply(path, bytes(reply.split(b"\n", 1)[0]))


def _parse_reply(path: Path, line: bytes) -> dict[str, Any]:
    try:
        reply = json.loads(line)
    except (ValueError, RecursionError):
        reply = None
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        raise CrampguardError(f"{path}: malformed reply from the daemon: "
                              f"{line[:200].decode(errors='replace')!r}")
    return reply


