"""`crampguard service install | uninstall | status`: start crampguard with the session.

The entry itself (which kind, where, its text, the service manager) is
``scheduler.autostart``'s; here it meets the running daemon, which only the control socket
can tell about."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from scheduler.cli.parsing import Group, context, json_option
from scheduler.cli.results import (
    ServiceInstallReport,
    ServiceStatusReport,
    ServiceUninstallReport,
)
from scheduler.control.commands import COMMANDS, StatusReply
from scheduler.errors import CrampguardError, NotRunning
from scheduler.i18n import N_, _

if TYPE_CHECKING:
    from scheduler.config.context import Context

#: What the service manager says when the entry's daemon is the one running.
_MANAGED = {"active", "loaded"}


def add_parsers(group: Group) -> None:
    p = group.add("service", _install,
                  _("start crampguard with your session: install, uninstall, status"),
                  _("Start the daemon at login: a systemd user unit where a systemd user "
                  "manager runs (else an XDG autostart file), a LaunchAgent on macOS, a "
                  "script in the Startup folder on Windows. Files it did not write are left "
                  "alone."))
    actions = group.actions(p)
    for name, handler, text in (
            ("install", _install, N_("write the start-up entry for this crampguard, enable "
                                     "and start it; again to update it")),
            ("uninstall", _uninstall,
             N_("stop and remove the start-up entry crampguard wrote")),
            ("status", _status,
             N_("what is installed, what it runs, and whether crampguard runs"))):
        text = _(text)
        # The description is the help as a sentence (a full stop in the user's language).
        a = actions.add(name, handler, text, text[0].upper() + text[1:] + _("."))
        json_option(a)
        if name == "install":
            a.add_argument("--force", action="store_true",
                           help=_("replace a file there that crampguard did not write"))


def _install(args: argparse.Namespace) -> ServiceInstallReport:
    return install(context(args), force=args.force, config=args.config,
                   routines=args.routines)


def _uninstall(args: argparse.Namespace) -> ServiceUninstallReport:
    return uninstall(context(args))


def _status(args: argparse.Namespace) -> ServiceStatusReport:
    return status(context(args))


def install(ctx: Context, *, force: bool = False, config: str | None = None,
            routines: str | None = None) -> ServiceInstallReport:
    from scheduler.autostart.command import daemon_command, module_elsewhere, running_program
    from scheduler.autostart.installer import LAUNCHD, SYSTEMD, Autostart

    autostart = Autostart()
    command = daemon_command(running_program(), config=config, routines=routines)
    before = autostart.status()
    pid = daemon_pid(ctx)
    # A daemon that runs outside the service (a terminal's `crampguard run`) holds the
    # instance lock: a second one started by the manager would only fail.
    outside = pid is not None and (before.manager is None
                                   or before.manager.active not in _MANAGED)
    installed = autostart.install(command, force=force, start=not outside)
    notes = list(installed.notes)
    if installed.kind in (SYSTEMD, LAUNCHD) and outside:
        notes.append(_("crampguard is already running (pid {pid}), not as this service, so "
                       "the service was not started now; it starts at your next login").format(
                           pid=pid))
    elif installed.kind not in (SYSTEMD, LAUNCHD):
        notes.append(_("it starts at your next login; crampguard is running now (pid {pid})")
                     .format(pid=pid) if pid is not None else
                     _("it starts at your next login; `crampguard run` starts it now"))
    elsewhere = module_elsewhere(command, ctx.env, autostart.home)
    if elsewhere:
        notes.append(_("{elsewhere}: install crampguard (`pip install .` in a venv) and run "
                       "its `crampguard service install`").format(elsewhere=elsewhere))
    notes += _unseen_environment(ctx)
    return ServiceInstallReport(installed, notes)


def _unseen_environment(ctx: Context) -> list[str]:
    """The service starts from the session's environment, not this shell's."""
    names = sorted(n for n in ctx.env if n.upper().startswith("CRAMPGUARD_"))
    if not names:
        return []
    return [f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} set here, but the "
            "service does not start from this shell: put settings in config.toml, and name "
            "other files with --config or --routines on `service install`"]


def uninstall(ctx: Context) -> ServiceUninstallReport:
    from scheduler.autostart.installer import Autostart

    removed = Autostart().uninstall()
    notes = []
    pid = daemon_pid(ctx)
    if pid is not None:
        notes.append(_("crampguard is still running (pid {pid}) until you stop it or "
                       "log out").format(
            pid=pid))
    return ServiceUninstallReport(removed, notes)


def status(ctx: Context) -> ServiceStatusReport:
    from scheduler.autostart.installer import Autostart

    found = Autostart().status()
    return ServiceStatusReport(found, daemon_pid(ctx))


def daemon_status(ctx: Context) -> tuple[StatusReply | None, str | None]:
    """The running daemon's status reply, or None and why: None, None when nothing runs;
    None and the problem when something holds the socket but does not answer."""
    from scheduler.cli.daemon_commands import Refused, call

    try:
        return call(ctx.paths.control_socket, COMMANDS["status"], timeout=3.0), None
    except NotRunning:
        return None, None
    except Refused as exc:
        return None, _("the daemon answered: {exc}").format(exc=exc)
    except CrampguardError as exc:
        return None, str(exc)


def daemon_pid(ctx: Context) -> int | None:
    reply, _ = daemon_status(ctx)
    return reply.pid if reply else None
