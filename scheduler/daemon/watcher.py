"""Live edits: watch the config file's folder and the routine folders and tell the daemon
something changed: through inotify on Linux (one thread reading one descriptor), through
watchdog elsewhere (FSEvents, ReadDirectoryChangesW, kqueue).

Editors save by writing a temp file and renaming it over the old one, so created, moved
and deleted events count as much as modified ones; the daemon debounces them.

A file reached through a symlink (a dotfile manager's ``routines/x.toml ->
~/dotfiles/x.toml``) is edited where it lives, which its link's folder never hears of; so
every hop of the link is watched in its own folder too, and re-aimed after each reload.

A folder not made yet (no ``~/.config/crampguard`` before ``crampguard init``) is waited
for in the nearest folder that exists, which hears only that one name: other programs
write in ``~/.config`` all the time, and none of it is a change of ours. Once the folder
is made, the watch moves into it at once, before the daemon's reload reads what is there.
"""

from __future__ import annotations

import ctypes
import os
import select
import struct
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# The observer's dispatch thread wakes up this often even when nothing happens; an hour
# keeps an idle daemon asleep (events are still dispatched as they come).
_DISPATCH_TIMEOUT = 3600.0

# <sys/inotify.h>: what a folder's watch hears. Metadata-only changes (IN_ATTRIB) count:
# `touch` and a chmod that makes a file readable again must reload too.
_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF, _IN_ONLYDIR = 0x400, 0x800, 0x01000000
_IN_IGNORED, _IN_Q_OVERFLOW = 0x8000, 0x4000
_MASK = (_IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO
         | _IN_CREATE | _IN_DELETE | _IN_DELETE_SELF | _IN_MOVE_SELF | _IN_ONLYDIR)
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name


class Watcher:
    """Watches the nearest existing folder of each path; ``refresh`` re-aims the watches
    after a reload (a routines folder created later gets its own watch then). Subclasses
    say how a folder is watched; which paths matter is decided here."""

    def __init__(self, changed: Callable[[], None]):
        self._changed = changed
        self._given: set[Path] = set()
        self._targets: set[Path] = set()
        self._folders: set[Path] = set()
        # folders watched only as stand-ins for one not made yet: the names they wait for
        self._stand_ins: dict[Path, set[str]] = {}
        self._missing: set[Path] = set()  # folders of ours not made yet
        # the daemon's loop refreshes after a reload, the reading thread when a folder
        # waited for is made
        self._aiming = threading.RLock()

    def start(self, targets: Iterable[Path]) -> None:
        self.refresh(targets)

    def refresh(self, targets: Iterable[Path]) -> None:
        with self._aiming:
            self._aim({Path(t).absolute() for t in targets})

    def _aim(self, given: set[Path]) -> bool:
        """Whether a folder of ours is watched now that was not (made since)."""
        self._given = given
        files = [t for t in given if t.suffix == ".toml"]
        files += [p for t in given if t.suffix != ".toml" and t.is_dir()
                  for p in t.glob("*.toml") if p.is_symlink()]
        self._targets = given | {hop for f in files for hop in _link_hops(f)}
        homes = {t if t.suffix != ".toml" else t.parent for t in self._targets}
        folders: set[Path] = set()
        stand_ins: dict[Path, set[str]] = {}
        for home in homes:
            folder = _existing(home)
            folders.add(folder)
            if folder != home:
                stand_ins.setdefault(folder, set()).add(home.relative_to(folder).parts[0])
        for folder in homes & folders:
            stand_ins.pop(folder, None)  # a folder of ours as well: everything counts
        self._stand_ins = stand_ins
        self._missing = homes - folders
        for folder in self._folders - folders:
            self._unwatch(folder)
        self._folders &= folders
        arrived = bool((folders - self._folders) & homes)
        for folder in sorted(folders - self._folders):
            self._watch(folder)  # when it fails, the next refresh tries the rest again
            self._folders.add(folder)
        return arrived

    def stop(self) -> None:
        raise NotImplementedError

    def _watch(self, folder: Path) -> None:
        raise NotImplementedError

    def _unwatch(self, folder: Path) -> None:
        raise NotImplementedError

    def _heard(self, *paths: str) -> None:
        if not self._aiming.acquire(blocking=False):
            # The daemon's loop is re-aiming right now (under watchdog it may be waiting
            # for this very thread): a reload, which re-aims once more, is the safe answer.
            self._changed()
            return
        try:
            stand_ins = self._stand_ins
            relevant = any(p and self._relevant(p, stand_ins) for p in paths)
            if any(p and (Path(p) in stand_ins
                          or any(m.is_relative_to(p) for m in self._missing))
                   for p in paths):
                # A folder waited for was made, or a stand-in itself went. Moving in
                # drops the stand-in's events still queued, which may hold the making
                # itself: arriving in a folder of ours is a change of its own.
                try:
                    relevant = self._aim(self._given) or relevant
                except OSError:
                    pass  # the reload's own refresh tries again and says why
        finally:
            self._aiming.release()
        if relevant:
            self._changed()

    def _relevant(self, path: str, stand_ins: dict[Path, set[str]]) -> bool:
        changed = Path(path)
        if changed in stand_ins:
            return False  # a stand-in's own attributes are nothing of ours
        if changed.parent in stand_ins:
            return changed.name in stand_ins[changed.parent]
        for target in self._targets:
            if changed == target or target.is_relative_to(changed):
                return True  # the file itself, or a folder on the way to it
            if target.suffix != ".toml" and changed.parent == target \
                    and changed.suffix == ".toml":
                return True
        return False


