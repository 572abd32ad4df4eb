"""Backends in order of preference: the first that delivers wins, and the console always can,
except while the desktop's notification server this run has used is gone: then the chain
raises NotifierAway, as a notice printed to a console is not one the user saw."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Sequence

from .base import ActionCallback, Delivery, Notice, Notifier, NotifierAway, NotifyError
from .console import ConsoleNotifier
from .dbus import DbusNotifier
from .plyer_backend import PlyerNotifier

CHOICES = ("auto", "dbus", "plyer", "console")


class NotifierChain:
    """Tries each backend in turn; a failing one is logged when it starts failing and when it
    works again, not on every reminder in between."""

    name = "chain"

    def __init__(self, backends: Sequence[Notifier], log: logging.Logger) -> None:
        if not backends:
            raise ValueError("a notifier chain needs at least one backend")
        self.backends = tuple(backends)
        self._log = log
        # Positions of the backends whose last try failed (names could repeat; positions can't).
        self._failing: set[int] = set()
        # Reminders that fire together arrive on the scheduler's pool threads: one at a time
        # keeps the failing set and the log's story (failed, works again) consistent.
        self._lock = threading.Lock()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(backend.name for backend in self.backends)

    def send(self, notice: Notice) -> Delivery:
        """Deliver through the first backend that can; NotifyError only if none could, and
        NotifierAway without trying the rest when the desktop's server is gone."""
        with self._lock:
            return self._send(notice)

    def _send(self, notice: Notice) -> Delivery:
        problems = []
        for position, backend in enumerate(self.backends):
            try:
                delivery = backend.send(notice)
            except NotifierAway as exc:
                self._note_failure(position, backend, exc)
                raise
            except Exception as exc:
                # Not only NotifyError: a bug in one backend must not cost the reminder.
                self._note_failure(position, backend, exc)
                problems.append(f"{backend.name}: {exc}")
                continue
            if position in self._failing:
                self._failing.discard(position)
                self._log.info("%s notifications work again", backend.name)
            return delivery
        raise NotifyError("no notifier could deliver the reminder: " + "; ".join(problems))

    def withdraw(self, backend: str, notification_id: int) -> None:
        """Take a notice that ``backend`` showed off the screen, where it can do that."""
        for candidate in self.backends:
            if candidate.name == backend and hasattr(candidate, "withdraw"):
                candidate.withdraw(notification_id)

    def listen(self) -> None:
        """Hear buttons before the first send: those on notices an earlier run showed."""
        for backend in self.backends:
            if hasattr(backend, "listen"):
                backend.listen()

    def earlier_presses_lost(self) -> bool:
        """Whether the desktop's server loses the buttons of notices an earlier run
        showed (asked of the first backend that can tell)."""
        for backend in self.backends:
            if hasattr(backend, "earlier_presses_lost"):
                return bool(backend.earlier_presses_lost())
        return False

    def close(self) -> None:
        for backend in self.backends:
            try:
                backend.close()
            except Exception:  # closing one must not keep the others open
                self._log.debug("closing the %s notifier failed", backend.name, exc_info=True)

    def _note_failure(self, position: int, backend: Notifier, exc: Exception) -> None:
        if position in self._failing:
            self._log.debug("%s notifications still fail: %s", backend.name, exc)
            return
        self._failing.add(position)
        self._log.warning(
            "%s notifications failed, using the next notifier until they work again: %s",
            backend.name,
            exc,
            # A NotifyError explains itself; anything else is a bug worth a traceback.
            exc_info=not isinstance(exc, NotifyError),
        )


def build_chain(
    choice: str,
    log: logging.Logger,
    *,
    platform: str | None = None,
    on_action: ActionCallback | None = None,
    on_available: Callable[[], None] | None = None,
) -> NotifierChain:
    """The chain for config's ``notifier``: auto | dbus | plyer | console.

    ``platform`` defaults to ``sys.platform``; tests pass it to pin the per-platform choice.
    ``on_action(notification_id, action_key)`` hears the buttons pressed on the notices the
    dbus backend showed (Delivery.id, e.g. "done", "snooze:10m"), on that backend's own
    thread: see ActionCallback. The other backends show no buttons. ``on_available()`` is
    called, from any thread, when the desktop's notification server gets its bus name
    again (after a send raised NotifierAway: the time to try once more).
    """
    platform = sys.platform if platform is None else platform
    if choice not in CHOICES:
        raise ValueError(f'Unknown notifier "{choice}" (valid: {", ".join(CHOICES)})')
    backends: list[Notifier] = []
    if choice in ("auto", "dbus"):
        backends.append(build_backend("dbus", log, on_action=on_action,
                                      on_available=on_available))
    if choice == "plyer" or (choice == "auto" and _plyer_is_a_real_path(platform)):
        backends.append(build_backend("plyer", log, platform=platform))
    # Always last: whatever the desktop does, the reminder reaches stdout and the log.
    backends.append(ConsoleNotifier())
    chain = NotifierChain(backends, log)
    log.debug("notifiers for %r: %s", choice, ", ".join(chain.names))
    return chain


def build_backend(
    choice: str,
    log: logging.Logger,
    *,
    platform: str | None = None,
    on_action: ActionCallback | None = None,
    on_available: Callable[[], None] | None = None,
) -> Notifier:
    """The one backend named ``choice`` (dbus, plyer, console), with nothing to fall back
    on: ``notify-test`` uses it to find out whether that very backend delivers here."""
    if choice == "dbus":
        return DbusNotifier(on_action=on_action, on_available=on_available, log=log)
    if choice == "plyer":
        return PlyerNotifier(platform=platform)
    if choice == "console":
        return ConsoleNotifier()
    raise ValueError(f'not one backend: "{choice}" (valid: dbus, plyer, console)')


def _plyer_is_a_real_path(platform: str) -> bool:
    # Under "auto", plyer only where it reaches a notification system the dbus backend can't:
    # macOS and Windows. On Linux it ends at the same org.freedesktop.Notifications server
    # the dbus backend has just failed to reach, and through notify-send it cannot tell that
    # it failed: after dbus it would only turn a failure the console could catch into a
    # reminder silently lost. On the BSDs plyer has no notification code at all.
    return platform.startswith(("win32", "cygwin", "darwin"))
