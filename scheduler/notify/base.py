"""What every notification backend shares: the notice, the receipt, the error, the protocol."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from scheduler.errors import NotifierAway, NotifyError

__all__ = ["ActionCallback", "Delivery", "Notice", "Notifier", "NotifierAway", "NotifyError"]

URGENCIES = ("low", "normal", "critical")
DEFAULT_ICON = "dialog-information"


@dataclass(frozen=True)
class Notice:
    """One reminder as the user should see it, independent of the backend that shows it."""

    title: str
    body: str
    urgency: str = "normal"
    #: seconds on screen; None = the server's default, 0 = never expire
    timeout_s: float | None = None
    #: an icon name from the theme or a path to an image file; "" = crampguard's own
    icon: str = ""
    #: (key, label) pairs, e.g. ("done", "Done"), ("snooze:10m", "Snooze 10 min")
    actions: tuple[tuple[str, str], ...] = ()
    app_name: str = "crampguard"
    #: what to type instead of pressing a button, e.g. "crampguard done foot-soak"; shown
    #: only where the backend shows no action buttons
    hint_command: str = ""
    #: the server's id of a notice this one replaces on screen (a repeat), 0 for none
    replaces_id: int = 0
    #: how the command to type reads after the body, in the user's language
    hint: str = "Run: {command}"

    def __post_init__(self) -> None:
        # Reject a bad notice where it is built, not deep inside a backend at fire time.
        if self.urgency not in URGENCIES:
            raise ValueError(f'Unknown urgency "{self.urgency}" (valid: {", ".join(URGENCIES)})')
        if self.timeout_s is not None and self.timeout_s < 0:
            raise ValueError(
                f"timeout_s must be None (server default), 0 (never expire) or positive, "
                f"not {self.timeout_s}"
            )
        for action in self.actions:
            if len(action) != 2 or not all(isinstance(part, str) and part for part in action):
                raise ValueError(f"each action is a (key, label) pair of strings, not {action!r}")


@dataclass(frozen=True)
class Delivery:
    """Which backend showed a notice; the journal records it."""

    backend: str
    #: the notification server's id for the notice, where there is a server; the id an
    #: ActionCallback names when a button of this notice is pressed
    id: int | None = None
    actions_shown: bool = False


#: Called with (notification id, action key) when the user presses a button of a notice, e.g.
#: (delivery.id, "snooze:10m"). Backends that show buttons take one when they are built
#: (``build_chain(..., on_action=...)``) and call it on a thread of their own: it must return
#: quickly (hand the press over to the daemon's loop) and must not call the notifier back.
#: It may be called for ids the caller does not know (a server that broadcasts its signals
#: reports other programs' buttons too): those are to be ignored.
ActionCallback = Callable[[int, str], None]


class Notifier(Protocol):
    """A backend. One that can report button presses takes an ActionCallback when it is
    built; the protocol itself stays send and close, so every backend (and every fake) that
    shows no buttons is a Notifier as it is."""

    name: str

    def send(self, notice: Notice) -> Delivery:
        """Show the notice, or raise NotifyError."""
        ...

    def close(self) -> None: ...


def icon_of(notice: Notice) -> str:
    """The icon to show: the notice's own, else crampguard's."""
    return notice.icon or DEFAULT_ICON


def body_with_hint(notice: Notice) -> str:
    """The body for a backend that shows no buttons: the command to type goes with it."""
    if not notice.hint_command:
        return notice.body
    return f"{notice.body}\n\n{notice.hint.format(command=notice.hint_command)}"
