"""`report`: a period of the journal as one HTML page, or its pictures as a PNG.

The edges of scheduler/report/: the period from the options, the clock read once, the
journal read (never written), and the file written whole or not at all
(``cli/replacing.py``). The drawing libraries load here, only for this command.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import threading
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from scheduler import __version__, clock, i18n
from scheduler.cli import times
from scheduler.cli.parsing import Group, context, json_option, period_options
from scheduler.cli.replacing import regular_target, replacing
from scheduler.cli.results import ReportWritten
from scheduler.errors import CrampguardError
from scheduler.i18n import _

if TYPE_CHECKING:
    from scheduler.config.context import Context
    from scheduler.report.model import ReportModel

FORMATS = {".html": "html", ".png": "png"}
#: How much of an existing page is read for the generator marker (it is in the <head>).
_MARKER_REACH = 4096


def add_parsers(group: Group) -> None:
    p = group.add("report", _report,
                  _("a month at a glance: an HTML page (or PNG) to keep or print"),
                  _("Write one self-contained HTML page (it opens from the file, with no "
                  "network) about a period: a calendar with a row per enabled routine "
                  "(done, skipped, missed, held, not due), the nights (cramp, no cramp, "
                  "unknown) under the evening routines, the comparison `stats` makes for "
                  "each evening routine, and for each routine the documented step it puts "
                  "into practice with what published studies found. With --out FILE.png, "
                  "the same pictures as an image. It prints cleanly and reads in a dark "
                  "theme."))
    period_options(p, _("; default 30"))
    p.add_argument("--out", metavar="FILE", type=Path,
                   help=_("FILE.html, or FILE.png for the pictures as an image (default "
                        "crampguard-report-LAST-DAY.html here); an existing file that "
                        "crampguard did not write is never replaced"))
    json_option(p, _("print what was written as JSON"))


def _report(args: argparse.Namespace) -> ReportWritten:
    return report(context(args), days=args.days, start=args.start, end=args.end,
                  out=args.out)


def report(ctx: Context, *, days: int | None, start: str | None, end: str | None,
           out: Path | None) -> ReportWritten:
    now, zone = clock.now(), ctx.settings.zone
    today = now.astimezone(zone).date()
    span = times.period(days=days, start=start, end=end, today=today, default_days=30)
    assert span is not None  # a default is given
    if span.last > today:
        raise CrampguardError(_("--to {last} is after today ({today}): a report covers days "
                                "that have begun; leave --to out to end with today").format(
                                    last=span.last, today=today))
    target, fmt = _target(out, span.last)
    label = f"--out {out}" if out is not None else str(target)
    drawing = _import_in_background("scheduler.report.picture") if fmt == "png" else None
    made, note = now.astimezone(zone), None
    if drawing is not None:
        drawing.join()
        from scheduler.report import picture

        drawable, note = picture.can_draw(i18n.language())
        # Without a font for the user's language, English rather than boxes for letters.
        with contextlib.nullcontext() if drawable else i18n.english():
            built, problems = collect(ctx, span, now)
            data = picture.render(built, made=made, version=__version__)
    else:
        built, problems = collect(ctx, span, now)
        from scheduler.report import html

        data = html.render(built, made=made, version=__version__).encode("utf-8")
    with replacing(target, label=label, text=False) as f:
        f.write(data)
    return ReportWritten(target, fmt, span.first, span.last, str(zone), len(built.routines),
                         built.night_counts, built.nights_ahead, problems,
                         note=_(note) if note else None)


def collect(ctx: Context, span: times.Period, now: datetime) -> tuple[ReportModel, list[str]]:
    """The report's model for the days of ``span`` as the journal has them at ``now``, and
    the problems of the routine files left out."""
    from scheduler.journal import stats
    from scheduler.journal.events import CRAMP_LOG
    from scheduler.journal.store import Journal
    from scheduler.report import model

    zone = ctx.settings.zone
    # A period in the past is counted up to the end of its last day: the rules `stats`
    # applies at "now" apply there, so the two agree over the same days.
    window = stats.window(now=min(now, _end_of(span.last, zone)), zone=zone, days=span.days)
    found = ctx.load_routines()
    with Journal.read(ctx.paths.journal) as journal:
        facts = model.Facts(tally=journal.tally(window), days=journal.day_counts(window),
                            cramp_log=journal.events(since=window.start, kinds=CRAMP_LOG))
    built = model.build(window, found.routines.values(), ctx.catalog, ctx.evidence, facts)
    return built, list(found.problems)


def _import_in_background(module: str) -> threading.Thread:
    """matplotlib takes half a second to import, about as long as SQLite takes to count a
    year, which it does without holding the GIL: the two overlap. A failed import is
    raised again by the import after ``join``."""
    def load() -> None:
        try:
            importlib.import_module(module)
        except BaseException:  # noqa: B036 - raised again in the main thread
            pass

    thread = threading.Thread(target=load, name=f"import {module}", daemon=True)
    thread.start()
    return thread


def default_name(last: date) -> str:
    return f"crampguard-report-{last.isoformat()}.html"


def _target(out: Path | None, last: date) -> tuple[Path, str]:
    """Where to write, and the format; an existing file is replaced only when the user
    named it (--out) or crampguard wrote it (the generator marker)."""
    if out is None:
        target = Path.cwd() / default_name(last)
        regular_target(target, str(target))  # reading a FIFO to look for the marker would hang
        if target.exists() and not _ours(target):
            raise CrampguardError(
                _("{target} exists and was not written by crampguard; it is left as it is. "
                  "Name the file to write with --out FILE.html (an --out file is replaced)").format(
                      target=target))
        return target, "html"
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise CrampguardError(_("--out: {out} ends in neither .html (the page) nor .png (the "
                                "pictures as an image); name it FILE.html or FILE.png").format(
                                    out=out))
    if out.is_dir():
        raise CrampguardError(_("--out: {out} is a folder; give a file name in it, e.g. "
                                "{out2}").format(out=out, out2=out / default_name(last)))
    if not out.parent.is_dir():
        raise CrampguardError(_("--out: no folder {parent}; create it, or write the report "
                                "somewhere else").format(parent=out.parent))
    regular_target(out, f"--out {out}")
    return out.absolute(), fmt


def _ours(path: Path) -> bool:
    from scheduler.report.html import GENERATOR

    try:
        with path.open("rb") as f:
            head = f.read(_MARKER_REACH)
    except OSError:
        return False
    return f'<meta name="generator" content="{GENERATOR}'.encode() in head


def _end_of(day: date, zone: tzinfo) -> datetime:
    """The last instant of a local day (in UTC: wall-clock arithmetic would go wrong on a
    day that ends with a clock change)."""
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return midnight.astimezone(UTC) - timedelta(microseconds=1)
