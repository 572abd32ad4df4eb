"""The engine: named one-off timers on APScheduler's loop, and the wait between them.

The engine reaches into APScheduler's private loop (``_main_loop``, ``_process_jobs``,
``_event``); the first tests fail when a release changes those pieces, before the daemon
would quietly stop waking. The rest run the real loop on a thread for a turn or two and
wait on what they expect, never a fixed sleep.
"""

from __future__ import annotations

import errno
import inspect
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from scheduler import clock
from scheduler.daemon import sleep as sleep_module
from scheduler.daemon.engine import Engine
from scheduler.daemon.sleep import Sleep, TimerfdSleep, open_sleep

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the timerfd wait is Linux's")


def test_apschedulers_private_loop_is_as_the_engine_expects() -> None:
    # _main_loop is what the engine replaces; start() calls it after setting _event, and
    # shutdown() sets _event: both must still be there for the override to hold.
    assert list(inspect.signature(BlockingScheduler._main_loop).parameters) == ["self"]
    assert "self._main_loop()" in inspect.getsource(BlockingScheduler.start)
    assert "self._event" in inspect.getsource(BlockingScheduler.shutdown)
    # _process_jobs runs the due jobs and takes no arguments
    assert list(inspect.signature(BaseScheduler._process_jobs).parameters) == ["self"]
    # add_job wakes the loop through the public wakeup(), which the engine overrides
    assert "self.wakeup()" in inspect.getsource(BaseScheduler._real_add_job)


class CountingSleep(Sleep):
    """The real wait, counting each and what it was asked to wait for."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[tuple[datetime | None, float | None]] = []
        self._changed = threading.Condition()

    def sleep(self, deadline: datetime | None, limit: float | None) -> bool:
        with self._changed:
            self.waits.append((deadline, limit))
            self._changed.notify_all()
        return super().sleep(deadline, limit)

    def wait_for(self, wait: tuple[datetime | None, float | None]) -> bool:
        """Whether the loop goes to sleep on exactly ``wait`` within 5 s."""
        with self._changed:
            return self._changed.wait_for(lambda: wait in self.waits, timeout=5)


@pytest.fixture
def running() -> Iterator[Callable[..., Engine]]:
    """Start an engine's loop on a thread; stopped and joined afterwards."""
    started: list[tuple[Engine, threading.Thread]] = []

    def start(sleep: Sleep | None = None, on_wake: Callable[[], None] = lambda: None,
              next_wait: Callable[[], float | None] = lambda: None) -> Engine:
        engine = Engine(zone=UTC, on_wake=on_wake, next_wait=next_wait, sleep=sleep)
        ready = threading.Event()
        thread = threading.Thread(target=engine.run, args=(ready.set,), daemon=True)
        thread.start()
        assert ready.wait(5)
        started.append((engine, thread))
        return engine

    yield start
    for engine, thread in started:
        engine.stop()
        thread.join(5)
        assert not thread.is_alive()
        engine.close()


def test_one_real_loop_turn_runs_a_due_timer_and_sleeps_on_our_wait(running) -> None:
    sleep = CountingSleep()
    ran = threading.Event()
    engine = running(sleep=sleep)
    later = clock.now() + timedelta(hours=1)
    engine.once("later", later, lambda: None)
    engine.once("now", clock.now(), ran.set)
    assert ran.wait(5)
    # the wait that follows is until the one left, on the wall clock
    assert sleep.wait_for((later, None))
    assert engine.keys() == ["later"]


def test_a_timer_runs_however_late_and_may_set_itself_again(running) -> None:
    runs: list[int] = []
    done = threading.Event()
    engine = running()

    def tick(n: int) -> None:
        runs.append(n)
        if n < 3:
            engine.once("tick", clock.now(), tick, n + 1)  # the same key, from itself
        else:
            done.set()

    engine.once("tick", clock.now() - timedelta(days=2), tick, 1)  # two days late
    assert done.wait(5)
    assert runs == [1, 2, 3]
    assert engine.keys() == []


def test_a_cancelled_or_replaced_timer_never_runs_and_a_failing_one_stops_nothing(
        running, caplog) -> None:
    ran: list[str] = []
    done = threading.Event()
    engine = running()
    soon = clock.now() + timedelta(milliseconds=50)

    def fail() -> None:
        raise RuntimeError("a bug")

    engine.once("gone", soon, ran.append, "gone")
    engine.cancel("gone")
    engine.once("twice", soon, ran.append, "first")
    engine.once("twice", soon, ran.append, "second")
    engine.once("broken", soon, fail)
    engine.once("last", soon + timedelta(milliseconds=50), done.set)
    engine.cancel("never armed")
    assert done.wait(5)
    assert ran == ["second"]
    assert "the timer broken failed" in caplog.text


