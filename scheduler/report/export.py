"""`crampguard export`: journal events as rows with stable names, written as CSV or JSON.

Pure: the journal's stored rows and a zone in, text out to a stream the caller opened
(the CLI picks the file or standard output). The rules, which the README's "Exporting the
journal" repeats:

- A period is whole local days: an event belongs to a day by when it was *recorded*
  (``at``), in the zone of the settings. A cramp logged on the morning of the 2nd about
  the night of the 1st is in the 2nd; its ``when`` and ``night`` say what it is about.
  Recording time is the one every event has, and it never moves: the same period always
  exports the same rows.
- Times are local with their UTC offset, ISO 8601 to the second
  (``2026-10-25T02:30:00+02:00``, then ``2026-10-25T02:30:00+01:00`` an hour later): the
  hour that happens twice stays in order and unambiguous.
- ``COLUMNS`` never change meaning; a new detail field goes into ``detail`` (the whole
  detail, as JSON) before it gets a column of its own, and new columns go before
  ``detail``, which stays last.
- CSV (RFC 4180, as Python's csv module writes it: ``\\r\\n``, quotes where needed) starts
  with a UTF-8 byte-order mark, which Excel needs to read UTF-8 and other readers skip
  (Python: ``encoding="utf-8-sig"``). A text cell that starts with ``= + - @``, a tab or
  a carriage return is prefixed with ``'`` (OWASP's advice against formula injection), so
  a note typed as "=1+1" shows as text in a spreadsheet; JSON carries text unchanged.
- JSON is an array of objects with the same keys, ``null`` where empty; ``detail`` there
  is an object.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Protocol

from scheduler.timing.wallclock import resolve

if TYPE_CHECKING:
    from scheduler.journal.store import Stored

FORMATS = ("csv", "json")

#: The detail fields with a column of their own: what people filter and count by.
DETAIL_COLUMNS = ("when", "night", "leg", "severity", "count", "note", "source", "until",
                  "reason", "error", "manual", "repeat")
COLUMNS = ("id", "recorded_at", "kind", "routine", "due", "backend", *DETAIL_COLUMNS,
           "detail")
#: Detail fields that hold an instant (stored in UTC): exported in local time.
TIME_FIELDS = ("when", "until")
#: What a spreadsheet may take for the start of a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Excel reads a CSV file as UTF-8 only when it starts with this.
BOM = "\ufeff"
#: Rows handed to the stream at a time: few writes, little held in memory.
BATCH = 1000

#: A row: the values in ``COLUMNS`` order, ``None`` where empty; ``detail`` a dict.
Row = tuple[Any, ...]
_NO_DETAIL: Row = (None,) * (len(DETAIL_COLUMNS) + 1)
_SECOND = 1_000_000  # the journal's microseconds


def bounds(first: date, last: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The instants local day ``first`` starts and the day after ``last`` starts: an
    event belongs to the period when ``start <= at < end``. A midnight that the clock
    skips (a DST change at 00:00) starts its day at the first instant after the jump."""
    start = resolve(datetime.combine(first, time()), zone)
    end = resolve(datetime.combine(last + timedelta(days=1), time()), zone)
    return start, end


def local(moment: datetime, zone: tzinfo) -> str:
    """An instant as local ISO 8601 text with its offset, to the second."""
    return moment.astimezone(zone).isoformat(timespec="seconds")


def rows(stored: Iterable[Stored], zone: tzinfo) -> Iterator[Row]:
    """One row per journal row (``Journal.between``), in the order given.

    A year is ~100,000 rows against a budget of a second, so this works on the stored
    values (microseconds since the epoch), not on ``Event`` objects, and turns each
    second into text once: a reminder's due instant comes back in each of its events.
    """
    texts: dict[int, str] = {}
    from_seconds = datetime.fromtimestamp

    def text(second: int) -> str:
        if len(texts) > 4096:  # rows come in time order: the old ones are done with
            texts.clear()
        found = texts[second] = from_seconds(second, zone).isoformat()
        return found

    for id_, at, kind, routine, due, backend, stored_detail in stored:
        second = at // _SECOND
        at_text = texts.get(second) or text(second)
        if due is None:
            due_text = None
        else:
            second = due // _SECOND
            due_text = texts.get(second) or text(second)
        head = (id_, at_text, kind, routine, due_text, backend)
        detail = json.loads(stored_detail) if stored_detail else None
        if not detail:
            yield head + _NO_DETAIL
            continue
        detail = {key: _local_text(value, zone) if key in TIME_FIELDS else value
                  for key, value in detail.items()}
        yield head + tuple(detail.get(name) for name in DETAIL_COLUMNS) + (detail,)


