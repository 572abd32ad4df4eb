"""Idle time on Wayland outside GNOME (sway, Hyprland, river, niri, KDE's KWin), through
``swayidle``, which speaks the compositors' idle protocols (ext-idle-notify-v1, KDE's
org_kde_kwin_idle).

swayidle runs with one timeout, the threshold, and runs ``echo`` when the user goes idle and
when they are back: its lines arrive on a pipe the presence thread sleeps on, so nothing
wakes while nothing changes. It knows only that crossing, so the idle time reads 0 until it,
and the threshold plus the time since after it; a new threshold starts a new swayidle.

swayidle ending (the compositor gone, killed) leaves presence unknown, never "back".
"""

from __future__ import annotations

import math
import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping

from .source import DND, IDLE, Source, Unavailable
from .state import DEFAULT_AWAY_AFTER_S, SourceReport

#: How long a new swayidle has to say it cannot work here (a compositor without an idle
#: protocol: it says so at once, after its first round trip) when it does not say first
#: that its timeout is registered (its debug line, the usual end of the wait).
START_CHECK_S = 0.3
_REGISTERED = "Register with timeout"
STOP_TIMEOUT_S = 1.0
#: A line from the shell around swayidle once swayidle has ended, with its exit status.
_ENDED = "ended"


class Swayidle(Source):
    name = "swayidle"

    def __init__(self, changed: Callable[[Source], None], env: Mapping[str, str]) -> None:
        super().__init__(changed)
        self._env = dict(env)
        self._program = shutil.which("swayidle", path=env.get("PATH", os.defpath))
        self._proc: subprocess.Popen[bytes] | None = None
        # One pipe for every swayidle this source starts: the presence thread keeps one
        # file descriptor to sleep on. This end of writing stays open here, so a swayidle
        # that ends is told by the shell's last line, not by the pipe's end.
        self._read_fd = self._write_fd = -1
        self._pending = b""
        self._said: list[str] = []  # what swayidle said besides its lines (its errors)
        self._timeout_s = 0
        self._run = 0  # which swayidle: lines of one stopped since are ignored
        self._registered = False  # the running swayidle follows the compositor
        self._idle_at: float | None = None  # monotonic, when it said "idle"

    def open(self) -> str:
        if not self._env.get("WAYLAND_DISPLAY"):
            raise Unavailable("not a Wayland session (WAYLAND_DISPLAY is not set)")
        if self._program is None:
            raise Unavailable("no swayidle program on PATH (Debian package swayidle)")
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        self._start(math.ceil(DEFAULT_AWAY_AFTER_S))
        deadline = time.monotonic() + START_CHECK_S
        while self._proc is not None and not self._registered \
                and (left := deadline - time.monotonic()) > 0:
            if select.select([self._read_fd], [], [], left)[0]:
                self.on_readable()
        if self.gone is not None:
            raise Unavailable(self.gone)
        self.provides = (IDLE,)
        return (f"{self._program} follows the compositor's idle protocol "
                f"({self._env['WAYLAND_DISPLAY']}); no polling")

    def idle_seconds(self) -> float | None:
        if self.gone is not None or self._proc is None:
            return None
        if self._idle_at is None:
            return 0.0
        return self._timeout_s + (time.monotonic() - self._idle_at)

    def arm(self, away_after_s: float, idle_away: bool) -> bool:
        timeout = max(1, math.ceil(away_after_s))
        if self.gone is not None:
            return False
        if timeout != self._timeout_s:
            self._stop()
            try:
                self._start(timeout)
            except OSError:
                return False
        return True

    def fileno(self) -> int | None:
        return self._read_fd if self._read_fd >= 0 else None

    def on_readable(self) -> None:
        try:
            data = os.read(self._read_fd, 4096)
        except BlockingIOError:
            return
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        for raw in lines:
            self._heard(raw.decode(errors="replace").strip())

    def close(self) -> None:
        self._stop()
        for fd in (self._read_fd, self._write_fd):
            if fd >= 0:
                os.close(fd)
        self._read_fd = self._write_fd = -1

    def _heard(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        run, _, status = rest.partition(" ")
        if word not in ("idle", "back", _ENDED) or not run.isdigit():
            if _REGISTERED in line:
                self._registered = True
            elif line:  # swayidle's own words: an error, kept for the reason it ended
                self._said = (self._said + [line])[-3:]
            return
        if run != str(self._run):
            return  # from a swayidle stopped since (a new threshold)
        if word == "idle":
            self._idle_at = time.monotonic()
        elif word == "back":
            self._idle_at = None
        else:
            if self._proc is not None:
                self._proc.wait()
                self._proc = None
            said = "; ".join(self._said)
            self.gone = f"swayidle ended (exit status {status}{': ' + said if said else ''})"
            self.changed(self)

    def _start(self, timeout: int) -> None:
        assert self._program is not None
        self._run += 1
        self._timeout_s = timeout
        self._idle_at = None
        self._registered = False
        run = self._run
        # The shell reports swayidle's end on the pipe; -w: each echo done before the next;
        # -d: it says when it follows the compositor.
        script = (f'"$0" -d -w timeout {timeout} "echo idle {run}" resume "echo back {run}"; '
                  f'echo {_ENDED} {run} $?')
        self._proc = subprocess.Popen(
            ["/bin/sh", "-c", script, self._program], env=self._env,
            stdin=subprocess.DEVNULL, stdout=self._write_fd, stderr=self._write_fd,
            start_new_session=True)

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                break
            try:
                proc.wait(STOP_TIMEOUT_S)
                break
            except subprocess.TimeoutExpired:
                continue


def fullscreen_report(env: Mapping[str, str]) -> SourceReport | None:
    """On a Wayland session, what ``doctor`` says of a fullscreen window: Wayland tells no
    other program which window is fullscreen, and X11's answer covers only the programs
    that run through Xwayland. None elsewhere (X11 tells it: the x11 source)."""
    if not env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") != "wayland":
        return None
    desktop = env.get("XDG_CURRENT_DESKTOP", "").upper().split(":")
    if "GNOME" in desktop:
        why = ("GNOME Shell itself holds its banners back over a fullscreen window "
               "(critical ones come through)")
    else:
        why = ("only what the notification server's own switch says (notifications-"
               "inhibited, dunst-paused)")
    return SourceReport("wayland-fullscreen", False,
                        f"a fullscreen window is not seen on Wayland: {why}", (DND,))
