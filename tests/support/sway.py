"""A real headless sway (wlroots) for tests, with swayidle beside it.

    with Sway() as sway:                  # or the `sway` fixture, which skips where absent
        Daemon(sway.env, prefix=sway.as_user).start(...)
        sway.activity()                   # the pointer moved: the user is back

sway refuses to run as root, so under root (CI) it runs as an ordinary user,
``crampguard-sway`` (made by .ci/run; ``useradd --system crampguard-sway``), and so does
whatever must reach its display (``as_user``: the command prefix). Everything lives in
one temporary folder owned by that user: the runtime folder with the Wayland socket, a
home, crampguard's folders and the routines.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.desktop import _end, _parent_death_signal

PROGRAMS = ("sway", "swaymsg", "swayidle", "setpriv")
PACKAGES = "sway swayidle util-linux"
USER = "crampguard-sway"
START_TIMEOUT_S = 20.0


def missing() -> str | None:
    """Why a headless sway cannot run here, or None."""
    absent = [p for p in PROGRAMS if shutil.which(p) is None]
    if absent:
        return f"needs {', '.join(absent)} (Debian packages: {PACKAGES})"
    if os.getuid() == 0:
        try:
            pwd.getpwnam(USER)
        except KeyError:
            return f"sway will not run as root: needs the user {USER} " \
                   f"(useradd --system {USER})"
    return None


class Sway:
    def __init__(self) -> None:
        self.dir: Path | None = None
        self.env: dict[str, str] = {}
        #: the command prefix that runs a program as sway's user (empty when not root)
        self.as_user: list[str] = []
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Sway:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="crampguard-sway-"))
        run, home = self.dir / "run", self.dir / "home"
        for folder in (run, home, home / "config", home / "state", home / "runtime",
                       home / "routines"):
            folder.mkdir(mode=0o700)
        if os.getuid() == 0:
            user = pwd.getpwnam(USER)
            for path in (self.dir, *self.dir.rglob("*")):
                os.chown(path, user.pw_uid, user.pw_gid)
            self.dir.chmod(0o755)
            self.as_user = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                            "--clear-groups", "--"]
        (self.dir / "sway.conf").write_text("output HEADLESS-1 resolution 800x600\n")
        keep = {k: v for k, v in os.environ.items()
                if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS",
                             "SWAYSOCK") and not k.startswith(("XDG_", "CRAMPGUARD_"))}
        self.env = {
            **keep, "HOME": str(home), "XDG_RUNTIME_DIR": str(run),
            "WLR_BACKENDS": "headless", "WLR_LIBINPUT_NO_DEVICES": "1",
            "WLR_RENDERER": "pixman", "XDG_SESSION_TYPE": "wayland",
            "CRAMPGUARD_CONFIG_DIR": str(home / "config"),
            "CRAMPGUARD_STATE_DIR": str(home / "state"),
            "CRAMPGUARD_RUNTIME_DIR": str(home / "runtime"),
            "CRAMPGUARD_TIMEZONE": os.environ.get("CRAMPGUARD_TIMEZONE", "UTC"),
            # no system bus: logind plays no part, swayidle alone says who is there
            "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent",
        }
        with open(self.dir / "sway.log", "ab") as log:
            self._proc = subprocess.Popen(
                [*self.as_user, "sway", "-c", str(self.dir / "sway.conf")], env=self.env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_parent_death_signal())
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (sockets := list(run.glob("sway-ipc.*.sock"))) \
                or not list(run.glob("wayland-*.lock")):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sway did not start:\n{self.log()[-3000:]}")
            time.sleep(0.05)
        display = next(p.name for p in run.glob("wayland-*") if not p.name.endswith(".lock"))
        self.env.update(WAYLAND_DISPLAY=display, SWAYSOCK=str(sockets[0]))

    @property
    def routines(self) -> Path:
        assert self.dir is not None
        return self.dir / "home" / "routines"

    def write(self, name: str, text: str) -> None:
        """A file in the routines folder, owned by sway's user."""
        path = self.routines / name
        path.write_text(text)
        if self.as_user:
            user = pwd.getpwnam(USER)
            os.chown(path, user.pw_uid, user.pw_gid)

    def activity(self) -> None:
        """The pointer moved, as the user's hand would move it."""
        subprocess.run([*self.as_user, "swaymsg", "seat", "-", "cursor", "move", "1", "1"],
                       env=self.env, check=True, capture_output=True, timeout=10)

    def log(self) -> str:
        return (self.dir / "sway.log").read_text(errors="replace") if self.dir else ""

    def end_compositor(self) -> None:
        """Stop sway alone (its folder stays: a daemon may still write there)."""
        if self._proc is not None:
            _end(self._proc)
            self._proc = None

    def stop(self) -> None:
        self.end_compositor()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
