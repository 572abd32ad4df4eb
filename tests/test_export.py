"""`crampguard export`: the journal out as CSV or JSON, through the real CLI.

Journals are built with the journal's own writers (``Journal.record``, ``log_cramp``,
``log_night``, ``log_event``) in the isolated state folder; the export is read back with
the csv and json modules and held against ``Journal.events()``. Explicit instants in
Europe/Berlin: summer time starts 2026-03-29 (02:00 CET -> 03:00 CEST) and ends
2026-10-25 (03:00 CEST -> 02:00 CET, so 02:30 happens twice).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.journal.events import Event
from scheduler.journal.store import Journal
from scheduler.paths import JOURNAL_FILE
from scheduler.report.export import COLUMNS
from tests.support.faketime import FAKETIME_LIB, needs_faketime
from tests.support.fixtures import ROOT, Dirs

BERLIN = ZoneInfo("Europe/Berlin")
DETAIL_COLUMNS = COLUMNS[6:-1]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def berlin(text: str, *, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN, fold=fold)


def journal(dirs: Dirs) -> Journal:
    return Journal.open(dirs.state / JOURNAL_FILE)


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI; its output as it came (``daemon_proc.cli`` reads text, which would
    turn CSV's CRLF into LF), stdout bytes decoded as UTF-8 with nothing translated."""
    result = subprocess.run([sys.executable, "-m", "scheduler", *args], capture_output=True,
                            timeout=20, cwd=ROOT,
                            env={**(env or os.environ), "PYTHONPATH": str(ROOT)})
    return subprocess.CompletedProcess(result.args, result.returncode,
                                       result.stdout.decode("utf-8"),
                                       result.stderr.decode("utf-8"))


