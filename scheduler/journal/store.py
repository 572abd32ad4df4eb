"""The journal: what happened to each reminder, and the cramps the user logged.

One SQLite file in the state folder, written by the daemon and the CLI at the same time.
Nothing here reads the clock: every event arrives with its own ``at``.

Storage choices, and why:
- WAL mode, so a reader (``crampguard stats``) never blocks the daemon's writes and one
  writer waits for the other instead of failing (``busy_timeout``).
- Every ``record`` is its own transaction, committed before it returns. With WAL,
  ``synchronous=NORMAL`` keeps every committed transaction across a *process* crash
  (``kill -9``, a segfault): the commit is in the WAL file, in the OS page cache, and the
  next open replays it. Only a power cut or kernel crash can lose the last few commits
  (never corrupt the file); that is the price of not calling fsync on each reminder.
- Times are integer microseconds since the epoch, UTC: they sort and compare as numbers,
  so range queries walk the ``at`` index, and no zone or DST rule lives in the file.
- ``PRAGMA user_version`` is the schema version; ``MIGRATIONS[n]`` takes a file from
  version n to n + 1. A new version is one more entry in that list.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from scheduler.errors import CrampguardError
from scheduler.journal.events import (
    CRAMP_LOG,
    KINDS,
    MICROSECOND,
    NIGHT_ANSWERS,
    USER_EVENTS,
    Event,
    Reminder,
    event_from_row,
    from_us,
    future_problem,
    json_value,
    severity_problem,
    to_us,
)

if TYPE_CHECKING:
    from scheduler.journal import stats

#: How long a writer waits for the other one (the daemon, the CLI) before giving up.
BUSY_TIMEOUT_MS = 5000
#: How long the daemon's checkpoint after a write waits for readers to finish.
CHECKPOINT_WAIT_MS = 200
#: One event as stored (``Journal.between``): id, at, kind, routine, due, backend,
#: detail; the instants in microseconds since the epoch (UTC), the detail as JSON or None.
Stored = tuple[int, int, str, str | None, int | None, str | None, str | None]

MIGRATIONS: list[str] = [
    # 0 -> 1
    """
    CREATE TABLE events (
        id      INTEGER PRIMARY KEY,
        at      INTEGER NOT NULL,   -- when it was recorded, µs since the epoch (UTC)
        kind    TEXT NOT NULL,
        routine TEXT,
        due     INTEGER,            -- the reminder's due instant, µs since the epoch (UTC)
        backend TEXT,
        detail  TEXT                -- a JSON object; NULL when empty (most events)
    );
    CREATE INDEX events_at ON events (at);
    CREATE INDEX events_routine_due ON events (routine, due);
    CREATE TABLE state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 1 -> 2: one row per reminder, so "at most once" holds across restarts and clock
    # steps, and answers (a snooze, a skip ahead, the notice's buttons) survive a restart.
    # Reminders delivered, missed or skipped before the upgrade count as settled.
    """
    CREATE TABLE reminders (
        routine TEXT NOT NULL,
        due     INTEGER NOT NULL,   -- µs since the epoch (UTC)
        state   TEXT NOT NULL,      -- pending | delivered | held | waiting | missed | ...
        answer  TEXT,               -- done | snoozed | skipped
        notice  TEXT,               -- "<server>/<id>" of the notice on screen
        until   INTEGER,            -- a snooze's return, until it is shown again
        manual  INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (routine, due)
    ) WITHOUT ROWID;
    CREATE INDEX reminders_notice ON reminders (notice) WHERE notice IS NOT NULL;
    CREATE INDEX reminders_until ON reminders (until) WHERE until IS NOT NULL;
    INSERT OR IGNORE INTO reminders (routine, due, state)
        SELECT routine, due, kind FROM events
        WHERE kind IN ('delivered', 'missed', 'skipped', 'failed')
              AND routine IS NOT NULL AND due IS NOT NULL
        ORDER BY id;
    """,
]

