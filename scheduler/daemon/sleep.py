"""The loop's one wait: until the next due instant, a wake from another thread, or a step of
the wall clock.

On Linux an absolute ``CLOCK_REALTIME`` timerfd with ``TFD_TIMER_CANCEL_ON_SET`` (through
ctypes) sleeps until the due instant on the wall clock itself, so a suspend or a clock set
by hand cannot push the wake-up late, and the kernel ends the wait the moment the clock is
set. Elsewhere the wait is on the monotonic clock, which ignores both, so it is cut into
``CLOCK_CHECK`` slices and the daemon compares the clocks on every wake.

Either way another thread wakes the loop through a socket pair (``wake``), which also
serves as the signal wakeup fd: a signal that lands on any thread ends the wait at once.
"""

from __future__ import annotations

import ctypes
import errno
import math
import os
import select
import socket
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from scheduler import clock

#: Longest wait where the kernel cannot say that the clock was set: a jump is noticed
#: within this many seconds, at the cost of that many wakeups (6 a minute at 10 s).
CLOCK_CHECK = 10.0
#: A change in the wall/monotonic gap beyond this is a jump, not drift or NTP slewing.
JUMP_THRESHOLD = 2.0
#: With nothing due, the timerfd is still armed (a disarmed one is not cancelled on a
#: clock set): this far ahead.
_FAR = timedelta(days=365)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_CLOCK_REALTIME = 0
_TFD_CLOEXEC = os.O_CLOEXEC
_TFD_NONBLOCK = os.O_NONBLOCK
_TFD_TIMER_ABSTIME = 1
_TFD_TIMER_CANCEL_ON_SET = 2


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


class Sleep:
    """Waits on the wake socket alone, in ``CLOCK_CHECK`` slices (no timerfd here)."""

    #: whether a step of the wall clock ends the wait at once
    sees_clock_set = False

    def __init__(self) -> None:
        self._rx, self._tx = socket.socketpair()
        self._rx.setblocking(False)
        self._tx.setblocking(False)

    def wake_fd(self) -> int:
        """The fd that ends the wait when written (any thread; a signal handler's too)."""
        return self._tx.fileno()

    def wake(self) -> None:
        try:
            self._tx.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # full (a wake is pending anyway) or closed (stopping)

    def sleep(self, deadline: datetime | None, limit: float | None) -> bool:
        """Wait until ``deadline`` (wall clock), at most ``limit`` seconds, or a wake;
        True when the wall clock was set meanwhile (as far as the kernel says)."""
        wait = CLOCK_CHECK if limit is None else min(limit, CLOCK_CHECK)
        if deadline is not None:
            wait = min(wait, max(0.0, (deadline - clock.now()).total_seconds()))
        select.select([self._rx], [], [], wait)
        self._drain()
        return False

    def _drain(self) -> None:
        try:
            while self._rx.recv(512):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def close(self) -> None:
        self._rx.close()
        self._tx.close()


class TimerfdSleep(Sleep):
    """Sleeps on an absolute wall-clock timerfd beside the wake socket (Linux)."""

    sees_clock_set = True

    def __init__(self, libc: ctypes.CDLL) -> None:
        self._settime = libc.timerfd_settime
        self._settime.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(_Itimerspec),
                                  ctypes.POINTER(_Itimerspec)]
        create = libc.timerfd_create
        create.argtypes = [ctypes.c_int, ctypes.c_int]
        fd = create(_CLOCK_REALTIME, _TFD_CLOEXEC | _TFD_NONBLOCK)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create failed")
        super().__init__()
        self._fd = fd
        self._poll = select.poll()
        self._poll.register(self._rx, select.POLLIN)
        self._poll.register(fd, select.POLLIN)

    def arm(self, deadline: datetime) -> None:
        since = deadline - _EPOCH
        spec = _Itimerspec()
        spec.it_value.tv_sec = since.days * 86400 + since.seconds
        spec.it_value.tv_nsec = since.microseconds * 1000
        if self._settime(self._fd, _TFD_TIMER_ABSTIME | _TFD_TIMER_CANCEL_ON_SET,
                         ctypes.byref(spec), None) != 0:
            raise OSError(ctypes.get_errno(), "timerfd_settime failed")

    def sleep(self, deadline: datetime | None, limit: float | None) -> bool:
        try:
            self.arm(deadline if deadline is not None else clock.now() + _FAR)
        except OSError as exc:
            # A clock set while the loop was busy (not waiting on the fd) is told by the
            # next arming instead of a read; that refusal also clears it.
            if exc.errno != errno.ECANCELED:
                raise
            return True
        self._poll.poll(None if limit is None else math.ceil(max(0.0, limit) * 1000))
        self._drain()
        try:
            os.read(self._fd, 8)
        except BlockingIOError:
            pass  # woken by something else; the next sleep re-arms it
        except OSError as exc:
            if exc.errno != errno.ECANCELED:
                raise
            return True  # the clock was set; arming again clears the cancellation
        return False

    def close(self) -> None:
        os.close(self._fd)
        super().close()


class ClockWatch:
    """Remembers the gap between the wall clock and the monotonic clock: how far a wake
    finds the wall clock stepped (resume from suspend, a clock set)."""

    def __init__(self, wall: Callable[[], float] = time.time,
                 mono: Callable[[], float] = time.monotonic):
        self._wall = wall
        self._mono = mono
        self._gap = wall() - mono()

    def jump(self) -> float:
        """Seconds the wall clock jumped since the last call (0.0 when it did not)."""
        gap = self._wall() - self._mono()
        delta, self._gap = gap - self._gap, gap
        return delta if abs(delta) > JUMP_THRESHOLD else 0.0


def open_sleep() -> Sleep:
    """The timerfd wait where the kernel has one, else the sliced wait."""
    if sys.platform.startswith("linux"):
        try:
            return TimerfdSleep(ctypes.CDLL(None, use_errno=True))
        except (OSError, AttributeError):
            pass
    return Sleep()
