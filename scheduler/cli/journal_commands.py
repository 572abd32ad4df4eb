"""`history`, `stats`, `log-cramp` and `log EVENT`: the journal read and written straight
from the CLI (SQLite in WAL mode lets it do so while the daemon writes)."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from scheduler import clock
from scheduler.cli.parsing import Group, context, json_option
from scheduler.cli.results import CrampReport, EventReport, HistoryReport, NightReport, StatsReport
from scheduler.cli.times import DAYS, NOTE_CHARACTERS, parse_when, years_help
from scheduler.errors import CrampguardError
from scheduler.i18n import _
from scheduler.journal.events import USER_EVENTS, future_problem, severity_problem
from scheduler.timing.grammar import format_day

if TYPE_CHECKING:
    from scheduler.config.context import Context

LEGS = ("left", "right", "both")


def add_parsers(group: Group) -> None:
    p = group.add("history", _history, _("show the journal, newest first"),
                  _("The journal, newest first, in local time: reminders due, delivered, "
                  "missed, done, snoozed, skipped; pauses; config errors; cramps."))
    p.add_argument("--days", type=int, default=7, metavar="N",
                   help=_("how far back, {range} days (default 7)").format(range=DAYS))
    p.add_argument("--routine", metavar="ID", help=_("only this routine"))
    json_option(p)

    p = group.add("stats", _stats, _("how well you kept each routine, and cramp nights"),
                  _("Per routine: due, delivered, done, snoozed, skipped, missed, adherence "
                  "(done / due) and the current streak of days done. Then the nights (local "
                  "noon to noon) with a cramp, without one (answered at the morning "
                  "check-in or `log-cramp --none`) and unknown (nothing logged); and for "
                  "each evening routine the cramp rate on nights it was done versus nights "
                  "it was not, over known nights only, with the counts behind each rate (no "
                  "claim when there are too few nights)."))
    p.add_argument("--days", type=int, default=30, metavar="N",
                   help=_("how far back, {range} days (default 30)").format(range=DAYS))
    json_option(p)

    p = group.add("log-cramp", _log_cramp, _("record a leg cramp, or a night without one"),
                  _("Record a leg cramp in the journal (default: now), or with --none a night "
                  "without cramps (default: the night just gone), as the morning check-in's "
                  "buttons do. Nights run from local noon to noon; the latest answer about "
                  "a night wins."))
    p.add_argument("--when", metavar="TIME",
                   help=_('"last night", "02:30" (the last time the clock showed it), or '
                          "ISO 8601 {years}; not in the future; with --none, the night "
                          "that TIME falls in").format(years=years_help()))
    p.add_argument("--none", action="store_true",
                   help=_("no cramp that night (not with --leg or --severity)"))
    p.add_argument("--leg", choices=LEGS)
    p.add_argument("--severity", type=int, metavar="1-5", help=_("1 mild to 5 worst"))
    p.add_argument("--note", metavar="TEXT")
    json_option(p)

    p = group.add("log", _log_event, _("record something you did: log workout"),
                  _("Record an event in the journal: `log workout` (default: now). Routines "
                  'with after = "workout + 1h" fire that long after it. The running daemon '
                  "is told at once; one that is not running reads the journal when it "
                  "starts."))
    p.add_argument("event", metavar="EVENT",
                   help=_("one of: {events}").format(events=", ".join(USER_EVENTS)))
    p.add_argument("--when", metavar="TIME",
                   help=_('"18:30" (the last time the clock showed it) or ISO 8601 '
                          "{years}; not in the future; default now").format(years=years_help()))
    json_option(p)


def _history(args: argparse.Namespace) -> HistoryReport:
    return history(context(args), days=args.days, routine=args.routine)


def _stats(args: argparse.Namespace) -> StatsReport:
    return stats(context(args), days=args.days)


def _log_cramp(args: argparse.Namespace) -> CrampReport | NightReport:
    return log_cramp(context(args), when=args.when, leg=args.leg, severity=args.severity,
                     note=args.note, none=args.none)


def _log_event(args: argparse.Namespace) -> EventReport:
    return log_event(context(args), args.event, when=args.when)


def _journal(ctx: Context) -> Any:
    from scheduler.journal.store import Journal

    return Journal.open(ctx.paths.journal)


def _reader(ctx: Context) -> Any:
    """The journal to read: no write access needed, and no file made when there is none."""
    from scheduler.journal.store import Journal

    return Journal.read(ctx.paths.journal)


def history(ctx: Context, *, days: int, routine: str | None = None) -> HistoryReport:
    DAYS.check(days, "--days")
    zone = ctx.settings.zone
    with _reader(ctx) as journal:
        events = journal.events(since=clock.now() - timedelta(days=days), routine=routine)
        ever = bool(events) or routine is None or bool(journal.events(routine=routine,
                                                                      limit=1))
    if not ever:
        known = ctx.load_routines().routines
        if routine not in known:  # neither a routine now nor one the journal ever saw
            raise CrampguardError(_("--routine: no routine {routine!r}; known ids: {value}").format(
                routine=routine, value=', '.join(sorted(known)) or 'none'))
    return HistoryReport(events, zone)


def stats(ctx: Context, *, days: int) -> StatsReport:
    from scheduler.journal import stats as compute

    DAYS.check(days, "--days")
    now, zone = clock.now(), ctx.settings.zone
    window = compute.window(now=now, zone=zone, days=days)
    with _reader(ctx) as journal:
        tally = journal.tally(window)  # counted in SQL: a year is ~100k events
    return StatsReport(
        days=days,
        routines=compute.routine_stats(tally, now=now, zone=zone, days=days),
        cramps=compute.cramp_relation(tally, evening_routines(ctx), now=now, zone=zone,
                                      days=days),
        cramp_count=sum(window.start <= c <= now for c in tally.cramps),
        nights=compute.night_counts(tally, now=now, zone=zone, days=days),
    )


def evening_routines(ctx: Context) -> list[str]:
    """Routines that put an evening or night step of the catalog into practice."""
    catalog = ctx.catalog
    return sorted(r.id for r in ctx.load_routines().routines.values() if catalog.is_evening(r))


def log_cramp(ctx: Context, *, when: str | None, leg: str | None, severity: int | None,
              note: str | None, none: bool = False) -> CrampReport | NightReport:
    if none:
        if leg is not None or severity is not None:
            raise CrampguardError(_("--none: a night without cramps has no --leg or "
                                    "--severity; leave --none out to log a cramp"))
        return log_quiet_night(ctx, when=when, note=note)
    if problem := severity_problem(severity):
        raise CrampguardError(_("--severity: {problem}").format(problem=problem))
    _check_note(note)
    if leg is not None and leg not in LEGS:
        raise CrampguardError(_("--leg: give one of {legs} (got {leg!r})").format(
            legs=', '.join(LEGS), leg=leg))
    now, zone = clock.now(), ctx.settings.zone
    at = parse_when(when, now, zone) if when else now
    if problem := future_problem(at, now):
        raise CrampguardError(_("--when: {problem}").format(problem=problem))
    with _journal(ctx) as journal:
        event_id = journal.log_cramp(when=at, at=now, leg=leg, severity=severity, note=note)
    return CrampReport(event_id, at, leg, severity, note, zone, skipped_wall_time(when, at, zone))


def log_quiet_night(ctx: Context, *, when: str | None, note: str | None) -> NightReport:
    """`log-cramp --none`: the night just gone (or the night ``when`` falls in) had no
    cramp; the same answer as the morning check-in's "No cramps"."""
    _check_note(note)
    from scheduler.journal.nights import night_before, night_of

    now, zone = clock.now(), ctx.settings.zone
    if when:
        moment = parse_when(when, now, zone)
        if problem := future_problem(moment, now, "a night"):
            raise CrampguardError(_("--when: {problem}").format(problem=problem))
        night = night_of(moment, zone)
        if night > night_before(now, zone):
            raise CrampguardError(_("--when: the night of {night} is still ahead; a quiet "
                                    "night is recorded the morning after").format(night=night))
    else:
        night = night_before(now, zone)
    with _journal(ctx) as journal:
        event_id = journal.log_night(night, "none", at=now, source="cli", note=note)
    return NightReport(event_id, night)


