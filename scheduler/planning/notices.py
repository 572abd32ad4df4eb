"""What the user sees on screen: every ``Notice`` crampguard shows is built here."""

from __future__ import annotations

from scheduler.config.routine import CRAMPS_KEY, Routine
from scheduler.notify.base import Notice


def reminder(routine: Routine, *, replaces_id: int = 0) -> Notice:
    """A routine's reminder, with its buttons (or, where none show, the command to type);
    ``replaces_id``: the notice of the same reminder it replaces on screen (a repeat)."""
    timeout = routine.notify.timeout
    return Notice(
        title=routine.title, body=routine.message, urgency=routine.notify.urgency,
        timeout_s=timeout.total_seconds() if timeout is not None else None,
        icon=routine.notify.icon,
        actions=tuple((a.key, a.label) for a in routine.notify.actions),
        hint_command="crampguard log-cramp --none" if any(
            a.key.startswith(CRAMPS_KEY) for a in routine.notify.actions)
        else f"crampguard done {routine.id}", replaces_id=replaces_id,
    )


def broken_file(what: str, first_problem: str, more: int = 0) -> Notice:
    """A settings or routine file the daemon could not read; the last good one runs on.
    The way to see every problem is the hint command alone: each backend shows it once
    (after the body, or as the command to type), so the body does not say it again."""
    others = f"\n{more} more problem(s)." if more else ""
    return Notice(
        title=f"crampguard: {what} is broken",
        body=f"{first_problem}{others}\nThe last good version keeps running.",
        urgency="normal", hint_command="crampguard check",
    )


def test() -> Notice:
    """`crampguard notify-test`: no buttons, since nothing listens for them there."""
    return Notice(title="crampguard test", urgency="normal", timeout_s=10,
                  body="Reminders will look like this. Nothing to do.")


def journal_trouble(problem: str) -> Notice:
    """The journal stopped taking writes; reminders go on regardless."""
    return Notice(
        title="crampguard cannot write its journal",
        body=f"{problem}\nReminders are still shown; what happens is kept in memory and "
             f"written once the journal works again.",
        urgency="normal", hint_command="crampguard status")


def journal_moved(old: object, moved_to: object) -> Notice:
    """A damaged journal was moved aside (never deleted) and a new one started."""
    return Notice(
        title="crampguard started a new journal",
        body=f"The journal {old} was damaged. It was moved to {moved_to} (nothing was "
             f"deleted) and a new, empty one started.",
        urgency="normal", hint_command="crampguard history")
