"""The file watcher on its own: which changes wake the daemon, through inotify on Linux
(the daemon's live edits, end to end, are in test_daemon.py and test_overrides.py)."""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from pathlib import Path

import pytest

from scheduler.daemon.watcher import InotifyWatcher, WatchdogWatcher, Watcher

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")


class Heard:
    def __init__(self) -> None:
        self.count = 0
        self._event = threading.Event()

    def __call__(self) -> None:
        self.count += 1
        self._event.set()

    def wait(self, timeout: float = 5.0) -> bool:
        got = self._event.wait(timeout)
        self._event.clear()
        return got


@pytest.fixture(params=["inotify", "watchdog"])
def make(request):
    made: list[Watcher] = []

    def build(heard) -> Watcher:
        watcher: Watcher = InotifyWatcher(heard, ctypes.CDLL(None, use_errno=True)) \
            if request.param == "inotify" else WatchdogWatcher(heard)
        made.append(watcher)
        return watcher

    yield build
    for watcher in made:
        watcher.stop()


def test_a_routine_file_saved_by_rename_is_heard(make, tmp_path: Path) -> None:
    heard = Heard()
    watcher = make(heard)
    watcher.start([tmp_path])
    (tmp_path / ".a.toml.swp").write_text("x")  # not a routine file: nothing
    (tmp_path / ".a.toml.swp").rename(tmp_path / "a.toml")
    assert heard.wait()


def test_other_files_in_a_watched_folder_are_not_heard(make, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    early: list[bool] = []
    heard = Heard()
    watcher = make(lambda: (early.append(not config.exists()), heard()))
    watcher.start([config])
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "other.toml").write_text("x")
    config.write_text("x")  # events come in order: anything heard before this is wrong
    assert heard.wait()
    assert early and not any(early)


def test_a_folder_created_later_is_heard_and_then_watched(make, tmp_path: Path) -> None:
    routines = tmp_path / "config" / "routines"
    heard = Heard()
    watcher = make(heard)
    watcher.start([routines])
    routines.mkdir(parents=True)  # tmp_path is watched: "config" is on the way
    assert heard.wait()
    watcher.refresh([routines])  # what the daemon's reload does
    (routines / "a.toml").write_text("x")
    assert heard.wait()


def test_a_watched_folder_deleted_is_heard_and_watched_again_after_refresh(
        make, tmp_path: Path) -> None:
    routines = tmp_path / "routines"
    routines.mkdir()
    heard = Heard()
    watcher = make(heard)
    watcher.start([routines])
    routines.rmdir()
    assert heard.wait()
    watcher.refresh([routines])
    routines.mkdir()
    assert heard.wait()
    watcher.refresh([routines])
    (routines / "b.toml").write_text("x")
    assert heard.wait()


def test_stop_ends_the_inotify_thread(tmp_path: Path) -> None:
    watcher = InotifyWatcher(Heard(), ctypes.CDLL(None, use_errno=True))
    watcher.start([tmp_path])
    watcher.stop()
    assert not watcher._thread.is_alive()



def test_a_config_folder_not_made_yet_is_waited_for_by_its_name_alone(
        make, tmp_path: Path) -> None:
    """Other programs write in ~/.config all the time (KDE does, constantly): while
    crampguard's own folder is not there, only its making counts, and then what is in it
    (with no refresh from the daemon in between: the watch moves in by itself)."""
    folder = tmp_path / "crampguard"
    config, routine = folder / "config.toml", folder / "routines" / "a.toml"
    seen: list[tuple[bool, bool, bool]] = []
    heard = Heard()

    def changed() -> None:  # what was there when the watcher spoke
        seen.append((folder.exists(), config.exists(), routine.exists()))
        heard()

    watcher = make(changed)
    watcher.start([config, folder / "routines"])
    (tmp_path / "kwinrc").write_text("x")
    (tmp_path / ".kdeglobals.tmp").write_text("x")
    (tmp_path / ".kdeglobals.tmp").rename(tmp_path / "kdeglobals")
    (tmp_path / "plasma").mkdir()
    (tmp_path / "config.toml").write_text("x")  # our name, someone else's folder
    tmp_path.chmod(0o755)  # the parent's own attributes
    folder.mkdir()  # events come in order: anything heard before this is wrong
    assert heard.wait()
    assert seen[0][0]
    config.write_text("[settings]\n")
    routine.parent.mkdir()
    routine.write_text("x")
    deadline = time.monotonic() + 5
    while not (seen[-1][1] and seen[-1][2]) and time.monotonic() < deadline:
        heard.wait(0.5)
    assert seen[-1] == (True, True, True)
