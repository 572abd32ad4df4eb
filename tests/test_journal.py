"""The journal: a real SQLite file in the test's state folder, real processes, real kill -9."""

from __future__ import annotations

import os
import random
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.errors import CrampguardError
from scheduler.journal import stats
from scheduler.journal import store as journal_module
from scheduler.journal.events import KINDS, Event
from scheduler.journal.store import Journal
from scheduler.paths import JOURNAL_FILE
from tests.support.fixtures import ROOT, Dirs

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 23, 21, 45, tzinfo=BERLIN)  # 20:45 UTC


@pytest.fixture
def path(isolated: Dirs) -> Path:
    return isolated.state / JOURNAL_FILE


@pytest.fixture
def journal(path: Path):
    with Journal.open(path) as j:
        yield j


def raw(path: Path) -> closing[sqlite3.Connection]:
    """A plain connection beside the journal's, to look at the file as it is on disk."""
    return closing(sqlite3.connect(path, isolation_level=None))


# -- writing and reading -----------------------------------------------------------------


def test_every_kind_round_trips(journal: Journal) -> None:
    written = {}
    for n, kind in enumerate(KINDS):
        routine = None if kind in ("paused", "resumed", "config_error", "cramp",
                                   "no_cramp") else "foot-soak"
        at = T0 + timedelta(minutes=n, microseconds=123457)  # microseconds survive
        due = T0 if routine else None
        backend = "dbus" if kind == "delivered" else None
        detail = {"reason": f"because {kind}", "n": n, "nested": {"ok": True}}
        eid = journal.record(kind, routine, at=at, due=due, backend=backend, detail=detail)
        written[eid] = Event(eid, at.astimezone(UTC), kind, routine,
                             due.astimezone(UTC) if due else None, backend, detail)
    read = {e.id: e for e in journal.events()}
    assert read == written
    for e in read.values():  # aware UTC, whatever zone they were written in
        assert e.at.tzinfo is UTC and (e.due is None or e.due.tzinfo is UTC)


def test_an_event_without_detail_reads_back_an_empty_dict(journal: Journal) -> None:
    journal.record("due", "foot-soak", at=T0, due=T0)
    (e,) = journal.events()
    assert e.detail == {} and e.backend is None


def test_newest_first_by_recording_time_then_id(journal: Journal) -> None:
    # Recorded out of order (a late "done" arrives after a newer "due"), two at one instant.
    ids = {
        "b": journal.record("due", "a", at=T0 + timedelta(minutes=2)),
        "a": journal.record("due", "a", at=T0),
        "d": journal.record("done", "a", at=T0 + timedelta(minutes=5)),
        "c1": journal.record("due", "a", at=T0 + timedelta(minutes=3)),
        "c2": journal.record("due", "a", at=T0 + timedelta(minutes=3)),
    }
    order = [e.id for e in journal.events()]
    assert order == [ids["d"], ids["c2"], ids["c1"], ids["b"], ids["a"]]


def test_filters_combine(journal: Journal) -> None:
    for day in range(4):
        at = T0 + timedelta(days=day)
        for routine in ("foot-soak", "calf-stretch"):
            journal.record("due", routine, at=at, due=at)
            journal.record("delivered", routine, at=at + timedelta(seconds=1), due=at,
                           backend="console")
            journal.record("done", routine, at=at + timedelta(minutes=10), due=at)
    since = T0 + timedelta(days=2)

    recent = journal.events(since=since)
    assert len(recent) == 2 * 2 * 3 and all(e.at >= since for e in recent)
    assert recent[-1].at == since  # the bound is inclusive
    assert len(journal.events(since=since + timedelta(microseconds=1))) == len(recent) - 2
    assert {e.routine for e in journal.events(routine="calf-stretch")} == {"calf-stretch"}
    assert len(journal.events(routine="calf-stretch")) == 12
    assert {e.kind for e in journal.events(kinds=["done", "due"])} == {"done", "due"}
    assert len(journal.events(kinds=("done",))) == 8
    assert journal.events(kinds=[]) == []
    assert len(journal.events(limit=3)) == 3
    assert journal.events(limit=3) == journal.events()[:3]

    both = journal.events(since=since, routine="foot-soak", kinds=["done"], limit=1)
    assert [(e.kind, e.routine, e.due) for e in both] == \
        [("done", "foot-soak", (T0 + timedelta(days=3)).astimezone(UTC))]
    assert journal.events(routine="nobody") == []


