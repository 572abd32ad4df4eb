"""A daemon whose wall clock the test moves: libfaketime, steered through a file.

``env = faked(path)`` runs the process at the real time plus the offset written in
``path`` ("+0" at first); writing "+1800" or "-30" steps its wall clock, as a resume from
suspend or a clock set by hand would. The monotonic clock keeps running, so the daemon sees
the step as a change in the gap between the two.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FAKETIME_LIB = next((p for p in (
    Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"),
    Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"),
) if p.exists()), None)
needs_faketime = pytest.mark.skipif(
    FAKETIME_LIB is None, reason="needs libfaketime (Debian package: faketime)")


def faked(env_file: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    env_file.write_text("+0")
    return {**(os.environ if base is None else base), "LD_PRELOAD": str(FAKETIME_LIB),
            "FAKETIME_TIMESTAMP_FILE": str(env_file), "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent"}
