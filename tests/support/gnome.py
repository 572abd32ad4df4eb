"""A real GNOME Shell 43 for tests: headless (mutter's virtual monitor, software rendering,
Wayland with no X11) on a private session bus, with a private empty system bus it needs to
start at all.

    with GnomeShell() as shell:          # or the `gnome` fixture, which skips where absent
        run_something(shell.env)         # HOME, XDG_*, DBUS_SESSION_BUS_ADDRESS of it
        shell.titles()                   # the notices GNOME has, oldest first
        shell.press("Stretch", "Done")   # what a click on that button does

GNOME 43's org.freedesktop.Notifications is the D-Bus-activated gjs service
(org.gnome.Shell.Notifications), so the session bus activates what /usr/share/dbus-1
ships (but dunst, whose service file claims the same name). A small extension turns on
unsafe mode, so org.gnome.Shell.Eval can look at the banners and press their buttons.
Everything lives in one temporary folder and is stopped when the test ends.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.wrappers import unwrap_msg

from tests.support.desktop import _end, _parent_death_signal

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ("dbus-daemon", "gnome-shell", "gjs", "gsettings")
PACKAGES = ("gnome-shell gjs dconf-service dconf-cli gsettings-desktop-schemas "
            "libgl1-mesa-dri")
SHELL = DBusAddress("/org/gnome/Shell", bus_name="org.gnome.Shell",
                    interface="org.gnome.Shell")
START_TIMEOUT_S = 40.0

_BUS = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>{kind}</type><listen>unix:path={socket}</listen><auth>EXTERNAL</auth>
{services}<policy context="default"><allow send_destination="*" eavesdrop="true"/>
<allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
"""
_EXTENSION = "crampguard-test@tests"
_ENABLE = """function init() {}
function enable() { global.context.unsafe_mode = true; }
function disable() {}
"""


def missing_programs() -> list[str]:
    return [p for p in PROGRAMS if shutil.which(p) is None]


