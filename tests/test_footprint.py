"""The daemon's resident memory (budget ≤ 40 MiB, bench/bench_daemon.py) is mostly the
modules it imports: these pin the imports that were cut, so one does not creep back."""

from __future__ import annotations

import subprocess
import sys
from xml.sax.saxutils import escape

from hypothesis import given
from hypothesis import strategies as st

from scheduler.notify.dbus import _escape
from tests.support.fixtures import ROOT


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
