"""Enabled routines that will never reach the user, and why: what `check`, `list`, `status`
and the daemon's log warn about, so nothing enabled is silently never shown.

A routine with only ``after`` has no clock times: it fires after its cause, which is not
"never". It is warned about only when it follows a routine that is turned off (given
among ``routines``: pass them all, not only the enabled ones, for that warning).

Pure: ``now`` comes in as a parameter; the clock is never read here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from scheduler.config import defaults
from scheduler.config.routine import Routine
from scheduler.config.settings import Settings
from scheduler.i18n import _
from scheduler.planning.schedule import describe, describe_clock, timetable_for
from scheduler.planning.upcoming import uncaused
from scheduler.timing.grammar import format_duration
from scheduler.timing.plans import HORIZON_DAYS, Outlook


@dataclass(frozen=True)
class RoutineWarning:
    routine: str
    #: "held": every firing falls inside quiet hours; "never": the schedule never fires
    kind: Literal["held", "never"]
    #: the reason and the fix, without the routine's id
    text: str

    def __str__(self) -> str:
        return f"{self.routine}: {self.text}"


def routine_warnings(routines: Iterable[Routine], settings: Settings,
                     now: datetime) -> list[RoutineWarning]:
    """One warning for each enabled routine that is never delivered from ``now`` on."""
    routines = list(routines)
    by_id = {r.id: r for r in routines}
    never = uncaused(by_id)
    found = []
    for routine in routines:
        if not routine.enabled:
            continue
        if not routine.schedule.on_clock:
            chain = never.get(routine.id)
            if chain is not None:
                found.append(RoutineWarning(routine.id, "never",
                                            _uncaused_text(routine, chain, by_id, settings)))
            continue
        outlook = timetable_for(routine, settings).outlook(now)
        if outlook is Outlook.HELD:
            found.append(RoutineWarning(routine.id, "held", _held_text(routine, settings)))
        elif outlook is Outlook.NEVER:
            found.append(RoutineWarning(
                routine.id, "never",
                _("can never fire: {schedule} matches no day in the next {years} years; fix "
                  "its [schedule]").format(
                    schedule=describe_clock(routine.schedule, settings.anchors),
                    years=HORIZON_DAYS // 366)))
    return found


def _uncaused_text(routine: Routine, chain: list[str], routines: dict[str, Routine],
                   settings: Settings) -> str:
    fires = describe(routine.schedule, settings.anchors)
    last = chain[-1]
    if last in chain[:-1]:
        return _("it fires only {schedule}, and its causes go round in a loop ({loop} done) "
                 'in which none fires by the clock; give one of them a time with "at"').format(
            schedule=fires, loop=_(" after ").join(chain))
    cause = routines.get(last)
    waits = ("" if len(chain) == 2 else
             _(" (through {routines})").format(routines=", ".join(chain[1:-1])))
    text = (_("it fires only {schedule}, and {cause}{through} is turned off; turn {cause} "
              'on, or give this routine a time with "at"') if cause is not None else
            _("it fires only {schedule}, and {cause}{through} is not in the set; turn "
              '{cause} on, or give this routine a time with "at"'))
    return text.format(schedule=fires, cause=last, through=waits)


def _held_text(routine: Routine, settings: Settings) -> str:
    if settings.quiet_hours == "auto":
        origin = _("the default, from bedtime + {after} to wake").format(
            after=format_duration(defaults.QUIET_AFTER_BEDTIME))
        change = _("change bedtime or wake, give quiet_hours in config.toml")
    else:
        origin = _("the quiet_hours setting")
        change = _("change quiet_hours in config.toml")
    return _("it fires {schedule}, always inside quiet hours {window} ({origin}), so it is "
             'never shown; move it, {change}, or set quiet_hours = "ignore" in its '
             "[schedule]").format(schedule=describe_clock(routine.schedule, settings.anchors),
                                  window=settings.quiet_window, origin=origin, change=change)
