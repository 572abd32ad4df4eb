"""`crampguard calendar export` and `calendar sync` through the real command line (a
subprocess, the test's own folders), against a real CalDAV server (Radicale on loopback),
with the clock pinned by libfaketime where the days matter: what they write is what `next`
shows, across a spring-forward and a fall-back day in Europe/Berlin."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from tests.support.caldav_server import CalDavServer, needs_radicale
from tests.support.daemon_proc import cli, cli_json
from tests.support.faketime import FAKETIME_LIB, needs_faketime
from tests.support.fixtures import Dirs
from tests.support.routines import routine_text, write_routine_file

#: a daily time the clock skips on 29 March and passes twice on 25 October
NIGHT = routine_text("Night check", "02:30")


#: shipped with calendar = "off": an interval that restarts on the user's return
OFF_THE_CALENDAR = {"sitting-break", "standing-break"}


def _instants(next_json: list[dict[str, Any]], end: datetime) -> set[tuple[str, datetime]]:
    """What `next` shows before ``end``, less what quiet hours hold and the routines that
    are off the calendar."""
    return {(f["routine"], datetime.fromisoformat(f["at"]).astimezone(UTC))
            for f in next_json if f["held"] is None and f["routine"] not in OFF_THE_CALENDAR
            and datetime.fromisoformat(f["at"]) < end}


def _parsed(parts: list[Any]) -> set[tuple[str, datetime]]:
    return {(str(p["X-CRAMPGUARD-ROUTINE"]), p["DTSTART"].dt.astimezone(UTC)) for p in parts}


def _settings(dirs: Dirs, text: str) -> None:
    dirs.config.mkdir(parents=True, exist_ok=True)
    dirs.config_file.write_text(text)


def _pinned(at: str) -> dict[str, str]:
    """The CLI's clock at ``at`` (UTC, "2026-03-27 23:00:00") and ticking."""
    assert FAKETIME_LIB is not None
    return {**os.environ, "LD_PRELOAD": str(FAKETIME_LIB), "FAKETIME": f"@{at}",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1", "TZ": "UTC"}


@pytest.mark.parametrize("start", ["2026-03-28T00:00", "2026-10-24T00:00"])
def test_export_is_what_next_shows_across_the_clock_changes(
        isolated: Dirs, tmp_path: Path, start: str) -> None:
    write_routine_file(isolated.routines, "night-check", NIGHT)
    out = tmp_path / "plan.ics"
    report = cli_json("calendar", "export", "--from", start, "--days", "3", "--out", str(out))
    shown = cli_json("next", "--from", start, "--count", "500")
    end = datetime.fromisoformat(shown[0]["at"]).replace(hour=0, minute=0) + timedelta(days=3)
    cal = Calendar.from_ical(out.read_bytes())
    parts = [p for p in cal.walk() if p.name in ("VEVENT", "VTODO")]
    assert _parsed(parts) == _instants(shown, end)
    assert report["items"] == len(parts)
    # the skipped 02:30 fires at 03:00 CEST; the doubled one once, at its first pass
    night = sorted(at for rid, at in _parsed(parts) if rid == "night-check")
    assert [at.astimezone(UTC).strftime("%m-%d %H:%M") for at in night] == (
        ["03-28 01:30", "03-29 01:00", "03-30 00:30"] if start.startswith("2026-03")
        else ["10-24 00:30", "10-25 00:30", "10-26 01:30"])
    assert [t.name for t in cal.walk("VTIMEZONE")] == ["VTIMEZONE"]
    alarms = cal.walk("VALARM")
    assert len(alarms) == len(parts) and all(a.get("DESCRIPTION") for a in alarms)
    assert out.read_bytes().count(b"TRIGGER;RELATED=START:PT0S") == len(parts)
    assert out.stat().st_mode & 0o777 == 0o600


def test_export_leaves_out_quiet_hours_and_routines_off_the_calendar(
        isolated: Dirs) -> None:
    write_routine_file(isolated.routines, "held", routine_text(
        "Held", "03:00").replace('quiet_hours = "ignore"', 'quiet_hours = "respect"'))
    write_routine_file(isolated.routines, "hidden", routine_text("Hidden", "12:30",
                                                                 extra='calendar = "off"'))
    write_routine_file(isolated.routines, "todo", routine_text("Todo", "12:45",
                                                               extra='calendar = "todo"'))
    result = cli("calendar", "export", "--from", "2026-05-04T00:00", "--days", "1")
    assert result.returncode == 0, result.stderr
    cal = Calendar.from_ical(result.stdout.encode())
    routines = {str(p["X-CRAMPGUARD-ROUTINE"]) for p in cal.walk() if p.name == "VEVENT"}
    assert {"held", "hidden"}.isdisjoint(routines) and "foot-soak" in routines
    (todo,) = cal.walk("VTODO")
    assert (str(todo["UID"]), todo.walk("VALARM")[0]["TRIGGER"].params["RELATED"]) == (
        "todo-20260504T104500Z@crampguard", "START")


@needs_radicale
@needs_faketime
def test_sync_writes_what_next_shows_then_changes_only_what_changed(
        isolated: Dirs, tmp_path: Path) -> None:
    with CalDavServer(tmp_path / "dav") as server:
        url = server.make_calendar()
        # the user's own event in the same collection: never touched
        server.calendar(url).save_event(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//me//EN\r\nBEGIN:VEVENT\r\n"
            "UID:dentist@example.org\r\nDTSTAMP:20260301T000000Z\r\n"
            "DTSTART:20260330T080000Z\r\nDURATION:PT1H\r\nSUMMARY:Dentist\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n")
        mine = server.items(url)["dentist@example.org"].to_ical()
        write_routine_file(isolated.routines, "night-check", NIGHT)
        _settings(isolated, "schema_version = 1\n" + server.calendar_text(url, 3))
        env = _pinned("2026-03-27 23:00:00")  # Berlin midnight before the spring-forward

        first = cli_json("calendar", "sync", env=env)
        items = server.items(url)
        ours = [p for uid, p in items.items() if uid.endswith("@crampguard")]
        shown = cli_json("next", "--from", "2026-03-28T00:00", "--count", "500")
        end = datetime(2026, 3, 30, 22, tzinfo=UTC)  # three days from Berlin midnight
        assert _parsed(ours) == _instants(shown, end)
        assert first["put"] == len(ours) and first["deleted"] == 0

        again = cli_json("calendar", "sync", env=env)
        assert (again["put"], again["deleted"], again["unchanged"]) == (0, 0, len(ours))

        # a later bedtime moves the bedtime routines; a routine turned off goes
        _settings(isolated,
            'schema_version = 1\n[anchors]\nbedtime = "23:00"\n'
            + server.calendar_text(url, 3))
        write_routine_file(isolated.routines, "night-check",
                           NIGHT.replace("title", "enabled = false\ntitle", 1))
        cli_json("calendar", "sync", env=env)
        after = server.items(url)
        soak = sorted(p["DTSTART"].dt for uid, p in after.items()
                      if uid.startswith("foot-soak-"))
        assert soak and all(at.strftime("%H:%M") == "22:15" for at in soak)
        assert not any(uid.startswith("night-check-") for uid in after)
        assert after["dentist@example.org"].to_ical() == mine


@needs_radicale
def test_a_password_file_others_can_read_is_refused_naming_the_fix(
        isolated: Dirs, tmp_path: Path) -> None:
    server = CalDavServer(tmp_path / "dav")  # not started: the file is checked first
    _settings(isolated, "schema_version = 1\n"
                                    + server.calendar_text(server.base + "x/"))
    server.password_file.chmod(0o644)
    result = cli("calendar", "sync")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"calendar.password_file: {server.password_file} can be read by others (mode "
        f"0644); `chmod 600 {server.password_file}`")


