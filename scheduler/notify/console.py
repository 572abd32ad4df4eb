"""The last resort: one line on stdout, which a service manager keeps in its log."""

from __future__ import annotations

import sys
from typing import TextIO

from .base import Delivery, Notice, NotifyError


class ConsoleNotifier:
    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        # None: look sys.stdout up at each send, so a redirected stdout (pytest's capture, a
        # daemon that re-opens its log) gets the line rather than the stream of start-up time.
        self._stream = stream

    def send(self, notice: Notice) -> Delivery:
        stream = self._stream if self._stream is not None else sys.stdout
        if stream is None:  # pythonw on Windows has no stdout at all
            raise NotifyError("no stdout to write the reminder to")
        try:
            stream.write(format_line(notice) + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:  # a closed pipe or file
            raise NotifyError(f"cannot write the reminder to stdout: {exc}") from exc
        return Delivery(self.name)

    def close(self) -> None:
        # The stream belongs to whoever passed it (or to the interpreter): not ours to close.
        pass


def format_line(notice: Notice) -> str:
    """``[crampguard] TITLE — BODY (run: HINT)`` on one line, for logs that are read by line."""
    title, body = (" ".join(text.split()) for text in (notice.title, notice.body))
    line = f"[{notice.app_name}] {title} — {body}"
    if notice.hint_command:
        line += f" (run: {notice.hint_command})"
    return line
