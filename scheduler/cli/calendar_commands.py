"""`calendar export` and `calendar sync`: what `next` shows, for the phone's calendar,
whose alarms ring with the computer off. The calendar's libraries are imported by these
commands only (and by a daemon whose settings have a ``[calendar]`` table)."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from scheduler import clock
from scheduler.cli import times
from scheduler.cli.parsing import Group, context, json_option
from scheduler.cli.results import CalendarExportReport, CalendarSyncReport, ExportData
from scheduler.errors import CrampguardError
from scheduler.i18n import _

if TYPE_CHECKING:
    from scheduler.calendar.items import Firing
    from scheduler.config.context import Context

#: `calendar export --days`: as far as the daemon's sync may reach
CALENDAR_DAYS = times.Range(1, 60, "a number of days")


def add_parsers(group: Group) -> None:
    p = group.add("calendar", lambda args: None, _("put the reminders in your phone's calendar"),
                  _("Your reminders as calendar items whose alarms ring on the phone, with the "
                  "computer off: an .ics file to import (export), or a CalDAV calendar kept "
                  "in step (sync, and the daemon on its own when config.toml has a "
                  "[calendar] table)."))
    actions = group.actions(p)
    e = actions.add("export", _export, _("write the next days' reminders as an .ics file"),
                    _("Write the next N days of what `crampguard next` shows as iCalendar: one "
                    "event (or to-do, for a routine with calendar = \"todo\") per firing, at "
                    "its local time in its zone, with an alarm then. Importing it again "
                    "updates the same items instead of adding copies. Firings held by quiet "
                    "hours are left out, and so are follow-ups not yet planned."))
    e.add_argument("--days", type=int, default=None, metavar="N",
                   help=_("how many days ahead, {range} (default: the [calendar] "
                          "table's days, else 14)").format(range=CALENDAR_DAYS))
    e.add_argument("--from", dest="start", metavar="TIME",
                   help=_("start here instead of now: ISO 8601, as for `next --from`"))
    e.add_argument("--out", type=Path, metavar="FILE.ics",
                   help=_("write FILE (replaced whole) instead of standard output"))
    json_option(e, _("with --out, print {file, items, first, last} as JSON"))
    s = actions.add("sync", _sync, _("bring the CalDAV calendar of config.toml in step now"),
                    _("Write the next days' reminders to the CalDAV calendar named in "
                    "config.toml's [calendar] table, update what changed, delete what no "
                    "longer fires; items crampguard did not write are never touched. To-dos "
                    "completed on the phone are recorded as done by the running daemon, at "
                    "its next sync."))
    json_option(s, _("print {url, put, deleted, unchanged, completed, seconds} as JSON"))


def _export(args: argparse.Namespace) -> ExportData | CalendarExportReport:
    return export(context(args), days=args.days, start=args.start, out=args.out)


def _sync(args: argparse.Namespace) -> CalendarSyncReport:
    return sync(context(args))


def export(ctx: Context, *, days: int | None, start: str | None,
           out: Path | None) -> ExportData | CalendarExportReport:
    from scheduler.calendar import items
    from scheduler.cli.replacing import replacing

    zone = ctx.settings.zone
    now = clock.now(zone)
    begin = times.parse_instant(start, zone, "--from") if start else now
    if days is None:
        days = ctx.settings.calendar.days if ctx.settings.calendar else 14
    CALENDAR_DAYS.check(days, "--days")
    firings = [f for f in _wanted(ctx, begin, days) if f.due >= begin]
    body = items.calendar(firings, zone, now)
    if out is None:
        def write(sink: object) -> int:
            sink.write(body.decode("utf-8"))  # type: ignore[attr-defined]
            return len(firings)

        return ExportData(write)
    with replacing(out, label=f"--out {out}", text=False) as sink:
        sink.write(body)
    return CalendarExportReport(out, len(firings), begin, begin + timedelta(days=days))


def sync(ctx: Context) -> CalendarSyncReport:
    from scheduler.calendar.collection import open_collection
    from scheduler.calendar.sync import sync as run_sync

    settings = ctx.settings
    if settings.calendar is None:
        raise CrampguardError(
            _("no calendar to sync: {file} has no [calendar] table; add one "
              'with url = "https://…/your-calendar/", user = "…" and password_file = "~/…" '
              "(the README's Settings list them)").format(file=ctx.paths.config_file))
    now = clock.now()
    firings = _wanted(ctx, now, settings.calendar.days)
    collection = open_collection(settings.calendar)
    try:
        result = run_sync(collection, firings, settings.zone, now)
    finally:
        collection.close()
    return CalendarSyncReport(settings.calendar.url, result.put, result.deleted,
                              result.unchanged, len(result.completed), result.seconds)


def _wanted(ctx: Context, now: datetime, days: int) -> list[Firing]:
    """The firings to write, with the journal's answers and the planned follow-ups and
    skips (none without a journal: it is only read, never made)."""
    from scheduler.calendar.sync import LOOKBACK, wanted
    from scheduler.journal.store import Journal

    active = ctx.load_routines()
    if active.problems:
        raise CrampguardError(active.problems)
    answered: dict[tuple[str, datetime], str] = {}
    pending: list[tuple[str, datetime]] = []
    skipped: list[tuple[str, datetime]] = []
    if ctx.paths.journal.exists():
        with Journal.read(ctx.paths.journal) as journal:
            for routine in active.enabled:
                answered.update(
                    ((r.routine, r.due), r.answer)
                    for r in journal.reminders(routine.id, since=now - LOOKBACK, limit=10_000)
                    if r.answer in ("done", "skipped"))
            pending = [(r.routine, r.due) for r in journal.pending()]
            skipped = [(r.routine, r.due) for r in journal.skipped(now)]
    return wanted(active.enabled, ctx.settings, now, days, answered=answered,
                  pending=pending, skipped=skipped)
