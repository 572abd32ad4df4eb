"""Nights known and unknown, and the events the user reports.

A night runs from local noon to noon. The cramp log says what a night was: a cramp, or
quiet (the morning check-in's "No cramps", `log-cramp --none`); a night with nothing
logged is unknown, never quiet. The latest answer about a night wins. Pure rules with
explicit dates in Europe/Berlin, the autumn DST night inside, each counted both ways (over
``Event`` objects in Python and by ``Journal.tally``); then the real CLI under a pinned
clock (libfaketime), and `crampguard log workout` with and without a daemon listening.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.errors import CrampguardError
from scheduler.journal import nights, stats
from scheduler.journal.stats import CrampRelation, NightCounts
from scheduler.journal.store import Journal
from scheduler.paths import JOURNAL_FILE
from tests.support.daemon_proc import cli
from tests.support.faketime import FAKETIME_LIB, needs_faketime
from tests.support.fixtures import Dirs

BERLIN = ZoneInfo("Europe/Berlin")
# Summer time ends on Sunday 2026-10-25: 03:00 CEST becomes 02:00 CET, so the night of
# Saturday 10-24 has 02:00-03:00 twice.


def berlin(month: int, day: int, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN, fold=fold)


@pytest.fixture
def journal(isolated: Dirs):
    with Journal.open(isolated.state / JOURNAL_FILE) as j:
        yield j


def both_ways(j: Journal, now: datetime, days: int) -> list:
    """The events read back, and the SQL tally, for the same window; they must agree."""
    w = stats.window(now=now, zone=BERLIN, days=days)
    events = j.events(since=w.start)
    tally = j.tally(w)
    assert stats.tally(events, w) == tally
    return [events, tally]


# --- which night ---------------------------------------------------------------------------

@pytest.mark.parametrize(("moment", "night"), [
    (berlin(10, 26, 7, 15), date(2026, 10, 25)),  # the check-in: the night now ending
    (berlin(10, 26, 11, 59), date(2026, 10, 25)),
    (berlin(10, 26, 12, 0), date(2026, 10, 25)),  # from noon: the night that just ended
    (berlin(10, 26, 23, 59), date(2026, 10, 25)),
    (berlin(10, 27, 0, 30), date(2026, 10, 26)),  # after midnight: tonight is ending
    (berlin(10, 25, 2, 30, fold=0), date(2026, 10, 24)),  # both 02:30s of the DST night
    (berlin(10, 25, 2, 30, fold=1), date(2026, 10, 24)),
    (berlin(10, 25, 9, 0), date(2026, 10, 24)),  # the morning after it
    (berlin(3, 29, 3, 30), date(2026, 3, 28)),  # the spring change
])
def test_the_night_just_gone(moment: datetime, night: date) -> None:
    assert nights.night_before(moment, BERLIN) == night


# --- what an answer is in the journal -----------------------------------------------------

def test_an_answer_is_a_cramp_log_entry_for_its_night(journal: Journal) -> None:
    at = berlin(10, 26, 7, 20)
    journal.log_night(date(2026, 10, 25), "none", at=at, source="checkin")
    journal.log_night(date(2026, 10, 25), "one", at=at, source="checkin")
    journal.log_night(date(2026, 10, 25), "several", at=at, source="cli", note="both legs")
    several, one, none = journal.events()
    assert (none.kind, none.routine, none.detail) == (
        "no_cramp", None, {"night": "2026-10-25", "source": "checkin"})
    assert (one.kind, one.detail) == (
        "cramp", {"night": "2026-10-25", "source": "checkin", "count": 1})
    assert (several.kind, several.detail) == (
        "cramp", {"night": "2026-10-25", "source": "cli", "count": "several",
                  "note": "both legs"})
    assert journal.events(kinds=["no_cramp"]) == [none]


def test_an_answer_must_be_one_of_the_three(journal: Journal) -> None:
    with pytest.raises(ValueError, match="unknown answer 'lots'"):
        journal.log_night(date(2026, 10, 25), "lots", at=berlin(10, 26, 7), source="cli")
    with pytest.raises(ValueError, match="no_cramp event belongs to no routine"):
        journal.record("no_cramp", "foot-soak", at=berlin(10, 26, 7))
    assert journal.events() == []


def test_a_workout_is_an_event_with_its_time(journal: Journal) -> None:
    from scheduler.journal.events import happened_at

    journal.log_event("workout", when=berlin(10, 26, 18), at=berlin(10, 26, 20),
                      source="cli")
    (e,) = journal.events(kinds=["workout"], since=berlin(10, 26, 0))
    assert happened_at(e) == berlin(10, 26, 18)
    assert e.detail == {"when": "2026-10-26T17:00:00+00:00", "source": "cli"}
    with pytest.raises(CrampguardError, match="a workout cannot be logged in the future"):
        journal.log_event("workout", when=berlin(10, 26, 21), at=berlin(10, 26, 20),
                          source="cli")
    with pytest.raises(ValueError, match="unknown event 'nap'"):
        journal.log_event("nap", when=berlin(10, 26, 18), at=berlin(10, 26, 20),
                          source="cli")


# --- the latest answer wins; unknown is not quiet -------------------------------------------
#
# now = Tuesday 2026-10-27 13:00 CET, days = 7: the window starts Wed 10-21 00:00 CEST; the
# nights over by now are 10-21 .. 10-26.

NOW = berlin(10, 27, 13)


@pytest.fixture
def week(journal: Journal) -> Journal:
    j = journal
    # 10-21: nothing logged: unknown.
    # 10-22: answered "one" at 07:00, then a cramp logged with its time after the answer:
    # it adds to it (two cramps stand).
    j.log_night(date(2026, 10, 22), "one", at=berlin(10, 23, 7), source="checkin")
    j.log_cramp(when=berlin(10, 23, 3), at=berlin(10, 23, 9))
    # 10-23: "none", corrected to "several" five minutes later: a cramp night.
    j.log_night(date(2026, 10, 23), "none", at=berlin(10, 24, 7), source="checkin")
    j.log_night(date(2026, 10, 23), "several", at=berlin(10, 24, 7, 5), source="checkin")
    # 10-24, the DST night: a cramp in the second 02:30, logged straight away, then the
    # check-in answered "No cramps" (the answer replaces it): quiet.
    j.log_cramp(when=berlin(10, 25, 2, 30, fold=1),
                at=berlin(10, 25, 2, 30, fold=1).astimezone(UTC) + timedelta(minutes=5))
    j.log_night(date(2026, 10, 24), "none", at=berlin(10, 25, 8), source="checkin")
    # 10-25: nothing: unknown. 10-26: quiet, from `log-cramp --none`.
    j.log_night(date(2026, 10, 26), "none", at=berlin(10, 27, 7), source="cli")
    # 10-27 (tonight, not over) answered ahead of its time is not counted.
    j.log_night(date(2026, 10, 27), "none", at=berlin(10, 27, 12, 30), source="cli")
    return j


def test_nights_are_cramp_quiet_or_unknown(week: Journal) -> None:
    for source in both_ways(week, NOW, 7):
        assert stats.night_counts(source, now=NOW, zone=BERLIN, days=7) == \
            NightCounts(cramp=2, no_cramp=2, unknown=2)
    tally = week.tally(stats.window(now=NOW, zone=BERLIN, days=7))
    assert dict(tally.nights) == {
        date(2026, 10, 22): True, date(2026, 10, 23): True, date(2026, 10, 24): False,
        date(2026, 10, 26): False, date(2026, 10, 27): False}
    # The cramps that stand: 10-22's answer and its later cramp, 10-23's "several" (an
    # answer counts when it was logged); the DST night's was replaced by "none".
    assert tally.cramps == (berlin(10, 23, 3), berlin(10, 23, 7), berlin(10, 24, 7, 5))


def test_the_comparison_uses_known_nights_only(week: Journal) -> None:
    for day in range(21, 27):  # an evening routine, done on 21 22 24 25, not on 23 26
        due = berlin(10, day, 21, 45)
        week.record("due", "foot-soak", at=due, due=due)
        if day in (21, 22, 24, 25):
            week.record("done", "foot-soak", at=due + timedelta(minutes=20), due=due)
    # Known: 22 (cramp), 23 (cramp), 24 (quiet), 26 (quiet); 21 and 25 unknown.
    # Done and known: 22, 24: one cramp in two. Not done and known: 23, 26: one in two.
    expected = CrampRelation("foot-soak", nights_done=2, cramp_nights_done=1,
                             nights_not_done=2, cramp_nights_not_done=1, rate_done=0.5,
                             rate_not_done=0.5, verdict="no clear difference (1/2 vs 1/2)",
                             nights_unknown=2)
    for source in both_ways(week, NOW, 7):
        assert stats.cramp_relation(source, ["foot-soak"], now=NOW, zone=BERLIN, days=7,
                                    min_nights=2) == [expected]


def test_nothing_logged_is_all_unknown(journal: Journal) -> None:
    assert stats.night_counts([], now=NOW, zone=BERLIN, days=7) == NightCounts(0, 0, 6)
    # In the morning the night just gone is not over yet (it ends at noon).
    assert stats.night_counts([], now=berlin(10, 27, 9), zone=BERLIN, days=1) == \
        NightCounts(0, 0, 0)


# --- the real CLI, the clock pinned ---------------------------------------------------------

def pinned(at_utc: str) -> dict[str, str]:
    """The environment of a CLI whose wall clock stands at ``at_utc`` (libfaketime)."""
    return {**os.environ, "LD_PRELOAD": str(FAKETIME_LIB), "FAKETIME": f"@{at_utc}",
            "TZ": "UTC"}


def run_cli(env: dict[str, str], *args: str) -> str:
    result = cli(*args, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


@needs_faketime
def test_log_cramp_none_and_stats_through_the_cli() -> None:
    env = pinned("2026-10-26 09:00:00")  # Monday 10:00 CET, the morning after the change
    assert run_cli(env, "log-cramp", "--none") == \
        "logged the night of Sun 2026-10-25 (to the morning after) as without cramps\n"
    # 02:30 happened twice that night; a wall time without an offset is the first one.
    out = json.loads(run_cli(env, "log-cramp", "--none", "--when", "2026-10-25T02:30",
                             "--json"))
    assert out["night"] == "2026-10-24" and out["cramps"] == "none"
    run_cli(env, "log-cramp", "--when", "2026-10-23T03:00", "--leg", "left")
    refused = cli("log-cramp", "--none", "--leg", "left", env=env)
    assert refused.returncode == 1
    assert refused.stderr.startswith("--none: a night without cramps has no --leg")

    # The window's nights over by now: 10-20 .. 10-24 (10-25 ends at noon today).
    data = json.loads(run_cli(env, "stats", "--days", "7", "--json"))
    assert data["nights"] == {"cramp": 1, "no_cramp": 1, "unknown": 3}
    assert data["cramps"] == 1
    text = run_cli(env, "stats", "--days", "7")
    assert "nights: 1 with a cramp, 1 without, 3 unknown (answer the morning check-in, or " \
           "`crampguard log-cramp --none`)" in text
    # After noon the night of 10-25 is over and counts: quiet.
    later = json.loads(run_cli(pinned("2026-10-26 12:00:00"), "stats", "--days", "7",
                               "--json"))
    assert later["nights"] == {"cramp": 1, "no_cramp": 2, "unknown": 3}

    # (each process starts at the pinned instant: their order in the journal is chance)
    history = json.loads(run_cli(env, "history", "--json"))
    assert sorted((e["kind"], e["detail"].get("night")) for e in history) == [
        ("cramp", None), ("no_cramp", "2026-10-24"), ("no_cramp", "2026-10-25")]


@needs_faketime
def test_a_quiet_night_cannot_be_recorded_before_it_happens() -> None:
    env = pinned("2026-10-26 13:00:00")  # 14:00 CET: tonight is still ahead
    result = cli("log-cramp", "--none", "--when", "13:30", env=env)
    assert result.returncode == 1
    assert result.stderr == ("--when: the night of 2026-10-26 is still ahead; a quiet night "
                             "is recorded the morning after\n")


# --- `crampguard log workout` -------------------------------------------------------------

def test_log_workout_without_a_daemon(isolated: Dirs) -> None:
    result = cli("log", "workout", "--when", "2026-10-26T18:30")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("logged a workout at Mon 2026-10-26 18:30; the daemon was not "
                             "told (not running): it reads the journal when it starts\n")
    with Journal.open(isolated.state / JOURNAL_FILE) as j:
        (e,) = j.events(kinds=["workout"])
    assert e.detail == {"when": "2026-10-26T17:30:00+00:00", "source": "cli"}
    unknown = cli("log", "nap")
    assert (unknown.returncode, unknown.stderr) == (1, "EVENT: give one of workout "
                                                       "(got 'nap')\n")


class OneReply:
    """A control socket that answers every request with ``reply`` and keeps what it got."""

    def __init__(self, path: Path, reply: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen()
        self.reply, self.got = reply, []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            data = b""
            while not data.endswith(b"\n"):
                data += conn.recv(4096)
            self.got.append(json.loads(data))
            conn.sendall(json.dumps(self.reply).encode() + b"\n")

    def close(self) -> None:
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.mark.parametrize(("reply", "said"), [
    ({"ok": True, "event": "workout", "followups": []}, "; the daemon was told\n"),
    # a daemon that does not know the command yet: the journal holds the workout anyway
    ({"ok": False, "error": "unknown command 'event'"},
     "; the daemon was not told (unknown command 'event'): it reads the journal when it "
     "starts\n"),
])
def test_log_workout_tells_the_daemon(isolated: Dirs, reply: dict, said: str) -> None:
    server = OneReply(isolated.runtime / "control.sock", reply)
    try:
        result = cli("log", "workout", "--when", "2026-10-26T18:30")
    finally:
        server.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"logged a workout at Mon 2026-10-26 18:30{said}"
    (request,) = server.got
    assert request.pop("cmd") == "event" and request.pop("name") == "workout"
    assert datetime.fromisoformat(request.pop("at")) == berlin(10, 26, 18, 30)
    assert request == {}
