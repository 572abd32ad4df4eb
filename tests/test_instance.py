"""One daemon per user, however the second one is started: the instance lock holds the
runtime, state and config folders, so another runtime folder does not let a second daemon
in, while daemons on folders of their own (as every test runs) never meet."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scheduler.daemon import lock as lock_module
from scheduler.daemon.lock import STATE_PID_FILE, InstanceLock
from scheduler.errors import CrampguardError
from scheduler.paths import Paths, resolve_paths
from tests.support.daemon_proc import Daemon, cli
from tests.support.fixtures import SHIPPED_ROUTINES, Dirs
from tests.support.routines import routine_text


def paths_in(base: Path, **changes: Path) -> Paths:
    """The folders of one user's setup under ``base``; ``changes`` swaps some of them."""
    folders = {"config_dir": base / "config", "state_dir": base / "state",
               "runtime_dir": base / "runtime", **changes}
    config = folders["config_dir"]
    return Paths(config_dir=config, config_file=config / "config.toml",
                 user_routines=config / "routines", state_dir=folders["state_dir"],
                 runtime_dir=folders["runtime_dir"], only_routines=changes.get("only"))


@contextmanager
def held(paths: Paths) -> Iterator[InstanceLock]:
    lock = InstanceLock(paths)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()


def refused(paths: Paths) -> str:
    with pytest.raises(CrampguardError) as caught:
        InstanceLock(paths).acquire()
    return str(caught.value)


@pytest.fixture
def first(tmp_path: Path):
    (tmp_path / "a" / "config").mkdir(parents=True)
    with held(paths_in(tmp_path / "a")) as lock:
        yield lock


# -- the lock in this process ------------------------------------------------------------


def test_folders_of_their_own_never_conflict(tmp_path: Path, first: InstanceLock) -> None:
    with held(paths_in(tmp_path / "b")):
        pass


@pytest.mark.parametrize("shared", ["runtime_dir", "state_dir", "config_dir"])
def test_any_shared_folder_refuses_a_second(tmp_path: Path, first: InstanceLock,
                                            shared: str) -> None:
    folder = getattr(first.paths, shared)
    message = refused(paths_in(tmp_path / "b", **{shared: folder}))
    what = {"runtime_dir": "runtime", "state_dir": "state", "config_dir": "config"}[shared]
    assert message.startswith(
        f"crampguard is already running (pid {os.getpid()}) with the same {what} folder "
        f"{folder}; two daemons would show every reminder twice")


def test_without_proc_locks_the_pid_files_name_it(tmp_path: Path, first: InstanceLock,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lock_module, "_holder", lambda fd: None)  # not Linux, no /proc
    shared = first.paths
    for changes, what in [({"runtime_dir": shared.runtime_dir}, "runtime"),
                          ({"state_dir": shared.state_dir}, "state")]:
        message = refused(paths_in(tmp_path / what, **changes))
        assert f"(pid {os.getpid()}) with the same {what} folder" in message
    message = refused(paths_in(tmp_path / "c", config_dir=shared.config_dir))
    assert "(its pid is unknown) with the same config folder" in message


def test_the_routines_folder_in_use_is_held(tmp_path: Path, first: InstanceLock) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    with held(paths_in(tmp_path / "b", only=mine)):
        assert f"config folder {mine};" in refused(paths_in(tmp_path / "c", only=mine))


def test_the_shipped_routines_are_everyones(tmp_path: Path, first: InstanceLock) -> None:
    with held(paths_in(tmp_path / "b", only=SHIPPED_ROUTINES)):
        pass


def test_one_folder_in_two_roles_is_held_once(tmp_path: Path) -> None:
    both = tmp_path / "both"
    both.mkdir()
    with held(paths_in(tmp_path, config_dir=both, state_dir=both)):
        assert f"state folder {both};" in refused(paths_in(tmp_path / "b", state_dir=both))


def test_a_refused_lock_holds_nothing(tmp_path: Path, first: InstanceLock) -> None:
    second = paths_in(tmp_path / "b", config_dir=first.paths.config_dir)
    refused(second)  # it got the runtime and state folders before the config folder
    with held(paths_in(tmp_path / "c", runtime_dir=second.runtime_dir,
                       state_dir=second.state_dir)):
        pass


