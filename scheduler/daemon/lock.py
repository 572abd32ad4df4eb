"""One daemon per user: an flock'ed pid file in the runtime folder."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from scheduler.errors import CrampguardError


class InstanceLock:
    def __init__(self, runtime_dir: Path):
        self.path = runtime_dir / "daemon.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise CrampguardError(f"{self.path}: cannot create the lock file: {exc.strerror}"
                                  ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise CrampguardError(f"crampguard is already running (pid {pid})") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