def test_last_is_the_newest_of_those_kinds(journal: Journal) -> None:
    assert journal.last("foot-soak", ["done"]) is None
    journal.record("done", "foot-soak", at=T0, due=T0)
    newest = journal.record("snoozed", "foot-soak", at=T0 + timedelta(minutes=1), due=T0)
    journal.record("done", "calf-stretch", at=T0 + timedelta(minutes=2), due=T0)
    last = journal.last("foot-soak", ["done", "snoozed"])
    assert last is not None and last.id == newest
    assert journal.last("foot-soak", ["skipped"]) is None


def test_bad_arguments_are_programming_errors(journal: Journal) -> None:
    with pytest.raises(ValueError, match="unknown event kind 'fired'"):
        journal.record("fired", "foot-soak", at=T0)
    with pytest.raises(ValueError, match="aware"):
        journal.record("due", "foot-soak", at=datetime(2026, 11, 23, 21, 45))
    with pytest.raises(ValueError, match="aware"):
        journal.events(since=datetime(2026, 11, 23))
    with pytest.raises(ValueError, match="unknown event kind"):
        journal.events(kinds=["due", "fired"])
    with pytest.raises(ValueError, match="no routine"):
        journal.record("cramp", "foot-soak", at=T0)
    with pytest.raises(TypeError, match="timedelta"):
        journal.record("snoozed", "foot-soak", at=T0, detail={"duration": timedelta(1)})
    assert journal.events() == []


def test_detail_may_hold_aware_times(journal: Journal) -> None:
    journal.record("paused", at=T0, detail={"until": T0 + timedelta(hours=1)})
    assert journal.events()[0].detail == {"until": "2026-11-23T22:45:00+01:00"}


def test_log_cramp(journal: Journal) -> None:
    when = datetime(2026, 11, 24, 2, 10, tzinfo=BERLIN)
    eid = journal.log_cramp(when=when, at=when + timedelta(hours=5), leg="left", severity=4,
                            note="right calf, woke me up")
    (e,) = journal.events()
    assert (e.id, e.kind, e.routine, e.due) == (eid, "cramp", None, None)
    assert e.detail == {"when": "2026-11-24T01:10:00+00:00", "leg": "left", "severity": 4,
                        "note": "right calf, woke me up"}
    journal.log_cramp(when=when, at=when + timedelta(hours=6))
    assert journal.events()[0].detail == {"when": "2026-11-24T01:10:00+00:00", "leg": None,
                                          "severity": None, "note": None}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"when": T0 + timedelta(minutes=1)}, "in the future"),
    ({"severity": 0}, "1 \\(mild\\) to 5"),
    ({"severity": 6}, "1 \\(mild\\) to 5"),
])
def test_log_cramp_refuses_impossible_input(journal: Journal, kwargs, message) -> None:
    with pytest.raises(CrampguardError, match=message):
        journal.log_cramp(**{"when": T0, "at": T0, **kwargs})
    assert journal.events() == []


def test_state_is_a_small_key_value_store(path: Path) -> None:
    with Journal.open(path) as j:
        assert j.get_state("paused_until") is None
        j.set_state("paused_until", "2026-11-23T22:00:00+00:00")
        j.set_state("paused_until", "2026-11-23T23:00:00+00:00")
        j.set_state("other", "x")
        assert j.get_state("paused_until") == "2026-11-23T23:00:00+00:00"
    with Journal.open(path) as j:  # kept across restarts
        assert j.get_state("paused_until") == "2026-11-23T23:00:00+00:00"
        j.set_state("paused_until", None)
        j.set_state("never-set", None)
        assert j.get_state("paused_until") is None and j.get_state("other") == "x"


# -- the file ----------------------------------------------------------------------------


