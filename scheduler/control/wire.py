"""The control channel's wire format: a Unix socket the daemon serves and the CLI talks to.

One JSON object per line each way, one request per connection::

    client → {"cmd": "status", ...}\\n
    server → {"ok": true, ...}\\n   or   {"ok": false, "error": "message"}\\n   (then close)

"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from scheduler.errors import CrampguardError

#: ``sun_path`` is 108 bytes on Linux and 104 on the BSDs and macOS, NUL included.
MAX_SOCKET_PATH = 107 if sys.platform.startswith("linux") else 103
#: Bytes read per ``recv``; a request never grows the buffer past ``max_request + 1``.
CHUNK = 16 * 1024
#: How long the daemon waits for its loop to carry out a request before it answers
#: anyway. The loop may be delivering a reminder: the notifiers bound a send to 5 s (a
#: notification server that hangs), so a `trigger` is answered with how it went.
REPLY_WAIT = 8.0
#: How long a client waits for the reply: past REPLY_WAIT, so that whatever the daemon
#: says (done, or still under way) arrives, rather than a silence that reads as "try
#: again" and would do it twice.
CLIENT_TIMEOUT = REPLY_WAIT + 4.0


def line(reply: dict[str, Any]) -> bytes:
    # json.dumps escapes newlines inside strings, so the reply is exactly one line.
    return json.dumps(reply, ensure_ascii=False).encode() + b"\n"


def error(message: str) -> bytes:
    return line({"ok": False, "error": message})


def check_path_length(path: Path) -> None:
    size = len(os.fsencode(path))
    if size > MAX_SOCKET_PATH:
        raise CrampguardError(
            f"{path}: the control socket path is {size} bytes, longer than the "
            f"{MAX_SOCKET_PATH} a Unix socket allows; set CRAMPGUARD_RUNTIME_DIR to a "
            f"shorter folder")
