"""A real notification desktop for tests: a private session bus, an Xvfb display and dunst.

    def test_something(desktop):          # the fixture (tests.support.fixtures); skips where
                                          # the programs are missing
        notify_somehow(desktop.env)       # DISPLAY and DBUS_SESSION_BUS_ADDRESS of this desktop
        [shown] = desktop.history()       # what dunst received, oldest first

Everything lives in one temporary folder and is stopped when the test ends, passed or not.
The bus is configured without service directories: nothing on it is D-Bus-activated, so a
call to org.freedesktop.Notifications after `kill_dunst()` fails at once instead of quietly
starting another dunst, and the harness waits for dunst with NameHasOwner, never dunstctl.

Under pytest, a Desktop starts only in a test marked `desktop` (the plugin marks every test
using the fixture and sets ``start_guard``), so ``pytest -m "not desktop"`` starts none.
"""

from __future__ import annotations

import ctypes
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.wrappers import unwrap_msg

REQUIRED_PROGRAMS = ("dbus-daemon", "Xvfb", "dunst")
PACKAGES = "dbus dbus-x11 dunst libnotify-bin xvfb"
NOTIFICATIONS = "org.freedesktop.Notifications"
DUNST_CMD = DBusAddress(
    "/org/freedesktop/Notifications", bus_name=NOTIFICATIONS, interface="org.dunstproject.cmd0"
)
FDN = DBusAddress("/org/freedesktop/Notifications", bus_name=NOTIFICATIONS, interface=NOTIFICATIONS)
#: Called by every Desktop.start() before anything starts: the tests' plugin sets it to
#: refuse a start in a test without the `desktop` marker. None elsewhere (the benches).
start_guard: Callable[[], None] | None = None
# Generous, because it only matters when something is broken; a healthy start takes ~0.3 s.
START_TIMEOUT_S = 10.0
CALL_TIMEOUT_S = 5.0

_BUS_CONFIG = """\
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

# Notices stay until closed (timeout 0) so a test sees them on screen or, after close-all,
# in the history; the history keeps them all, and equal notices are not merged into one.
_DUNSTRC = """\
[global]
    stack_duplicates = false
    monitor = 0
    follow = none
    width = 400
    origin = top-right
    offset = 10x10
    notification_limit = 0
    font = Monospace 9
    markup = full
    format = "<b>%s</b>\\n%b"
    show_age_threshold = -1
    idle_threshold = 0
    history_length = 1000
    sticky_history = yes
    dmenu = {dmenu}
    browser = /bin/true
    always_run_script = false

# Records what the history leaves out (dunst 1.9 lists no urgency, no desktop entry).
[crampguard-record]
    script = {record}

[urgency_low]
    timeout = 0

[urgency_normal]
    timeout = 0

[urgency_critical]
    timeout = 0