class Journal:
    """One connection to the journal file, used by one thread at a time, so it needs no
    lock: the daemon touches it only on its loop (buttons and control commands are handed
    over to the loop), the CLI on its main thread. It may be opened on one thread and used
    on another, hence ``check_same_thread=False``."""

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self._db = connection

    @classmethod
    def open(cls, path: Path) -> Journal:
        path = Path(path)
        try:
            # The journal is health data: a private folder and file.
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            raise CrampguardError(
                f"{path}: cannot create the journal ({exc.strerror}); check that the state "
                "folder is yours and writable, or point CRAMPGUARD_STATE_DIR elsewhere"
            ) from None
        try:
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                 check_same_thread=False)
        except sqlite3.DatabaseError as exc:
            raise CrampguardError(_explain(path, exc)) from None
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Not every filesystem allows WAL (some network mounts); the journal still
            # works in the default rollback mode there, only readers block the writer.
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            _migrate(db, path)
            _probe_write(db)
        except sqlite3.DatabaseError as exc:
            db.close()
            raise CrampguardError(_explain(path, exc)) from None
        except BaseException:
            db.close()
            raise
        return cls(path, db)

    @classmethod
    def read(cls, path: Path) -> Journal:
        """The journal for reading only (history, stats, export, report): it needs no write
        access to the file or its folder and changes nothing on disk. A journal that does
        not exist yet reads as empty, and no file is created; one written by an older
        crampguard is upgraded in memory (the daemon upgrades the file)."""
        path = Path(path)
        if not path.exists():
            return cls(path, _connect(":memory:", schema=True))
        try:
            db = _connect_read_only(path)
        except sqlite3.DatabaseError as exc:
            raise CrampguardError(_explain_read(path, exc)) from None
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise CrampguardError(_too_new(path, version, len(MIGRATIONS)))
            if version < len(MIGRATIONS):
                memory = _connect(":memory:")
                db.backup(memory)
                db.close()
                db = memory
                _migrate(db, path)
        except sqlite3.DatabaseError as exc:
            db.close()
            raise CrampguardError(_explain_read(path, exc)) from None
        except BaseException:
            db.close()
            raise
        return cls(path, db)

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    # -- writing -------------------------------------------------------------------------

    def record(self, kind: str, routine: str | None = None, *, at: datetime,
               due: datetime | None = None, backend: str | None = None,
               detail: dict[str, Any] | None = None) -> int:
        """Append one event; it is committed when this returns. Returns its id."""
        if kind not in KINDS:
            raise ValueError(f"unknown event kind {kind!r}; known kinds: {', '.join(KINDS)}")
        if kind in CRAMP_LOG and routine is not None:
            raise ValueError(f"a {kind} event belongs to no routine")  # Journal.tally relies on it
        row = (to_us(at, "at"), kind, routine, None if due is None else to_us(due, "due"),
               backend, json.dumps(detail, sort_keys=True, default=json_value)
               if detail else None)
        with self._errors():
            cursor = self._db.execute(
                "INSERT INTO events (at, kind, routine, due, backend, detail) "
                "VALUES (?, ?, ?, ?, ?, ?)", row)
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def log_cramp(self, *, when: datetime, at: datetime, leg: str | None = None,
                  severity: int | None = None, note: str | None = None) -> int:
        """A cramp the user had at ``when``, logged at ``at`` (often the next morning)."""
        for field, problem in (("severity", severity_problem(severity)),
                               ("when", future_problem(when, at))):
            if problem:
                raise CrampguardError(f"{field}: {problem}")
        return self.record("cramp", at=at, detail={
            "when": when.astimezone(UTC).isoformat(), "leg": leg, "severity": severity,
            "note": note})

    def log_night(self, night: date, answer: str, *, at: datetime, source: str,
                  note: str | None = None) -> int:
        """An answer about night ``night`` (it runs from local noon that day to noon the
        next; see ``nights.night_before``), given at ``at``: "none" is a "no_cramp" event,
        "one" / "several" a "cramp" event with ``detail["count"]`` 1 / "several".

        The detail holds ``night`` ("YYYY-MM-DD") and no ``when``: the answer knows the
        night, not the time. For the statistics the latest answer about a night replaces
        what was logged about it before (stats module docstring).
        """
        if answer not in NIGHT_ANSWERS:
            raise ValueError(f"unknown answer {answer!r}; give one of {NIGHT_ANSWERS}")
        detail: dict[str, Any] = {"night": night.isoformat(), "source": source}
        if answer != "none":
            detail["count"] = 1 if answer == "one" else "several"
        if note:
            detail["note"] = note
        return self.record("no_cramp" if answer == "none" else "cramp", at=at, detail=detail)

    def log_event(self, name: str, *, when: datetime, at: datetime, source: str) -> int:
        """Something the user reports (``USER_EVENTS``: a workout) that happened at ``when``,
        logged at ``at``; a routine may follow it (``after = "workout + 1h"``)."""
        if name not in USER_EVENTS:
            raise ValueError(f"unknown event {name!r}; known: {', '.join(USER_EVENTS)}")
        if problem := future_problem(when, at, f"a {name}"):
            raise CrampguardError(f"when: {problem}")
        return self.record(name, at=at, detail={"when": when.astimezone(UTC).isoformat(),
                                                "source": source})

    def set_state(self, key: str, value: str | None) -> None:
        """Keep a small value (``paused_until``) across restarts; ``None`` removes it."""
        with self._errors():
            if value is None:
                self._db.execute("DELETE FROM state WHERE key = ?", (key,))
            else:
                self._db.execute("INSERT INTO state (key, value) VALUES (?, ?) "
                                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                 (key, value))

    def put_reminder(self, reminder: Reminder) -> None:
        """Write a reminder's whole row (the state machine holds the current one)."""
        row = (reminder.routine, to_us(reminder.due, "due"), reminder.state, reminder.answer,
               reminder.notice, None if reminder.until is None else to_us(reminder.until,
                                                                         "until"),
               int(reminder.manual))
        with self._errors():
            self._db.execute("INSERT OR REPLACE INTO reminders (routine, due, state, answer, "
                             "notice, until, manual) VALUES (?, ?, ?, ?, ?, ?, ?)", row)

    def checkpoint(self) -> None:
        """Move the WAL's commits into the file and empty the WAL. The daemon does it after
        each write (a few a day): a journal file removed, replaced or copied by a backup
        tool then holds everything, and never meets a stale WAL meant for another file."""
        with self._errors():
            # A reader (`crampguard stats`) holds it up: wait a little, not the full busy
            # timeout; a checkpoint left undone now is done after the next write.
            self._db.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    # -- reading -------------------------------------------------------------------------

    def reminder(self, routine: str, due: datetime) -> Reminder | None:
        found = self._reminders("routine = ? AND due = ?", [routine, to_us(due, "due")])
        return found[0] if found else None

    def reminders(self, routine: str, *, since: datetime,
                  limit: int | None = None) -> list[Reminder]:
        """A routine's reminders due at or after ``since``, newest first."""
        return self._reminders("routine = ? AND due >= ?", [routine, to_us(since, "since")],
                               limit)

    def reminder_by_notice(self, notice: str) -> Reminder | None:
        found = self._reminders("notice = ?", [notice], 1)
        return found[0] if found else None

    def snoozed(self) -> list[Reminder]:
        """Reminders whose snooze has not brought them back yet."""
        return self._reminders("until IS NOT NULL", [])

    def pending(self) -> list[Reminder]:
        """Follow-ups planned and not yet due (issue 10)."""
        return self._reminders("state = 'pending'", [])

    def skipped(self, since: datetime) -> list[Reminder]:
        """Firings due at or after ``since`` dropped ahead of time (`crampguard skip`)."""
        return self._reminders("state = 'skipped' AND due >= ?", [to_us(since, "since")])

    def waiting(self) -> list[Reminder]:
        """Reminders held until the user is back or do-not-disturb ends."""
        return self._reminders("state = 'waiting'", [])

    def unanswered(self, *, since: datetime) -> list[Reminder]:
        """Reminders shown by the schedule and not answered, due at or after ``since``
        (their repeats come back after a restart)."""
        return self._reminders("state = 'delivered' AND answer IS NULL AND manual = 0 "
                               "AND due >= ?", [to_us(since, "since")])

    def latest(self) -> datetime | None:
        """When the last event was recorded: the daemon's last sign of life in a journal
        written before it noted one."""
        with self._errors():
            (at,) = self._db.execute("SELECT MAX(at) FROM events").fetchone()
        return None if at is None else from_us(at)

    def _reminders(self, where: str, params: list[object],
                   limit: int | None = None) -> list[Reminder]:
        sql = ("SELECT routine, due, state, answer, notice, until, manual FROM reminders "
               f"WHERE {where} ORDER BY due DESC")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._errors():
            rows = self._db.execute(sql, params).fetchall()
        return [Reminder(routine, from_us(due), state, answer, notice,
                         None if until is None else from_us(until), bool(manual))
                for routine, due, state, answer, notice, until, manual in rows]


    def events(self, *, since: datetime | None = None, routine: str | None = None,
               kinds: Iterable[str] | None = None, limit: int | None = None) -> list[Event]:
        """Events recorded at or after ``since``, newest first."""
        where: list[str] = []
        params: list[object] = []
        if since is not None:
            where.append("at >= ?")
            params.append(to_us(since, "since"))
        if routine is not None:
            where.append("routine = ?")
            params.append(routine)
        if kinds is not None:
            wanted = _kinds(kinds)
            if not wanted:
                return []
            where.append(f"kind IN ({', '.join('?' * len(wanted))})")
            params.extend(wanted)
        return self._select(where, params, limit)

    def between(self, start: datetime | None = None,
                end: datetime | None = None) -> Iterator[Stored]:
        """Events recorded at or after ``start`` and before ``end`` (``None``: no bound),
        oldest first, as stored (``event_from_row`` makes an ``Event`` of one), read from
        the file as they are used: a year is ~100k events, and building a list of them,
        or an ``Event`` of each, costs more than `crampguard export`'s whole budget. Use
        them up before the journal is closed."""
        where: list[str] = []
        params: list[object] = []
        for bound, test in ((start, "at >= ?"), (end, "at < ?")):
            if bound is not None:
                where.append(test)
                params.append(to_us(bound, "bound"))
        sql = "SELECT id, at, kind, routine, due, backend, detail FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._errors():
            cursor = self._db.execute(sql + " ORDER BY at, id", params)  # the `at` index
        while True:
            with self._errors():
                rows = cursor.fetchmany(1000)
            if not rows:
                return
            yield from rows

    def _select(self, where: list[str], params: list[object],
                limit: int | None = None) -> list[Event]:
        sql = "SELECT id, at, kind, routine, due, backend, detail FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        # (at, id) is the order of the `at` index (SQLite appends the rowid), so a
        # time-range read is one index walk with no sort.
        sql += " ORDER BY at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params = [*params, limit]
        with self._errors():
            rows = self._db.execute(sql, params).fetchall()
        return [event_from_row(row) for row in rows]

    def last(self, routine: str, kinds: Iterable[str]) -> Event | None:
        """The newest event of ``routine`` among ``kinds``."""
        found = self.events(routine=routine, kinds=kinds, limit=1)
        return found[0] if found else None

    def tally(self, window: stats.Window) -> stats.Tally:
        """``stats.tally(self.events(since=window.start), window)``, counted in SQL.

        A year of reminders is ~100k events; turning each into an ``Event`` costs more
        than the statistics' whole budget, while SQLite groups them by routine and
        local half-day in a single pass over the ``at`` index.
        """
        from scheduler.journal import stats  # the daemon, which never counts, spares it

        offset_sql, params = _local_offset(window)
        params += [to_us(window.start, "start"), *stats.COUNTED,
                   to_us(window.start, "start"), to_us(window.end, "end")]
        # One row per routine and local half-day, a column per counted kind; "done"
        # counts distinct reminders (stats.Count). Grouping by kind as well would sort
        # three times as many groups.
        columns = ", ".join(
            "COUNT(DISTINCT CASE WHEN kind = 'done' THEN due END)"
            " + SUM(kind = 'done' AND due IS NULL)" if kind == "done" else f"SUM(kind = '{kind}')"
            for kind in stats.COUNTED)
        sql = f"""
            SELECT routine, (m + {offset_sql}) / {stats.HALF_DAY // MICROSECOND} AS half,
                   {columns}
            FROM (SELECT routine, kind, due, COALESCE(due, at) AS m
                  FROM events INDEXED BY events_at  -- not (routine, due): all years
                  WHERE at >= ? AND kind IN ({", ".join("?" * len(stats.COUNTED))})
                        AND routine IS NOT NULL
                        AND (detail IS NULL OR json_extract(detail, '$.manual') IS NULL))
            WHERE m BETWEEN ? AND ?
            GROUP BY routine, half"""
        with self._errors():
            rows = self._db.execute(sql, params).fetchall()
        counts = tuple(sorted(stats.Count(*row) for row in rows))
        # The cramp log belongs to no routine: `routine IS NULL` walks the (routine, due)
        # index to the few such events instead of every event of the year.
        found = self._select(["routine IS NULL", "kind IN ('cramp', 'no_cramp')",
                              "at >= ?"], [to_us(window.start, "start")])
        return stats.Tally(window, counts, *stats.cramp_log(found, window.zone))

    def day_counts(self, window: stats.Window) -> list[DayCount]:
        """Per routine and local day, for each kind, how many reminders (distinct due
        instants) had such an event, by their moment as ``tally`` places them (the report's
        calendar).

        Held repeats (a reminder already shown, its repeat held back) are left out: the
        reminder was not held. Counted in SQL for the same reason as ``tally``, a column
        per kind: a row per kind made four times as many rows to turn into objects.
        """
        offset_sql, params = _local_offset(window)
        params += [to_us(window.start, "start"), *DAY_KINDS,
                   to_us(window.start, "start"), to_us(window.end, "end")]
        columns = ", ".join(f"COUNT(DISTINCT CASE WHEN kind = '{kind}' THEN m END)"
                            for kind in DAY_KINDS)
        sql = f"""
            SELECT routine, (m + {offset_sql}) / {DAY_US} AS day, {columns}
            FROM (SELECT routine, kind, COALESCE(due, at) AS m
                  FROM events INDEXED BY events_at
                  WHERE at >= ? AND kind IN ({", ".join("?" * len(DAY_KINDS))})
                        AND routine IS NOT NULL
                        AND (detail IS NULL OR (json_extract(detail, '$.manual') IS NULL
                             AND (kind != 'held' OR json_extract(detail, '$.repeat') IS NULL))))
            WHERE m BETWEEN ? AND ?
            GROUP BY routine, day
            ORDER BY routine, day"""
        with self._errors():
            rows = self._db.execute(sql, params).fetchall()
        return [DayCount(routine, date.fromordinal(_EPOCH_DAY + day), *counts)
                for routine, day, *counts in rows]

    def get_state(self, key: str) -> str | None:
        with self._errors():
            row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def _errors(self) -> _Translate:
        return _Translate(self.path)


