"""`export`: every journal entry in a period, as CSV or JSON (the rules: report/export.py).

The journal is read, never written (it need not be writable, and none is made when there
is none yet: the export is then empty, still with its header). Entries are written as
they are read: a year of 100,000 is never held in memory. ``--out`` writes a temporary
file beside the target and renames it over the target, so a reader never sees half an
export and a failed export leaves the old file as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from pathlib import Path

from scheduler import clock
from scheduler.cli.results import ExportData, ExportReport
from scheduler.cli.times import Period, period
from scheduler.config.context import Context
from scheduler.errors import CrampguardError
from scheduler.report.export import Sink


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
    with _replacing(out) as sink:
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
        raise CrampguardError(f"--out {out}: there is no folder {folder}; create it, or "
                              "give a file in a folder that exists")
    if out.is_dir():
        raise CrampguardError(f"--out {out}: that is a folder; give a file name, e.g. "
                              f"{out / 'crampguard-journal.csv'}")


@contextmanager
def _replacing(out: Path) -> Iterator[Sink]:
    """A file that takes ``out``'s place once everything is written (private: the journal
    is health data), or is removed if anything fails."""
    try:
        fd, temp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    except OSError as exc:
        raise CrampguardError(f"--out {out}: cannot write in {out.parent} ({exc.strerror}); "
                              "give a file in a folder you can write") from None
    try:
        with open(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, out)
    except OSError as exc:
        os.unlink(temp)
        raise CrampguardError(f"--out {out}: writing failed ({exc.strerror or exc}); "
                              "nothing was changed there") from None
    except BaseException:
        os.unlink(temp)
        raise