"""

# Stands in for dmenu: dunst writes the context menu's entries on stdin and runs the entry
# printed back. It answers with the first entry containing the text in dmenu-pick, and only
# then publishes dmenu-offered: the harness may start the next menu (new pick, offered file
# removed) as soon as that file is there.
_DMENU = """\
#!/bin/sh
here=$(dirname "$0")
cat > "$here/dmenu-offered.tmp"
pick=$(cat "$here/dmenu-pick" 2>/dev/null || true)
[ -n "$pick" ] && grep -F -m 1 -- "$pick" "$here/dmenu-offered.tmp"
mv "$here/dmenu-offered.tmp" "$here/dmenu-offered"
exit 0
"""


# Run by dunst for every notice it takes in, with the notice in DUNST_* variables.
_RECORD = """\
#!/bin/sh
here=$(dirname "$0")
printf '%s\\t%s\\t%s\\n' "$DUNST_ID" "$DUNST_URGENCY" "$DUNST_DESKTOP_ENTRY" >> "$here/received.tsv"
"""


def missing_programs() -> list[str]:
    return [program for program in REQUIRED_PROGRAMS if shutil.which(program) is None]


class Desktop:
    """Start with ``with Desktop() as desktop:`` (or ``start()`` and ``stop()``)."""

    def __init__(self) -> None:
        self.dir: Path | None = None
        self.address = ""
        self.display = ""
        #: the environment for subprocesses that should notify on this desktop
        self.env: dict[str, str] = {}
        self._bus: subprocess.Popen[bytes] | None = None
        self._xvfb: subprocess.Popen[bytes] | None = None
        self._dunst: subprocess.Popen[bytes] | None = None
        self._conn: DBusConnection | None = None
        self._preexec = _parent_death_signal()
        #: what start_program started, stopped before the desktop itself
        self._programs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Desktop:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> Desktop:
        if start_guard is not None:
            start_guard()
        try:
            # Not pytest's tmp_path: a unix socket path must stay under ~100 bytes.
            self.dir = Path(tempfile.mkdtemp(prefix="crampguard-desktop-"))
            self._start_bus()
            self._start_xvfb()
            self.env = {
                **{k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"},
                "DISPLAY": self.display,
                "DBUS_SESSION_BUS_ADDRESS": self.address,
            }
            self._write_config()
            self.start_dunst()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop everything that was started; safe to call twice and after a failed start."""
        for proc in reversed(self._programs):
            _end(proc)
        self._programs = []
        for attr in ("_dunst", "_xvfb", "_bus"):
            proc = getattr(self, attr)
            if proc is not None:
                _end(proc)
                setattr(self, attr, None)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def start_dunst(self) -> None:
        """Start dunst (again, after kill_dunst) and wait until it owns the name."""
        if self._dunst is not None:
            raise RuntimeError("dunst is already running")
        dunst_env = {**self.env, "XDG_CONFIG_HOME": str(self._path("config"))}
        self._dunst = self._spawn(
            ["dunst", "-config", str(self._path("dunstrc"))], "dunst.log", env=dunst_env
        )
        self._wait_for(lambda: self.has_server(), "dunst to own " + NOTIFICATIONS, self._dunst)

    def start_program(self, argv: list[str], log_name: str) -> subprocess.Popen[bytes]:
        """Start another program on this desktop (its display and bus), with its output in
        ``log_name``; it is stopped with the desktop."""
        proc = self._spawn(argv, log_name, env=self.env)
        self._programs.append(proc)
        return proc

    def stop_program(self, proc: subprocess.Popen[bytes]) -> None:
        """Stop a program start_program started."""
        _end(proc)
        self._programs.remove(proc)

    def wait_until(self, condition: Callable[[], bool], what: str,
                   proc: subprocess.Popen[bytes] | None = None,
                   timeout_s: float = START_TIMEOUT_S) -> None:
        """Poll ``condition`` until it holds; RuntimeError with the logs' tails if it does
        not within ``timeout_s`` or ``proc`` exits meanwhile."""
        self._wait_for(condition, what, proc, timeout_s)

    def kill_dunst(self) -> None:
        """Stop dunst and wait until the bus has noticed (the name has no owner)."""
        if self._dunst is not None:
            _end(self._dunst)
            self._dunst = None
        self._wait_for(lambda: not self.has_server(), "the bus to drop " + NOTIFICATIONS)

    # -- looking at what arrived ---------------------------------------------------------

    def has_server(self) -> bool:
        (owned,) = self.call(message_bus.NameHasOwner(NOTIFICATIONS))
        return bool(owned)

    def capabilities(self) -> list[str]:
        (caps,) = self.call(new_method_call(FDN, "GetCapabilities"))
        return list(caps)

    def close_all(self) -> None:
        """`dunstctl close-all`: closed notices move to the history."""
        self.call(new_method_call(DUNST_CMD, "NotificationCloseAll"))

    def shown(self) -> int:
        """How many notices dunst has on screen or waiting (without closing any)."""
        from jeepney import Properties

        counts = [self.call(Properties(DUNST_CMD).get(name))[0][1]
                  for name in ("displayedLength", "waitingLength")]
        return int(sum(counts))

    def history(self) -> list[dict[str, Any]]:
        """What dunst received, oldest first: one dict per notice with at least summary,
        body, urgency ("LOW", "NORMAL", "CRITICAL"), appname and id.

        Closes all shown notices first (only closed ones are in the history). Reads the same
        method `dunstctl history` calls (dunstctl needs systemd's busctl for it, and prints
        each field as {"type": ..., "data": ...}). dunst 1.9's history has no urgency and no
        desktop entry: those come from the record script, as ``urgency`` and
        ``desktop_entry``, unless the history has them.
        """
        self.close_all()
        (entries,) = self.call(new_method_call(DUNST_CMD, "NotificationListHistory"))
        notices = [{key: value for key, (_sig, value) in entry.items()} for entry in entries]
        received = self.received({notice["id"] for notice in notices})
        for notice in notices:
            urgency, desktop_entry = received[notice["id"]]
            notice.setdefault("urgency", urgency)
            notice.setdefault("desktop_entry", desktop_entry)
        return sorted(notices, key=lambda notice: notice["id"])

    def received(self, ids: Collection[int] = ()) -> dict[int, tuple[str, str]]:
        """id -> (urgency, desktop entry) of each notice dunst took in, from the record
        script; waits until those of ``ids`` are there (dunst runs the script in the
        background)."""
        path = self._path("received.tsv")
        found: dict[int, tuple[str, str]] = {}

        def complete() -> bool:
            lines = path.read_text().splitlines() if path.exists() else []
            for line in lines:
                notice_id, urgency, desktop_entry = line.split("\t")
                found[int(notice_id)] = (urgency, desktop_entry)
            return set(ids) <= found.keys()

        self._wait_for(complete, "dunst's record script", self._dunst, CALL_TIMEOUT_S)
        return found

    def dunstctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run dunstctl against this desktop (raises CalledProcessError when it fails)."""
        return subprocess.run(
            ["dunstctl", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=CALL_TIMEOUT_S,
            check=True,
        )

    def context_menu(self, pick: str = "", timeout_s: float = CALL_TIMEOUT_S) -> list[str]:
        """`dunstctl context`: open the context menu of the shown notices and choose the first
        entry containing ``pick`` (nothing: cancel). Returns the entries dunst offered, e.g.
        "#Done (Calf stretch) [7,done]" for the action "done" of notice 7 (dunst 1.9).

        dunst invokes the chosen action a moment after this returns (once the dmenu script
        has answered): wait for its ActionInvoked, do not expect it here. dunst 1.9 runs one
        menu at a time and ignores a call while the last one is still finishing (it only logs
        "Context menu already running, refusing to rerun"): then this calls again."""
        offered = self._path("dmenu-offered")
        offered.unlink(missing_ok=True)
        self._path("dmenu-pick").write_text(pick)
        log = self._path("dunst.log")
        seen = log.stat().st_size if log.exists() else 0

        def opened() -> bool:
            nonlocal seen
            if offered.exists():
                return True
            with open(log, "rb") as stream:
                stream.seek(seen)
                news = stream.read()
            seen += len(news)
            if b"refusing to rerun" in news:
                self.call(new_method_call(DUNST_CMD, "ContextMenuCall"))
            return False

        self.call(new_method_call(DUNST_CMD, "ContextMenuCall"))
        self._wait_for(opened, "dunst to run the dmenu script", self._dunst, timeout_s)
        return offered.read_text().splitlines()

    def press(self, notification_id: int, action_key: str) -> None:
        """Press a button of a shown notice, as a user would: dunst sends ActionInvoked(id,
        key) to the connection that sent the notice. Goes through the context menu (`dunstctl
        action 0` would invoke only the default action); picks the entry by id and key, so
        other notices on screen with the same labels are left alone."""
        pick = f"[{notification_id},{action_key}]"
        offered = self.context_menu(pick)
        if not any(pick in entry for entry in offered):
            raise AssertionError(f"dunst offers no button {pick}; its context menu: {offered}")

    def screenshot(self, path: str | os.PathLike[str]) -> Path:
        """Save the display as an image; skips the test where no screenshot tool exists."""
        if shutil.which("import"):
            command = ["import", "-window", "root", str(path)]
        elif shutil.which("xwd"):
            command = ["xwd", "-root", "-silent", "-out", str(path)]
        else:
            # Imported here: the benchmarks use Desktop with crampguard's own dependencies
            # only (README, Benchmarks), without the test extras.
            import pytest

            pytest.skip("no screenshot tool: install imagemagick (import) or x11-apps (xwd)")
        subprocess.run(command, env=self.env, check=True, timeout=CALL_TIMEOUT_S)
        return Path(path)

    def call(self, message: Any) -> tuple:
        """Send a method call on this desktop's bus and return the reply's body."""
        if self._conn is None:
            raise RuntimeError("the desktop is not running")
        return unwrap_msg(self._conn.send_and_get_reply(message, timeout=CALL_TIMEOUT_S))

    def log(self, name: str = "dunst.log") -> str:
        """A log of one of the programs (dunst.log, xvfb.log, bus.log), for failure messages."""
        path = self._path(name)
        return path.read_text(errors="replace") if path.exists() else ""

    # -- starting the parts ----------------------------------------------------------------

    def _start_bus(self) -> None:
        socket_path = self._path("bus")
        self._path("bus.conf").write_text(_BUS_CONFIG.format(socket=socket_path))
        self._bus = self._spawn(
            ["dbus-daemon", "--nofork", f"--config-file={self._path('bus.conf')}"], "bus.log"
        )
        self.address = f"unix:path={socket_path}"

        def connected() -> bool:
            try:
                self._conn = open_dbus_connection(self.address)
            except OSError:
                return False
            return True

        self._wait_for(connected, "dbus-daemon to listen", self._bus)

    def _start_xvfb(self) -> None:
        # -displayfd: Xvfb picks a free display itself and writes its number once it accepts
        # clients, so parallel test runs never race for a display number.
        read_end, write_end = os.pipe()
        try:
            self._xvfb = self._spawn(
                [
                    "Xvfb",
                    "-displayfd",
                    str(write_end),
                    "-nolisten",
                    "tcp",
                    "-screen",
                    "0",
                    "1024x768x24",
                ],
                "xvfb.log",
                pass_fds=(write_end,),
            )
            os.close(write_end)
            write_end = -1
            number = b""
            deadline = time.monotonic() + START_TIMEOUT_S
            while not number.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                ready, _, _ = select.select([read_end], [], [], max(remaining, 0))
                chunk = os.read(read_end, 16) if ready else b""
                if not chunk:
                    raise RuntimeError(f"Xvfb did not start:\n{self.log('xvfb.log')[-2000:]}")
                number += chunk
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)
        self.display = f":{number.decode().strip()}"

    def _write_config(self) -> None:
        dmenu = self._path("dmenu")
        dmenu.write_text(_DMENU)
        dmenu.chmod(0o755)
        self._path("config").mkdir()
        record = self._path("record")
        record.write_text(_RECORD)
        record.chmod(0o755)
        self._path("dunstrc").write_text(_DUNSTRC.format(dmenu=dmenu, record=record))

    def _spawn(
        self,
        argv: list[str],
        log_name: str,
        env: dict[str, str] | None = None,
        pass_fds: tuple[int, ...] = (),
    ) -> subprocess.Popen[bytes]:
        with open(self._path(log_name), "ab") as log:
            # A session of its own: stop() ends the program and anything it started (dunst's
            # dmenu script) by its process group, and ^C in the terminal reaches neither.
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                pass_fds=pass_fds,
                start_new_session=True,
                preexec_fn=self._preexec,
            )

    def _wait_for(
        self,
        condition: Callable[[], bool],
        what: str,
        proc: subprocess.Popen[bytes] | None = None,
        timeout_s: float = START_TIMEOUT_S,
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(
                    f"waiting for {what}: {proc.args!r} exited with {proc.returncode}\n"
                    f"{self._logs_tail()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"timed out after {timeout_s:g} s waiting for {what}\n{self._logs_tail()}"
                )
            time.sleep(0.02)

    def _logs_tail(self) -> str:
        return "\n".join(
            f"--- {name}\n{self.log(name)[-1500:]}" for name in ("bus.log", "xvfb.log", "dunst.log")
        )

    def _path(self, name: str) -> Path:
        if self.dir is None:
            raise RuntimeError("the desktop is not running")
        return self.dir / name


def _parent_death_signal() -> Callable[[], None] | None:
    """On Linux, what makes a started program get SIGTERM when the test process dies.

    Teardown stops everything when a test fails; this also covers a test run that is itself
    killed (a CI time limit, `timeout`), which runs no teardown at all. The kernel sends the
    signal when the thread that started the program ends: start a Desktop on a thread that
    outlives it (pytest's main thread does).
    """
    if not sys.platform.startswith("linux"):
        return None
    # Looked up now: after fork, in the child, is no place to load a library.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1

    def set_signal() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return set_signal


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a program and everything in its process group; kill what lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        _signal_group(proc, sig)
        try:
            proc.wait(timeout=3.0)
            break
        except subprocess.TimeoutExpired:
            continue
    # Whatever the program left behind in its group (a dmenu script still waiting).
    _signal_group(proc, signal.SIGKILL)


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass

