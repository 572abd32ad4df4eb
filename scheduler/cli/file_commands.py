"""The commands that work on files: each returns data; ``render`` prints it."""

from __future__ import annotations

import logging
import shutil
import sys
from datetime import datetime
from importlib import resources
from pathlib import Path

from scheduler import clock
from scheduler.cli.results import (
    CheckReport,
    InitReport,
    Listing,
    NextReport,
    NotifyTestReport,
    RoutineRow,
)
from scheduler.cli.times import parse_instant
from scheduler.config.context import Context
from scheduler.config.loader import load_file, load_set, routine_files
from scheduler.config.routine import Routine
from scheduler.config.settings import load_settings, load_zone
from scheduler.errors import CrampguardError
from scheduler.planning.schedule import describe
from scheduler.planning.upcoming import follow_ups, upcoming
from scheduler.planning.warnings import RoutineWarning, routine_warnings


def check(ctx: Context, targets: list[Path]) -> CheckReport:
    """Validate the given files (or folders), or the whole active set and config.toml.

    A file named config.toml (or the configured settings file) is checked as settings.
    Enabled routines that will never be shown come back as warnings, not problems.
    """
    if targets:
        return _check_files(ctx, targets)
    active = ctx.load_routines()
    if active.problems:
        raise CrampguardError(active.problems)
    config = ctx.paths.config_file if ctx.paths.config_file.exists() else None
    return CheckReport(len(active.files), len(active.routines), len(active.enabled), config,
                       _warnings(ctx, list(active.routines.values())))


def _check_files(ctx: Context, targets: list[Path]) -> CheckReport:
    files = [p for t in targets for p in (routine_files(t) if t.is_dir() else [t])]
    settings_files = [p for p in files if _is_settings_file(ctx, p)]
    routine_paths = [p for p in files if p not in settings_files]
    problems: list[str] = []
    for path in settings_files:
        if not path.is_file():
            problems.append(f"{path}: no such file")
            continue
        try:
            load_settings(path, ctx.flags, ctx.env)
        except CrampguardError as exc:
            problems.extend(exc.problems)
    routines: list[Routine] = []
    if routine_paths:
        try:
            settings = ctx.settings
        except CrampguardError as exc:  # the same file may be among the targets
            raise CrampguardError(problems + [p for p in exc.problems if p not in problems]) \
                from None
        # A file with a shipped routine's id is checked as the change it makes to it.
        bases = {} if ctx.paths.only_routines is not None else load_set(
            [ctx.paths.shipped_routines], settings, ctx.catalog).layers
        for path in routine_paths:
            try:
                routines.append(load_file(path, settings, ctx.catalog, bases))
            except CrampguardError as exc:
                problems.extend(exc.problems)
    if problems:
        raise CrampguardError(problems)
    config = settings_files[-1] if settings_files else None
    return CheckReport(len(routine_paths), len(routines), sum(r.enabled for r in routines),
                       config, _warnings(ctx, routines) if routines else [])


def _is_settings_file(ctx: Context, path: Path) -> bool:
    configured = ctx.paths.config_file
    if path.name == "config.toml" or path == configured:
        return True
    try:
        return path.samefile(configured)
    except OSError:
        return False


def _warnings(ctx: Context, routines: list[Routine]) -> list[RoutineWarning]:
    return routine_warnings(routines, ctx.settings, clock.now())


def list_routines(ctx: Context) -> Listing:
    active = ctx.load_routines()
    warned = {w.routine: w for w in _warnings(ctx, list(active.routines.values()))}
    rows = []
    for r in sorted(active.routines.values(), key=lambda r: r.id):
        layer = active.layers.get(r.id)
        origins = {".".join(key): path for key, path in layer.origins.items()} if layer else {}
        rows.append(RoutineRow(
            r.id, r.enabled, r.title, describe(r.schedule, ctx.settings.anchors), r.seed,
            active.sources[r.id], origins, warned.get(r.id)))
    return Listing(rows, active.problems)


