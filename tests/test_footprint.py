"""The daemon's resident memory (budget ≤ 40 MiB, bench/bench_daemon.py) is mostly the
modules it imports: these pin the imports that were cut, so one does not creep back."""

from __future__ import annotations

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
    assert sorted(lib for lib in libraries if "libssl" in lib or "libcrypto" in lib) == []


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