def export(*args: str) -> bytes:
    """The export's standard output; nothing may come on stderr."""
    result = cli("export", *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.encode("utf-8")


def csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM, for Excel
    text = data.decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(records[0]) == COLUMNS
    assert all(len(r) == len(COLUMNS) for r in records)
    # RFC 4180 line ends: every record ends in CRLF (a note's own newline is quoted).
    assert text.endswith("\r\n") and text.count("\r\n") >= len(records)
    return [dict(zip(COLUMNS, r, strict=True)) for r in records[1:]]


def json_rows(data: bytes) -> list[dict[str, Any]]:
    rows = json.loads(data)
    assert isinstance(rows, list)
    assert all(tuple(r) == COLUMNS for r in rows)
    return rows


def local(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(BERLIN).isoformat(timespec="seconds")


def expected(e: Event) -> dict[str, Any]:
    """What the README promises for one event, worked out here from the Event."""
    detail = {k: local(datetime.fromisoformat(v)) if k in ("when", "until") else v
              for k, v in e.detail.items()}
    return {"id": e.id, "recorded_at": local(e.at), "kind": e.kind, "routine": e.routine,
            "due": local(e.due), "backend": e.backend,
            **{name: detail.get(name) for name in DETAIL_COLUMNS}, "detail": detail or None}


def as_csv(row: dict[str, Any]) -> dict[str, str]:
    """The same row as CSV cells: empty for null, true/false, the detail as JSON, a text
    that a spreadsheet would take for a formula behind a '."""
    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        text = str(value)
        return "'" + text if isinstance(value, str) and text[:1] in "=+-@\t\r" and text \
            else text
    return {name: cell(value) for name, value in row.items()}


def a_month_of_everything(j: Journal) -> None:
    """One of each kind of entry the daemon and the CLI write, with their details."""
    due = berlin("2026-03-10T21:45")
    j.record("due", "foot-soak", at=due, due=due)
    j.record("delivered", "foot-soak", at=due.replace(second=1), due=due, backend="dbus")
    j.record("snoozed", "foot-soak", at=berlin("2026-03-10T21:50"), due=due,
             detail={"until": berlin("2026-03-10T22:00").astimezone(UTC).isoformat(),
                     "seconds": 600})
    j.record("repeated", "foot-soak", at=berlin("2026-03-10T22:00"), due=due, backend="dbus",
             detail={"repeat": 1})
    j.record("done", "foot-soak", at=berlin("2026-03-10T22:05:07.250000"), due=due)
    j.record("triggered", "calf-stretch", at=berlin("2026-03-11T12:00"),
             due=berlin("2026-03-11T12:00"), backend="console", detail={"manual": True})
    j.record("failed", "calf-stretch", at=berlin("2026-03-12T22:15"),
             due=berlin("2026-03-12T22:15"), detail={"error": "no notification server"})
    j.record("held", "calf-stretch", at=berlin("2026-03-13T22:15"),
             due=berlin("2026-03-13T22:15"), detail={"reason": "away (idle)", "waiting": True})
    j.record("paused", at=berlin("2026-03-14T13:00"),
             detail={"until": berlin("2026-03-14T15:00").astimezone(UTC)})
    j.record("resumed", at=berlin("2026-03-14T15:00"), detail={"reason": "crampguard resume"})
    j.record("config_error", at=berlin("2026-03-15T09:00"),
             detail={"problems": ["a.toml:3: schedule.at: not a time", "b, \"c\""]})
    j.log_cramp(when=berlin("2026-03-16T02:30"), at=berlin("2026-03-16T07:00"), leg="left",
                severity=4, note="=HYPERLINK(\"http://x\")")
    j.log_cramp(when=berlin("2026-03-17T03:00"), at=berlin("2026-03-17T07:00"),
                note="Wadenkrampf, \"stark\"\nzweite Zeile: ü")
    j.log_night(date(2026, 3, 17), "several", at=berlin("2026-03-18T07:15"), source="check-in")
    j.log_night(date(2026, 3, 18), "none", at=berlin("2026-03-19T07:15"), source="cli",
                note="-fine")
    j.log_event("workout", when=berlin("2026-03-19T18:30"), at=berlin("2026-03-19T19:00"),
                source="cli")
    # A journal is older than the id rules: a name a spreadsheet would run, with a comma.
    j.record("due", "=cmd|' /C calc'!A0, x", at=berlin("2026-03-20T08:00"))


def test_every_entry_comes_out_once_with_its_fields_in_csv_and_json(isolated: Dirs) -> None:
    with journal(isolated) as j:
        a_month_of_everything(j)
        events = list(reversed(j.events()))  # oldest first, as the export
    want = [expected(e) for e in events]
    assert len(want) == 17

    got = json_rows(export("--format", "json"))
    assert got == want
    assert csv_rows(export()) == [as_csv(row) for row in want]
    assert csv_rows(export("--format", "csv")) == [as_csv(row) for row in want]

    by_kind = {row["kind"]: row for row in got}
    # Spot checks of the promises, written out: local times with offsets, to the second.
    assert by_kind["done"]["recorded_at"] == "2026-03-10T22:05:07+01:00"
    assert by_kind["snoozed"]["until"] == "2026-03-10T22:00:00+01:00"
    assert by_kind["snoozed"]["detail"] == {"until": "2026-03-10T22:00:00+01:00",
                                            "seconds": 600}
    assert by_kind["paused"]["until"] == "2026-03-14T15:00:00+01:00"
    assert by_kind["workout"]["when"] == "2026-03-19T18:30:00+01:00"
    assert by_kind["triggered"]["manual"] is True
    cramps = [row for row in got if row["kind"] == "cramp"]
    assert [c["note"] for c in cramps] == ["=HYPERLINK(\"http://x\")",
                                           "Wadenkrampf, \"stark\"\nzweite Zeile: ü", None]
    assert cramps[2]["count"] == "several" and cramps[2]["night"] == "2026-03-17"
    # In CSV a formula is text for a spreadsheet; JSON keeps what the user typed.
    table = csv_rows(export())
    assert [r["note"] for r in table if r["kind"] == "cramp"][0] == \
        "'=HYPERLINK(\"http://x\")"
    assert [r["note"] for r in table if r["kind"] == "no_cramp"] == ["'-fine"]
    assert table[-1]["routine"] == "'=cmd|' /C calc'!A0, x"
    assert got[-1]["routine"] == "=cmd|' /C calc'!A0, x"


def test_local_times_carry_the_offset_across_both_dst_changes(isolated: Dirs) -> None:
    with journal(isolated) as j:
        for at in ("2026-03-29T00:30", "2026-03-29T01:30",   # 01:30 CET, 03:30 CEST
                   "2026-10-25T00:30", "2026-10-25T01:30"):  # 02:30 CEST, then CET
            j.record("due", "foot-soak", at=utc(at), due=utc(at))
        j.log_cramp(when=berlin("2026-10-25T02:30", fold=1), at=utc("2026-10-25T06:00"))
    spring = json_rows(export("--format", "json", "--from", "2026-03-29", "--to",
                              "2026-03-29"))
    assert [r["recorded_at"] for r in spring] == ["2026-03-29T01:30:00+01:00",
                                                 "2026-03-29T03:30:00+02:00"]
    autumn = csv_rows(export("--from", "2026-10-25", "--to", "2026-10-25"))
    assert [r["recorded_at"] for r in autumn] == ["2026-10-25T02:30:00+02:00",
                                                 "2026-10-25T02:30:00+01:00",
                                                 "2026-10-25T07:00:00+01:00"]
    assert [r["due"] for r in autumn[:2]] == ["2026-10-25T02:30:00+02:00",
                                             "2026-10-25T02:30:00+01:00"]
    assert autumn[2]["when"] == "2026-10-25T02:30:00+01:00"  # the second 02:30


def test_a_period_is_whole_local_days_by_when_an_entry_was_recorded(isolated: Dirs) -> None:
    inside = ["2026-03-01T00:00:00", "2026-03-29T23:59:59"]
    outside = ["2026-02-28T23:59:59.999999", "2026-03-30T00:00:00"]
    with journal(isolated) as j:
        for at in sorted(inside + outside):
            j.record("due", "foot-soak", at=berlin(at), due=berlin(at))
        # Logged on the 30th about the night of the 29th: it belongs to the 30th.
        j.log_cramp(when=berlin("2026-03-29T23:30"), at=berlin("2026-03-30T07:00"))
    rows = json_rows(export("--format", "json", "--from", "2026-03-01", "--to",
                            "2026-03-29"))
    assert [r["recorded_at"] for r in rows] == ["2026-03-01T00:00:00+01:00",
                                               "2026-03-29T23:59:59+02:00"]
    # --days counts back from --to: the last 3 days, the 29th (23 hours long) included.
    rows = json_rows(export("--format", "json", "--days", "3", "--to", "2026-03-29"))
    assert [r["recorded_at"] for r in rows] == ["2026-03-29T23:59:59+02:00"]
    next_day = json_rows(export("--format", "json", "--from", "2026-03-30", "--to",
                                "2026-03-30"))
    assert [(r["kind"], r["when"]) for r in next_day] == [
        ("due", None), ("cramp", "2026-03-29T23:30:00+02:00")]
    assert len(json_rows(export("--format", "json"))) == 5  # no period: all of it


@needs_faketime
def test_days_end_with_today_in_the_users_zone(isolated: Dirs) -> None:
    with journal(isolated) as j:
        for at in ("2026-03-29T21:59:59", "2026-03-29T22:00:00"):  # local 23:59:59, 00:00
            j.record("due", "foot-soak", at=utc(at))
    # 22:30 UTC on the 29th is 00:30 on the 30th in Berlin: "today" is the 30th there.
    env = {**os.environ, "LD_PRELOAD": str(FAKETIME_LIB), "FAKETIME": "@2026-03-29 22:30:00",
           "TZ": "UTC"}
    result = cli("export", "--format", "json", "--days", "1", env=env)
    assert result.returncode == 0, result.stderr
    assert [r["recorded_at"] for r in json.loads(result.stdout)] == [
        "2026-03-30T00:00:00+02:00"]


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2026-02-30"],
     "--from: not a date (got '2026-02-30'): February 2026 has 28 days; write YYYY-MM-DD"),
    (["--to", "31.03.2026"], "--to: not a date (got '31.03.2026'); write YYYY-MM-DD"),
    (["--from", "2026-03-31", "--to", "2026-03-01"],
     "--from 2026-03-31 is after --to 2026-03-01: the period runs from the first day"),
    (["--days", "0"], "--days: give a number of days from 1 to 3660 (got 0)"),
    (["--days", "7", "--from", "2026-03-01"], "--days and --from: give one of them"),
])
def test_bad_dates_and_ranges_are_one_clear_line_and_exit_1(isolated: Dirs, args: list[str],
                                                           message: str) -> None:
    with journal(isolated) as j:
        j.record("due", "foot-soak", at=berlin("2026-03-01T12:00"))
    result = cli("export", *args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


def test_out_writes_the_file_and_says_how_many_and_the_period(isolated: Dirs,
                                                             tmp_path: Path) -> None:
    with journal(isolated) as j:
        a_month_of_everything(j)
    target = tmp_path / "journal.csv"
    target.write_text("an older export\n")
    result = cli("export", "--from", "2026-03-10", "--to", "2026-03-14", "--out", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"exported 10 entries (2026-03-10 to 2026-03-14) to {target}\n"
    assert result.stderr == ""
    # The file holds what standard output would, and only the target is left behind.
    assert target.read_bytes() == export("--from", "2026-03-10", "--to", "2026-03-14")
    assert len(csv_rows(target.read_bytes())) == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.csv"]
    assert target.stat().st_mode & 0o077 == 0  # health data: private

    result = cli("export", "--format", "json", "--out", str(tmp_path / "all.json"))
    assert result.stdout == f"exported 17 entries (the whole journal) to {tmp_path / 'all.json'}\n"
    assert len(json_rows((tmp_path / "all.json").read_bytes())) == 17

    # --to alone: everything up to that day, said as such (not "1970-01-01 to ...")
    result = cli("export", "--to", "2026-03-14", "--out", str(tmp_path / "upto.csv"))
    assert result.stdout.startswith("exported ") and \
        "(everything up to 2026-03-14)" in result.stdout, result.stdout


def test_out_into_a_folder_that_is_missing_or_not_writable_is_refused(isolated: Dirs,
                                                                     tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "x.csv"
    result = cli("export", "--out", str(missing))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"--out {missing}: there is no folder {missing.parent}; create "
                             "it, or give a file in a folder that exists\n")
    result = cli("export", "--out", str(tmp_path))
    assert result.returncode == 1 and "that is a folder; give a file name" in result.stderr
    if os.geteuid() == 0:  # root writes anywhere it may: /sys refuses even root
        locked = Path("/sys")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
    result = cli("export", "--out", str(locked / "x.csv"))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(f"--out {locked / 'x.csv'}: cannot write in {locked} (")
    assert result.stderr.endswith("); give a file in a folder you can write\n")


def test_no_journal_yet_is_an_empty_export_with_its_header(isolated: Dirs,
                                                           tmp_path: Path) -> None:
    result = cli("export")
    assert result.returncode == 0
    assert result.stdout.encode() == b"\xef\xbb\xbf" + ",".join(COLUMNS).encode() + b"\r\n"
    assert result.stderr == (f"note: no journal yet ({isolated.state / JOURNAL_FILE}): "
                             "nothing to export\n")
    assert json.loads(cli("export", "--format", "json").stdout) == []
    out = cli("export", "--out", str(tmp_path / "x.json"), "--format", "json")
    assert out.stdout.startswith("exported 0 entries (the whole journal) to ")
    assert "; no journal yet" in out.stdout
    assert not (isolated.state / JOURNAL_FILE).exists()  # reading made none