def test_released_lets_the_next_one_in(tmp_path: Path, first: InstanceLock) -> None:
    first.release()
    with held(first.paths):
        pass


def test_nothing_is_written_among_the_users_files(tmp_path: Path) -> None:
    paths = paths_in(tmp_path)
    paths.user_routines.mkdir(parents=True)
    missing = tmp_path / "nowhere"
    with held(paths_in(tmp_path / "b", config_dir=missing)), held(paths):
        pass
    assert list(paths.config_dir.iterdir()) == [paths.user_routines]
    assert list(paths.user_routines.iterdir()) == []
    assert not missing.exists()  # a config folder is never created just to lock it
    assert (paths.state_dir / STATE_PID_FILE).read_text() == f"{os.getpid()}\n"


# -- the real daemon ---------------------------------------------------------------------


@pytest.fixture
def user(isolated: Dirs) -> Dirs:
    """A user with a routine of their own in the config folder."""
    isolated.routines.mkdir(parents=True)
    (isolated.routines / "soak.toml").write_text(routine_text("Soak", "12:00"))
    return isolated


def second_run(env: dict[str, str]) -> tuple[int, str, float]:
    started = time.monotonic()
    result = cli("run", env=env)
    return result.returncode, result.stderr, time.monotonic() - started


@pytest.mark.slow
def test_a_second_daemon_in_another_runtime_folder_is_refused(user: Dirs,
                                                             tmp_path: Path) -> None:
    with Daemon() as first:
        first.start()
        first.wait_for(r"crampguard running: \d+ routine")
        pid = first.proc.pid
        other_runtime = {**os.environ, "CRAMPGUARD_RUNTIME_DIR": str(tmp_path / "run2")}
        other_xdg = {k: v for k, v in os.environ.items() if k != "CRAMPGUARD_RUNTIME_DIR"}
        other_xdg["XDG_RUNTIME_DIR"] = str(tmp_path / "xdg")
        for env in (other_runtime, other_xdg):
            code, err, seconds = second_run(env)
            assert code == 1 and seconds < 5
            assert err.strip() == (
                f"crampguard is already running (pid {pid}) with the same state folder "
                f"{user.state}; two daemons would show every reminder twice. Stop that "
                "one first, or give this one folders of its own")
        # Only the config folder shared (its own state and runtime): still the same user.
        code, err, _ = second_run({**other_runtime,
                                   "CRAMPGUARD_STATE_DIR": str(tmp_path / "state2")})
        assert code == 1
        assert f"(pid {pid}) with the same config folder {user.config};" in err
        assert "Traceback" not in err
        assert first.proc.poll() is None
        status = cli("status", "--json")
        assert status.returncode == 0 and f'"pid": {pid}' in status.stdout
        assert first.stop() == 0


@pytest.mark.slow
def test_a_stopped_daemon_lets_the_next_one_start(user: Dirs, tmp_path: Path) -> None:
    with Daemon() as first:
        first.start()
        first.wait_for(r"crampguard running")
        assert first.stop() == 0
    env = {**os.environ, "CRAMPGUARD_RUNTIME_DIR": str(tmp_path / "run2")}
    with Daemon(env) as second:
        second.start()
        second.wait_for(r"crampguard running")
        assert second.stop() == 0


@pytest.mark.slow
def test_a_killed_daemon_leaves_no_stale_lock(user: Dirs) -> None:
    with Daemon() as first:
        first.start()
        first.wait_for(r"crampguard running")
        first.proc.kill()
        first.proc.wait()
    with Daemon() as second:
        second.start()
        second.wait_for(r"crampguard running")
        assert second.stop() == 0


@pytest.mark.slow
def test_the_call_the_daemon_makes_holds_the_resolved_folders(user: Dirs) -> None:
    with held(resolve_paths()):
        code, err, _ = second_run(dict(os.environ))
        assert code == 1 and f"(pid {os.getpid()})" in err
