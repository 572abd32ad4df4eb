"""`export`: every journal entry in a period, as CSV or JSON (the rules: report/export.py).

The journal is read, never written (it need not be writable, and none is made when there
is none yet: the export is then empty, still with its header). Entries are written as
they are read: a year of 100,000 is never held in memory. ``--out`` replaces the file
whole or not at all (cli/replacing.py).
"""

from __future__ import annotations

import argparse
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from scheduler import clock
from scheduler.cli.parsing import Group, context, period_options
from scheduler.cli.replacing import regular_target, replacing
from scheduler.cli.results import ExportData, ExportReport
from scheduler.cli.times import Period, period
from scheduler.errors import CrampguardError
from scheduler.i18n import _

if TYPE_CHECKING:
    from scheduler.config.context import Context
    from scheduler.report.export import Sink


def add_parsers(group: Group) -> None:
    p = group.add("export", _export, _("the journal as CSV or JSON, for a spreadsheet"),
                  _("Every journal entry in the period (default: all of it), one row each, "
                  "oldest first, in local time with the UTC offset. The columns are listed "
                  "in the README and stay stable; CSV opens in a spreadsheet as it is."))
    p.add_argument("--format", choices=("csv", "json"), default="csv",
                   help=_("csv (default) or json (an array of objects with the same names)"))
    period_options(p, _("; default: the whole journal"))
    p.add_argument("--out", metavar="FILE", type=Path,
                   help=_("write to FILE (replacing it) instead of standard output"))


def _export(args: argparse.Namespace) -> ExportData | ExportReport:
    return export(context(args), fmt=args.format, days=args.days, start=args.start,
                  end=args.end, out=args.out)


def export(ctx: Context, *, fmt: str, days: int | None, start: str | None, end: str | None,
           out: Path | None) -> ExportData | ExportReport:
    zone = ctx.settings.zone
    span = period(days=days, start=start, end=end,
                  today=clock.now().astimezone(zone).date(), default_days=None)
    if out is not None:
        _check_target(out)
    journal = ctx.paths.journal
    missing = None if journal.exists() else journal

    def write(sink: Sink) -> int:
        return _write(journal, span, zone, fmt, sink)

    if out is None:
        return ExportData(write, missing)
    with replacing(out, label=f"--out {out}", text=True) as sink:
        count = write(sink)
    return ExportReport(out, count, span.first if span else None, span.last if span else None,
                        missing)


def _write(journal: Path, span: Period | None, zone: tzinfo, fmt: str, sink: Sink) -> int:
    from scheduler.journal.store import Journal
    from scheduler.report import export

    start: datetime | None = None
    end: datetime | None = None
    if span is not None:
        start, end = export.bounds(span.first, span.last, zone)
    if not journal.exists():  # reading would make one: export the header alone
        return export.write([], fmt, sink)
    with Journal.read(journal) as j:
        return export.write(export.rows(j.between(start, end), zone), fmt, sink)


def _check_target(out: Path) -> None:
    """Fail before reading anything on a target that cannot be written."""
    folder = out.parent
    if not folder.is_dir():
        raise CrampguardError(_("--out {out}: there is no folder {folder}; create it, or "
                                "give a file in a folder that exists").format(
                                    out=out, folder=folder))
    if out.is_dir():
        raise CrampguardError(_("--out {out}: that is a folder; give a file name, "
                                "e.g. {out2}").format(
            out=out, out2=out / 'crampguard-journal.csv'))
    regular_target(out, f"--out {out}", hint="; to write the export into it, leave --out "
                                             f"out: `crampguard export > {out}`")
