"""What the user sees on screen: every ``Notice`` crampguard shows is built here."""

from __future__ import annotations

from datetime import date, timedelta

from scheduler.config.routine import CRAMPS_KEY, Routine
from scheduler.notify.base import Notice


def reminder(routine: Routine, *, replaces_id: int = 0, night: date | None = None) -> Notice:
    """A routine's reminder, with its buttons (or, where none show, the command to type);
    ``replaces_id``: the notice of the same reminder it replaces on screen (a repeat);
    ``night``: a check-in asked again about an earlier night, shown beside today's. It
    names that night, so the two never look alike (a notification server also stacks
    identical notices into one, and a button then answers for the other night)."""
    timeout = routine.notify.timeout
    title, body = routine.title, routine.message
    if night is not None:
        after = night + timedelta(days=1)
        title = f"{title} (asked again: the night of {night:%a %Y-%m-%d})"
        body = (f"This one asks about the night of {night:%a %Y-%m-%d} to {after:%a}, "
                f"which was not asked in time. {body}")
    return Notice(
        title=title, body=body, urgency=routine.notify.urgency,
        timeout_s=timeout.total_seconds() if timeout is not None else None,
        icon=routine.notify.icon,
        actions=tuple((a.key, a.label) for a in routine.notify.actions),
        hint_command="crampguard log-cramp --none" if any(
            a.key.startswith(CRAMPS_KEY) for a in routine.notify.actions)
        else f"crampguard done {routine.id}", replaces_id=replaces_id,
    )


def broken_file(what: str, first_problem: str, more: int = 0, *,
                keeps: str = "the last good version keeps running") -> Notice:
    """A settings or routine file the daemon could not read; ``keeps``: what runs instead.
    The way to see every problem is the hint command alone: each backend shows it once
    (after the body, or as the command to type), so the body does not say it again."""
    others = f"\n{more} more problem(s)." if more else ""
    return Notice(
        title=f"crampguard: {what} is broken",
        body=f"{first_problem}{others}\n{keeps[0].upper()}{keeps[1:]}.",
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