@needs_radicale
def test_a_wrong_password_is_told_without_the_password(isolated: Dirs, tmp_path: Path) -> None:
    with CalDavServer(tmp_path / "dav") as server:
        url = server.make_calendar()
        server.password_file.write_text("not-the-password\n")
        _settings(isolated, "schema_version = 1\n" + server.calendar_text(url))
        result = cli("calendar", "sync", "--json")
    assert result.returncode == 1
    assert "refused the user or the password" in result.stdout
    assert "not-the-password" not in result.stdout + result.stderr


def test_a_broken_calendar_table_names_file_line_field_and_fix(isolated: Dirs) -> None:
    _settings(isolated,
        'schema_version = 1\n[calendar]\nurl = "http://dav.example.org/me/"\n'
        'user = "me"\npassword_file = "secret.txt"\n')
    result = cli("calendar", "sync")
    assert result.returncode == 1
    path = isolated.config_file
    assert result.stderr.splitlines() == [
        f"{path}:3: calendar.url: plain http is only for a server on this machine "
        "(localhost); use https (got 'http://dav.example.org/me/')",
        f'{path}:5: calendar.password_file: give the full path of a file holding the '
        'password alone, e.g. "~/.config/crampguard/caldav-password" (mode 0600) '
        "(got 'secret.txt')"]


def test_sync_without_a_calendar_table_says_how_to_add_one(isolated: Dirs) -> None:
    result = cli("calendar", "sync")
    assert result.returncode == 1
    assert "has no [calendar] table; add one" in result.stderr
