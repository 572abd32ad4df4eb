"""The commands that work on files (`check`, `list`, `next`, `notify-test`, `init`): their
parser entries, and each returning data that ``render`` prints."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from scheduler import clock
from scheduler.cli import times
from scheduler.cli.parsing import Group, context, json_option, notifier_option
from scheduler.cli.results import (
    CheckReport,
    InitReport,
    Listing,
    NextReport,
    NotifyTestReport,
    RoutineRow,
)
from scheduler.cli.times import parse_instant
from scheduler.errors import CrampguardError
from scheduler.i18n import _

if TYPE_CHECKING:
    from scheduler.config.context import Context
    from scheduler.config.routine import Routine
    from scheduler.planning.warnings import RoutineWarning


def add_parsers(group: Group) -> None:
    p = group.add("check", _check, _("validate routine files and config.toml"),
                  _("Validate the active set (shipped + your routines) and config.toml, or "
                  "only the given files or folders. Prints every problem as PATH:LINE: "
                  "field: message, and exits 1 if there is any. A file named config.toml "
                  "(or the settings file) is checked as settings. An enabled routine that "
                  "is never shown (every firing inside quiet hours, or a schedule that never "
                  "fires) is a warning, printed after the summary: not an error, exit 0."))
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                   help=_("routine files or folders, or config.toml (default: the active set)"))
    json_option(p, _("print the summary as JSON"))

    p = group.add("list", _list, _("show each routine: id, on/off, schedule, seed step"),
                  _("Show each routine: id, on/off, its schedule with the resolved times, its "
                  "seed step, the file(s) its values came from (a file of yours that "
                  "changes a shipped routine is named with the keys it sets), and a warning "
                  "if it is enabled but never shown."))
    json_option(p)

    p = group.add("next", _next, _("show the next reminders in time order"),
                  _("Show the next firings across the enabled routines, in time order. "
                  "Firings held back by quiet hours are listed and marked. A broken routine "
                  "file is a warning and the rest are shown, but the exit status is 1 so a "
                  "script can tell the plan is not whole."))
    p.add_argument("--count", "-n", type=int, default=10, metavar="N",
                   help=_("how many, {range} (default 10)").format(range=times.COUNT))
    p.add_argument("--from", dest="start", metavar="TIME",
                   help=_("start here instead of now: ISO 8601, e.g. 2026-03-29T21:00; "
                          "without an offset it is a wall time in the chosen zone; "
                          "{years}").format(years=times.years_help()))
    p.add_argument("--tz", metavar="ZONE", help=_("IANA time zone, overriding the settings"))
    p.add_argument("--routine", metavar="ID", help=_("only this routine (even if disabled)"))
    json_option(p, _("print a JSON array of {routine, title, message, at, held}"))

    p = group.add("notify-test", _notify_test, _("send one test notification"),
                  _("Send one test notification through the configured chain of notifiers "
                  "(dbus, plyer, console) and say which one delivered it. A notifier chosen "
                  "by name (--notifier dbus, or the setting) is tried alone: when it cannot "
                  "deliver, say why and exit 1."))
    notifier_option(p)
    p.add_argument("--reach", metavar="NAME",
                   help=_("send it through the channel [reach.NAME] in config.toml instead"))
    json_option(p)

    group.add("init", _init, _("copy the shipped routines and a config.toml for editing"),
              _("Copy the shipped routines into your routines folder and write a commented "
              "config.toml. Existing files are never overwritten."))


def _check(args: argparse.Namespace) -> CheckReport:
    return check(context(args), args.paths)


def _list(args: argparse.Namespace) -> Listing:
    return list_routines(context(args))


def _next(args: argparse.Namespace) -> NextReport:
    times.COUNT.check(args.count, "--count")
    tz = zone_flag(args.tz) if args.tz else None
    return next_firings(context(args, timezone=tz), count=args.count, start=args.start,
                        routine_id=args.routine)


def _notify_test(args: argparse.Namespace) -> NotifyTestReport:
    if args.reach is not None:
        from scheduler.cli.reach_commands import send_test

        ctx = context(args)
        backend = send_test(ctx.settings.reach, ctx.paths.state_dir, args.reach)
        return NotifyTestReport(backend, None, False, (backend,))
    return notify_test(context(args, notifier=args.notifier))


def _init(args: argparse.Namespace) -> InitReport:
    return init(context(args))


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
    if not active.files and ctx.paths.only_routines is not None:
        raise CrampguardError(_empty_folder(ctx.paths.only_routines))
    config = ctx.paths.config_file if ctx.paths.config_file.exists() else None
    return CheckReport(len(active.files), len(active.routines), len(active.enabled), config,
                       _warnings(ctx, list(active.routines.values())))


def _check_files(ctx: Context, targets: list[Path]) -> CheckReport:
    from scheduler.config.loader import load_file, load_set, routine_files
    from scheduler.config.settings import load_settings

    files = [p for t in targets for p in (routine_files(t) if t.is_dir() else [t])]
    problems: list[str] = [_empty_folder(t) for t in targets
                           if t.is_dir() and not routine_files(t)]
    settings_files = [p for p in files if _is_settings_file(ctx, p)]
    routine_paths = [p for p in files if p not in settings_files]
    for path in settings_files:
        if not path.is_file():
            problems.append(_("{path}: no such file").format(path=path))
            continue
        try:
            load_settings(path, ctx.flags, ctx.env)
        except CrampguardError as exc:
            problems.extend(exc.problems)
    routines: list[Routine] = []
    if routine_paths:
        # Broken settings do not hide the routine files' problems: those are checked
        # against the defaults, and both are told (the settings file may be a target too).
        settings, settings_problems = ctx.settings_or_defaults()
        problems += [p for p in settings_problems if p not in problems]
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


def _empty_folder(folder: Path) -> str:
    """A folder with nothing to check is no "ok": a wrong folder named, most likely."""
    return (_("{folder}: no routine files (*.toml) in this folder; `crampguard --routines "
              "{folder} init` copies the shipped ones there").format(folder=folder))


def _is_settings_file(ctx: Context, path: Path) -> bool:
    configured = ctx.paths.config_file
    if path.name == "config.toml" or path == configured:
        return True
    try:
        return path.samefile(configured)
    except OSError:
        return False


def _warnings(ctx: Context, routines: list[Routine]) -> list[RoutineWarning]:
    from scheduler.planning.warnings import routine_warnings

    return routine_warnings(routines, ctx.settings, clock.now())


def list_routines(ctx: Context) -> Listing:
    from scheduler.planning.schedule import describe

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
    from scheduler.planning.upcoming import follow_ups, upcoming

    if count < 1:
        raise CrampguardError(_("--count: give a number of firings of 1 or more"))
    zone = ctx.settings.zone
    begin = parse_instant(start, zone, "--from") if start else clock.now(zone)
    active = ctx.load_routines()
    chosen = active.enabled
    if routine_id is not None:
        if routine_id not in active.routines:
            known = ", ".join(sorted(active.routines)) or "none"
            raise CrampguardError(_("--routine: no routine {routine_id!r}; "
                                    "known ids: {known}").format(
                routine_id=routine_id, known=known))
        chosen = [active.routines[routine_id]]
    pending, skipped = _planned(ctx, begin)
    return NextReport(upcoming(chosen, ctx.settings, begin, count, pending, skipped),
                      str(zone), active.problems,
                      follow_ups(chosen, active.routines.values()))


def _planned(ctx: Context, start: datetime) -> tuple[list[tuple[str, datetime]],
                                                      list[tuple[str, datetime]]]:
    """What the daemon has put in the journal ahead of ``start``: the follow-ups it
    planned, and the firings dropped with `crampguard skip` (both empty without a
    journal to read)."""
    from scheduler.journal.store import Journal

    try:
        with Journal.read(ctx.paths.journal) as journal:
            return ([(row.routine, row.due) for row in journal.pending()],
                    [(row.routine, row.due) for row in journal.skipped(start)])
    except CrampguardError:
        return [], []  # `next` shows the plan; the journal's trouble is for `doctor` to tell


def zone_flag(name: str) -> str:
    from scheduler.config.settings import load_zone

    try:
        load_zone(name)
    except ValueError as exc:
        raise CrampguardError(f"--tz: {exc}") from None
    return name


def init(ctx: Context) -> InitReport:
    """Copy the shipped routines and a commented config.toml for editing; never overwrite."""
    from scheduler.config.loader import routine_files

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
        raise CrampguardError(_("{target}: cannot write: {strerror}").format(
            target=target, strerror=exc.strerror)) from None


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
            _("{ctx}: the {choice} notifier cannot deliver here: {exc}; fix that, or choose "
              "auto, which falls back to the next notifier and the console").format(
                  ctx=_notifier_origin(ctx, choice), choice=choice, exc=exc)) from None
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
        raise NotifyError(_("on Linux plyer shows notices through the desktop's notification "
                            "server, and none answers ({exc})").format(exc=exc)) from None
    finally:
        server.close()


def _notifier_origin(ctx: Context, choice: str) -> str:
    """Where the notifier was chosen, as the user wrote it."""
    if ctx.flags.get("notifier"):
        return f"--notifier {choice}"
    if ctx.env.get("CRAMPGUARD_NOTIFIER"):
        return f"CRAMPGUARD_NOTIFIER={choice}"
    return f'notifier = "{choice}" in {ctx.paths.config_file}'
