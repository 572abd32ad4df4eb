"""`history`, `stats` and `log-cramp`: the journal read and written straight from the CLI
(SQLite in WAL mode lets it do so while the daemon writes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from scheduler import clock
from scheduler.cli.times import parse_instant
from scheduler.config.context import App
from scheduler.errors import CrampguardError
from scheduler.timing import grammar
from scheduler.timing.plans import resolve

#: Catalog "when" values that make a routine part of the evening routine.
EVENING_STEPS = ("bedtime", "night")
LEGS = ("left", "right", "both")


def _journal(app: App) -> Any:
    from scheduler.journal.store import Journal

    return Journal.open(app.paths.journal)


@dataclass(frozen=True)
class HistoryReport:
    events: list[Any]
    zone: tzinfo


def history(app: App, *, days: int, routine: str | None = None) -> HistoryReport:
    _positive(days, "--days")
    zone = app.settings.zone
    with _journal(app) as journal:
        events = journal.events(since=clock.now() - timedelta(days=days), routine=routine)
    return HistoryReport(events, zone)


@dataclass(frozen=True)
class StatsReport:
    days: int
    routines: list[Any]
    cramps: list[Any]
    cramp_count: int


def stats(app: App, *, days: int) -> StatsReport:
    from scheduler.journal import stats as compute

    _positive(days, "--days")
    now, zone = clock.now(), app.settings.zone
    window = compute.window(now=now, zone=zone, days=days)
    with _journal(app) as journal:
        tally = journal.tally(window)  # counted in SQL: a year is ~100k events
    return StatsReport(
        days=days,
        routines=compute.routine_stats(tally, now=now, zone=zone, days=days),
        cramps=compute.cramp_relation(tally, evening_routines(app), now=now, zone=zone,
                                      days=days),
        cramp_count=sum(window.start <= c <= now for c in tally.cramps),
    )


def evening_routines(app: App) -> list[str]:
    """Routines that put an evening or night step of the catalog into practice."""
    active = app.load_routines()
    catalog = app.catalog
    evening = []
    for routine in active.routines.values():
        steps = [catalog.get(s) for s in routine.seed]
        if any(step is not None and step.when in EVENING_STEPS for step in steps):
            evening.append(routine.id)
    return sorted(evening)


@dataclass(frozen=True)
class CrampReport:
    id: int
    when: datetime
    leg: str | None
    severity: int | None
    note: str | None
    zone: tzinfo


def log_cramp(app: App, *, when: str | None, leg: str | None, severity: int | None,
              note: str | None) -> CrampReport:
    if severity is not None and not 1 <= severity <= 5:
        raise CrampguardError(f"--severity: give 1 (mild) to 5 (worst) (got {severity})")
    if leg is not None and leg not in LEGS:
        raise CrampguardError(f"--leg: give one of {', '.join(LEGS)} (got {leg!r})")
    now, zone = clock.now(), app.settings.zone
    at = parse_when(when, now, zone) if when else now
    if at > now:
        raise CrampguardError("--when: a cramp cannot be logged in the future")
    with _journal(app) as journal:
        event_id = journal.log_cramp(when=at, at=now, leg=leg, severity=severity, note=note)
    return CrampReport(event_id, at, leg, severity, note, zone)


def parse_when(text: str, now: datetime, zone: tzinfo) -> datetime:
    """ISO 8601 (a naive value is local), "HH:MM" (the last time the clock showed it),
    "last night" (03:00 of the night just gone), "now"."""
    words = text.strip().lower()
    local = now.astimezone(zone)
    if words == "now":
        return now
    if words == "last night":
        day = local.date() if local.time() >= time(3) else local.date() - timedelta(days=1)
        return resolve(datetime.combine(day, time(3)), zone)
    try:
        bare = grammar.parse_clock(words)
    except ValueError:
        bare = None
    if bare is not None:  # a clock time: the last time the clock showed it
        wall = datetime.combine(local.date(), bare)
        instant = resolve(wall, zone)
        return instant if instant <= now else resolve(wall - timedelta(days=1), zone)
    return parse_instant(text, zone, "--when",
                         hint='write "last night", "02:30" or ISO 8601 like "2026-11-22T02:30"')


def _positive(value: int, flag: str) -> None:
    if value < 1:
        raise CrampguardError(f"{flag}: give a number of days of 1 or more")
