"""The daemon's resident memory (budget ≤ 38 MiB, bench/bench_daemon.py) is mostly the
modules it imports: these pin the imports that were cut, so one does not creep back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.notify.dbus import _escape
from tests.support.daemon_proc import Daemon
from tests.support.fixtures import ROOT
from tests.support.routines import routine_text


@given(st.text())
def test_the_markup_escape_is_saxutils_escape(text: str) -> None:
    assert _escape(text) == escape(text)


def test_the_dbus_backend_pulls_in_no_url_or_http_modules() -> None:
    code = ("import sys, scheduler.notify.dbus\n"
            "print(sorted(m for m in ('xml.sax.saxutils', 'urllib.request', 'http.client')"
            " if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
def test_the_running_daemon_maps_no_openssl(tmp_path: Path) -> None:
    routines = tmp_path / "routines"
    routines.mkdir()
    (routines / "a.toml").write_text(routine_text("A", "12:00"))
    with Daemon() as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        maps = Path(f"/proc/{daemon.proc.pid}/maps").read_text()
        assert daemon.stop() == 0
    libraries = {line.split()[-1] for line in maps.splitlines() if ".so" in line}
    unwanted = ("libssl", "libcrypto", "liblzma", "libbz2", "libuuid")
    assert sorted(lib for lib in libraries if any(name in lib for name in unwanted)) == []


#: What the daemon never needs resident: the other commands' modules, the statistics,
#: platformdirs (the XDG rule suffices on Linux) and watchdog (inotify does).
NOT_IN_THE_DAEMON = ("scheduler.cli.file_commands", "scheduler.cli.daemon_commands",
                     "scheduler.cli.journal_commands", "scheduler.cli.doctor_commands",
                     "scheduler.cli.results", "scheduler.journal.stats", "platformdirs",
                     "watchdog", "watchdog.observers",
                     # the [reach] channels, with none configured
                     "scheduler.config.reach", "scheduler.daemon.reach_link",
                     "scheduler.daemon.reach_flow",
                     "scheduler.reach", "scheduler.reach.registry", "smtplib",
                     "http.client")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify and XDG (Linux)")
def test_the_running_daemon_imports_only_what_it_runs(tmp_path: Path) -> None:
    routines = tmp_path / "routines"
    routines.mkdir()
    (routines / "a.toml").write_text(routine_text("A", "12:00"))
    # Once the loop runs, the daemon prints the modules it holds and stops itself.
    code = ("import os, signal, sys\n"
            "from scheduler.daemon import service\n"
            "started = service.Daemon._started\n"
            "def report(self):\n"
            "    started(self)\n"
            f"    print(sorted(m for m in {NOT_IN_THE_DAEMON!r} if m in sys.modules))\n"
            "    os.kill(os.getpid(), signal.SIGTERM)\n"
            "service.Daemon._started = report\n"
            "from scheduler.cli.main import main\n"
            "sys.exit(main(['--routines', sys.argv[1], 'run', '--notifier', 'console']))\n")
    env = {**os.environ, "CRAMPGUARD_CONFIG_DIR": str(tmp_path / "config"),
           "CRAMPGUARD_STATE_DIR": str(tmp_path / "state"),
           "CRAMPGUARD_RUNTIME_DIR": str(tmp_path / "run")}
    result = subprocess.run([sys.executable, "-c", code, str(routines)], capture_output=True,
                            text=True, cwd=ROOT, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_loading_settings_and_routines_imports_no_difflib_nor_a_drawing_library() -> None:
    """difflib only for a "did you mean" (a typo in a file or a variable); jinja2 and
    matplotlib only for `crampguard report`."""
    code = ("import sys\n"
            "from scheduler.config.context import Context\n"
            "from scheduler.paths import resolve_paths\n"
            "import scheduler.daemon.service\n"
            "c = Context(resolve_paths(config=None, routines=None))\n"
            "c.settings; c.load_routines()\n"
            "print(sorted(m for m in ('difflib', 'jinja2', 'matplotlib') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"