def test_wakeup_from_another_thread_ends_the_wait_and_next_wait_bounds_it(running) -> None:
    wakes = threading.Semaphore(0)
    limit: list[float | None] = [None]
    engine = running(on_wake=wakes.release, next_wait=lambda: limit[0])
    assert wakes.acquire(timeout=5)  # start's own wake
    threading.Thread(target=engine.wakeup).start()
    assert wakes.acquire(timeout=5)
    limit[0] = 0.05  # a debounced reload: the loop wakes by itself, and again
    engine.wakeup()
    assert wakes.acquire(timeout=5) and wakes.acquire(timeout=5) and wakes.acquire(timeout=5)


@linux_only
def test_the_timerfd_wait_ends_at_the_wall_clock_deadline() -> None:
    sleep = open_sleep()
    try:
        assert isinstance(sleep, TimerfdSleep) and sleep.sees_clock_set
        deadline = clock.now() + timedelta(milliseconds=80)
        assert sleep.sleep(deadline, None) is False
        assert clock.now() >= deadline
        sleep.wake()  # a wake ends it long before its deadline
        assert sleep.sleep(clock.now() + timedelta(hours=1), None) is False
        assert sleep.sleep(None, 0.01) is False  # nothing due: only the limit
    finally:
        sleep.close()


@linux_only
def test_a_clock_set_ends_the_timerfd_wait_and_says_so(monkeypatch) -> None:
    # Setting the real clock needs CAP_SYS_TIME and would move every process's clock:
    # the kernel's answer, ECANCELED on the read, stands in for it.
    sleep = open_sleep()
    real_read = sleep_module.os.read

    def cancelled(fd: int, size: int) -> Any:
        if fd == sleep._fd:  # type: ignore[attr-defined]
            raise OSError(errno.ECANCELED, "Operation canceled")
        return real_read(fd, size)

    try:
        monkeypatch.setattr(sleep_module.os, "read", cancelled)
        sleep.wake()
        assert sleep.sleep(clock.now() + timedelta(hours=1), None) is True
    finally:
        sleep.close()


@linux_only
def test_a_clock_set_while_the_loop_was_busy_is_told_by_the_next_arming() -> None:
    # The kernel refuses the next timerfd_settime with ECANCELED when the clock was set
    # while the timer was armed and nobody was reading it (the loop busy showing a notice).
    # Setting the clock to its own value is a set all the same, and moves it by
    # microseconds; it needs CAP_SYS_TIME.
    sleep = open_sleep()
    try:
        sleep.arm(clock.now() + timedelta(hours=1))  # type: ignore[attr-defined]
        try:
            time.clock_settime(time.CLOCK_REALTIME, time.time())
        except PermissionError:
            pytest.skip("setting the clock needs CAP_SYS_TIME")
        assert sleep.sleep(clock.now() + timedelta(hours=1), 0.01) is True
        deadline = clock.now() + timedelta(milliseconds=30)
        assert sleep.sleep(deadline, None) is False  # armed again, and waits
        assert clock.now() >= deadline
    finally:
        sleep.close()


@linux_only
def test_a_refused_arming_says_the_clock_was_set_and_the_wait_goes_on(monkeypatch) -> None:
    sleep = open_sleep()
    refusals = [OSError(errno.ECANCELED, "Operation canceled")]
    real_arm = sleep.arm  # type: ignore[attr-defined]

    def arm(deadline: datetime) -> None:
        if refusals:
            raise refusals.pop()
        real_arm(deadline)

    try:
        monkeypatch.setattr(sleep, "arm", arm)
        assert sleep.sleep(clock.now() + timedelta(hours=1), None) is True
        assert sleep.sleep(clock.now() + timedelta(milliseconds=10), None) is False
        refusals.append(OSError(errno.EINVAL, "Invalid argument"))
        with pytest.raises(OSError):  # anything else is a bug, not a clock set
            sleep.sleep(None, 0.01)
    finally:
        sleep.close()


def test_elsewhere_the_wait_is_sliced_to_the_clock_check(monkeypatch) -> None:
    asked: list[float] = []
    monkeypatch.setattr(sleep_module.select, "select",
                        lambda r, w, x, timeout: asked.append(timeout) or ([], [], []))
    sleep = Sleep()
    try:
        sleep.sleep(None, None)
        sleep.sleep(clock.now() + timedelta(hours=1), 3.0)
        sleep.sleep(datetime(2000, 1, 1, tzinfo=UTC), None)
    finally:
        sleep.close()
    assert asked == [sleep_module.CLOCK_CHECK, 3.0, 0.0]
