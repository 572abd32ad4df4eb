"""Writing, finding and removing the start-up entry, and telling the service manager.

One entry per machine, of the kind the platform has: a systemd user unit where a systemd
user manager runs, else an XDG autostart desktop file (never both: each would start the
daemon); a LaunchAgent on macOS; a script in the Startup folder on Windows. Only files
that carry the marker (``formats.MARKER``) are rewritten or removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from scheduler.autostart import formats
from scheduler.errors import CrampguardError

SYSTEMD = "systemd"
XDG = "xdg-autostart"
LAUNCHD = "launchd"
STARTUP = "startup-folder"
#: ``systemctl --user is-system-running`` says one of these when a user manager runs;
#: "offline" (no manager to ask: a container, a session without systemd) or nothing else.
_MANAGER_UP = {"initializing", "starting", "running", "degraded", "maintenance", "stopping"}
#: `systemctl start` waits for the daemon's READY=1 (Type=notify): a few seconds at most.
_MANAGER_TIMEOUT_S = 120

Runner = Callable[[Sequence[str], Mapping[str, str]], "subprocess.CompletedProcess[str]"]


def run_program(argv: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), env=dict(env), capture_output=True, text=True,
                          timeout=_MANAGER_TIMEOUT_S, check=False)


@dataclass(frozen=True)
class Kind:
    """One kind of start-up entry, where it lives on this machine, how it reads."""

    name: str
    path: Path
    render: Callable[[Sequence[str]], str]
    parse: Callable[[str], tuple[str, ...] | None]
    encoding: str = "utf-8"


@dataclass(frozen=True)
class Entry:
    """A file found where an entry lives."""

    kind: str
    path: Path
    #: written by `crampguard service install` (it carries the marker)
    ours: bool
    #: the command line it starts; None when the file names none
    command: tuple[str, ...] | None
    #: the program it starts no longer exists (a removed venv, an uninstalled crampguard)
    stale: bool


@dataclass(frozen=True)
class Installed:
    kind: str
    path: Path
    command: tuple[str, ...]
    #: "created", "updated" (an older entry of ours), "unchanged", "replaced" (--force)
    file: str
    #: entries of ours of another kind, removed so that only one starts the daemon
    removed: list[Path] = field(default_factory=list)
    #: the service manager's commands, as a user would type them
    ran: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Removed:
    removed: list[Path] = field(default_factory=list)
    #: files where an entry lives that crampguard did not write: left alone
    kept: list[Entry] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Manager:
    """What the service manager says about the entry."""

    name: str
    #: systemd: `is-active` (active, inactive, failed, activating...); launchd: loaded or
    #: not loaded
    active: str
    #: systemd: `is-enabled` (enabled, disabled, not-found...); None elsewhere
    enabled: str | None = None


@dataclass(frozen=True)
class Status:
    #: the kind `install` writes on this machine, and where
    kind: str
    path: Path
    entries: list[Entry]
    manager: Manager | None
    notes: list[str] = field(default_factory=list)


class Autostart:
    """The start-up entry on this machine. ``platform``, ``env`` and ``run`` (how a
    service-manager command runs) default to the real ones; tests pass their own."""

    def __init__(self, platform: str | None = None, env: Mapping[str, str] | None = None,
                 run: Runner = run_program) -> None:
        self.platform = sys.platform if platform is None else platform
        self.env = os.environ if env is None else env
        self._run = run

    # --- where things live -----------------------------------------------------------------

    @property
    def home(self) -> Path:
        return Path(self.env.get("HOME") or Path.home())

    def _config_home(self) -> Path:
        value = self.env.get("XDG_CONFIG_HOME", "")
        # The XDG spec ignores a relative value, as it does an empty one.
        return Path(value) if os.path.isabs(value) else self.home / ".config"

    def kinds(self) -> list[Kind]:
        """Every kind of entry this platform may have, the one install writes among them."""
        if self.platform.startswith("darwin"):
            log_file = str(self.home / "Library" / "Logs" / "crampguard.log")
            return [Kind(LAUNCHD,
                         self.home / "Library" / "LaunchAgents"
                         / f"{formats.LAUNCHD_LABEL}.plist",
                         lambda c: formats.launch_agent(c, log_file), formats.agent_command)]
        if self.platform.startswith(("win32", "cygwin")):
            appdata = self.env.get("APPDATA")
            if not appdata:
                raise CrampguardError("APPDATA is not set: cannot find the Startup folder")
            folder = Path(appdata, "Microsoft", "Windows", "Start Menu", "Programs", "Startup")
            return [Kind(STARTUP, folder / "crampguard.vbs", formats.startup_script,
                         formats.startup_command, formats.STARTUP_ENCODING)]
        home = str(self.home)
        config = self._config_home()
        return [
            Kind(SYSTEMD, config / "systemd" / "user" / formats.UNIT_NAME,
                 formats.systemd_unit, lambda text: formats.unit_command(text, home)),
            Kind(XDG, config / "autostart" / "crampguard.desktop", formats.desktop_entry,
                 formats.desktop_command),
        ]

    def target(self) -> Kind:
        """The kind install writes here: a unit only where a user manager runs it."""
        kinds = {k.name: k for k in self.kinds()}
        if SYSTEMD in kinds:
            return kinds[SYSTEMD] if self.user_manager else kinds[XDG]
        return next(iter(kinds.values()))

    @cached_property
    def user_manager(self) -> bool:
        """Whether a systemd user manager runs for this user. A container or a session
        without systemd may have systemctl but nothing for it to talk to."""
        if self.platform.startswith(("darwin", "win32", "cygwin")):
            return False
        try:
            proc = self._run(["systemctl", "--user", "is-system-running"], self.env)
        except (OSError, subprocess.SubprocessError):  # no systemctl at all
            return False
        return proc.stdout.strip() in _MANAGER_UP

    def entry(self, kind: Kind) -> Entry | None:
        try:
            text = kind.path.read_bytes().decode(kind.encoding, errors="replace")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CrampguardError(f"{kind.path}: cannot read: {exc.strerror}") from None
        command = kind.parse(text) or None
        stale = command is not None and not self._program_exists(command[0])
        return Entry(kind.name, kind.path, formats.is_ours(text), command, stale)

    def _program_exists(self, program: str) -> bool:
        if os.path.isabs(program):
            return os.path.isfile(program)
        # systemd and launchers look a bare name up in the PATH
        return shutil.which(program, path=self.env.get("PATH")) is not None

    # --- install ------------------------------------------------------------------------------

    def install(self, command: Sequence[str], *, force: bool = False,
                start: bool = True) -> Installed:
        """Write the entry for ``command``, remove ours of another kind, enable and (with
        ``start``) start it. A file crampguard did not write is replaced only with ``force``."""
        kind = self.target()
        try:
            text = kind.render(command)
        except ValueError as exc:
            raise CrampguardError(f"{kind.path}: {exc}") from None
        found = self.entry(kind)
        if found is not None and not found.ours and not force:
            raise CrampguardError(
                f"{kind.path}: exists and was not written by crampguard (it has no "
                f"\"{formats.MARKER}\" line); move it away, or run `crampguard service "
                f"install --force` to replace it")
        ran: list[str] = []
        removed, foreign = self._clear([k for k in self.kinds() if k.name != kind.name], ran)
        notes = [f"{extra.path} starts crampguard too and was not written by it: remove it, "
                 "or crampguard starts twice" for extra in foreign]
        state = self._write(kind, text, found)
        try:
            self._activate(kind, state, start, ran, notes)
        except CrampguardError as exc:
            raise CrampguardError([*exc.problems, f"{kind.path} is written; once that is "
                                   "fixed, `crampguard service install` again"]) from None
        return Installed(kind.name, kind.path, tuple(command), state, removed, ran, notes)

    def _write(self, kind: Kind, text: str, found: Entry | None) -> str:
        data = text.encode(kind.encoding)
        if found is None:
            state = "created"
        elif not found.ours:
            state = "replaced"
        elif kind.path.read_bytes() == data:
            return "unchanged"
        else:
            state = "updated"
        temp = kind.path.with_name(f".{kind.path.name}.tmp")
        try:
            kind.path.parent.mkdir(parents=True, exist_ok=True)
            temp.write_bytes(data)
            os.replace(temp, kind.path)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise CrampguardError(f"{kind.path}: cannot write: {exc.strerror}") from None
        return state

    def _activate(self, kind: Kind, state: str, start: bool, ran: list[str],
                  notes: list[str]) -> None:
        """Tell the service manager, if there is one for this kind."""
        changed = state != "unchanged"
        if kind.name == SYSTEMD:
            if changed:
                self._systemctl(ran, "daemon-reload")
            self._systemctl(ran, "enable", formats.UNIT_NAME)
            session = self._systemctl_word("is-active", formats.SESSION_TARGET)
            if session != "active":
                notes.append(
                    f"{formats.SESSION_TARGET} is not active in this session ({session}): "
                    "the unit starts with it, which GNOME, KDE Plasma and other systemd "
                    "sessions do at login; in a session that does not, start it from the "
                    "session's start-up commands: `systemctl --user start crampguard`")
            if start:
                # restart, not start: a daemon running from the old unit must pick up
                # the new command
                self._systemctl(ran, "restart" if state in ("updated", "replaced")
                                else "start", formats.UNIT_NAME)
        if kind.name == LAUNCHD:
            loaded = self._launchd_loaded()
            if loaded and changed:
                self._launchctl(ran, "bootout", self._launchd_service())
                loaded = False
            if not loaded and start:
                self._launchctl(ran, "bootstrap", self._launchd_domain(), str(kind.path))

    # --- uninstall ----------------------------------------------------------------------------

    def uninstall(self) -> Removed:
        """Stop and remove every entry of ours on this machine; leave the others alone."""
        ran: list[str] = []
        removed, kept = self._clear(self.kinds(), ran)
        return Removed(removed, kept, ran)

    def _clear(self, kinds: list[Kind], ran: list[str]) -> tuple[list[Path], list[Entry]]:
        """Stop and remove the entries of ours among ``kinds``; what was removed, and the
        files found that crampguard did not write (left alone)."""
        removed: list[Path] = []
        foreign: list[Entry] = []
        for kind in kinds:
            found = self.entry(kind)
            if found is not None and found.ours:
                removed += self._remove(kind, ran)
            elif found is not None:
                foreign.append(found)
        return removed, foreign

    def _remove(self, kind: Kind, ran: list[str]) -> list[Path]:
        removed = [kind.path]
        if kind.name == SYSTEMD:
            if self.user_manager:
                self._systemctl(ran, "disable", "--now", formats.UNIT_NAME)
            else:
                # No manager to disable it (a container now, say): the link `enable` made
                # goes with the file it points at.
                link = kind.path.parent / f"{formats.SESSION_TARGET}.wants" / kind.path.name
                if link.is_symlink() and Path(os.readlink(link)).name == kind.path.name:
                    link.unlink()
                    removed.append(link)
        elif kind.name == LAUNCHD and self._launchd_loaded():
            self._launchctl(ran, "bootout", self._launchd_service())
        try:
            kind.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise CrampguardError(f"{kind.path}: cannot remove: {exc.strerror}") from None
        if kind.name == SYSTEMD and self.user_manager:
            self._systemctl(ran, "daemon-reload")
        return removed

    # --- status -------------------------------------------------------------------------------

    def status(self) -> Status:
        entries = [e for e in (self.entry(k) for k in self.kinds()) if e is not None]
        notes = []
        if len(entries) > 1:
            notes.append("more than one entry starts crampguard at login, so it would start "
                         "twice: `crampguard service install` keeps one (a file it did not "
                         "write stays until you remove it)")
        target = self.target()
        manager = None
        if target.name == SYSTEMD:
            manager = Manager(SYSTEMD, self._systemctl_word("is-active", formats.UNIT_NAME),
                              self._systemctl_word("is-enabled", formats.UNIT_NAME))
        elif target.name == LAUNCHD:
            manager = Manager(LAUNCHD,
                              "loaded" if self._launchd_loaded() else "not loaded")
        return Status(target.name, target.path, entries, manager, notes)

    # --- the service managers -----------------------------------------------------------------

    def _systemctl(self, ran: list[str], *args: str) -> None:
        self._manage(ran, ["systemctl", "--user", *args])

    def _systemctl_word(self, *args: str) -> str:
        """systemctl's one-word answer (is-active, is-enabled), whatever its exit status."""
        proc = self._run(["systemctl", "--user", *args], self.env)
        return proc.stdout.strip() or proc.stderr.strip() or "unknown"

    def _launchctl(self, ran: list[str], *args: str) -> None:
        self._manage(ran, ["launchctl", *args])

    def _launchd_domain(self) -> str:
        return f"gui/{os.getuid()}"

    def _launchd_service(self) -> str:
        return f"{self._launchd_domain()}/{formats.LAUNCHD_LABEL}"

    def _launchd_loaded(self) -> bool:
        return self._run(["launchctl", "print", self._launchd_service()],
                         self.env).returncode == 0

    def _manage(self, ran: list[str], argv: list[str]) -> None:
        typed = " ".join(argv)
        try:
            proc = self._run(argv, self.env)
        except (OSError, subprocess.SubprocessError) as exc:
            raise CrampguardError(f"`{typed}` could not run: {exc}") from None
        ran.append(typed)
        if proc.returncode != 0:
            why = " ".join((proc.stderr or proc.stdout).split()) or f"exit {proc.returncode}"
            hint = ("; `journalctl --user -u crampguard` shows the daemon's log"
                    if argv[:2] == ["systemctl", "--user"] and argv[2] in ("start", "restart")
                    else "")
            raise CrampguardError(f"`{typed}` failed: {why}{hint}")
