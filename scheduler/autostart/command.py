"""Which program a start-up entry runs: the crampguard running this very command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from scheduler.errors import CrampguardError

#: The package, as ``python -m`` names it.
PACKAGE = "scheduler"


def running_program(argv0: str | None = None, executable: str | None = None,
                    main_module: str | None = None) -> tuple[str, ...]:
    """The command line that starts this same crampguard again: its console script, or
    ``python -m scheduler`` when it runs as a module. Nothing is resolved through symlinks:
    a venv's ``bin/python`` is a link whose target would leave the venv behind, and pipx's
    ``~/.local/bin/crampguard`` link outlives the upgrades that move what it points at."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    executable = sys.executable if executable is None else executable
    if main_module is None:
        spec = getattr(sys.modules.get("__main__"), "__spec__", None)
        main_module = getattr(spec, "name", "") or ""
    if main_module.split(".")[0] == PACKAGE:
        if not executable:
            raise CrampguardError("cannot tell which Python runs crampguard "
                                  "(sys.executable is empty); run the installed "
                                  "`crampguard` program instead")
        return (str(Path(executable).absolute()), "-m", PACKAGE)
    found = shutil.which(argv0) if argv0 else None
    if found is None and argv0 and os.path.isfile(argv0 + ".exe"):
        found = argv0 + ".exe"  # Windows' launcher may report its name without .exe
    if found is None:
        raise CrampguardError(f"cannot find the crampguard program that is running "
                              f"(argv[0] is {argv0!r}); run it by its full path, e.g. "
                              f"~/.local/bin/crampguard service install")
    return (str(Path(found).absolute()),)


def daemon_command(program: Sequence[str], *, config: str | None = None,
                   routines: str | None = None) -> tuple[str, ...]:
    """``program`` running the daemon, with the files named on this command line (as
    absolute paths: the service does not start in this folder)."""
    options: list[str] = []
    if config:
        options += ["--config", str(Path(config).expanduser().absolute())]
    if routines:
        options += ["--routines", str(Path(routines).expanduser().absolute())]
    return (*program, *options, "run")


def module_elsewhere(command: Sequence[str], env: Mapping[str, str], home: Path) -> str | None:
    """For a ``python -m scheduler ...`` command: why the session would not start this same
    crampguard, or None when it would. The session has no PYTHONPATH of this shell's and
    starts in the home folder, so a source checkout found only through either is not found
    there."""
    if list(command[1:3]) != ["-m", PACKAGE]:
        return None
    python = command[0]
    here = Path(__file__).resolve().parent.parent
    session = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    try:
        proc = subprocess.run([python, "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"],
                              env=session, cwd=home if home.is_dir() else None,
                              capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{python} does not run: {exc}"
    found = proc.stdout.strip()
    if proc.returncode != 0 or not found:
        return f"{python} finds no crampguard without this shell's PYTHONPATH"
    if Path(found).resolve().parent != here:
        return f"{python} finds another crampguard there ({Path(found).parent})"
    return None
