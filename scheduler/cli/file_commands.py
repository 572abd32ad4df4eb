"""The commands that work on files: each returns data; ``render`` prints it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from scheduler import clock
from scheduler.cli.times import parse_instant
from scheduler.config.context import App
from scheduler.config.loader import load_file, routine_files
from scheduler.config.settings import load_zone
from scheduler.errors import CrampguardError
from scheduler.planning.schedule import describe
from scheduler.planning.upcoming import Upcoming, upcoming


@dataclass(frozen=True)
class CheckReport:
    files: int
    routines: int
    enabled: int
    config: Path | None


def check(app: App, targets: list[Path]) -> CheckReport:
    """Validate the given files (or folders), or the whole active set and config.toml."""
    settings = app.settings
    if targets:
        files = [p for t in targets for p in (routine_files(t) if t.is_dir() else [t])]
        problems, routines = [], []
        for path in files:
            try:
                routines.append(load_file(path, settings, app.catalog))
            except CrampguardError as exc:
                problems.extend(exc.problems)
        if problems:
            raise CrampguardError(problems)
        return CheckReport(len(files), len(routines), sum(r.enabled for r in routines), None)
    active = app.load_routines()
    if active.problems:
        raise CrampguardError(active.problems)
    config = app.paths.config_file if app.paths.config_file.exists() else None
    return CheckReport(len(active.files), len(active.routines), len(active.enabled), config)


@dataclass(frozen=True)
class RoutineRow:
    id: str
    enabled: bool
    title: str
    schedule: str
    seed: tuple[str, ...]
    source: Path


@dataclass(frozen=True)
class Listing:
    rows: list[RoutineRow]
    warnings: list[str] = field(default_factory=list)


def list_routines(app: App) -> Listing:
    active = app.load_routines()
    rows = [
        RoutineRow(r.id, r.enabled, r.title, describe(r.schedule, app.settings.anchors),
                   r.seed, active.sources[r.id])
        for r in sorted(active.routines.values(), key=lambda r: r.id)
    ]
    return Listing(rows, active.problems)


@dataclass(frozen=True)
class NextReport:
    items: list[Upcoming]
    zone: str
    warnings: list[str] = field(default_factory=list)


def next_firings(app: App, *, count: int, start: str | None = None,
                 routine_id: str | None = None) -> NextReport:
    if count < 1:
        raise CrampguardError("--count: give a number of firings of 1 or more")
    zone = app.settings.zone
    begin = parse_instant(start, zone, "--from") if start else clock.now(zone)
    active = app.load_routines()
    chosen = active.enabled
    if routine_id is not None:
        if routine_id not in active.routines:
            known = ", ".join(sorted(active.routines)) or "none"
            raise CrampguardError(f"--routine: no routine {routine_id!r}; known ids: {known}")
        chosen = [active.routines[routine_id]]
    return NextReport(upcoming(chosen, app.settings, begin, count), str(zone), active.problems)


def zone_flag(name: str) -> str:
    try:
        load_zone(name)
    except ValueError as exc:
        raise CrampguardError(f"--tz: {exc}") from None
    return name


@dataclass(frozen=True)
class InitReport:
    created: list[Path]
    kept: list[Path]


def init(app: App) -> InitReport:
    """Copy the shipped routines and a commented config.toml for editing; never overwrite."""
    target_dir = app.paths.only_routines or app.paths.user_routines
    created: list[Path] = []
    kept: list[Path] = []
    copies = [(p, target_dir / p.name) for p in routine_files(app.paths.shipped_routines)]
    template = Path(str(resources.files("scheduler") / "templates" / "config.toml"))
    copies.append((template, app.paths.config_file))
    for source, target in copies:
        (created if _copy_new(source, target) else kept).append(target)
    return InitReport(created, kept)


def _copy_new(source: Path, target: Path) -> bool:
    """Create ``target`` only if it still does not exist (mode "x"), so a file that appears
    meanwhile is never overwritten."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with source.open("rb") as src, target.open("xb") as dst:
            shutil.copyfileobj(src, dst)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        raise CrampguardError(f"{target}: cannot write: {exc.strerror}") from None


@dataclass(frozen=True)
class NotifyTestReport:
    backend: str
    id: int | None
    actions_shown: bool
    chain: tuple[str, ...]


def notify_test(app: App) -> NotifyTestReport:
    import logging

    from scheduler.notify import Notice, NotifyError, build_chain

    chain = build_chain(app.settings.notifier, logging.getLogger("crampguard"))
    notice = Notice(
        title="crampguard test", urgency="normal", timeout_s=10,
        body="Reminders will look like this. Nothing to do.",
    )
    try:
        delivery = chain.send(notice)
    except NotifyError as exc:
        raise CrampguardError(str(exc)) from None
    finally:
        chain.close()
    return NotifyTestReport(delivery.backend, delivery.id, delivery.actions_shown, chain.names)