class DayCount(NamedTuple):
    """``Journal.day_counts``' row: how many reminders of ``routine`` due on local ``day``
    had an event of each kind (DAY_KINDS, in that order)."""

    routine: str
    day: date
    due: int
    delivered: int
    done: int
    snoozed: int
    skipped: int
    missed: int
    held: int


#: The kinds the report's calendar counts by day, in DayCount's order.
DAY_KINDS = DayCount._fields[2:]
DAY_US = 86_400_000_000
_EPOCH_DAY = date(1970, 1, 1).toordinal()


def _local_offset(window: stats.Window) -> tuple[str, list[object]]:
    """SQL for the UTC offset in force at instant ``m`` (µs) across the window, and its
    parameters: local wall time = instant + offset, with no zone database in SQLite."""
    from scheduler.journal import stats

    pieces = stats.utc_offsets(window)
    sql = "?" if len(pieces) == 1 else " ".join(
        ["CASE", *["WHEN m >= ? THEN ?"] * (len(pieces) - 1), "ELSE ? END"])
    params: list[object] = []
    for since, offset in reversed(pieces[1:]):
        params += [to_us(since, "since"), offset // MICROSECOND]
    params.append(pieces[0][1] // MICROSECOND)
    return sql, params


class _Translate:
    """Turn SQLite's errors (disk full, a file damaged under us) into CrampguardError."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        if isinstance(exc, sqlite3.DatabaseError):
            raise CrampguardError(_explain(self.path, exc)) from None


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    known = len(MIGRATIONS)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == known:
        return  # the usual case: no write lock needed
    if version > known:
        raise CrampguardError(_too_new(path, version, known))
    db.execute("BEGIN IMMEDIATE")
    try:
        # Another process (the daemon and the CLI starting together) may have migrated
        # while we waited for the lock: look again now that we hold it.
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > known:
            raise CrampguardError(_too_new(path, version, known))
        for script in MIGRATIONS[version:]:
            for statement in _statements(script):
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {known}")  # part of the same transaction
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # SQLite may have rolled back already (a full disk)
            db.execute("ROLLBACK")
        raise


def _connect(target: str, *, uri: bool = False, schema: bool = False) -> sqlite3.Connection:
    db = sqlite3.connect(target, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                         check_same_thread=False, uri=uri)
    if schema:
        _migrate(db, Path(target))
    return db


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """Open the file for reading. A WAL journal is read through its shared-memory file,
    which SQLite creates next to it; in a folder that cannot be written (a read-only
    mount, a backup) and with no WAL left over, nobody can be writing the file, so it is
    read as immutable."""
    url = "file:" + quote(os.fsencode(path.absolute()))
    db = _connect(url + "?mode=ro", uri=True)
    try:
        db.execute("PRAGMA user_version").fetchone()
        return db
    except sqlite3.DatabaseError as exc:
        db.close()
        wal = path.with_name(path.name + "-wal")
        cannot_open = (getattr(exc, "sqlite_errorname", "") or "").startswith("SQLITE_CANTOPEN")
        if not cannot_open or (wal.exists() and wal.stat().st_size > 0):
            raise
    db = _connect(url + "?immutable=1", uri=True)
    db.execute("PRAGMA user_version").fetchone()
    return db


def _explain_read(path: Path, exc: sqlite3.DatabaseError) -> str:
    code = getattr(exc, "sqlite_errorname", "") or ""
    if code.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return (f"{path}: cannot read the journal ({exc}); check that the file is yours and "
                "readable")
    return _explain(path, exc)


def _probe_write(db: sqlite3.Connection) -> None:
    """Fail now on a file we may read but not write, not at the first reminder (in the
    daemon's log). Taking the write lock is not enough: SQLite opens such a file read-only
    and only refuses the first actual write."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("INSERT OR REPLACE INTO state (key, value) VALUES ('crampguard:probe', '')")
    finally:
        if db.in_transaction:
            db.execute("ROLLBACK")


def _statements(script: str) -> Iterable[str]:
    """Split a migration script into statements (``executescript`` would commit first)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
    if pending.strip():
        raise ValueError(f"a migration ends in an unfinished statement: {pending.strip()!r}")


def _too_new(path: Path, version: int, known: int) -> str:
    return (f"{path}: the journal was written by a newer crampguard (schema version "
            f"{version}; this one knows up to {known}); upgrade crampguard, or move the file "
            "aside to start a new journal")


def _explain(path: Path, exc: sqlite3.DatabaseError) -> str:
    code = getattr(exc, "sqlite_errorname", "") or ""
    if code.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return (f"{path}: the journal is damaged ({exc}); move it aside "
                f"(mv '{path}' '{path}.broken') and crampguard starts a new, empty one")
    if code.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return (f"{path}: cannot write the journal ({exc}); check that the file and its "
                "folder are yours and writable")
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return (f"{path}: the journal stayed locked for {BUSY_TIMEOUT_MS // 1000} s ({exc}); "
                "another crampguard process may be stuck; try again")
    # A full disk shows as SQLITE_FULL, or as IOERR_SHMSIZE when the WAL index cannot grow.
    if code.startswith("SQLITE_FULL") or code == "SQLITE_IOERR_SHMSIZE":
        return f"{path}: the disk is full ({exc}); free some space and try again"
    return f"{path}: the journal failed ({exc})"


def _kinds(kinds: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(kinds))
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown event kind(s) {unknown}; known kinds: {', '.join(KINDS)}")
    return wanted
