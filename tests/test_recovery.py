"""A damaged journal is moved aside (never deleted) and a new one started; any other
failure to open it moves nothing. Real SQLite files, damaged the ways disks damage them;
the read-only and full folders are real tmpfs mounts where the test may mount one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.errors import CrampguardError
from scheduler.journal.recovery import damage, open_journal
from scheduler.journal.store import Journal
from scheduler.paths import JOURNAL_FILE
from tests.support.fixtures import ROOT, Dirs

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 23, 21, 45, 7, tzinfo=BERLIN)
BROKEN = f"{JOURNAL_FILE}.broken-20261123-214507"


@pytest.fixture
def path(isolated: Dirs) -> Path:
    isolated.state.mkdir(parents=True, exist_ok=True)
    return isolated.state / JOURNAL_FILE


def fill(path: Path, events: int = 2000) -> None:
    """A real journal of ``events`` reminders, spread over many pages."""
    with Journal.open(path) as journal:
        for n in range(events):
            journal.record("due", f"routine-{n % 7}", at=T0 + timedelta(minutes=n), due=T0,
                           detail={"n": n})


def assert_fresh(journal: Journal, path: Path) -> None:
    """The returned journal is a new, empty, working one at the usual place."""
    assert journal.path == path and journal.events() == []
    journal.record("due", "foot-soak", at=T0, due=T0)
    assert [e.routine for e in journal.events()] == ["foot-soak"]


def test_a_garbage_file_is_moved_aside_byte_for_byte(path: Path) -> None:
    garbage = b"not a database at all\n" * 300
    path.write_bytes(garbage)
    journal, moved = open_journal(path, T0)
    with journal:
        assert moved == path.with_name(BROKEN)
        assert moved.read_bytes() == garbage
        assert_fresh(journal, path)


def test_a_truncated_journal_is_moved_aside(path: Path) -> None:
    fill(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a copy cut short, a sync tool half done
    journal, moved = open_journal(path, T0)
    with journal:
        assert moved is not None and moved.read_bytes() == data[: len(data) // 2]
        assert_fresh(journal, path)


def test_a_damaged_page_that_open_alone_misses_is_caught(path: Path) -> None:
    fill(path)
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 20 * page
    data[10 * page: 10 * page + 64] = b"\xff" * 64  # a page header among the events
    path.write_bytes(bytes(data))
    with Journal.open(path):
        pass  # why recovery checks the pages itself: this open does not notice
    assert damage(path) is not None
    journal, moved = open_journal(path, T0)
    with journal:
        assert moved is not None and moved.read_bytes() == bytes(data)
        assert_fresh(journal, path)


def test_the_wal_and_shm_travel_with_it(path: Path) -> None:
    path.write_bytes(b"garbage" * 1000)
    path.with_name(f"{JOURNAL_FILE}-wal").write_bytes(b"old wal")
    path.with_name(f"{JOURNAL_FILE}-shm").write_bytes(b"old shm")
    journal, moved = open_journal(path, T0)
    with journal:
        assert moved is not None
        assert Path(f"{moved}-wal").read_bytes() == b"old wal"
        assert Path(f"{moved}-shm").exists()  # SQLite's scratch index: rebuilt, not data
        # Whatever SQLite keeps beside the new journal is its own, not the old WAL.
        new_wal = path.with_name(f"{JOURNAL_FILE}-wal")
        assert not new_wal.exists() or new_wal.read_bytes() != b"old wal"
        assert_fresh(journal, path)


def test_an_earlier_broken_journal_is_never_overwritten(path: Path) -> None:
    earlier = path.with_name(BROKEN)
    earlier.write_bytes(b"the first one")
    path.with_name(f"{BROKEN}-2-wal").write_bytes(b"a stray wal of a second one")
    path.write_bytes(b"garbage" * 1000)
    journal, moved = open_journal(path, T0)
    journal.close()
    assert moved == path.with_name(f"{BROKEN}-3")
    assert earlier.read_bytes() == b"the first one"
    path.write_bytes(b"more garbage" * 1000)
    journal, again = open_journal(path, T0)
    journal.close()
    assert again == path.with_name(f"{BROKEN}-4")
    assert moved.read_bytes() == b"garbage" * 1000


def test_a_healthy_journal_is_opened_as_it_is(path: Path) -> None:
    fill(path, events=10)
    journal, moved = open_journal(path, T0)
    with journal:
        assert moved is None and len(journal.events()) == 10
    assert sorted(p.name for p in path.parent.iterdir()) == [JOURNAL_FILE]


def test_a_missing_journal_is_created(path: Path) -> None:
    journal, moved = open_journal(path, T0)
    with journal:
        assert moved is None
        assert_fresh(journal, path)


def test_a_journal_left_by_kill_9_is_not_damage(path: Path) -> None:
    code = ("import os, sys\nfrom datetime import UTC, datetime\n"
            "from scheduler.journal.store import Journal\n"
            "j = Journal.open(sys.argv[1])\n"
            "j.record('due', 'foot-soak', at=datetime.now(UTC))\n"
            "os.kill(os.getpid(), 9)\n")
    subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, check=False,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert path.with_name(f"{JOURNAL_FILE}-wal").exists()  # the commit is only there
    journal, moved = open_journal(path, T0)
    with journal:
        assert moved is None and [e.routine for e in journal.events()] == ["foot-soak"]


def test_a_journal_from_a_newer_crampguard_is_left_alone(path: Path) -> None:
    fill(path, events=3)
    with Journal.open(path) as journal:
        journal._db.execute("PRAGMA user_version = 99")
    before = path.read_bytes()
    with pytest.raises(CrampguardError, match="written by a newer crampguard"):
        open_journal(path, T0)
    assert path.read_bytes() == before
    assert not list(path.parent.glob("*.broken-*"))


# -- folders that cannot be written: nothing moves ---------------------------------------


@contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real tmpfs of ``size`` at ``where``; the test is skipped where it cannot mount
    (not root, no CAP_SYS_ADMIN). Root ignores file modes, so a mount is the only real
    read-only or full folder a root test can have."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700",
                              "tmpfs", str(where)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def read_only(where: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)


def fill_disk(where: Path) -> None:
    with open(where / "filler", "wb") as f, pytest.raises(OSError):
        while True:
            f.write(b"\0" * 65536)
            f.flush()


def test_a_read_only_folder_moves_nothing(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "state", "4m") as state:
        healthy, damaged = state / "healthy" / JOURNAL_FILE, state / "damaged" / JOURNAL_FILE
        healthy.parent.mkdir()
        damaged.parent.mkdir()
        fill(healthy, events=10)
        damaged.write_bytes(b"garbage" * 1000)
        read_only(state)
        with pytest.raises(CrampguardError, match=f"^{healthy}: cannot write the journal"):
            open_journal(healthy, T0)
        with pytest.raises(CrampguardError) as caught:
            open_journal(damaged, T0)
        message = str(caught.value)
        assert message.startswith(f"{damaged}: the journal is damaged (file is not a database)")
        assert "could not be moved aside (Read-only file system)" in message
        assert f"mv '{damaged}' '{damaged.with_name(BROKEN)}'" in message
        assert sorted(p.name for p in healthy.parent.iterdir()) == [JOURNAL_FILE]
        assert sorted(p.name for p in damaged.parent.iterdir()) == [JOURNAL_FILE]


def test_a_full_disk_moves_a_healthy_journal_nowhere(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "state", "512k") as state:
        path = state / JOURNAL_FILE
        fill(path, events=10)
        before = path.read_bytes()
        fill_disk(state)
        with pytest.raises(CrampguardError, match=f"^{path}: "):
            open_journal(path, T0)
        assert path.read_bytes() == before
        assert not list(state.glob("*.broken-*"))


def test_a_damaged_journal_on_a_full_disk_says_where_it_went(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "state", "512k") as state:
        path = state / JOURNAL_FILE
        path.write_bytes(b"garbage" * 1000)
        fill_disk(state)
        with pytest.raises(CrampguardError) as caught:
            open_journal(path, T0)
        assert caught.value.problems[-1] == \
            f"{path}: the damaged journal was moved to {path.with_name(BROKEN)}"
        assert path.with_name(BROKEN).read_bytes() == b"garbage" * 1000
