"""One daemon per user, however the second one is started.

Two daemons that share any of these would show every reminder twice (or fight over the
journal), so each is held with an ``flock`` for the daemon's life:

- the runtime folder, through ``daemon.lock`` in it (it also holds the pid, as before);
- the state folder (the journal), the folder itself;
- the folder of the settings file and the routines folder in use (the user's files),
  the folders themselves: nothing new is written among the user's files.

A daemon started with another ``XDG_RUNTIME_DIR`` or ``CRAMPGUARD_RUNTIME_DIR`` therefore
still meets the first one at the state or config folder. Tests run many daemons, each on
its own folders: folders that differ never conflict. The shipped routines are shared by
every daemon and never locked.

The kernel drops an ``flock`` when its holder exits, ``kill -9`` included, so nothing is
ever left stale. The pid for the "already running" message comes from ``/proc/locks``
(which process holds that folder), else from the pid file of that lock: ``daemon.lock``,
or ``daemon.pid`` in the state folder for a daemon that used another runtime folder.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from scheduler.errors import CrampguardError
from scheduler.paths import Paths, shipped_dir

LOCK_FILE = "daemon.lock"
#: The holder's pid beside the journal, for a second daemon that used another runtime
#: folder and cannot read the first one's ``daemon.lock``.
STATE_PID_FILE = "daemon.pid"


class InstanceLock:
    """``InstanceLock(paths).acquire()`` at start, ``release()`` at stop."""

    def __init__(self, paths: Paths):
        self.paths = paths
        self._fds: list[int] = []

    def acquire(self) -> None:
        """Hold every folder, or none: raises ``CrampguardError`` naming the other daemon's
        pid and the folder both would share."""
        try:
            self._hold_runtime()
            state = self.paths.state_dir
            self._hold_folder("state folder", state, state / STATE_PID_FILE, create=True)
            for folder in self._config_folders():
                self._hold_folder("config folder", folder, None, create=False)
        except BaseException:
            self.release()
            raise
        _write_pid(self.paths.state_dir / STATE_PID_FILE)

    def release(self) -> None:
        while self._fds:
            os.close(self._fds.pop())

    def _hold_runtime(self) -> None:
        path = self.paths.runtime_dir / LOCK_FILE
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise CrampguardError(f"{path}: cannot create the lock file: {exc.strerror}"
                                  ) from None
        if self._lock(fd, "runtime folder", path.parent, path):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())

    def _hold_folder(self, what: str, folder: Path, pid_file: Path | None, *,
                     create: bool) -> None:
        """Lock the folder itself. A folder that cannot be opened (missing, unreadable,
        an unwritable parent) is not locked: the daemon still starts and reminds, and the
        journal reports its own trouble."""
        try:
            if create:
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return
        if self._already_held(fd):
            os.close(fd)  # the same folder twice: a second flock would block on our own
            return
        self._lock(fd, what, folder, pid_file)

    def _lock(self, fd: int, what: str, folder: Path, pid_file: Path | None) -> bool:
        """Whether ``fd`` is now held (False: this filesystem has no flock)."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                # A filesystem without flock (some network mounts): this folder cannot be
                # guarded; the others still are.
                os.close(fd)
                return False
            pid = _holder(fd) or (_read_pid(pid_file) if pid_file else None)
            os.close(fd)
            raise CrampguardError(_already_running(pid, what, folder)) from None
        self._fds.append(fd)
        return True

    def _already_held(self, fd: int) -> bool:
        st = os.fstat(fd)
        return any(_same_file(st, os.fstat(held)) for held in self._fds)

    def _config_folders(self) -> list[Path]:
        shipped = shipped_dir("routines").resolve()
        folders = [self.paths.config_file.parent,
                   self.paths.only_routines or self.paths.user_routines]
        return [f for f in folders if f.resolve() != shipped]


def _already_running(pid: int | None, what: str, folder: Path) -> str:
    who = f"pid {pid}" if pid else "its pid is unknown"
    return (f"crampguard is already running ({who}) with the same {what} {folder}; "
            "two daemons would show every reminder twice. Stop that one first, or give "
            "this one folders of its own")


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _holder(fd: int) -> int | None:
    """The pid holding an flock on ``fd``'s file, from ``/proc/locks`` (Linux)."""
    st = os.fstat(fd)
    try:
        text = Path("/proc/locks").read_text()
    except OSError:
        return None
    # "1: FLOCK  ADVISORY  WRITE 1234 08:02:131090 0 EOF"; blocked waiters carry "->".
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 6 or fields[1] != "FLOCK":
            continue
        dev, _, inode = fields[5].rpartition(":")
        major, _, minor = dev.partition(":")
        try:
            same = (int(inode) == st.st_ino and int(major, 16) == os.major(st.st_dev)
                    and int(minor, 16) == os.minor(st.st_dev))
            pid = int(fields[4])
        except ValueError:
            continue
        if same and pid > 0:
            return pid
    return None


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def _write_pid(path: Path) -> None:
    """Best effort: a read-only or full state folder must not stop the daemon (the message
    of a second daemon then falls back to ``/proc/locks``)."""
    try:
        path.write_text(f"{os.getpid()}\n", encoding="ascii")
    except OSError:
        pass