def test_open_makes_a_private_wal_file(isolated: Dirs) -> None:
    path = isolated.state / "deeper" / "journal.sqlite3"
    with Journal.open(path) as j:
        j.record("due", "foot-soak", at=T0)
        assert j.path == path
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with raw(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(journal_module.MIGRATIONS)
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        assert {"events", "state", "events_at", "events_routine_due"} <= names


def test_connection_settings(journal: Journal) -> None:
    db = journal._db
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


def test_opening_again_changes_nothing(path: Path) -> None:
    with Journal.open(path) as j:
        j.record("due", "foot-soak", at=T0)
    with raw(path) as db:
        schema = db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    for _ in range(2):
        with Journal.open(path) as j:
            assert [e.kind for e in j.events()] == ["due"]
    with raw(path) as db:
        assert db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(journal_module.MIGRATIONS)


def test_a_current_file_is_upgraded_by_the_next_migration(
        path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    known = len(journal_module.MIGRATIONS)
    with Journal.open(path) as j:
        old = j.record("done", "foot-soak", at=T0, due=T0)
    v2 = "ALTER TABLE events ADD COLUMN source TEXT;\n" \
         "CREATE INDEX events_kind ON events (kind);"
    monkeypatch.setattr(journal_module, "MIGRATIONS", [*journal_module.MIGRATIONS, v2])
    with Journal.open(path) as j:
        assert [e.id for e in j.events()] == [old]
        new = j.record("due", "foot-soak", at=T0 + timedelta(days=1))
        assert [e.id for e in j.events()] == [new, old]
    with raw(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == known + 1
        columns = [row[1] for row in db.execute("PRAGMA table_info(events)")]
        assert columns[-1] == "source"
    # A fresh file runs both in one go.
    with Journal.open(path.with_name("fresh.sqlite3")) as j, raw(j.path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == known + 1


def test_a_failing_migration_leaves_the_file_as_it_was(
        path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    known = len(journal_module.MIGRATIONS)
    with Journal.open(path) as j:
        j.record("due", "foot-soak", at=T0)
    broken = "CREATE TABLE halfway (x);\nINSERT INTO no_such_table VALUES (1);"
    monkeypatch.setattr(journal_module, "MIGRATIONS", [*journal_module.MIGRATIONS, broken])
    with pytest.raises(CrampguardError, match="no such table"):
        Journal.open(path)
    with raw(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == known
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'halfway'"
                          ).fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 1


def test_a_file_from_a_newer_crampguard_is_refused(path: Path) -> None:
    with Journal.open(path) as j:
        j.record("due", "foot-soak", at=T0)
    with raw(path) as db:
        db.execute("PRAGMA user_version = 7")
    with pytest.raises(CrampguardError) as caught:
        Journal.open(path)
    message = str(caught.value)
    assert str(path) in message and "newer crampguard" in message
    known = len(journal_module.MIGRATIONS)
    assert f"schema version 7; this one knows up to {known}" in message
    assert "upgrade" in message


def test_a_damaged_file_names_the_path_and_the_way_out(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 200)
    with pytest.raises(CrampguardError) as caught:
        Journal.open(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: the journal is damaged")
    assert f"mv '{path}' '{path}.broken'" in message


def test_a_folder_in_the_way_is_reported(path: Path) -> None:
    path.mkdir(parents=True)  # the journal's name is taken by a folder
    with pytest.raises(CrampguardError, match=f"^{path}: cannot write the journal"):
        Journal.open(path)


def test_a_state_folder_that_cannot_exist_is_reported(isolated: Dirs) -> None:
    isolated.state.parent.mkdir(parents=True, exist_ok=True)
    isolated.state.write_text("a file where the state folder should be")
    path = isolated.state / JOURNAL_FILE
    with pytest.raises(CrampguardError) as caught:
        Journal.open(path)
    assert str(caught.value).startswith(f"{path}: cannot create the journal")
    assert "CRAMPGUARD_STATE_DIR" in str(caught.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files anyway")
def test_a_read_only_file_is_reported_at_open(path: Path) -> None:
    with Journal.open(path):
        pass
    path.chmod(0o400)
    with pytest.raises(CrampguardError, match=f"^{path}: cannot write the journal"):
        Journal.open(path)


def test_time_range_reads_use_the_at_index(journal: Journal) -> None:
    for n in range(50):
        journal.record("due", f"r{n % 5}", at=T0 + timedelta(hours=n))
    statements: list[str] = []
    journal._db.set_trace_callback(statements.append)
    journal.events(since=T0 + timedelta(hours=40))
    journal.events(since=T0 + timedelta(hours=40), kinds=["due"], limit=3)
    w = stats.window(now=T0 + timedelta(days=3), zone=BERLIN, days=2)
    journal.tally(w)
    journal._db.set_trace_callback(None)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 4
    with raw(journal.path) as db:
        plans = [" / ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + s))
                 for s in selects]
    for plan in plans[:3]:
        assert "SEARCH events USING INDEX events_at (at>?)" in plan, plan
    for plan in plans[:2]:
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan  # the index gives the order
    assert "USING INDEX events_routine_due (routine=?)" in plans[3]  # the cramps


# -- two writers -------------------------------------------------------------------------


def test_two_connections_write_at_once(path: Path) -> None:
    # The daemon and a CLI command each have their own connection to the one file.
    daemon, cli = Journal.open(path), Journal.open(path)
    try:
        ids: dict[str, list[int]] = {"daemon": [], "cli": []}

        def write(name: str, j: Journal) -> None:
            for n in range(300):
                ids[name].append(j.record("due", name, at=T0 + timedelta(seconds=n)))

        threads = [threading.Thread(target=write, args=item)
                   for item in (("daemon", daemon), ("cli", cli))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        written = set(ids["daemon"]) | set(ids["cli"])
        assert len(written) == 600  # no id given twice, nothing lost
        # Each commit is visible to the other connection as soon as record returns.
        assert {e.id for e in daemon.events()} == written == {e.id for e in cli.events()}
    finally:
        daemon.close()
        cli.close()


def test_a_writer_waits_for_the_other_instead_of_failing(journal: Journal) -> None:
    with closing(sqlite3.connect(journal.path, isolation_level=None,
                                 check_same_thread=False)) as other:
        other.execute("BEGIN IMMEDIATE")  # e.g. the daemon in the middle of a write
        other.execute("INSERT INTO events (at, kind) VALUES (0, 'paused')")
        release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
        release.start()
        started = time.monotonic()
        eid = journal.record("due", "foot-soak", at=T0)
        waited = time.monotonic() - started
        release.join()
    assert waited >= 0.3
    assert [e.id for e in journal.events()] == [eid, eid - 1]


CHILD = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from scheduler.journal.store import Journal

journal = Journal.open(Path(sys.argv[1]))
count = int(sys.argv[2])  # 0: until killed
base = datetime(2026, 1, 1, tzinfo=UTC)
n = 0
while count == 0 or n < count:
    n += 1
    at = base + timedelta(seconds=n)
    eid = journal.record("delivered", "calf-stretch", at=at, due=at, backend="dbus",
                         detail={"n": n, "padding": "x" * (n % 700)})
    print(eid, flush=True)  # printed only once committed
journal.close()
"""


def child(path: Path, count: int = 0) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(count)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)


@pytest.mark.slow
def test_another_process_writes_while_we_write(path: Path) -> None:
    with Journal.open(path) as j, child(path, 400) as proc:
        ours = [j.record("due", "foot-soak", at=T0 + timedelta(seconds=n)) for n in range(400)]
        out, _ = proc.communicate(timeout=60)
        theirs = [int(line) for line in out.split()]
        assert proc.returncode == 0
        assert len(theirs) == 400 and not set(ours) & set(theirs)
        assert {e.id for e in j.events()} == set(ours) | set(theirs)


@pytest.mark.slow
def test_kill_9_mid_write_loses_nothing_committed(path: Path) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    committed: set[int] = set()
    kills = 6
    for round_ in range(kills):
        with child(path) as proc:
            assert proc.stdout is not None
            # A different moment each round: sometimes before the first commit (the very
            # first round may even hit the migration), mostly somewhere in a burst of writes.
            target = 0 if round_ == 0 else rng.randint(1, 3000)
            lines = 0
            if target == 0:
                time.sleep(rng.uniform(0.05, 0.4))
            else:
                while lines < target:
                    line = proc.stdout.readline()
                    assert line, f"the writer died on its own (seed {seed})"
                    committed.add(int(line))
                    lines += 1
                time.sleep(rng.uniform(0, 0.02))
            proc.kill()  # SIGKILL: no atexit, no close, no checkpoint
            rest = proc.stdout.read()
            proc.wait()
        assert proc.returncode == -9
        # Lines the child printed before it died are commits too; a torn last line is not.
        complete = rest if rest.endswith("\n") else rest.rsplit("\n", 1)[0]
        committed.update(int(x) for x in complete.split())
        if not path.exists():
            assert not committed, seed  # killed before it made the journal: nothing was
            continue  # committed (a loaded machine starts the child slowly)

        with raw(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)], seed
        with Journal.open(path) as j:
            present = {e.id for e in j.events()}
        missing = committed - present
        assert not missing, f"lost committed ids {sorted(missing)[:10]} (seed {seed})"
    assert len(committed) > kills  # the kills really happened mid-stream


def test_a_version_1_journal_counts_its_past_reminders_as_settled(path: Path) -> None:
    """The upgrade to reminder rows: a reminder delivered before it is not shown again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        for statement in journal_module._statements(journal_module.MIGRATIONS[0]):
            db.execute(statement)
        db.execute("PRAGMA user_version = 1")
        db.execute("INSERT INTO events (at, kind, routine, due) VALUES (1, 'due', 'soak', 5),"
                   " (2, 'delivered', 'soak', 5), (3, 'missed', 'soak', 9)")
    db.close()
    with Journal.open(path) as j:
        from scheduler.journal.events import from_us

        assert j.reminder("soak", from_us(5)).state == "delivered"  # type: ignore[union-attr]
        assert j.reminder("soak", from_us(9)).state == "missed"  # type: ignore[union-attr]
        assert [e.kind for e in j.events()] == ["missed", "delivered", "due"]
