"""`crampguard doctor`: why reminders do not reach the user, in one place.

It looks and changes nothing: no notice is sent, no journal created, no file written. What
would stop a reminder, or its record, is a *problem* (exit 1); what is worth knowing but
stops nothing is a *warning*.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduler import clock
from scheduler.cli import service_commands
from scheduler.cli.parsing import Group, context, json_option
from scheduler.cli.results import DoctorReport, JournalCheck, NextShown, ServiceStatusReport
from scheduler.errors import CrampguardError
from scheduler.i18n import _

if TYPE_CHECKING:
    from scheduler.config.context import Context
    from scheduler.config.routine import Routine
    from scheduler.config.settings import Settings
    from scheduler.control.commands import StatusReply
    from scheduler.presence.state import SourceReport

#: SQLite's files beside the journal: its size on disk counts them too.
_SQLITE_COMPANIONS = ("-wal", "-shm")


def add_parsers(group: Group) -> None:
    p = group.add("doctor", _doctor, _("why reminders might not reach you: check everything"),
                  _("Check what reminders depend on, without changing anything: the "
                  "notification server, the notifier that would deliver, the next firing of "
                  "each enabled routine, problems in the files, the journal, the service "
                  "and the daemon, the presence sources. Exit 1 when something stops "
                  "reminders (each is named as a problem, with the fix)."))
    json_option(p)


def _doctor(args: argparse.Namespace) -> DoctorReport:
    return doctor(context(args))


def doctor(ctx: Context) -> DoctorReport:
    from scheduler.planning.warnings import routine_warnings

    problems: list[str] = []
    notes: list[str] = []
    settings, file_problems = ctx.settings_or_defaults()
    routines, more = _routines(ctx, settings)
    file_problems += more
    problems += file_problems

    server, server_error, chain, delivers = _delivery(settings)
    if delivers == "console" and settings.notifier != "console":
        problems.append(
            _("no notification server answers ({server_error}): reminders would only be "
              "printed on the daemon's output, which nobody sees on a desktop; start the "
              "desktop's notification server (dunst, or the desktop's own), or run "
              "crampguard inside the desktop session").format(server_error=server_error))
    elif delivers == "plyer" and server is None and sys.platform.startswith("linux"):
        problems.append(
            _("no notification server answers ({server_error}): on Linux plyer shows its "
              "notices through that same server, and cannot tell when they are lost; start "
              "the desktop's notification server").format(server_error=server_error))

    now = clock.now()
    never = {w.routine: w for w in routine_warnings(routines, settings, now)}
    notes += [str(w) for w in never.values()]
    plans = [NextShown(r.id, r.title, _next_shown(r, settings, now) if r.id not in never
                       else None, never.get(r.id),
                       str(r.schedule.after) if r.schedule.after else None)
             for r in routines]
    plans.sort(key=lambda p: (p.at is None, p.at and p.at.timestamp(), p.id))
    if not any(p.at or p.after for p in plans):
        problems.append("no enabled routine is ever shown: enable one (enabled = true in "
                        "its file; `crampguard list` shows them all)"
                        + (", or fix the routines named below" if never else ""))

    journal = _journal(ctx.paths.journal)
    if journal.problem:
        problems.append(_("journal: {problem}").format(problem=journal.problem))
    if journal.damaged:
        notes.append(_("journal: {journal} is damaged ({damaged}); the daemon moves it aside "
                       "and starts a new one when it next starts").format(
                           journal=ctx.paths.journal, damaged=journal.damaged))

    service = service_commands.status(ctx)
    daemon, daemon_error = service_commands.daemon_status(ctx)
    found = _service_findings(service, daemon, daemon_error)
    problems += found[0]
    notes += found[1]
    if daemon and daemon.paused_until:
        notes.append(_("paused until {paused_until}: reminders due meanwhile are held; "
                       "`crampguard resume` ends it").format(
                           paused_until=daemon.paused_until.isoformat()))

    if daemon is not None:  # the running daemon's sync: the server down, refused ...
        problems += [p for p in daemon.problems if p.startswith("calendar:")]
    if settings.calendar is not None:
        problems += _calendar_password(settings)

    channels = []
    if settings.reach:
        from scheduler.cli.reach_commands import check_channels

        channels = check_channels(settings.reach, ctx.paths.state_dir)
        problems += [f"reach {c.name}: {p}" for c in channels for p in c.problems]

    presence = _presence(ctx)
    if not any(source.found for source in presence):
        notes.append(_presence_summary(presence))
    return DoctorReport(
        server=server, server_error=server_error, notifier=settings.notifier, chain=chain,
        delivers=delivers, zone=str(settings.zone),
        settings_file=ctx.paths.config_file if ctx.paths.config_file.exists() else None,
        file_problems=file_problems, routines=plans, journal=journal, service=service,
        daemon=daemon, daemon_error=daemon_error, presence=presence, problems=problems,
        notes=notes, channels=channels)


def _next_shown(routine: Routine, settings: Settings, now: datetime) -> datetime | None:
    """The routine's next firing outside quiet hours, on the user's wall clock (None for
    a follow-up alone: it waits for its cause)."""
    from scheduler.planning.schedule import timetable_for

    if not routine.schedule.on_clock:
        return None
    at = timetable_for(routine, settings).next_fire(None, now)
    return at.astimezone(settings.zone) if at else None


def _routines(ctx: Context, settings: Settings) -> tuple[list[Routine], list[str]]:
    """The enabled routines and every problem in the routine files (as `check` finds)."""
    from scheduler.config.loader import load_set, require_folder

    try:
        if ctx.paths.only_routines is not None:
            require_folder(ctx.paths.only_routines)
        active = load_set(ctx.paths.routine_dirs, settings, ctx.catalog)
    except CrampguardError as exc:
        return [], exc.problems
    return active.enabled, active.problems


def _delivery(settings: Settings) -> tuple[Any, str | None, tuple[str, ...], str]:
    """The server's description (or why there is none), the notifier chain, and the
    backend a reminder would reach now."""
    from scheduler.notify import build_chain
    from scheduler.notify.dbus import DbusNotifier

    quiet = logging.getLogger("crampguard.doctor")
    quiet.propagate = False  # the chain's debug chatter is not the report
    chain = build_chain(settings.notifier, quiet)
    names = chain.names
    chain.close()
    notifier = DbusNotifier(call_timeout_s=3.0, log=quiet)
    try:
        server, error = notifier.server_information(), None
    except CrampguardError as exc:
        server, error = None, str(exc)
    finally:
        notifier.close()
    if server is not None and "dbus" in names:
        delivers = "dbus"
    else:
        # plyer reports no failure, so it cannot be checked without showing something.
        delivers = next(n for n in names if n != "dbus")
    return server, error, names, delivers


def _journal(path: Path) -> JournalCheck:
    """Open it the way every command does (that also proves it can be written), but never
    create it: a missing journal is made by the daemon's first start, in a folder that
    must let it."""
    from scheduler.journal.recovery import damage
    from scheduler.journal.store import Journal

    size = sum(p.stat().st_size for p in (path, *(path.with_name(path.name + s)
                                                  for s in _SQLITE_COMPANIONS)) if p.is_file())
    if not path.exists():
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        writable = folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)
        why = "cannot be written" if folder.is_dir() else "is not a folder"
        problem = None if writable else (
            _("{path} does not exist yet, and {folder} {why}, so the daemon cannot create "
              "it; point CRAMPGUARD_STATE_DIR at a folder of yours").format(
                  path=path, folder=folder, why=why))
        return JournalCheck(path, False, False, writable, 0, problem)
    readable = os.access(path, os.R_OK)
    damaged = damage(path)
    try:
        Journal.open(path).close()
    except CrampguardError as exc:
        return JournalCheck(path, True, readable, False, size, None if damaged else str(exc),
                            damaged)
    return JournalCheck(path, True, readable, True, size, None, damaged)


def _service_findings(service: ServiceStatusReport, daemon: StatusReply | None,
                      daemon_error: str | None) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    notes: list[str] = []
    entries = service.status.entries
    starts = [e for e in entries if not e.stale]
    problems += [f"{e.path} starts {e.command[0] if e.command else '?'}, which no longer "
                 "exists, so crampguard will not start at your next login: run `crampguard "
                 "service install` with the crampguard you use now"
                 for e in entries if e.stale]
    if daemon_error:
        problems.append(_("the daemon does not answer: {daemon_error}").format(
            daemon_error=daemon_error))
    elif daemon is None:
        manager = service.status.manager
        if manager is not None and manager.active == "failed":
            problems.append(_("crampguard is not running: its systemd unit failed; "
                              "`journalctl --user -u crampguard` shows why, `systemctl "
                              "--user restart crampguard` starts it again"))
        elif starts:
            notes.append(_("crampguard is not running; the service starts it at your next "
                           "login, `crampguard run` (or `systemctl --user start crampguard` "
                           "for the unit) now"))
        elif not entries:  # a stale entry is a problem of its own, above
            problems.append(_("crampguard is not running and nothing starts it: `crampguard "
                              "service install` starts it with your session"))
    elif not starts:
        notes.append(_("nothing starts crampguard at your next login: `crampguard service "
                       "install`"))
    notes += service.status.notes
    return problems, notes


def _calendar_password(settings: Settings) -> list[str]:
    """The calendar's password file as the sync will find it (a mode others can read, a
    file gone); the server itself is not asked: doctor changes nothing and waits on none."""
    from scheduler.calendar.collection import read_password

    assert settings.calendar is not None
    try:
        read_password(settings.calendar.password_file)
    except CrampguardError as exc:
        return exc.problems
    return []


def _presence(ctx: Context) -> list[SourceReport]:
    """Each presence source and whether it answers here (idle time, the screen lock,
    do-not-disturb, sleep), asked once and let go."""
    from scheduler.presence import probe

    return probe(ctx.env)


def _presence_summary(reports: list[SourceReport]) -> str:
    from scheduler.presence import describe

    return describe(reports)
