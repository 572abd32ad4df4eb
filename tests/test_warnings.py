"""Rule 5, "nothing enabled is silently never": the default quiet hours follow the anchors,
and an enabled routine that is never shown is a warning in `check` and `list`.

Pure tests pin dates and zones and pass ``now``; the CLI tests run the real program.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.config import defaults
from scheduler.config.catalog import load_catalog
from scheduler.config.loader import load_set
from scheduler.config.routine import Routine
from scheduler.config.settings import Settings
from scheduler.planning.warnings import routine_warnings
from scheduler.timing.cron import parse_cron
from scheduler.timing.grammar import DAY_SETS, Window, parse_window
from scheduler.timing.plans import AtEntry, AtPlan, CronPlan, IntervalPlan, Outlook, Timetable
from tests.support.daemon_proc import cli
from tests.support.fixtures import SEEDS, SHIPPED_ROUTINES
from tests.support.routines import routine_head

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 23 November 2026, 08:00 in Berlin (winter time)
NOW = datetime(2026, 11, 23, 8, tzinfo=BERLIN)
BEDTIME_ROUTINES = {"foot-soak", "calf-stretch", "warm-calves-at-night"}
#: Quiet hours 22:00-08:00 hold those, and the morning check-in at wake + 15m (07:15).
HELD_22_TO_08 = BEDTIME_ROUTINES | {"morning-checkin"}


def settings(**values: Any) -> Settings:
    return Settings(timezone="Europe/Berlin", **values)


def routine(routine_id: str, schedule: dict[str, Any], **fields: Any) -> Routine:
    return Routine.model_validate({"schema_version": 1, "id": routine_id, "title": "T",
                                   "message": "M", "schedule": schedule, **fields})


def shipped(every_one_on: bool = True) -> list[Routine]:
    """The shipped routines, all of them switched on (some ship off)."""
    catalog = load_catalog(SEEDS / "catalog.toml")
    active = load_set([SHIPPED_ROUTINES], settings(), catalog)
    return [r.model_copy(update={"enabled": True}) if every_one_on else r
            for r in active.routines.values()]


# --- the default quiet hours follow bedtime and wake --------------------------------------

@pytest.mark.parametrize(("bedtime", "wake", "window"), [
    ("22:30", "07:00", "23:30-07:00"),  # the default anchors
    ("23:30", "07:00", "00:30-07:00"),  # the case of the issue
    ("01:00", "07:00", "02:00-07:00"),  # after midnight
    ("08:00", "16:00", "09:00-16:00"),  # a night shift sleeps by day
    ("05:45", "07:00", "06:45-07:00"),
    ("06:00", "07:00", None),           # a night of an hour holds no quiet hours
    ("06:30", "07:00", None),
    ("07:00", "07:00", "08:00-07:00"),  # equal anchors: a whole day's night
])
def test_default_quiet_hours_run_from_an_hour_after_bedtime_to_wake(
        bedtime: str, wake: str, window: str | None) -> None:
    s = settings(anchors={"bedtime": bedtime, "wake": wake})
    assert s.quiet_hours == "auto"
    assert (str(s.quiet_window) if s.quiet_window else None) == window
    assert defaults.QUIET_AFTER_BEDTIME == timedelta(hours=1)


def test_explicit_quiet_hours_win_and_off_turns_them_off() -> None:
    bed = {"bedtime": "23:30"}
    assert settings(anchors=bed, quiet_hours="22:00-08:00").quiet_window == \
        Window(time(22), time(8))
    assert settings(anchors=bed, quiet_hours="off").quiet_window is None
    assert settings(anchors=bed, quiet_hours="auto").quiet_window == Window(time(0, 30), time(7))


def test_quiet_hours_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAMPGUARD_QUIET_HOURS", "21:00-06:00")
    assert Settings().quiet_window == Window(time(21), time(6))
    monkeypatch.setenv("CRAMPGUARD_QUIET_HOURS", "auto")
    assert Settings().quiet_window == Window(time(23, 30), time(7))


# Every half hour of the day, but for 07:00 and 07:30: awake for less than an hour after
# waking at 07:00 is not a day anyone lives.
@pytest.mark.parametrize("bedtime", [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)
                                     if (h, m) not in ((7, 0), (7, 30))])
def test_every_bedtime_shows_the_bedtime_routines(bedtime: str) -> None:
    """With the default quiet hours, any bedtime leaves the shipped bedtime routines
    outside them."""
    s = settings(anchors={"bedtime": bedtime, "wake": "07:00"})
    warned = {w.routine for w in routine_warnings(shipped(), s, NOW)}
    assert not warned & BEDTIME_ROUTINES


@pytest.mark.parametrize("bedtime", ["20:00", "21:30", "22:30", "23:30", "00:30", "02:00"])
def test_ordinary_bedtimes_leave_every_shipped_routine_silent(bedtime: str) -> None:
    s = settings(anchors={"bedtime": bedtime})
    assert routine_warnings(shipped(), s, NOW) == []


# --- held: every firing falls inside quiet hours --------------------------------------------

def test_explicit_quiet_hours_over_bedtime_warn_about_the_bedtime_routines() -> None:
    s = settings(anchors={"bedtime": "23:30"}, quiet_hours="22:00-08:00")
    warnings = {w.routine: w for w in routine_warnings(shipped(every_one_on=False), s, NOW)}
    assert set(warnings) == HELD_22_TO_08  # elastic-socks (07:15) ships switched off
    calf = warnings["calf-stretch"]
    assert calf.kind == "held"
    assert str(calf) == (
        "calf-stretch: it fires daily at 23:15 (bedtime - 15m), always inside quiet hours "
        "22:00-08:00 (the quiet_hours setting), so it is never shown; move it, change "
        'quiet_hours in config.toml, or set quiet_hours = "ignore" in its [schedule]')


def test_the_default_hours_are_named_as_such() -> None:
    s = settings()  # quiet 23:30-07:00
    late = routine("late", {"at": "02:00"})
    [warning] = routine_warnings([late], s, NOW)
    assert "quiet hours 23:30-07:00 (the default, from bedtime + 1h to wake)" in warning.text
    assert "change bedtime or wake" in warning.text


def test_ignore_disabled_and_partly_held_routines_are_not_warned_about() -> None:
    s = settings(quiet_hours="23:00-07:00")
    routines = [
        routine("ignores", {"at": "02:00", "quiet_hours": "ignore"}),
        routine("off", {"at": "02:00"}, enabled=False),
        routine("partly", {"at": ["02:00", "21:00"]}),
        # held on its first firing (the night after NOW), shown the next evening
        routine("weekend-evening", {"at": "22:00", "days": "weekends"}),
    ]
    assert routine_warnings(routines, s, NOW) == []


def test_an_interval_inside_quiet_hours_is_held() -> None:
    s = settings(quiet_hours="22:00-08:00")
    night = routine("night", {"every": "10m", "between": "23:00-06:00"})
    evening = routine("evening", {"every": "10m", "between": "21:00-23:00"})
    assert [(w.routine, w.kind) for w in routine_warnings([night, evening], s, NOW)] == [
        ("night", "held")]


# --- never: the schedule has no firing at all ----------------------------------------------

def test_a_cron_for_31_february_can_never_fire() -> None:
    feb = routine("feb", {"cron": "0 9 31 2 *"})
    [warning] = routine_warnings([feb], settings(), NOW)
    assert (warning.kind, str(warning)) == (
        "never", "feb: can never fire: cron 0 9 31 2 * matches no day in the next 8 years; "
                 "fix its [schedule]")


@pytest.mark.parametrize("cron", [
    "0 9 29 2 *",      # 29 February: the next leap year is within the horizon
    "0 9 30 2 mon",    # both day fields: either one matching is enough (every Monday)
    "0 9 13 * fri",
])
def test_rare_crons_that_do_fire_are_silent(cron: str) -> None:
    assert routine_warnings([routine("rare", {"cron": cron})], settings(), NOW) == []


# --- the timing helper underneath -----------------------------------------------------------

def at(*clocks: str, days: frozenset[int] = DAY_SETS["daily"]) -> AtPlan:
    return AtPlan(tuple(AtEntry(time.fromisoformat(c), timedelta(), days) for c in clocks))


@pytest.mark.parametrize(("plan", "quiet", "outlook"), [
    (at("23:15"), "23:00-07:00", Outlook.HELD),
    (at("23:15"), "00:30-07:00", Outlook.FIRES),
    (at("23:15"), None, Outlook.FIRES),
    (at("06:59:59"), "23:00-07:00", Outlook.HELD),
    (at("07:00"), "23:00-07:00", Outlook.FIRES),  # quiet hours end before their end time
    (at("03:00", days=frozenset({6})), "23:00-07:00", Outlook.HELD),
    (at("03:00", "12:00", days=frozenset({6})), "23:00-07:00", Outlook.FIRES),
    (IntervalPlan(parse_window("00:00-06:00"), timedelta(seconds=1), DAY_SETS["daily"]),
     "23:00-07:00", Outlook.HELD),
    (IntervalPlan(parse_window("00:00-08:00"), timedelta(hours=1), DAY_SETS["weekends"]),
     "23:00-07:00", Outlook.FIRES),  # 07:00 and 08:00 on Saturdays and Sundays
    (CronPlan(parse_cron("0 9 31 2 *")), None, Outlook.NEVER),
    (CronPlan(parse_cron("0 9 31 2 *")), "23:00-07:00", Outlook.NEVER),
    (CronPlan(parse_cron("30 2 29 2 *")), "23:00-07:00", Outlook.HELD),
    (CronPlan(parse_cron("30 2,12 29 2 *")), "23:00-07:00", Outlook.FIRES),
])
def test_outlook(plan: Any, quiet: str | None, outlook: Outlook) -> None:
    timetable = Timetable(plan, BERLIN, parse_window(quiet) if quiet else None)
    assert timetable.outlook(NOW) is outlook


def test_outlook_counts_from_now_and_takes_any_zone() -> None:
    new_york = ZoneInfo("America/New_York")
    timetable = Timetable(at("23:30"), new_york, parse_window("23:00-07:00"))
    start = datetime(2026, 3, 8, 5, tzinfo=UTC)  # the night New York springs forward
    assert timetable.outlook(start) is Outlook.HELD
    assert Timetable(at("22:30"), new_york, parse_window("23:00-07:00")).outlook(start) \
        is Outlook.FIRES


# --- the real CLI: `check` and `list` --------------------------------------------------------

def write_config(isolated: Any, text: str) -> Path:
    isolated.config.mkdir(parents=True, exist_ok=True)
    isolated.config_file.write_text("schema_version = 1\n" + text, encoding="utf-8")
    return isolated.config_file


def test_cli_bedtime_2330_with_the_default_quiet_hours_warns_about_nothing(isolated) -> None:
    write_config(isolated, '[anchors]\nbedtime = "23:30"\n')
    result = cli("check")
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert "warning" not in result.stdout
    listing = cli("list")
    assert listing.returncode == 0 and "warning" not in listing.stdout + listing.stderr
    rows = json.loads(cli("list", "--json").stdout)
    assert all(row["warnings"] == [] for row in rows)
    assert json.loads(cli("check", "--json").stdout)["warnings"] == []


def test_cli_explicit_quiet_hours_warn_about_the_bedtime_routines(isolated) -> None:
    write_config(isolated, 'quiet_hours = "22:00-08:00"\n[anchors]\nbedtime = "23:30"\n')
    result = cli("check")
    assert result.returncode == 0, result.stderr  # a warning is not an error
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok: ")
    warned = sorted(line.split(":")[1].strip() for line in lines[1:])
    assert warned == sorted(HELD_22_TO_08)
    assert ("warning: calf-stretch: it fires daily at 23:15 (bedtime - 15m), always inside "
            "quiet hours 22:00-08:00") in result.stdout

    report = json.loads(cli("check", "--json").stdout)
    assert {w["routine"] for w in report["warnings"]} == HELD_22_TO_08
    assert {w["kind"] for w in report["warnings"]} == {"held"}

    listing = cli("list").stdout
    block = listing.split("\nwarm-calves-at-night ")[1].split("\nwarm-up ")[0]
    assert "warning: it fires daily at 23:30 (bedtime), always inside quiet hours" in block
    rows = {row["id"]: row for row in json.loads(cli("list", "--json").stdout)}
    assert {i for i, row in rows.items() if row["warnings"]} == HELD_22_TO_08
    assert rows["foot-soak"]["warnings"][0]["text"].startswith("it fires daily at 22:45")


def test_cli_a_cron_for_31_february_can_never_fire(isolated) -> None:
    isolated.routines.mkdir(parents=True)
    feb = isolated.routines / "feb.toml"
    feb.write_text(routine_head("February", "Never.") + '[schedule]\ncron = "0 9 31 2 *"\n',
                   encoding="utf-8")
    for args in (("check",), ("check", str(feb))):
        result = cli(*args)
        assert result.returncode == 0, result.stderr
        assert "warning: feb: can never fire: cron 0 9 31 2 * matches no day" in result.stdout
    listing = cli("list")
    assert "warning: can never fire" in listing.stdout.split("\nfeb ")[1].split("\nfoot-soak ")[0]
    [row] = [r for r in json.loads(cli("list", "--json").stdout) if r["id"] == "feb"]
    assert row["warnings"][0]["kind"] == "never"