def log_event(ctx: Context, name: str, *, when: str | None) -> EventReport:
    """`log workout`: into the journal, then to the running daemon if there is one."""
    from scheduler.cli.daemon_commands import tell_event

    if name not in USER_EVENTS:
        raise CrampguardError(_("EVENT: give one of {user_events} (got {name!r})").format(
            user_events=', '.join(USER_EVENTS), name=name))
    now, zone = clock.now(), ctx.settings.zone
    at = parse_when(when, now, zone) if when else now
    if problem := future_problem(at, now, f"a {name}"):
        raise CrampguardError(_("--when: {problem}").format(problem=problem))
    with _journal(ctx) as journal:
        event_id = journal.log_event(name, when=at, at=now, source="cli")
    return EventReport(event_id, name, at, zone, tell_event(ctx, name, at),
                       skipped_wall_time(when, at, zone))


def _check_note(note: str | None) -> None:
    if note is not None and len(note) > NOTE_CHARACTERS:
        raise CrampguardError(_("--note: at most {note_characters} characters (got {n}); "
                                "keep it to a line or two").format(
                                    note_characters=NOTE_CHARACTERS, n=len(note)))


def skipped_wall_time(text: str | None, at: datetime, zone: tzinfo) -> str | None:
    """What to tell when ``text`` named a wall time the clock never showed that day (the
    hour skipped when clocks go forward): ``parse_when`` moved it on to ``at``, a time that
    exists, and a log that silently holds another time than the one typed misleads."""
    from scheduler.timing import grammar

    if not text:
        return None
    local = at.astimezone(zone)
    try:
        meant = datetime.combine(local.date(), grammar.parse_clock(text))
    except ValueError:
        try:
            meant = datetime.fromisoformat(text.strip())
        except ValueError:
            return None  # "last night", "now": a time crampguard chose
        if meant.tzinfo is not None:
            return None  # an offset names one instant: nothing was moved
    shown = local.replace(tzinfo=None)
    if shown == meant:
        return None
    return _("{meant} did not exist on {day} (the clocks went forward); recorded "
             "{shown}").format(meant=_wall(meant), day=format_day(meant.date()),
                               shown=_wall(shown))


def _wall(moment: datetime) -> str:
    return f"{moment:%H:%M:%S}" if moment.second else f"{moment:%H:%M}"