def next_firings(ctx: Context, *, count: int, start: str | None = None,
                 routine_id: str | None = None) -> NextReport:
    if count < 1:
        raise CrampguardError("--count: give a number of firings of 1 or more")
    zone = ctx.settings.zone
    begin = parse_instant(start, zone, "--from") if start else clock.now(zone)
    active = ctx.load_routines()
    chosen = active.enabled
    if routine_id is not None:
        if routine_id not in active.routines:
            known = ", ".join(sorted(active.routines)) or "none"
            raise CrampguardError(f"--routine: no routine {routine_id!r}; known ids: {known}")
        chosen = [active.routines[routine_id]]
    return NextReport(upcoming(chosen, ctx.settings, begin, count, _pending(ctx)), str(zone),
                      active.problems, follow_ups(chosen))


def _pending(ctx: Context) -> list[tuple[str, datetime]]:
    """Follow-ups the daemon has planned (in the journal), if there is a journal to read."""
    from scheduler.journal.store import Journal

    try:
        with Journal.read(ctx.paths.journal) as journal:
            return [(row.routine, row.due) for row in journal.pending()]
    except CrampguardError:
        return []  # `next` shows the plan; the journal's trouble is for `doctor` to tell


def zone_flag(name: str) -> str:
    try:
        load_zone(name)
    except ValueError as exc:
        raise CrampguardError(f"--tz: {exc}") from None
    return name


def init(ctx: Context) -> InitReport:
    """Copy the shipped routines and a commented config.toml for editing; never overwrite."""
    target_dir = ctx.paths.only_routines or ctx.paths.user_routines
    created: list[Path] = []
    kept: list[Path] = []
    copies = [(p, target_dir / p.name) for p in routine_files(ctx.paths.shipped_routines)]
    template = Path(str(resources.files("scheduler") / "templates" / "config.toml"))
    copies.append((template, ctx.paths.config_file))
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


def notify_test(ctx: Context) -> NotifyTestReport:
    """Under ``auto`` the chain falls back as the daemon's does; a backend chosen by name
    (--notifier, the setting) is tried alone, so a test that only reached the console does
    not pass for that backend working."""
    from scheduler.notify import Notifier, NotifyError, build_chain
    from scheduler.notify.chain import build_backend
    from scheduler.planning import notices

    log = logging.getLogger("crampguard")
    choice = ctx.settings.notifier
    chain = build_chain(choice, log) if choice == "auto" else None
    sender: Notifier = chain or build_backend(choice, log)
    try:
        if choice == "plyer" and sys.platform.startswith("linux"):
            _require_server(log)
        delivery = sender.send(notices.test())  # a NotifyError is a CrampguardError
    except NotifyError as exc:
        if choice == "auto":
            raise
        raise CrampguardError(
            f"{_notifier_origin(ctx, choice)}: the {choice} notifier cannot deliver here: "
            f"{exc}; fix that, or choose auto, which falls back to the next notifier and "
            "the console") from None
    finally:
        sender.close()
    names = chain.names if chain else (choice,)
    return NotifyTestReport(delivery.backend, delivery.id, delivery.actions_shown, names)


def _require_server(log: logging.Logger) -> None:
    """On Linux plyer shows its notices through the desktop's notification server and
    reports success whether or not one got them (plyer_backend), so ask the server first."""
    from scheduler.notify import NotifyError
    from scheduler.notify.dbus import DbusNotifier

    server = DbusNotifier(call_timeout_s=3.0, log=log)
    try:
        server.server_information()
    except CrampguardError as exc:
        raise NotifyError(f"on Linux plyer shows notices through the desktop's notification "
                          f"server, and none answers ({exc})") from None
    finally:
        server.close()


def _notifier_origin(ctx: Context, choice: str) -> str:
    """Where the notifier was chosen, as the user wrote it."""
    if ctx.flags.get("notifier"):
        return f"--notifier {choice}"
    if ctx.env.get("CRAMPGUARD_NOTIFIER"):
        return f"CRAMPGUARD_NOTIFIER={choice}"
    return f'notifier = "{choice}" in {ctx.paths.config_file}'
