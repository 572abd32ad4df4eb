"""Work other threads hand to the daemon's loop, and the control replies that wait for it.

The loop's state changes only on the loop's thread: the control server, the notifier's
buttons and presence hand it functions here. A control command waits for the loop's
answer at most ``REPLY_WAIT`` seconds; the loop may be busy longer (delivering reminders
to a notification server that hangs). Past the wait the reply says what became of the
command, never a bare "try again": one that has not started is withdrawn (nothing was
done, so trying again is safe); one under way finishes on its own. A `trigger` under way
is answered "accepted", and a second `trigger` of that routine soon after gets the first
one's outcome instead of a second reminder: at most once, or recorded.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from scheduler.control.wire import REPLY_WAIT

#: How long the outcome of a trigger answered "accepted" stands in for a second trigger of
#: the same routine (the user who tries again, or a script): not shown twice.
EARLIER_TRIGGER_KEPT = 300.0
STOPPING = {"ok": False, "error": "crampguard is stopping"}
Reply = dict[str, Any]
log = logging.getLogger("crampguard")


class LoopCalls:
    """A queue of functions for the loop to run; ``wake`` ends the loop's wait."""

    def __init__(self, wake: Callable[[], None], *, wait: float = REPLY_WAIT):
        self._queue: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any] | None]] = \
            queue.SimpleQueue()
        self._wake = wake
        self._wait = wait
        #: routine id -> (monotonic time it finished, the reply nobody read)
        self._late_triggers: dict[str, tuple[float, Reply]] = {}
        self._late_lock = threading.Lock()

    def post(self, fn: Callable[[], Any]) -> None:
        """From another thread: run ``fn`` on the loop, without waiting for it."""
        self._queue.put((fn, None))
        self._wake()

    def answer(self, request: Reply, handle: Callable[[Reply], Reply]) -> Reply:
        """From the control server's thread: ``handle(request)`` run on the loop, its reply
        within the wait, else what became of the request."""
        future: Future[Reply] = Future()
        self._queue.put((lambda: handle(request), future))
        self._wake()
        try:
            return future.result(timeout=self._wait)
        except FutureTimeout:
            pass
        busy = (f"the daemon is busy (most likely showing a reminder: the notification "
                f"server is slow to answer) and did not get to `{request.get('cmd')}` "
                f"within {self._wait:g} s")
        if future.cancel():
            return {"ok": False, "error": f"{busy}; nothing was done: try again in a moment"}
        routine_id = request.get("id")
        if request.get("cmd") == "trigger" and isinstance(routine_id, str):
            future.add_done_callback(lambda done: self._keep(routine_id, done))
            return {"ok": True, "routine": routine_id, "in_progress": True}
        return {"ok": False, "error": (
            f"`{request.get('cmd')}` is still being carried out after {self._wait:g} s (the "
            f"notification server is slow to answer); it finishes on its own, so do not "
            f"run it again: `crampguard status` shows how it went")}

    def earlier_trigger(self, routine_id: str) -> Reply | None:
        """The outcome of a trigger of ``routine_id`` answered "accepted" a moment ago,
        once: a second trigger gets it instead of showing the reminder again."""
        with self._late_lock:
            finished, reply = self._late_triggers.pop(routine_id, (0.0, None))
        if reply is None or time.monotonic() - finished > EARLIER_TRIGGER_KEPT:
            return None
        return reply

    def _keep(self, routine_id: str, done: Future[Reply]) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        reply = done.result()
        if reply.get("ok"):  # one that failed showed nothing: trying again is right
            with self._late_lock:
                self._late_triggers[routine_id] = (time.monotonic(), reply)

    def run(self, *, stopping: bool = False) -> None:
        """On the loop: run what is queued; ``stopping``: answer every waiting command at
        once rather than leave its client waiting out the wait."""
        while True:
            try:
                fn, future = self._queue.get_nowait()
            except queue.Empty:
                return
            if future is not None and not future.set_running_or_notify_cancel():
                continue
            if stopping:
                if future is not None:
                    future.set_result(STOPPING)
                continue
            try:
                result = fn()
            except Exception as exc:  # one failing command must not stop the loop
                log.exception("a control command failed")
                if future is not None:
                    future.set_exception(exc)
            else:
                if future is not None:
                    future.set_result(result)
