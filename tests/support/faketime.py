"""A daemon whose wall clock the test steps: libfaketime, steered through a file, and a
resume announced by a mock logind.

``with SteppedClock(tmp_path) as stepped`` gives ``stepped.env()``, which runs the process
at the real time plus the offset written in its file ("+0" at first), with a private
"system" bus where a mock logind serves the session; ``stepped.step("+1800")`` steps the
daemon's wall clock as a suspend does: PrepareForSleep(true), the clock moves,
PrepareForSleep(false). The monotonic clock keeps running, so the daemon sees the step as
a change in the gap between the two.

libfaketime moves only what the process reads, so the kernel never cancels the daemon's
wall-clock timerfd as it does when the real clock is set: logind's resume signal is what
ends the daemon's wait here, as it does after a real suspend.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.support.mock_services import MockLogind, PrivateBus

FAKETIME_LIB = next((p for p in (
    Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"),
    Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"),
) if p.exists()), None)
needs_faketime = pytest.mark.skipif(
    FAKETIME_LIB is None, reason="needs libfaketime (Debian package: faketime)")
#: ``SteppedClock`` also needs a bus of its own for the mock logind.
needs_stepped_clock = pytest.mark.skipif(
    FAKETIME_LIB is None or shutil.which("dbus-daemon") is None,
    reason="needs libfaketime and dbus-daemon (Debian packages: faketime, dbus)")


def faked(env_file: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    env_file.write_text("+0")
    return {**(os.environ if base is None else base), "LD_PRELOAD": str(FAKETIME_LIB),
            "FAKETIME_TIMESTAMP_FILE": str(env_file), "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent"}


class SteppedClock:
    def __init__(self, tmp_path: Path) -> None:
        self.file = tmp_path / "faketime"
        self._bus = PrivateBus()
        self._logind: MockLogind | None = None

    def __enter__(self) -> SteppedClock:
        self._bus.__enter__()
        self._logind = MockLogind(self._bus.address)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._logind is not None:
            self._logind.stop()
        self._bus.__exit__(*exc_info)

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        return {**faked(self.file, base), "DBUS_SYSTEM_BUS_ADDRESS": self._bus.address,
                "XDG_SESSION_ID": "c7"}

    def step(self, offset: str) -> float:
        """Suspend, move the daemon's clock to ``offset`` ("+1800", "-30"), resume; the
        monotonic time of the resume."""
        assert self._logind is not None
        self._logind.prepare_for_sleep(True)
        self.file.write_text(offset)
        resumed = time.monotonic()
        self._logind.prepare_for_sleep(False)
        return resumed
