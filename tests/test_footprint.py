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
#: platformdirs (the XDG rule suffices on Linux) and watchdog (inotify does); of the tray,
#: what a click, a panel's first look and doctor need (each imported when it comes); the
#: real asyncio and APScheduler's pools (scheduler/footprint.py defers them).
NOT_IN_THE_DAEMON = ("asyncio.", "multiprocessing", "concurrent.futures.process", "pickle",
                     "scheduler.cli.file_commands", "scheduler.cli.daemon_commands",
                     "scheduler.cli.journal_commands", "scheduler.cli.doctor_commands",
                     "scheduler.cli.results", "scheduler.journal.stats", "platformdirs",
                     "watchdog", "watchdog.observers", "scheduler.daemon.tray_actions",
                     "scheduler.tray.icon", "scheduler.tray.introspection",
                     "scheduler.tray.host",
                     # the [reach] channels, with none configured
                     "scheduler.config.reach", "scheduler.daemon.reach_link",
                     "scheduler.daemon.reach_flow",
                     "scheduler.reach", "scheduler.reach.registry", "smtplib",
                     "http.client")
#: With `tray = false`: nothing of the tray at all.
TRAY = ("scheduler.daemon.tray_link", "scheduler.tray")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify and XDG (Linux)")
@pytest.mark.parametrize(("tray", "unwanted"), [("true", NOT_IN_THE_DAEMON),
                                                ("false", NOT_IN_THE_DAEMON + TRAY)])
def test_the_running_daemon_imports_only_what_it_runs(tmp_path: Path, tray: str,
                                                      unwanted: tuple[str, ...]) -> None:
    routines = tmp_path / "routines"
    routines.mkdir()
    (routines / "a.toml").write_text(routine_text("A", "12:00"))
    # Once the loop runs, the daemon prints the modules it holds and stops itself.
    code = ("import os, signal, sys\n"
            "from scheduler import footprint\n"
            "footprint.lighten()\n"  # as `run` does first: the hook below imports early
            "from scheduler.daemon import service\n"
            "started = service.Daemon._started\n"
            "def report(self):\n"
            "    started(self)\n"
            f"    print(sorted(m for m in sys.modules if m.startswith({unwanted!r})))\n"
            "    os.kill(os.getpid(), signal.SIGTERM)\n"
            "service.Daemon._started = report\n"
            "from scheduler.cli.main import main\n"
            "sys.exit(main(['--routines', sys.argv[1], 'run', '--notifier', 'console']))\n")
    env = {**os.environ, "CRAMPGUARD_CONFIG_DIR": str(tmp_path / "config"),
           "CRAMPGUARD_STATE_DIR": str(tmp_path / "state"),
           "CRAMPGUARD_RUNTIME_DIR": str(tmp_path / "run"), "CRAMPGUARD_TRAY": tray}
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


def _after_lighten(code: str) -> str:
    """Run ``code`` in a fresh interpreter after ``footprint.lighten()``; its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", "from scheduler import footprint\nfootprint.lighten()\n" + code],
        capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_a_deferred_asyncio_serves_its_importers_and_becomes_real_when_used() -> None:
    out = _after_lighten(
        "import sys\n"
        "from asyncio import iscoroutinefunction\n"
        "import pydantic_settings.main as settings_main\n"
        "async def coro(): return 42\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('asyncio.'))\n"
        "print(loaded, iscoroutinefunction(coro), iscoroutinefunction(print))\n"
        "print(settings_main.asyncio.run(coro()))\n"  # the stand-in an importer kept
        "import asyncio.events\n"
        "print(footprint.deferred())\n")
    assert out.splitlines() == ["[] True False", "42",
                                "['apscheduler.executors.pool']"]


def test_apschedulers_deferred_pool_builds_the_real_executor_if_asked() -> None:
    out = _after_lighten(
        "import sys\n"
        "from apscheduler.schedulers.blocking import BlockingScheduler\n"
        "from apscheduler.executors.pool import ThreadPoolExecutor\n"
        "print('multiprocessing' in sys.modules)\n"
        "executor = ThreadPoolExecutor(2)\n"
        "import apscheduler.executors.pool as pool\n"
        "print(type(executor) is pool.ThreadPoolExecutor, 'multiprocessing' in sys.modules)\n")
    assert out.splitlines() == ["False", "True True"]


def test_allow_takes_back_the_blocked_and_the_deferred_modules() -> None:
    out = _after_lighten(
        "footprint.allow('ssl')\n"
        "import ssl\n"
        "print(ssl.create_default_context().verify_mode == ssl.CERT_REQUIRED)\n"
        "import importlib\n"
        "try:\n"
        "    importlib.import_module('_lzma')\n"
        "except ImportError:\n"
        "    print('lzma still kept out')\n"
        "footprint.allow()\n"
        "import lzma, asyncio.events\n"
        "print(footprint.deferred())\n")
    assert out.splitlines() == ["True", "lzma still kept out", "[]"]