def entry(row: Row) -> dict[str, Any]:
    """A row as an object keyed by ``COLUMNS`` (the JSON form)."""
    return dict(zip(COLUMNS, row, strict=True))


def _local_text(value: Any, zone: tzinfo) -> Any:
    """A stored instant ("2026-10-25T00:30:00+00:00") as local text; anything else (an
    older entry's odd value) as it was."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return local(moment, zone)


class Sink(Protocol):
    """Where the text goes: a file opened with ``newline=""`` (CSV's line ends are its
    own), or an adapter that encodes to standard output's bytes."""

    def write(self, text: str, /) -> object: ...


def write(rows: Iterable[Row], fmt: str, out: Sink) -> int:
    """Write ``rows`` to ``out`` as ``fmt``, a batch at a time; returns how many."""
    if fmt == "csv":
        line = _csv_lines()
        return _write(rows, out, BOM + line(COLUMNS), line, "", "")
    if fmt == "json":
        return _write(rows, out, "[", _json_line, ",", "\n]\n", empty="[]\n")
    raise ValueError(f"unknown format {fmt!r}; give one of {FORMATS}")


def _write(rows: Iterable[Row], out: Sink, first: str, line: Callable[[Row], str],
           between: str, last: str, *, empty: str | None = None) -> int:
    batch = [first]
    count = 0
    for row in rows:
        batch.append(f"{between if count else ''}{line(row)}")
        count += 1
        if count % BATCH == 0:
            out.write("".join(batch))
            batch.clear()
    if count == 0 and empty is not None:
        batch = [empty]
    else:
        batch.append(last)
    out.write("".join(batch))
    return count


# Most rows are a reminder's events without detail: a number, two times and names. Those
# are written from a template (no quoting, no escaping needed), four times faster than
# the csv and json modules; any other row goes through the modules.
_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*").fullmatch  # no quotes, commas, escapes
_plain_names: dict[tuple[str, str | None, str | None], bool] = {}


def _plain(row: Row) -> bool:
    """A row without detail whose kind, routine and backend are plain names."""
    if row[-1] is not None:
        return False
    names = row[2], row[3], row[5]
    known = _plain_names.get(names)
    if known is None:
        known = _plain_names[names] = all(name is None or _PLAIN_NAME(name) is not None
                                          for name in names)
    return known


_CSV_TAIL = "," * (len(COLUMNS) - 6) + "\r\n"  # the empty cells after backend


def _csv_lines() -> Callable[[Row], str]:
    """A maker of CSV records (RFC 4180, ``\\r\\n``), formulas made text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(row: Row) -> str:
        if _plain(row):
            id_, at, kind, routine, due, backend = row[:6]
            return f"{id_},{at},{kind},{routine or ''},{due or ''},{backend or ''}{_CSV_TAIL}"
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(value) for value in row])
        return buffer.getvalue()

    return line


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, int | float) and not isinstance(value, bool):
        return value  # the csv module writes None as an empty cell
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):  # the detail column, a list in a detail field
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "'" + value if value.startswith(FORMULA_START) else value


_JSON_TAIL = "".join(f', "{name}": null' for name in DETAIL_COLUMNS) + ', "detail": null}'


def _json_line(row: Row) -> str:
    """One object on a line of its own."""
    if _plain(row):
        id_, at, kind, routine, due, backend = row[:6]
        return (f'\n{{"id": {id_}, "recorded_at": "{at}", "kind": "{kind}", '
                f'"routine": {_json_name(routine)}, "due": {_json_name(due)}, '
                f'"backend": {_json_name(backend)}{_JSON_TAIL}')
    return "\n" + json.dumps(entry(row), ensure_ascii=False)


def _json_name(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'
