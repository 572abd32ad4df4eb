"""Shared fixtures: every test runs against its own config, state and runtime folders.

The user's real files (platformdirs' folders, a ``CRAMPGUARD_*`` variable exported in the
shell that runs pytest) must never leak into a test, so the ``isolated`` fixture is autouse.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# `from tests.desktop import desktop` works whatever directory pytest is started from.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The `desktop` fixture (a private bus, Xvfb and dunst) for every test module that asks.
from tests.desktop import desktop  # noqa: E402, F401

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
    return dirs


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


ROUTINE_HEAD = """\
schema_version = 1
title = "Test routine"
message = "Do the thing."
seed = "stretch-before-bed"
"""


@pytest.fixture
def write_routine(tmp_path: Path):
    """Write a routine file: ``write_routine("name", '[schedule]\\nat = "21:00"\\n')``.

    The common head (schema_version, title, message, a routine seed) is prepended unless
    ``head=False``; returns the path.
    """

    def _write(name: str, body: str, *, head: bool = True, folder: Path | None = None) -> Path:
        folder = folder or tmp_path / "routines"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.toml"
        path.write_text((ROUTINE_HEAD if head else "") + body, encoding="utf-8")
        return path

    return _write
