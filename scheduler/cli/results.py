"""What the commands return: plain data, one type per kind of answer; ``render`` picks the
printer by type. Standard library only, so printing a reply (`crampguard status`) imports
nothing heavy. The running daemon's replies are typed in control/commands.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduler.i18n import _

if TYPE_CHECKING:
    from scheduler.autostart.installer import Installed, Removed, Status
    from scheduler.config.routine import Routine
    from scheduler.control.commands import StatusReply
    from scheduler.journal.events import Event
    from scheduler.journal.stats import CrampRelation, NightCounts, RoutineStats
    from scheduler.notify.dbus import ServerInfo
    from scheduler.planning.upcoming import Upcoming
    from scheduler.planning.warnings import RoutineWarning
    from scheduler.presence.state import SourceReport
    from scheduler.report.export import Sink

# --- the files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckReport:
    files: int
    routines: int
    enabled: int
    config: Path | None
    #: enabled routines that will never be shown, and why (not problems: exit status 0)
    never_shown: list[RoutineWarning] = field(default_factory=list)


@dataclass(frozen=True)
class RoutineRow:
    id: str
    enabled: bool
    title: str
    schedule: str
    seed: tuple[str, ...]
    #: the file that laid the routine down last (a user's change, else the shipped one)
    source: Path
    #: each key set in a file ("schedule.at") and the file it came from
    origins: dict[str, Path] = field(default_factory=dict)
    never_shown: RoutineWarning | None = None


@dataclass(frozen=True)
class Listing:
    rows: list[RoutineRow]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NextReport:
    items: list[Upcoming]
    zone: str
    warnings: list[str] = field(default_factory=list)
    #: routines that (also) fire after an event, which has no time yet
    follow_ups: list[Routine] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        """1 when a routine file is broken: the preview of the rest is shown, and a script
        can still tell that it is not the whole plan."""
        return 1 if self.warnings else 0

    @property
    def failure(self) -> str | None:
        if not self.warnings:
            return None
        return (_("crampguard next: {n} problem(s) in the routine files; the firings above "
                  "leave those routines out (exit status 1)").format(n=len(self.warnings)))


@dataclass(frozen=True)
class InitReport:
    created: list[Path]
    kept: list[Path]


@dataclass(frozen=True)
class NotifyTestReport:
    backend: str
    id: int | None
    actions_shown: bool
    chain: tuple[str, ...]


# --- the session: the start-up entry, and the health check -------------------------------


@dataclass(frozen=True)
class ServiceInstallReport:
    installed: Installed
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceUninstallReport:
    removed: Removed
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceStatusReport:
    status: Status
    #: the daemon answering on the control socket; None when none does
    pid: int | None


@dataclass(frozen=True)
class JournalCheck:
    path: Path
    exists: bool
    readable: bool
    #: it can be written (a missing one: its folder lets the daemon create it)
    writable: bool
    #: bytes on disk, SQLite's -wal and -shm files included
    size: int
    #: why reminders would go unrecorded; None when they would not
    problem: str | None = None
    #: what is wrong inside the file (the daemon moves such a journal aside)
    damaged: str | None = None


@dataclass(frozen=True)
class NextShown:
    id: str
    title: str
    #: the next firing not held back by quiet hours; None when there is none
    at: datetime | None
    #: why it is never shown
    warning: RoutineWarning | None = None
    #: a follow-up's cause ("workout + 1h"): it also fires that long after it
    after: str | None = None


@dataclass(frozen=True)
class DoctorReport:
    #: the notification server, None when none answers (``server_error`` says why)
    server: ServerInfo | None
    server_error: str | None
    #: the notifier setting, the chain it makes, and the backend a reminder would reach
    notifier: str
    chain: tuple[str, ...]
    delivers: str
    zone: str
    settings_file: Path | None
    file_problems: list[str]
    #: each enabled routine
    routines: list[NextShown]
    journal: JournalCheck
    service: ServiceStatusReport
    #: the running daemon's status reply; None when none answers (``daemon_error``: it is
    #: there but does not answer)
    daemon: StatusReply | None
    daemon_error: str | None
    #: each presence source, and whether it answers here
    presence: list[SourceReport]
    #: what stops reminders from reaching the user or from being recorded: exit status 1
    problems: list[str]
    #: worth knowing, stops nothing
    notes: list[str]
    #: each [reach] channel, checked without sending (reach_commands.ChannelCheck)
    channels: list[Any] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        return 1 if self.problems else 0

    @property
    def failure(self) -> str | None:
        """The line for stderr when the exit status is 1."""
        if not self.problems:
            return None
        return (_("crampguard doctor: {n} problem(s) stop your reminders (each is listed as "
                  "a problem in the report)").format(n=len(self.problems)))


# --- the journal --------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryReport:
    events: list[Event]
    zone: tzinfo


@dataclass(frozen=True)
class StatsReport:
    days: int
    routines: list[RoutineStats]
    cramps: list[CrampRelation]
    cramp_count: int
    #: the window's nights that are over: with a cramp, quiet, unknown
    nights: NightCounts


@dataclass(frozen=True)
class ReportWritten:
    """`crampguard report`: the file written, its period and what it counted."""

    path: Path
    format: str  # "html" | "png"
    first: date
    last: date
    zone: str
    routines: int
    #: the period's nights that are over, by what the cramp log says of them
    nights: NightCounts
    #: the period's nights not over by its end (the last one, a night ends at noon)
    nights_not_over: int
    #: routine files left out (each problem), as `crampguard check` lists them
    warnings: list[str] = field(default_factory=list)
    #: something the user should know about the file written (no font for their language)
    note: str | None = None

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class CrampReport:
    id: int
    when: datetime
    leg: str | None
    severity: int | None
    note: str | None
    zone: tzinfo
    #: the wall time typed did not exist (clocks went forward): what was recorded instead
    shifted: str | None = None


@dataclass(frozen=True)
class NightReport:
    """A night recorded as quiet (`log-cramp --none`)."""

    id: int
    night: date


@dataclass(frozen=True)
class EventReport:
    """Something the user reported (`crampguard log workout`), and whether the running
    daemon heard of it."""

    id: int
    name: str
    when: datetime
    zone: tzinfo
    #: None when the daemon took it; else why not ("not running", its refusal)
    not_told: str | None
    #: the wall time typed did not exist (clocks went forward): what was recorded instead
    shifted: str | None = None


@dataclass(frozen=True)
class ExportReport:
    """`export --out`: the file written, how many entries, the period."""

    path: Path
    entries: int
    #: the period's first and last day; None: the whole journal
    first: date | None
    last: date | None
    #: where the journal would be, when there is none yet (the export is empty)
    no_journal: Path | None = None


@dataclass(frozen=True)
class ExportData:
    """`export` without --out: the data itself. ``write(sink)`` writes it to standard
    output as it is read from the journal (a year is ~100k entries) and returns how many
    entries it wrote."""

    write: Callable[[Sink], int]
    no_journal: Path | None = None


@dataclass(frozen=True)
class CalendarExportReport:
    """`calendar export --out`: the file written, how many items, the span they cover."""

    path: Path
    items: int
    first: datetime
    last: datetime


@dataclass(frozen=True)
class CalendarSyncReport:
    """`calendar sync`: what changed in the collection."""

    url: str
    put: int
    deleted: int
    unchanged: int
    #: to-dos completed on the phone, left for the daemon to record
    completed: int
    seconds: float
