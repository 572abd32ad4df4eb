"""What the user sees on screen: every ``Notice`` crampguard shows is built here, in the
user's language (the daemon speaks it only here: its log and replies stay English)."""

from __future__ import annotations

from datetime import date, timedelta

from scheduler.config.routine import CRAMPS_KEY, Routine
from scheduler.i18n import N_, _, routine_text, speaking, weekday
from scheduler.notify.base import Notice
from scheduler.timing.grammar import format_day


def reminder(routine: Routine, *, replaces_id: int = 0, night: date | None = None) -> Notice:
    """A routine's reminder, with its buttons (or, where none show, the command to type);
    ``replaces_id``: the notice of the same reminder it replaces on screen (a repeat);
    ``night``: a check-in asked again about an earlier night, shown beside today's. It
    names that night, so the two never look alike (a notification server also stacks
    identical notices into one, and a button then answers for the other night)."""
    with speaking():
        timeout = routine.notify.timeout
        title, body = routine_text(routine.title), routine_text(routine.message)
        if night is not None:
            after = night + timedelta(days=1)
            title = _("{title} (asked again: the night of {night})").format(
                title=title, night=format_day(night))
            body = _("This one asks about the night of {night} to {after}, which was not "
                     "asked in time. {body}").format(night=format_day(night),
                                                     after=weekday(after.weekday()),
                                                     body=body)
        return Notice(
            title=title, body=body, urgency=routine.notify.urgency,
            timeout_s=timeout.total_seconds() if timeout is not None else None,
            icon=routine.notify.icon,
            actions=tuple((a.key, a.shown()) for a in routine.notify.actions),
            hint_command="crampguard log-cramp --none" if any(
                a.key.startswith(CRAMPS_KEY) for a in routine.notify.actions)
            else f"crampguard done {routine.id}", replaces_id=replaces_id,
            hint=_("Run: {command}"),
        )


def broken_file(what: str, first_problem: str, more: int = 0, *,
                keeps: str = N_("the last good version keeps running")) -> Notice:
    """A settings or routine file the daemon could not read; ``keeps``: what runs instead
    (a message id). The way to see every problem is the hint command alone: each backend
    shows it once (after the body, or as the command to type), so the body does not say it
    again."""
    with speaking():
        keeps = _(keeps)
        others = "\n" + _("{n} more problem(s).").format(n=more) if more else ""
        return Notice(
            title=_("crampguard: {what} is broken").format(what=_(what)),
            body=f"{first_problem}{others}\n{keeps[0].upper()}{keeps[1:]}{_('.')}",
            urgency="normal", hint_command="crampguard check", hint=_("Run: {command}"),
        )


def test() -> Notice:
    """`crampguard notify-test`: no buttons, since nothing listens for them there."""
    with speaking():
        return Notice(title=_("crampguard test"), urgency="normal", timeout_s=10,
                      body=_("Reminders will look like this. Nothing to do."),
                      hint=_("Run: {command}"))


def journal_trouble(problem: str) -> Notice:
    """The journal stopped taking writes; reminders go on regardless."""
    with speaking():
        return Notice(
            title=_("crampguard cannot write its journal"),
            body=problem + "\n" + _("Reminders are still shown; what happens is kept in "
                                    "memory and written once the journal works again."),
            urgency="normal", hint_command="crampguard status", hint=_("Run: {command}"))


def journal_moved(old: object, moved_to: object) -> Notice:
    """A damaged journal was moved aside (never deleted) and a new one started."""
    with speaking():
        return Notice(
            title=_("crampguard started a new journal"),
            body=_("The journal {old} was damaged. It was moved to {moved_to} (nothing was "
                   "deleted) and a new, empty one started.").format(old=old,
                                                                   moved_to=moved_to),
            urgency="normal", hint_command="crampguard history", hint=_("Run: {command}"))
