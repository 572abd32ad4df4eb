"""A damaged journal is moved aside, never deleted, and a new one started.

The daemon must start and keep reminding whatever the journal file has become (a disk
error, a crash of the filesystem, a sync tool that copied half of it). Only *damage* moves
the file: a read-only folder, a full disk or a journal written by a newer crampguard says
nothing about the file's contents, so those errors are raised as they are and nothing is
touched.

Damage is judged here, with a read-only connection and ``PRAGMA quick_check``, rather than
from ``Journal.open``'s error: that open reads only the header and the schema, so a bad
page among the events would pass it and fail later, at a reminder. ``quick_check`` reads
every page once (tens of milliseconds for a year of reminders).
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

from scheduler.errors import CrampguardError
from scheduler.journal.store import Journal

#: SQLite's own files beside a database. They travel with it, under the new name, so that
#: ``sqlite3 journal.sqlite3.broken-… .recover`` still sees the last commits; left behind,
#: a stale WAL would be replayed into the new, empty journal.
COMPANIONS = ("-wal", "-shm", "-journal")
#: The error names (``sqlite3.Error.sqlite_errorname``) that mean the file itself is bad.
DAMAGE_CODES = ("SQLITE_NOTADB", "SQLITE_CORRUPT")


def open_journal(path: Path, now: datetime) -> tuple[Journal, Path | None]:
    """Open the journal at ``path``; a damaged one is first renamed to
    ``journal.sqlite3.broken-YYYYMMDD-HHMMSS`` (``now`` as given, in its zone) and a new
    one started. Returns the journal and where the damaged one went (None: nothing was
    wrong with it).

    Raises ``CrampguardError`` when the journal cannot be opened for any other reason
    (nothing is moved then), or when a damaged one cannot be moved aside.
    """
    problem = damage(path)
    if problem is None:
        return Journal.open(path), None
    moved = move_aside(path, now, problem)
    try:
        return Journal.open(path), moved
    except CrampguardError as exc:
        raise CrampguardError([*exc.problems,
                               f"{path}: the damaged journal was moved to {moved}"]) from None


def damage(path: Path) -> str | None:
    """What is wrong with the database file at ``path``, or None when it reads whole (or
    cannot be read for a reason that is not the file's fault: missing, unreadable)."""
    if not path.is_file():
        return None
    try:
        # Read-only: judging the database must not change it.
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            rows = db.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorname", "") or ""
        return str(exc) if code.startswith(DAMAGE_CODES) else None
    found = [" ".join(str(row[0]).split()) for row in rows]  # a row may span lines
    return None if found == ["ok"] else "; ".join(found[:3])


def move_aside(path: Path, now: datetime, problem: str) -> Path:
    """Rename ``path`` and its companions to the first free ``.broken-…`` name; all of
    them, or (after an error) none."""
    target = _free_name(path, now)
    moves = [(path.with_name(path.name + suffix), target.with_name(target.name + suffix))
             for suffix in COMPANIONS]
    moves.append((path, target))  # last: the companions must not stay behind a new file
    done: list[tuple[Path, Path]] = []
    try:
        for old, new in moves:
            if old.exists():
                os.rename(old, new)
                done.append((old, new))
    except OSError as exc:
        for old, new in reversed(done):
            try:
                os.rename(new, old)
            except OSError:
                pass  # cannot happen in a folder we just renamed in; nothing is lost
        raise CrampguardError(
            f"{path}: the journal is damaged ({problem}) and could not be moved aside "
            f"({exc.strerror}); move it yourself (mv '{path}' '{target}') and start "
            "crampguard again") from None
    return target


def _free_name(path: Path, now: datetime) -> Path:
    """``NAME.broken-YYYYMMDD-HHMMSS``, then ``…-2``, ``…-3``: never over an older one.

    Only the daemon moves a journal, and the instance lock lets one run per state folder,
    so nothing takes the name between this look and the rename."""
    stem = f"{path.name}.broken-{now:%Y%m%d-%H%M%S}"
    n = 1
    while True:
        candidate = path.with_name(stem if n == 1 else f"{stem}-{n}")
        if not any(candidate.with_name(candidate.name + s).exists() for s in ("", *COMPANIONS)):
            return candidate
        n += 1
