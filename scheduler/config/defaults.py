"""Defaults a user meets in more than one place (a routine file, a button, the command
line), each written once. Standard library only, so the CLI's help can quote them."""

from __future__ import annotations

from datetime import timedelta

#: A snooze without a duration: the shipped "Snooze" button, `crampguard snooze ID`.
SNOOZE = timedelta(minutes=10)
#: `crampguard pause` without a duration.
PAUSE = timedelta(hours=1)
#: How late a missed reminder may still be delivered, unless the routine says.
CATCH_UP = timedelta(minutes=30)
#: Quiet hours by default run from this long after bedtime to wake: late enough that the
#: bedtime routines (``bedtime - 45m`` … ``bedtime``) are shown whatever the bedtime.
QUIET_AFTER_BEDTIME = timedelta(hours=1)
#: A pause holds every reminder, so a forgotten one must end by itself in reasonable time;
#: for longer, turning routines off says what is meant. The CLI and the daemon both check.
PAUSE_MAX = timedelta(days=30)
#: A snooze brings one reminder back; past a day the next firing has come anyway.
SNOOZE_MAX = timedelta(days=1)
#: Away from the desk this long (idle or locked) counts as a break: an interval routine
#: (the sitting break) starts again when the user is back.
AWAY_RESETS = timedelta(minutes=5)
#: The notifier setting's choices (`--notifier`); settings.py and notify/chain.py spell
#: the same, and a test holds the three together.
NOTIFIERS = ("auto", "dbus", "plyer", "console")
