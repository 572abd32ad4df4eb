"""A real CalDAV server for the calendar's tests: Radicale (from PyPI, in the test extra) on
loopback, with one user whose password is in a 0600 file, as config.toml names it.

``with CalDavServer(tmp_path) as server`` starts it; ``server.make_calendar("crampguard")``
makes a collection and returns its address; ``server.calendar_text(dirs)`` is the
``[calendar]`` table for it; ``server.items(url)`` reads every item back (the user's own
too) through the caldav library, as a phone's calendar would.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

USER, PASSWORD = "alice", "s3cret-Passw0rd"
needs_radicale = pytest.mark.skipif(
    importlib.util.find_spec("radicale") is None or importlib.util.find_spec("caldav") is None,
    reason="needs radicale and caldav (pip install -e '.[test]')")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CalDavServer:
    def __init__(self, folder: Path, port: int | None = None):
        self.folder = folder
        self.port = port or _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "users").write_text(f"{USER}:{PASSWORD}\n")
        self.password_file = folder / "password"
        self.password_file.write_text(PASSWORD + "\n")
        self.password_file.chmod(0o600)
        (folder / "config").write_text(
            f"[server]\nhosts = 127.0.0.1:{self.port}\n"
            f"[auth]\ntype = htpasswd\nhtpasswd_filename = {folder / 'users'}\n"
            f"htpasswd_encryption = plain\n"
            f"[storage]\nfilesystem_folder = {folder / 'collections'}\n"
            f"[logging]\nlevel = warning\n")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/{USER}/"

    def start(self) -> CalDavServer:
        self.proc = subprocess.Popen([sys.executable, "-m", "radicale", "--config",
                                      str(self.folder / "config")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                    raise AssertionError(f"Radicale did not start: {err}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None

    def __enter__(self) -> CalDavServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self) -> Any:
        import caldav
        from requests.auth import HTTPBasicAuth

        return caldav.DAVClient(url=self.base, auth=HTTPBasicAuth(USER, PASSWORD))

    def make_calendar(self, name: str = "crampguard") -> str:
        url = f"{self.base}{name}/"
        response = self.client().request(url, "MKCALENDAR", "", {})
        assert response.status == 201, response.status
        return url

    def calendar_text(self, url: str, days: int = 14) -> str:
        return (f'[calendar]\nurl = "{url}"\nuser = "{USER}"\n'
                f'password_file = "{self.password_file}"\ndays = {days}\n')

    def calendar(self, url: str) -> Any:
        return self.client().calendar(url=url)

    def items(self, url: str) -> dict[str, Any]:
        """Every item in the collection by UID, each as an icalendar component."""
        found = {}
        calendar = self.calendar(url)
        for obj in [*calendar.search(event=True),
                    *calendar.search(todo=True, include_completed=True)]:
            for part in obj.icalendar_instance.walk():
                if part.name in ("VEVENT", "VTODO"):
                    found[str(part["UID"])] = part
        return found
