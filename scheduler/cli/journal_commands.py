"""`history`, `stats` and `log-cramp`: the journal read and written straight from the CLI
(SQLite in WAL mode lets it do so while the daemon writes)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from scheduler import clock
from scheduler.cli.results import CrampReport, HistoryReport, StatsReport
from scheduler.cli.times import DAYS, parse_when
from scheduler.config.context import Context
from scheduler.errors import CrampguardError
from scheduler.journal.events import future_problem, severity_problem

#: Catalog "when" values that make a routine part of the evening routine.
EVENING_STEPS = ("bedtime", "night")
LEGS = ("left", "right", "both")


def _journal(ctx: Context) -> Any:
    from scheduler.journal.store import Journal

    return Journal.open(ctx.paths.journal)


def history(ctx: Context, *, days: int, routine: str | None = None) -> HistoryReport:
    DAYS.check(days, "--days")
    zone = ctx.settings.zone
    with _journal(ctx) as journal:
        events = journal.events(since=clock.now() - timedelta(days=days), routine=routine)
    return HistoryReport(events, zone)


def stats(ctx: Context, *, days: int) -> StatsReport:
    from scheduler.journal import stats as compute

    DAYS.check(days, "--days")
    now, zone = clock.now(), ctx.settings.zone
    window = compute.window(now=now, zone=zone, days=days)
    with _journal(ctx) as journal:
        tally = journal.tally(window)  # counted in SQL: a year is ~100k events
    return StatsReport(
        days=days,
        routines=compute.routine_stats(tally, now=now, zone=zone, days=days),
        cramps=compute.cramp_relation(tally, evening_routines(ctx), now=now, zone=zone,
                                      days=days),
        cramp_count=sum(window.start <= c <= now for c in tally.cramps),
    )


def evening_routines(ctx: Context) -> list[str]:
    """Routines that put an evening or night step of the catalog into practice."""
    active = ctx.load_routines()
    catalog = ctx.catalog
    evening = []
    for routine in active.routines.values():
        steps = [catalog.get(s) for s in routine.seed]
        if any(step is not None and step.when in EVENING_STEPS for step in steps):
            evening.append(routine.id)
    return sorted(evening)


def log_cramp(ctx: Context, *, when: str | None, leg: str | None, severity: int | None,
              note: str | None) -> CrampReport:
    if problem := severity_problem(severity):
        raise CrampguardError(f"--severity: {problem}")
    if leg is not None and leg not in LEGS:
        raise CrampguardError(f"--leg: give one of {', '.join(LEGS)} (got {leg!r})")
    now, zone = clock.now(), ctx.settings.zone
    at = parse_when(when, now, zone) if when else now
    if problem := future_problem(at, now):
        raise CrampguardError(f"--when: {problem}")
    with _journal(ctx) as journal:
        event_id = journal.log_cramp(when=at, at=now, leg=leg, severity=severity, note=note)
    return CrampReport(event_id, at, leg, severity, note, zone)
