"""Live edits: watch the config file's folder and the routine folders with watchdog
(inotify on Linux) and tell the daemon something changed.

Editors save by writing a temp file and renaming it over the old one, so created, moved
and deleted events count as much as modified ones; the daemon debounces them.

A file reached through a symlink (a dotfile manager's ``routines/x.toml ->
~/dotfiles/x.toml``) is edited where it lives, which its link's folder never hears of; so
every hop of the link is watched in its own folder too, and re-aimed after each reload.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

# The observer's dispatch thread wakes up this often even when nothing happens; an hour
# keeps an idle daemon asleep (events are still dispatched as they come).
_DISPATCH_TIMEOUT = 3600.0


class _Handler(FileSystemEventHandler):
    def __init__(self, relevant: Callable[[str], bool], changed: Callable[[], None]):
        self._relevant = relevant
        self._changed = changed

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [event.src_path, getattr(event, "dest_path", "")]
        if any(p and self._relevant(str(p)) for p in paths):
            self._changed()


class Watcher:
    """Watches the nearest existing folder of each path; ``refresh`` re-aims the watches
    after a reload (a routines folder created later gets its own watch then)."""

    def __init__(self, changed: Callable[[], None]):
        self._changed = changed
        self._observer = Observer(timeout=_DISPATCH_TIMEOUT)
        self._observer.daemon = True
        self._watched: dict[Path, ObservedWatch] = {}
        self._targets: set[Path] = set()

    def start(self, targets: Iterable[Path]) -> None:
        self.refresh(targets)
        self._observer.start()

    def refresh(self, targets: Iterable[Path]) -> None:
        given = {Path(t).absolute() for t in targets}
        files = [t for t in given if t.suffix == ".toml"]
        files += [p for t in given if t.suffix != ".toml" and t.is_dir()
                  for p in t.glob("*.toml") if p.is_symlink()]
        self._targets = given | {hop for f in files for hop in _link_hops(f)}
        folders = {_existing(t if t.suffix != ".toml" else t.parent) for t in self._targets}
        for folder in set(self._watched) - folders:
            self._observer.unschedule(self._watched.pop(folder))
        for folder in folders - set(self._watched):
            handler = _Handler(self._relevant, self._changed)
            self._watched[folder] = self._observer.schedule(handler, str(folder),
                                                            recursive=False)

    def _relevant(self, path: str) -> bool:
        changed = Path(path)
        for target in self._targets:
            if changed == target or target.is_relative_to(changed):
                return True  # the file itself, or a folder on the way to it
            if target.suffix != ".toml" and changed.parent == target \
                    and changed.suffix == ".toml":
                return True
        return False

    def stop(self) -> None:
        # Daemon threads: no join, which would wait out the dispatch timeout.
        self._observer.stop()


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
