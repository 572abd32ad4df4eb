"""Where crampguard's files live: the platform's usual folders, each overridable.

Built once per command from the environment and the command line and passed around;
nothing here is a module-level global that tests would have to patch.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

APP = "crampguard"
JOURNAL_FILE = "journal.sqlite3"
SOCKET_FILE = "control.sock"


def shipped_dir(name: str) -> Path:
    """The shipped ``routines`` or ``seeds`` folder.

    In a wheel they are package data (``scheduler/_shipped``); in a source checkout
    (editable install, tests run from the tree) they are the repository's top-level folders.
    """
    packaged = Path(str(resources.files("scheduler"))) / "_shipped" / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / name


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    config_file: Path
    user_routines: Path
    state_dir: Path
    runtime_dir: Path
    #: ``--routines DIR``: use only this folder, none of the shipped routines
    only_routines: Path | None = None
    #: What named ``config_file`` ("--config" or "CRAMPGUARD_CONFIG"); None for the default,
    #: which may be missing (defaults apply), where a named file must exist.
    config_named_by: str | None = None

    @property
    def shipped_routines(self) -> Path:
        return shipped_dir("routines")

    @property
    def catalog(self) -> Path:
        return shipped_dir("seeds") / "catalog.toml"

    @property
    def evidence(self) -> Path:
        return shipped_dir("seeds") / "evidence.toml"

    @property
    def journal(self) -> Path:
        return self.state_dir / JOURNAL_FILE

    @property
    def control_socket(self) -> Path:
        return self.runtime_dir / SOCKET_FILE

    @property
    def routine_dirs(self) -> list[Path]:
        """Folders that make up the active set, later ones overriding earlier ones by id."""
        if self.only_routines is not None:
            return [self.only_routines]
        return [self.shipped_routines, self.user_routines]


def resolve_paths(env: Mapping[str, str] | None = None, *, config: str | None = None,
                  routines: str | None = None) -> Paths:
    """Flags beat ``CRAMPGUARD_*`` variables, which beat platformdirs' defaults."""
    env = os.environ if env is None else env

    def pick(var: str, default: str) -> Path:
        value = env.get(var)
        return Path(value).expanduser() if value else Path(default)

    config_dir = pick("CRAMPGUARD_CONFIG_DIR", _user_dir(env, "config"))
    config_file = Path(config).expanduser() if config else pick(
        "CRAMPGUARD_CONFIG", str(config_dir / "config.toml"))
    named_by = "--config" if config else "CRAMPGUARD_CONFIG" if env.get(
        "CRAMPGUARD_CONFIG") else None
    only = routines or env.get("CRAMPGUARD_ROUTINES")
    return Paths(
        config_dir=config_dir,
        config_file=config_file,
        user_routines=config_dir / "routines",
        state_dir=pick("CRAMPGUARD_STATE_DIR", _user_dir(env, "state")),
        runtime_dir=pick("CRAMPGUARD_RUNTIME_DIR", _runtime_default(env)),
        only_routines=Path(only).expanduser() if only else None,
        config_named_by=named_by,
    )


#: Per kind of folder: the XDG Base Directory variable and its default under the home.
XDG = {"config": ("XDG_CONFIG_HOME", ".config"), "state": ("XDG_STATE_HOME", ".local/state")}


def _user_dir(env: Mapping[str, str], kind: str) -> str:
    """platformdirs' user folder of this kind. On Linux that is the XDG rule alone, applied
    here: the daemon, resident all session, then spares the memory of importing
    platformdirs (``tests/test_paths.py`` holds the two to the same answer)."""
    if sys.platform.startswith("linux"):
        var, default = XDG[kind]
        # The spec ignores a relative value, as platformdirs does.
        base = env.get(var, "")
        base = base if os.path.isabs(base) else str(Path.home() / default)
        return str(Path(base) / APP)
    import platformdirs  # imported here so `crampguard --help` stays fast

    return str(getattr(platformdirs, f"user_{kind}_dir")(APP))


def _runtime_default(env: Mapping[str, str]) -> str:
    # platformdirs warns and guesses when XDG_RUNTIME_DIR is unset (no logind session:
    # containers, cron); a private folder under /tmp is the usual fallback then.
    if env.get("XDG_RUNTIME_DIR"):
        return str(Path(env["XDG_RUNTIME_DIR"]) / APP)
    if sys.platform.startswith("linux"):
        return str(Path(env.get("TMPDIR", "/tmp")) / f"{APP}-{os.getuid()}")
    import platformdirs

    return platformdirs.user_runtime_dir(APP)


def read_secret(path: Path, what: str, thing: str = "secret") -> str:
    """A password or token alone in a file only its owner can read (mode 0600), so it is
    in no settings file a dotfile repository might publish. ``what`` names the setting in
    errors ("calendar.password_file"), ``thing`` what the file holds ("password")."""
    from scheduler.errors import CrampguardError

    fix = f"chmod 600 {path}"
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise CrampguardError(f"{what}: {path}: no such file; write the {thing} alone into "
                              f"it, then `{fix}`") from None
    except OSError as exc:
        raise CrampguardError(f"{what}: {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise CrampguardError(f"{what}: {path} is not a regular file (a link or a device is "
                              f"refused); put the {thing} in a file there and `{fix}`")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise CrampguardError(f"{what}: {path} can be read by others (mode "
                              f"{stat.S_IMODE(info.st_mode):04o}); `{fix}`")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CrampguardError(f"{what}: {path}: cannot read: "
                              f"{getattr(exc, 'strerror', None) or exc}") from None
    secret = text.strip("\r\n")
    if not secret:
        raise CrampguardError(f"{what}: {path} is empty; write the {thing} into it")
    return secret