class GnomeShell:
    def __init__(self, *, lock_screen: bool = False) -> None:
        #: with a stand-in for gdm on the system bus, so the shell makes its lock screen
        self.lock_screen = lock_screen
        self.dir: Path | None = None
        self.env: dict[str, str] = {}
        self._procs: list[subprocess.Popen[bytes]] = []
        self._conn: DBusConnection | None = None
        self._preexec = _parent_death_signal()

    def __enter__(self) -> GnomeShell:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        # Not pytest's tmp_path: a unix socket path must stay under ~100 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="crampguard-gnome-"))
        home, run, services = self.dir / "home", self.dir / "run", self.dir / "services"
        for folder in (home, run, services):
            folder.mkdir(mode=0o700)
        for service in Path("/usr/share/dbus-1/services").glob("*.service"):
            if service.name != "org.knopwob.dunst.service":
                (services / service.name).symlink_to(service)
        env = {k: v for k, v in os.environ.items()
               if k not in ("DISPLAY", "WAYLAND_DISPLAY") and not k.startswith("XDG_")}
        env.update(
            HOME=str(home), XDG_RUNTIME_DIR=str(run), XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local/share"), XDG_STATE_HOME=str(home / ".local/state"),
            XDG_CACHE_HOME=str(home / ".cache"), GSETTINGS_BACKEND="dconf",
            DBUS_SESSION_BUS_ADDRESS=f"unix:path={run}/bus",
            DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={self.dir}/system_bus",
            XDG_SESSION_TYPE="wayland", XDG_CURRENT_DESKTOP="GNOME",
            XDG_SESSION_DESKTOP="gnome", LIBGL_ALWAYS_SOFTWARE="1",
            MUTTER_DEBUG_RESET_IDLETIME="1")
        self.env = env
        for kind, socket, dirs in (("session", run / "bus", f"<servicedir>{services}"
                                    "</servicedir>"),
                                   ("system", self.dir / "system_bus", "")):
            conf = self.dir / f"{kind}.conf"
            conf.write_text(_BUS.format(kind=kind, socket=socket, services=dirs))
            self._spawn(["dbus-daemon", "--nofork", f"--config-file={conf}"], f"{kind}-bus")
            self._until(socket.exists, f"the {kind} bus")
        if self.lock_screen:
            self._spawn([sys.executable, "-m", "tests.support.fake_gdm"], "fake-gdm",
                        cwd=ROOT)
        extension = home / ".local/share/gnome-shell/extensions" / _EXTENSION
        extension.mkdir(parents=True)
        (extension / "metadata.json").write_text(json.dumps(
            {"uuid": _EXTENSION, "name": "test helper", "description": "unsafe mode",
             "shell-version": ["43"]}))
        (extension / "extension.js").write_text(_ENABLE)
        for key, value in (("enabled-extensions", f"['{_EXTENSION}']"),
                           ("disable-user-extensions", "false")):
            subprocess.run(["gsettings", "set", "org.gnome.shell", key, value], env=env,
                           check=True, capture_output=True, timeout=20)
        self._spawn(["gnome-shell", "--headless", "--wayland", "--no-x11",
                     "--virtual-monitor", "1280x800", "--sm-disable"], "gnome-shell")
        self._conn = open_dbus_connection(env["DBUS_SESSION_BUS_ADDRESS"])
        self._until(lambda: self._eval("1") == "1", "GNOME Shell to answer Shell.Eval")
        # GNOME greets root with "Logged in as a privileged user": a clean tray to start
        self.clear()

    def stop(self) -> None:
        for proc in reversed(self._procs):
            _end(proc)
        self._procs = []
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    # -- looking and pressing ----------------------------------------------------------------

    def titles(self) -> list[str]:
        """The titles of the notices GNOME holds (on screen or in its message list)."""
        return self._json("Main.messageTray.getSources()"
                          ".flatMap(s => s.notifications.map(n => n.title))")

    def bodies(self) -> dict[str, str]:
        return self._json("Object.fromEntries(Main.messageTray.getSources()"
                          ".flatMap(s => s.notifications.map(n => [n.title, n.bannerBodyText])))")

    def press(self, title: str, label: str) -> None:
        """What a click on a notice's button does (its action's callback)."""
        found = self._eval(
            "(() => { for (const s of Main.messageTray.getSources()) for (const n of "
            f"s.notifications) if (n.title == {json.dumps(title)}) {{ const a = n.actions"
            f".find(a => a.label == {json.dumps(label)}); if (!a) return 'no button'; "
            "a.callback(); return 'pressed'; } return 'no notice'; })()")
        if found != '"pressed"':
            raise AssertionError(f"{label} on {title}: {found}; GNOME has {self.titles()}")

    def clear(self) -> None:
        self._eval("Main.messageTray.getSources().forEach(s => s.destroy())")

    def has_notifications(self) -> bool:
        assert self._conn is not None
        reply = self._conn.send_and_get_reply(
            message_bus.NameHasOwner("org.freedesktop.Notifications"), timeout=5)
        return bool(unwrap_msg(reply)[0])

    def log(self) -> str:
        return (self.dir / "gnome-shell.log").read_text(errors="replace") if self.dir else ""

    def _json(self, expression: str) -> Any:
        """A JavaScript value, through JSON (Eval answers with JSON of what it got)."""
        out = self._eval(f"JSON.stringify({expression})")
        if out.startswith("error: "):
            raise AssertionError(f"GNOME Shell's Eval failed: {out}")
        return json.loads(json.loads(out))

    def _eval(self, script: str) -> str:
        assert self._conn is not None
        try:
            reply = self._conn.send_and_get_reply(
                new_method_call(SHELL, "Eval", "s", (script,)), timeout=10)
            ok, out = unwrap_msg(reply)
        except Exception as exc:  # not on the bus yet
            return f"error: {exc}"
        return out if ok else f"error: {out}"

    def lock(self, on: bool = True) -> None:
        """Lock the screen (or unlock it), as the user's shortcut would."""
        self._eval("Main.screenShield.lock(false)" if on
                   else "Main.screenShield.deactivate(false)")

    def _spawn(self, argv: list[str], name: str, cwd: Path | None = None) -> None:
        assert self.dir is not None
        with open(self.dir / f"{name}.log", "ab") as log:
            self._procs.append(subprocess.Popen(
                argv, env=self.env, stdin=subprocess.DEVNULL, stdout=log, cwd=cwd,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=self._preexec))

    def _until(self, ready, what: str) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready():
            dead = [p.args for p in self._procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                why = f"exited: {dead}" if dead else "timed out"
                raise RuntimeError(f"waiting for {what}: {why}\n{self.log()[-3000:]}")
            time.sleep(0.05)
