"""The daemon's side of the ``[reach]`` channels: reminders sent away from the desk and
answers heard back, on threads of their own so a channel that hangs never holds the loop.

Each channel has a sending thread (its queue of reminders and withdrawals, one at a time;
a channel that is down is tried again with back-off until the reminder's deadline, then
the reminder is failed with the channel's reason) and, when it is two-way, a listening
thread (a long poll for answers, resumed after a sleep or a restart from the cursor kept in
the journal). Everything they learn is posted to the loop, which records it. Imported only
when the settings have a ``[reach]`` table: without one the daemon starts no thread.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scheduler import clock
from scheduler.config.routine import Routine
from scheduler.journal.events import Reminder
from scheduler.notify import Notice
from scheduler.reach.base import (
    LISTEN_TIMEOUT,
    Answer,
    Channel,
    ChannelDown,
    ChannelError,
    Message,
    reminder_key,
)

log = logging.getLogger("crampguard")

#: The first retry after a failure, doubling up to the longest.
FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(minutes=5)
#: How long a reminder sent is remembered (to withdraw it once answered elsewhere).
FORGET = timedelta(days=2)
#: How many answers' references are remembered to drop one heard twice.
SEEN_REFS = 512
CURSOR_KEY = "reach:{name}:since"

Post = Callable[[Callable[[], None]], None]


@dataclass
class _Out:
    """A reminder on its way to the channels."""

    routine: str
    due: datetime
    waiting: set[str]
    #: channel → its id of the message, once sent
    sent: dict[str, str] = field(default_factory=dict)
    #: the last reason a channel gave for not taking it
    trouble: str | None = None


@dataclass
class Result:
    at: datetime
    ok: bool
    text: str


class ReachLink:
    def __init__(self, channels: dict[str, Channel], *, post: Post,
                 reached: Callable[[str, datetime, str, str, datetime], None],
                 unreached: Callable[[str, datetime, str, datetime], None],
                 answered: Callable[[Answer, datetime], bool],
                 cursor: Callable[[str], str | None],
                 keep_cursor: Callable[[str, str], None]):
        self.channels = channels
        self._post = post
        self._reached = reached
        self._unreached = unreached
        self._answered = answered
        self._cursor = cursor
        self._keep_cursor = keep_cursor
        self._out: dict[str, _Out] = {}
        self._queues: dict[str, queue.Queue[tuple[Any, ...] | None]] = {
            name: queue.Queue() for name in channels}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._seen: deque[str] = deque(maxlen=SEEN_REFS)
        #: the channel whose answer is being recorded (loop thread), None for the desktop
        self._answering: str | None = None
        #: each channel's last result, for `status`
        self.results: dict[str, Result] = {}

    def start(self) -> None:
        """Start the threads (loop thread, once the journal is open)."""
        for name, channel in self.channels.items():
            self._spawn(f"crampguard-reach-{name}", self._sender, name)
            if channel.two_way:
                self._spawn(f"crampguard-reach-{name}-answers", self._listener, name,
                            self._cursor(name))

    def _spawn(self, thread_name: str, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=thread_name, daemon=True)
        self._threads.append(thread)
        thread.start()

    # --- the loop's side -------------------------------------------------------------------

    def send(self, routine: Routine, due: datetime, notice: Notice, *, deadline: datetime,
             primary: bool) -> None:
        """Send the reminder to every channel, once (a decision made again while it is on
        its way, or after it went, sends nothing new)."""
        message = Message(routine=routine.id, due=due, title=notice.title, body=notice.body,
                          answers=notice.actions, urgency=notice.urgency)
        if message.key in self._out:
            return
        for key in [k for k, out in self._out.items() if out.due < due - FORGET]:
            del self._out[key]  # long answered or given up: nothing more comes of them
        self._out[message.key] = _Out(routine.id, due, set(self.channels))
        for name in self.channels:
            self._queues[name].put(("send", message, deadline))

    def trouble(self, routine_id: str, due: datetime) -> str | None:
        """Why the channels have not taken a reminder still on its way, if one said."""
        out = self._out.get(reminder_key(routine_id, due))
        return out.trouble if out is not None and not out.sent else None

    def answered(self, reminder: Reminder) -> None:
        """A reminder answered (anywhere): the channels that showed it, but not the one
        that brought the answer, say so."""
        out = self._out.get(reminder_key(reminder.routine, reminder.due))
        sent_by = dict(out.sent) if out is not None else {}
        if not sent_by and reminder.notice and reminder.notice.startswith("reach:"):
            # sent before a restart: its row keeps the channel that showed it, and the
            # message there
            name, _, sent = reminder.notice.removeprefix("reach:").partition("/")
            if name in self._queues and sent:
                sent_by[name] = sent
        where = f"via {self._answering}" if self._answering else "on the desktop"
        note = f"{reminder.routine}: {reminder.answer} {where}"
        for name, sent in sent_by.items():
            if name != self._answering:
                self._queues[name].put(("withdraw", sent, note))

    def _answers(self, name: str, answers: list[Answer], cursor: str | None) -> None:
        """A batch heard on a channel (loop thread): each through the one answer path, then
        the cursor kept, so a restart reads on from there."""
        now = clock.now()
        self._answering = name
        try:
            for answer in answers:
                if answer.ref and answer.ref in self._seen:
                    log.info("answer %s via reach:%s heard twice: counted once", answer.ref,
                             name)
                    continue
                if answer.ref:
                    self._seen.append(answer.ref)
                self._answered(answer, now)
        finally:
            self._answering = None
        if cursor is not None:
            self._keep_cursor(name, cursor)

    def _sent(self, name: str, message: Message, sent: str) -> None:
        out = self._out.get(message.key)
        if out is None:
            return
        out.waiting.discard(name)
        out.sent[name] = sent
        self._reached(message.routine, message.due, name, sent, clock.now())

    def _failed(self, name: str, message: Message, reason: str) -> None:
        out = self._out.get(message.key)
        if out is None:
            return
        out.waiting.discard(name)
        out.trouble = f"reach:{name}: {reason}"
        if not out.waiting and not out.sent:
            self._unreached(message.routine, message.due, out.trouble, clock.now())

    # --- the channels' threads -------------------------------------------------------------

    def _sender(self, name: str) -> None:
        channel, jobs = self.channels[name], self._queues[name]
        while not self._stop.is_set():
            job = jobs.get()
            if job is None:
                return
            if job[0] == "withdraw":
                try:
                    channel.withdraw(job[1], job[2])
                except ChannelError as exc:
                    log.info("reach:%s: could not say the reminder was answered: %s", name,
                             exc)
                continue
            _, message, deadline = job
            self._deliver(name, channel, message, deadline)

    def _deliver(self, name: str, channel: Channel, message: Message,
                 deadline: datetime) -> None:
        wait = FIRST_RETRY
        if clock.now() > deadline:
            # it waited behind an earlier reminder the channel kept trying: too late now
            reason = "not sent within catch_up: the channel was still trying an earlier one"
            log.warning("reach:%s: %s: %s", name, message.key, reason)
            self._post(functools.partial(self._failed, name, message, reason))
            return
        while not self._stop.is_set():
            try:
                sent = channel.already_sent(message)
                if sent is None:
                    sent = channel.send(message)
                else:
                    log.info("reach:%s: %s is there already", name, message.key)
            except ChannelError as exc:
                now = clock.now()
                self.results[name] = Result(now, False, str(exc))
                final = not isinstance(exc, ChannelDown) or now + wait > deadline
                log.warning("reach:%s: could not send %s: %s%s", name, message.key, exc,
                            "" if final else f"; trying again in {int(wait.total_seconds())}s")
                if final:
                    self._post(functools.partial(self._failed, name, message, str(exc)))
                    return
                self._stop.wait(wait.total_seconds())
                wait = min(wait * 2, LONGEST_RETRY)
                continue
            except Exception as exc:  # a channel's bug must not end its thread
                log.exception("reach:%s: sending %s failed", name, message.key)
                self._post(functools.partial(self._failed, name, message,
                                             f"{type(exc).__name__}: {exc}"))
                return
            self.results[name] = Result(clock.now(), True, "sent")
            self._post(functools.partial(self._sent, name, message, sent))
            return

    def _listener(self, name: str, since: str | None) -> None:
        channel = self.channels[name]
        wait = FIRST_RETRY
        trouble: str | None = None
        while not self._stop.is_set():
            try:
                answers, cursor = channel.answers(since, LISTEN_TIMEOUT)
            except ChannelError as exc:
                if str(exc) != trouble:
                    log.warning("reach:%s: cannot hear answers: %s; trying again", name, exc)
                trouble = str(exc)
                self.results[name] = Result(clock.now(), False, trouble)
                self._stop.wait(wait.total_seconds())
                wait = min(wait * 2, LONGEST_RETRY)
                continue
            except Exception:
                log.exception("reach:%s: listening failed", name)
                self._stop.wait(LONGEST_RETRY.total_seconds())
                continue
            if trouble is not None:
                log.info("reach:%s: hears answers again", name)
                trouble = None
            wait = FIRST_RETRY
            if answers or cursor != since:
                self._post(functools.partial(self._answers, name, answers, cursor))
                since = cursor

    # --- reporting and stopping ------------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        return [{"name": name, "kind": channel.kind, "to": channel.describe(),
                 "two_way": channel.two_way,
                 "last": None if (r := self.results.get(name)) is None else
                 {"at": r.at.isoformat(timespec="seconds"), "ok": r.ok, "text": r.text}}
                for name, channel in self.channels.items()]

    def woke(self) -> None:
        """After a sleep: each channel ends a long poll that may hang on a dead connection."""
        for name, channel in self.channels.items():
            try:
                channel.wake()
            except Exception:  # best effort: the poll ends at its own timeout otherwise
                log.debug("reach:%s: waking failed", name, exc_info=True)

    def close(self) -> None:
        self._stop.set()
        for jobs in self._queues.values():
            jobs.put(None)
        for channel in self.channels.values():
            try:
                channel.close()
            except Exception:  # closing is best effort
                log.debug("reach: closing a channel failed", exc_info=True)
