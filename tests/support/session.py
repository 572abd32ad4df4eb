"""A scratch session for the commands that touch the user's start-up entries
(`crampguard service`, `doctor`): a private home, and a fake `systemctl` on the PATH that
records its calls, since a container has no systemd user manager to talk to.

    s = Session(tmp_path, manager="running")   # or "offline", or None: no systemctl at all
    s.json("service", "install")               # the real CLI, in that home
    s.calls()                                   # what systemctl was asked, since last time
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.support.daemon_proc import cli, cli_json

# Stands in for systemctl: appends each call to calls.log, keeps the unit's state in a
# file, answers is-system-running with $FAKE_MANAGER (default "running").
FAKE_SYSTEMCTL = """\
#!/bin/sh
here=$(dirname "$0")
echo "$*" >> "$here/calls.log"
case "$*" in
  "--user is-system-running") echo "${FAKE_MANAGER:-running}" ;;
  "--user is-active graphical-session.target") echo active ;;
  "--user is-active crampguard.service") cat "$here/active" 2>/dev/null || echo inactive ;;
  "--user is-enabled crampguard.service") cat "$here/enabled" 2>/dev/null || echo disabled ;;
  "--user enable crampguard.service") echo enabled > "$here/enabled" ;;
  "--user start crampguard.service"|"--user restart crampguard.service")
    echo active > "$here/active" ;;
  "--user disable --now crampguard.service")
    echo inactive > "$here/active"; echo disabled > "$here/enabled" ;;
esac
exit 0
"""


class Session:
    """A scratch home; `cli()` runs the real crampguard in it."""

    def __init__(self, base: Path, *, manager: str | None,
                 env: Mapping[str, str] | None = None) -> None:
        """``env``: the environment to start from (a Desktop's); by default this one,
        with no session bus, so nothing reaches a real desktop."""
        self.home = base / "home"
        self.home.mkdir()
        self.bin = base / "bin"
        self.bin.mkdir()
        self.env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
                    **(env or {}), "HOME": str(self.home)}
        self.env.pop("XDG_CONFIG_HOME", None)
        if manager is None:  # no systemctl at all on the PATH
            self.env["PATH"] = str(self.bin)
        else:
            fake = self.bin / "systemctl"
            fake.write_text(FAKE_SYSTEMCTL)
            fake.chmod(0o755)
            self.env["PATH"] = f"{self.bin}{os.pathsep}{os.environ['PATH']}"
            self.env["FAKE_MANAGER"] = manager

    @property
    def unit(self) -> Path:
        return self.home / ".config" / "systemd" / "user" / "crampguard.service"

    @property
    def desktop_file(self) -> Path:
        return self.home / ".config" / "autostart" / "crampguard.desktop"

    def calls(self) -> list[str]:
        log = self.bin / "calls.log"
        calls = log.read_text().splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        return calls

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return cli(*args, env=self.env)

    def json(self, *args: str) -> Any:
        return cli_json(*args, env=self.env)
