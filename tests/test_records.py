"""`log-cramp`, `history` and `stats` through the CLI, on a journal written like the
daemon writes it, with the clock pinned."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from scheduler.journal.store import Journal

BERLIN = ZoneInfo("Europe/Berlin")
NOW = "2026-11-23 10:00:00"  # UTC; 11:00 in Berlin, a Monday


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@freeze_time(NOW)
def test_log_cramp_last_night_and_clock_times(run):
    code, out, err = run("log-cramp", "--when", "last night", "--leg", "left",
                         "--severity", "3", "--note", "woke me")
    assert code == 0, err
    assert out.strip() == "logged a cramp at Mon 2026-11-23 03:00 (left leg, severity 3, woke me)"
    code, out, _ = run("log-cramp", "--when", "23:30", "--json")  # yesterday's 23:30
    assert json.loads(out)["when"] == "2026-11-22T23:30:00+01:00"
    code, out, _ = run("log-cramp", "--json")
    assert json.loads(out)["when"] == "2026-11-23T11:00:00+01:00"
    code, out, _ = run("history", "--json")
    cramps = [e["detail"]["when"] for e in json.loads(out) if e["kind"] == "cramp"]
    assert len(cramps) == 3


@freeze_time(NOW)
@pytest.mark.parametrize(("args", "message"), [
    (["--severity", "9"], "--severity: give 1 (mild) to 5 (worst)"),
    (["--when", "tomorrow-ish"], "--when: not a time"),
    (["--when", "2026-11-24T03:00"], "cannot be logged in the future"),
])
def test_log_cramp_bad_input(run, args, message):
    code, _, err = run("log-cramp", *args)
    assert code == 1 and message in err and "Traceback" not in err


def seed(state_dir, routine="foot-soak"):
    """Five evenings of foot-soak: done on the 18th, 19th, 21st; not done on 20th, 22nd;
    cramps on the night of the 20th and of the 22nd, the other nights answered "none" the
    morning after."""
    with Journal.open(state_dir / "journal.sqlite3") as j:
        for day, done in ((18, True), (19, True), (20, False), (21, True), (22, False)):
            due = local(f"2026-11-{day}T21:45")
            j.record("due", routine, at=due, due=due)
            j.record("delivered", routine, at=due, due=due, backend="dbus")
            if done:
                j.record("done", routine, at=due + timedelta(minutes=20), due=due)
        for when in ("2026-11-21T02:00", "2026-11-23T04:30"):
            j.log_cramp(when=local(when), at=local(when) + timedelta(hours=3))
        for day in (18, 19, 21):
            j.log_night(date(2026, 11, day), "none", at=local(f"2026-11-{day + 1}T07:15"),
                        source="checkin")


@freeze_time(NOW)
def test_history_newest_first_and_filtered(run, isolated):
    seed(isolated.state)
    code, out, _ = run("history", "--days", "2", "--json")
    events = json.loads(out)
    assert [e["at"] for e in events] == sorted((e["at"] for e in events), reverse=True)
    assert all(e["at"] >= "2026-11-21T11:00" for e in events)
    code, out, _ = run("history", "--routine", "foot-soak")
    first = out.splitlines()[0]
    assert first.startswith("Sun 2026-11-22 21:45:00  delivered") and "via dbus" in first


@freeze_time(NOW)
def test_stats_counts_and_streak(run, isolated):
    seed(isolated.state)
    code, out, err = run("stats", "--days", "7", "--json")
    assert code == 0, err
    data = json.loads(out)
    (soak,) = [r for r in data["routines"] if r["routine"] == "foot-soak"]
    assert (soak["due"], soak["delivered"], soak["done"]) == (5, 5, 3)
    assert soak["adherence"] == pytest.approx(0.6)
    assert soak["streak"] == 0  # the 22nd was due and not done
    assert data["cramps"] == 2
    # the window's nights 17-21 are over (the 22nd's runs to noon today): 20 a cramp,
    # 18 19 21 quiet, 17 unknown
    assert data["nights"] == {"cramp": 1, "no_cramp": 3, "unknown": 1}
    (relation,) = [c for c in data["evening_routines_and_cramps"]
                   if c["routine"] == "foot-soak"]
    assert (relation["nights_done"], relation["cramp_nights_done"]) == (3, 0)
    # the night of the 22nd runs to noon on the 23rd: not over yet, so not counted
    assert (relation["nights_not_done"], relation["cramp_nights_not_done"]) == (1, 1)
    assert relation["verdict"].startswith("not enough nights")
    code, out, _ = run("stats", "--days", "7")
    assert "foot-soak" in out and "60%" in out
    assert "not enough nights" in out


@freeze_time(NOW)
def test_stats_on_an_empty_journal(run):
    code, out, _ = run("stats")
    assert code == 0 and "nothing in the journal yet" in out
