"""What the commands return: plain data, one type per kind of answer; ``render`` picks the
printer by type. Standard library only, so printing a reply (`crampguard status`) imports
nothing heavy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler.journal.events import Event
    from scheduler.journal.stats import CrampRelation, RoutineStats
    from scheduler.planning.upcoming import Upcoming
    from scheduler.planning.warnings import RoutineWarning

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


@dataclass(frozen=True)
class CrampReport:
    id: int
    when: datetime
    leg: str | None
    severity: int | None
    note: str | None
    zone: tzinfo


# --- the running daemon: its reply, as it came, in a type per command ---------------------


@dataclass(frozen=True)
class DaemonReply:
    data: dict[str, Any]


class StatusReply(DaemonReply): ...


class PauseReply(DaemonReply): ...


class ResumeReply(DaemonReply): ...


class SnoozeReply(DaemonReply): ...


class SkipReply(DaemonReply): ...


class DoneReply(DaemonReply): ...


class TriggerReply(DaemonReply): ...


class ReloadReply(DaemonReply): ...


#: The control command each reply type answers.
REPLIES: dict[str, type[DaemonReply]] = {
    "status": StatusReply, "pause": PauseReply, "resume": ResumeReply,
    "snooze": SnoozeReply, "skip": SkipReply, "done": DoneReply, "trigger": TriggerReply,
    "reload": ReloadReply,
}
