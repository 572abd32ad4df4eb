"""The shared fixtures, and the paths and zone every test agrees on.

Every test runs against its own config, state and runtime folders, in English: the user's real files
(platformdirs' folders, a ``CRAMPGUARD_*`` variable exported in the shell that runs pytest)
must never leak into a test, so the ``isolated`` fixture is autouse.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scheduler import i18n
from tests.support.desktop import PACKAGES, Desktop, missing_programs
from tests.support.faketime import SteppedClock
from tests.support.gnome import PACKAGES as GNOME_PACKAGES
from tests.support.gnome import GnomeShell
from tests.support.gnome import missing_programs as gnome_missing
from tests.support.routines import ROUTINE_HEAD, write_routine_file
from tests.support.sway import Sway
from tests.support.sway import missing as sway_missing

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_ROUTINES = ROOT / "routines"
SEEDS = ROOT / "seeds"
ZONE = "Europe/Berlin"


@dataclass(frozen=True)
class Dirs:
    config: Path
    state: Path
    runtime: Path

    @property
    def routines(self) -> Path:
        """The user's routines folder, laid over the shipped ones by id."""
        return self.config / "routines"

    @property
    def config_file(self) -> Path:
        return self.config / "config.toml"


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Dirs:
    """Private CRAMPGUARD_* folders and a fixed zone; no other CRAMPGUARD_* variable."""
    for name in list(os.environ):
        if name.upper().startswith("CRAMPGUARD_"):
            monkeypatch.delenv(name)
    base = tmp_path_factory.mktemp("crampguard-home")
    dirs = Dirs(base / "config", base / "state", base / "runtime")
    monkeypatch.setenv("CRAMPGUARD_CONFIG_DIR", str(dirs.config))
    monkeypatch.setenv("CRAMPGUARD_STATE_DIR", str(dirs.state))
    monkeypatch.setenv("CRAMPGUARD_RUNTIME_DIR", str(dirs.runtime))
    monkeypatch.setenv("CRAMPGUARD_TIMEZONE", ZONE)
    # English, whatever the machine's locale: the tests read English output unless they
    # set the language themselves. LANGUAGE comes first in gettext's order; the process's
    # own catalog (in-process commands) starts English too.
    monkeypatch.setenv("LANGUAGE", "en")
    i18n.use("en")
    return dirs


@pytest.fixture
def routines(tmp_path: Path) -> Path:
    """An empty routines folder for ``--routines`` (a test writes its files there)."""
    folder = tmp_path / "routines"
    folder.mkdir()
    return folder


@pytest.fixture
def stepped(tmp_path: Path) -> Iterator[SteppedClock]:
    """A daemon's wall clock the test steps as a suspend does (tests.support.faketime)."""
    with SteppedClock(tmp_path) as clock:
        yield clock


@contextmanager
def state_on_tmpfs(dirs: Dirs, options: str = "size=1m") -> Iterator[Path]:
    """The state folder on a tmpfs of its own, mounted with ``options`` ("ro,size=1m": a
    folder nothing can be written to); the test is skipped where mounting needs root."""
    dirs.state.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs",
                              str(dirs.state)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); needs root")
    try:
        yield dirs.state
    finally:
        subprocess.run(["umount", "-l", str(dirs.state)], check=False)


@pytest.fixture
def small_state(isolated: Dirs) -> Iterator[Path]:
    """The state folder on a 1 MiB tmpfs of its own (a disk that can fill up)."""
    with state_on_tmpfs(isolated) as state:
        yield state


def fill(folder: Path) -> Path:
    """Write ``folder/filler`` until its disk is full (``small_state``); unlink the file
    returned to give the space back."""
    filler = folder / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


@pytest.fixture
def console_env(isolated: Dirs) -> dict[str, str]:
    """The environment for a daemon that prints its reminders (no desktop, no bus)."""
    return {**os.environ, "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
            "CRAMPGUARD_NOTIFIER": "console"}


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]):
    """Run the CLI in process: ``code, out, err = run("next", "--count", "3")``.

    argparse's own exits (``--help``, a bad flag) come back as their exit code too.
    """
    from scheduler.cli.main import main

    def _run(*argv: str | os.PathLike[str]) -> tuple[int, str, str]:
        capsys.readouterr()  # drop anything printed before
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.fixture
def write_routine(tmp_path: Path):
    """Write a routine file: ``write_routine("name", '[schedule]\\nat = "21:00"\\n')``.

    The common head (schema_version, title, message, a routine seed) is prepended unless
    ``head=False``; the file goes to ``tmp_path/routines`` unless ``folder`` is given;
    returns the path.
    """

    def _write(name: str, body: str, *, head: bool = True, folder: Path | None = None) -> Path:
        text = (ROUTINE_HEAD if head else "") + body
        return write_routine_file(folder or tmp_path / "routines", name, text)

    return _write


@pytest.fixture
def desktop() -> Iterator[Desktop]:
    """A running Desktop; the test is skipped where dbus-daemon, Xvfb or dunst are missing.

    Every test using it (directly or through another fixture) is marked `desktop` by the
    plugin.
    """
    missing = missing_programs()
    if missing:
        pytest.skip(
            f"needs {', '.join(missing)} for a real notification server "
            f"(Debian packages: {PACKAGES})"
        )
    with Desktop() as running:
        yield running


@pytest.fixture
def screensaver(desktop: Desktop) -> Iterator[Any]:
    """A stand-in screensaver on the desktop's bus: ``set_active(True)`` locks the screen."""
    from tests.support.mock_services import MockScreenSaver

    saver = MockScreenSaver(desktop.address)
    try:
        yield saver
    finally:
        saver.stop()


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One Synapse on loopback for the session's Matrix tests (each makes its own accounts
    and room: ``tests.support.synapse.make_room``); skipped where Synapse is not installed."""
    from tests.support import synapse as harness

    reason = harness.missing()
    if reason:
        pytest.skip(reason)
    with harness.Synapse(tmp_path_factory.mktemp("synapse")) as server:
        yield server


@pytest.fixture
def gnome(request: pytest.FixtureRequest) -> Iterator[GnomeShell]:
    """A real headless GNOME Shell 43; skipped where it is not installed. Parametrize
    indirectly with ``{"lock_screen": True}`` for one that makes its lock screen."""
    missing = gnome_missing()
    if missing:
        pytest.skip(f"needs {', '.join(missing)} for a real GNOME Shell "
                    f"(Debian packages: {GNOME_PACKAGES})")
    with GnomeShell(**getattr(request, "param", {})) as shell:
        yield shell


@pytest.fixture
def sway() -> Iterator[Sway]:
    """A real headless sway with swayidle; skipped where it cannot run here."""
    why = sway_missing()
    if why:
        pytest.skip(why)
    with Sway() as running:
        yield running