class InotifyWatcher(Watcher):
    """One inotify descriptor, read by one thread that sleeps until the kernel has events
    (watchdog would keep a thread per folder and its own module resident as well)."""

    def __init__(self, changed: Callable[[], None], libc: ctypes.CDLL):
        super().__init__(changed)
        self._add = libc.inotify_add_watch
        self._add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self._rm = libc.inotify_rm_watch
        self._rm.argtypes = [ctypes.c_int, ctypes.c_int]
        fd = libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self._fd = fd
        self._stop_r, self._stop_w = os.pipe()
        self._lock = threading.Lock()  # the watch tables: refresh (loop) and reader
        self._wd: dict[Path, int] = {}
        self._folder_of: dict[int, Path] = {}
        self._thread = threading.Thread(target=self._read, name="watcher", daemon=True)

    def start(self, targets: Iterable[Path]) -> None:
        super().start(targets)
        self._thread.start()

    def _watch(self, folder: Path) -> None:
        wd = self._add(self._fd, os.fsencode(folder), _MASK)
        if wd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"cannot watch {folder}: {os.strerror(err)}")
        with self._lock:
            self._wd[folder] = wd
            self._folder_of[wd] = folder

    def _unwatch(self, folder: Path) -> None:
        with self._lock:
            wd = self._wd.pop(folder, None)
            self._folder_of.pop(wd, None)  # type: ignore[arg-type]
        if wd is not None:
            self._rm(self._fd, wd)  # gone already (folder deleted): an error, harmless

    def _read(self) -> None:
        poll = select.poll()
        poll.register(self._fd, select.POLLIN)
        poll.register(self._stop_r, select.POLLIN)
        while True:
            ready = {fd for fd, _ in poll.poll()}
            if self._stop_r in ready:
                return
            try:
                data = os.read(self._fd, 64 * 1024)
            except BlockingIOError:
                continue
            except OSError:
                return
            self._heard(*self._paths(data))

    def _paths(self, data: bytes) -> list[str]:
        paths: list[str] = []
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
            raw = data[offset + _EVENT.size: offset + _EVENT.size + length]
            offset += _EVENT.size + length
            if mask & _IN_Q_OVERFLOW:
                self._changed()  # events were dropped: reload to be sure
                continue
            with self._lock:
                folder = self._folder_of.get(wd)
                if mask & _IN_IGNORED and folder is not None:
                    # The folder went (deleted, unmounted): the next refresh watches
                    # again, and its leaving is itself a change.
                    self._wd.pop(folder, None)
                    self._folder_of.pop(wd, None)
                    self._folders.discard(folder)
            if folder is None:
                continue
            name = os.fsdecode(raw.rstrip(b"\0"))
            paths.append(str(folder / name) if name else str(folder))
        return paths

    def stop(self) -> None:
        try:
            os.write(self._stop_w, b"\0")
        except OSError:
            pass
        if self._thread.is_alive():
            self._thread.join(2)
        for fd in (self._fd, self._stop_r, self._stop_w):
            try:
                os.close(fd)
            except OSError:
                pass


class WatchdogWatcher(Watcher):
    """Where there is no inotify: a watchdog observer (imported only here)."""

    def __init__(self, changed: Callable[[], None]):
        super().__init__(changed)
        from watchdog.observers import Observer

        self._observer = Observer(timeout=_DISPATCH_TIMEOUT)
        self._observer.daemon = True
        self._watched: dict[Path, Any] = {}

    def start(self, targets: Iterable[Path]) -> None:
        super().start(targets)
        self._observer.start()

    def _watch(self, folder: Path) -> None:
        self._watched[folder] = self._observer.schedule(_handler(self._heard), str(folder),
                                                        recursive=False)

    def _unwatch(self, folder: Path) -> None:
        self._observer.unschedule(self._watched.pop(folder))

    def stop(self) -> None:
        # Daemon threads: no join, which would wait out the dispatch timeout.
        self._observer.stop()


def _handler(heard: Callable[..., None]) -> Any:
    from watchdog.events import FileSystemEvent, FileSystemEventHandler

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            # A folder's "modified" only says its entries changed, which each entry's own
            # event tells: heard, it would reload on every file written beside ours.
            if event.event_type not in ("opened", "closed_no_write") and not (
                    event.is_directory and event.event_type == "modified"):
                heard(str(event.src_path), str(getattr(event, "dest_path", "") or ""))

    return Handler()


def open_watcher(changed: Callable[[], None]) -> Watcher:
    """inotify where the kernel has it, else watchdog."""
    if sys.platform.startswith("linux"):
        try:
            return InotifyWatcher(changed, ctypes.CDLL(None, use_errno=True))
        except (OSError, AttributeError):
            pass
    return WatchdogWatcher(changed)


def _link_hops(path: Path) -> list[Path]:
    """Where a symlink leads, one hop after another, up to the file itself (nothing for a
    file that is no link; a loop or a dangling end stops the walk)."""
    hops: list[Path] = []
    while path.is_symlink() and len(hops) < 40:
        try:
            path = Path(os.path.normpath(path.parent / os.readlink(path)))
        except OSError:
            break
        hops.append(path)
    return hops


def _existing(path: Path) -> Path:
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path
