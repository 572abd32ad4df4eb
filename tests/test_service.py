"""`crampguard service install | uninstall | status` and the daemon's readiness report.

The generated files go through the programs that read them for real where this machine has
them (`systemd-analyze verify`, `desktop-file-validate`, plistlib); installing runs the real
CLI in a scratch home, with a fake `systemctl` on the PATH that records its calls where the
systemd branch is tested (a container has no user manager to talk to). The readiness
messages come from a real `crampguard run` to a NOTIFY_SOCKET the test listens on.
"""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.autostart import formats
from scheduler.autostart.command import daemon_command, running_program
from scheduler.autostart.installer import Autostart
from scheduler.daemon import readiness
from scheduler.errors import CrampguardError
from tests.support.daemon_proc import Daemon
from tests.support.fixtures import ROOT
from tests.support.routines import routine_text
from tests.support.session import FAKE_SYSTEMCTL, Session

#: The console script beside the interpreter running the tests (an installed crampguard).
SCRIPT = Path(sys.executable).parent / "crampguard"
#: `python -m scheduler run`: the command the tests' CLI runs (tests.support.daemon_proc.cli).
MODULE_RUN = (sys.executable, "-m", "scheduler", "run")
#: Every character that some format must quote or escape.
NASTY = 'a b\t"q\' back\\slash %h $HOME ;&|<>~*?#()` ü'
#: ...less those systemd refuses in a program's path (quotes, backslash, control characters).
AWKWARD_PATH = "a b %h $HOME ;&|<>~*?#()` ü"

@pytest.fixture
def systemd(tmp_path: Path) -> Session:
    return Session(tmp_path, manager="running")


@pytest.fixture
def no_manager(tmp_path: Path) -> Session:
    """systemctl is there, but no user manager answers it (this container, say)."""
    return Session(tmp_path, manager="offline")


def _program(folder: Path, name: str) -> Path:
    """An executable file at a path as awkward as ``name``."""
    path = folder / name / "crampguard"
    path.parent.mkdir(parents=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


# --- the files, read by the programs that read them -----------------------------------------


def _verify_unit(tmp_path: Path, command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("needs systemd-analyze (Debian package systemd)")
    folder = tmp_path / "units"
    folder.mkdir()
    unit = folder / formats.UNIT_NAME
    unit.write_text(formats.systemd_unit(command))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    return subprocess.run(["systemd-analyze", "--user", "verify", str(unit)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})


@pytest.mark.parametrize("command", [MODULE_RUN, (str(SCRIPT), "run")], ids=["module", "script"])
def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path, command: tuple[str, ...]) -> None:
    if not Path(command[0]).exists():
        pytest.skip(f"{command[0]} is not installed")
    proc = _verify_unit(tmp_path, command)
    assert (proc.returncode, proc.stderr) == (0, "")


def test_the_unit_runs_a_program_at_an_awkward_path(tmp_path: Path) -> None:
    """systemd reads the path back as written: otherwise verify finds no such program."""
    program = _program(tmp_path, AWKWARD_PATH)
    proc = _verify_unit(tmp_path, (str(program), "--config", NASTY, "run"))
    assert (proc.returncode, proc.stderr) == (0, "")


def test_systemd_analyze_verify_does_catch_a_missing_program(tmp_path: Path) -> None:
    """The checks above can fail: verify looks for the program ExecStart names."""
    proc = _verify_unit(tmp_path, (str(tmp_path / "gone" / "crampguard"), "run"))
    assert proc.returncode != 0 and "gone/crampguard is not executable" in proc.stderr


def test_a_program_systemd_cannot_run_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="systemd cannot run a program whose path holds a "
                                         "quote, a backslash or a control character"):
        formats.systemd_unit(('/opt/it\'s/crampguard', "run"))


def test_the_unit_says_what_the_issue_asks() -> None:
    text = formats.systemd_unit(("/opt/crampguard", "run"))
    lines = set(text.splitlines())
    assert {"Type=notify", "Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID",
            "PartOf=graphical-session.target", "After=graphical-session.target",
            "WantedBy=graphical-session.target", "ExecStart=/opt/crampguard run"} <= lines
    assert formats.is_ours(text)


def _validate_desktop(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("desktop-file-validate") is None:
        pytest.skip("needs desktop-file-validate (Debian package desktop-file-utils)")
    path = tmp_path / "crampguard.desktop"
    path.write_text(text)
    return subprocess.run(["desktop-file-validate", str(path)], capture_output=True,
                          text=True, timeout=30)


@pytest.mark.parametrize("command", [MODULE_RUN, ("/opt/crampguard", "run"),
                                     (f"/home/{NASTY}/crampguard", "--config", NASTY, "run")],
                         ids=["module", "plain", "awkward"])
def test_the_desktop_file_passes_desktop_file_validate(tmp_path: Path, command) -> None:
    proc = _validate_desktop(tmp_path, formats.desktop_entry(command))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert formats.desktop_command(formats.desktop_entry(command)) == command


def test_desktop_file_validate_does_catch_a_bad_exec(tmp_path: Path) -> None:
    """The check above can fail: an unquoted reserved character is an error."""
    proc = _validate_desktop(tmp_path, formats.desktop_entry(("/opt/x",)).replace(
        "Exec=/opt/x", "Exec=/opt/$x"))
    assert proc.returncode == 1 and "reserved character" in proc.stdout


def test_the_launch_agent_parses_with_plistlib() -> None:
    command = ("/Users/ana maria/.local/bin/crampguard", "run")
    text = formats.launch_agent(command, "/Users/ana maria/Library/Logs/crampguard.log")
    data = plistlib.loads(text.encode())
    assert data["ProgramArguments"] == list(command)
    assert data["Label"] == formats.LAUNCHD_LABEL
    assert data["RunAtLoad"] is True and data["KeepAlive"] == {"SuccessfulExit": False}
    assert data["LimitLoadToSessionType"] == "Aqua"
    assert formats.is_ours(text) and formats.agent_command(text) == command


def test_the_startup_script_runs_the_command_without_a_window() -> None:
    command = (r"C:\Users\José Ñ\AppData\Local\crampguard\crampguard.exe", "run")
    text = formats.startup_script(command)
    assert text.splitlines()[-1] == ('CreateObject("WScript.Shell").Run '
                                     '"""C:\\Users\\José Ñ\\AppData\\Local\\crampguard\\'
                                     'crampguard.exe"" run", 0, False')
    assert text.encode(formats.STARTUP_ENCODING).startswith(b"\xff\xfe")  # UTF-16 + BOM
    assert formats.startup_command(text) == command


# No control character but the tab: no format can carry them all (a refusal, tested below).
one_line = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.just("\t"),
                   max_size=12)
commands = st.lists(one_line, min_size=1, max_size=4).map(lambda a: ("/x" + a[0], *a[1:]))


@settings(max_examples=300, deadline=None)
@given(command=commands)
def test_each_format_reads_back_the_command_it_wrote(command: tuple[str, ...]) -> None:
    try:
        assert formats.unit_command(formats.systemd_unit(command)) == command
    except ValueError:  # a program path systemd refuses (tested above)
        assert set(command[0]) & set("\"'\\\t")
    assert formats.desktop_command(formats.desktop_entry(command)) == command
    assert formats.agent_command(formats.launch_agent(command, "/l")) == command
    assert formats.startup_command(formats.startup_script(command)) == command


def test_a_line_break_in_the_command_is_refused() -> None:
    for render in (formats.systemd_unit, formats.desktop_entry, formats.startup_script):
        with pytest.raises(ValueError, match="line break or another control character"):
            render(("/x\n", "run"))


def test_a_hand_written_unit_is_read_with_its_specifiers() -> None:
    text = "[Service]\nExecStart=-%h/crampguard/.venv/bin/crampguard run\n"
    assert formats.unit_command(text, "/home/ana") == (
        "/home/ana/crampguard/.venv/bin/crampguard", "run")
    assert not formats.is_ours(text)


# --- which program the entry runs -----------------------------------------------------------


def test_the_program_is_the_console_script_that_runs(tmp_path: Path) -> None:
    script = _program(tmp_path, "venv/bin")
    assert running_program(str(script), "/usr/bin/python3", "") == (str(script),)


def test_the_program_is_the_interpreter_when_run_as_a_module(tmp_path: Path) -> None:
    # not resolved: a venv's python is a link, and its target is outside the venv
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    assert running_program("/x/__main__.py", str(python), "scheduler.__main__") == (
        str(python), "-m", "scheduler")


def test_an_unknown_program_is_an_error() -> None:
    with pytest.raises(CrampguardError, match="cannot find the crampguard program"):
        running_program("/nowhere/crampguard", "/usr/bin/python3", "")


def test_files_named_on_the_command_line_go_with_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert daemon_command(("/p",), config="my.toml", routines="r") == (
        "/p", "--config", str(tmp_path / "my.toml"), "--routines", str(tmp_path / "r"), "run")


# --- install, status, uninstall through the real CLI ------------------------------------------


def test_without_a_user_manager_an_autostart_file_round_trip(no_manager: Session) -> None:
    s = no_manager
    first = s.json("service", "install")
    assert (first["kind"], first["file"]) == ("xdg-autostart", "created")
    assert first["path"] == str(s.desktop_file)
    assert first["command"] == list(MODULE_RUN)
    assert not s.unit.exists()
    assert s.calls() == ["--user is-system-running"]  # asked, and nothing else
    assert formats.desktop_command(s.desktop_file.read_text()) == MODULE_RUN

    again = s.json("service", "install")
    assert again["file"] == "unchanged"

    status = s.json("service", "status")
    assert status["installed"] and status["manager"] is None and not status["running"]
    assert status["entries"] == [{"kind": "xdg-autostart", "path": str(s.desktop_file),
                                  "ours": True, "command": list(MODULE_RUN), "stale": False}]

    gone = s.json("service", "uninstall")
    assert gone["removed"] == [str(s.desktop_file)] and not s.desktop_file.exists()
    assert s.json("service", "uninstall") == {"removed": [], "kept": [], "ran": [], "notes": []}
    assert not s.json("service", "status")["installed"]


def test_without_systemctl_at_all_an_autostart_file(tmp_path: Path) -> None:
    s = Session(tmp_path, manager=None)
    proc = s.cli("service", "install")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"created: {s.desktop_file} (xdg-autostart)\n")
    assert "note: it starts at your next login; `crampguard run` starts it now" in proc.stdout


def test_with_a_user_manager_a_unit_enabled_and_started(systemd: Session) -> None:
    s = systemd
    first = s.json("service", "install")
    assert (first["kind"], first["file"], first["path"]) == ("systemd", "created", str(s.unit))
    assert first["ran"] == ["systemctl --user daemon-reload",
                            "systemctl --user enable crampguard.service",
                            "systemctl --user start crampguard.service"]
    assert not s.desktop_file.exists()  # never both
    assert formats.unit_command(s.unit.read_text()) == MODULE_RUN
    assert "--user is-active graphical-session.target" in s.calls()

    again = s.json("service", "install")
    assert again["file"] == "unchanged"
    assert again["ran"] == ["systemctl --user enable crampguard.service",
                            "systemctl --user start crampguard.service"]

    status = s.json("service", "status")
    assert status["manager"] == {"name": "systemd", "active": "active", "enabled": "enabled"}
    assert [e["path"] for e in status["entries"]] == [str(s.unit)]
    s.calls()

    gone = s.json("service", "uninstall")
    assert gone["removed"] == [str(s.unit)] and not s.unit.exists()
    assert gone["ran"] == ["systemctl --user disable --now crampguard.service",
                           "systemctl --user daemon-reload"]


def test_a_changed_program_updates_the_unit_and_restarts_it(systemd: Session) -> None:
    s = systemd
    s.unit.parent.mkdir(parents=True)
    s.unit.write_text(formats.systemd_unit(("/old/venv/bin/crampguard", "run")))
    status = s.json("service", "status")
    assert status["entries"][0]["stale"] is True
    result = s.json("service", "install")
    assert result["file"] == "updated"
    assert result["ran"][-1] == "systemctl --user restart crampguard.service"
    assert formats.unit_command(s.unit.read_text()) == MODULE_RUN


def test_when_a_user_manager_appears_the_autostart_file_gives_way(tmp_path: Path) -> None:
    s = Session(tmp_path, manager="offline")
    s.json("service", "install")
    assert s.desktop_file.exists()
    s.env["FAKE_MANAGER"] = "degraded"  # a running manager with a failed unit somewhere
    result = s.json("service", "install")
    assert result["kind"] == "systemd" and result["removed"] == [str(s.desktop_file)]
    assert s.unit.exists() and not s.desktop_file.exists()


def test_a_file_crampguard_did_not_write_is_kept_without_force(systemd: Session) -> None:
    s = systemd
    s.unit.parent.mkdir(parents=True)
    hand_written = ("[Service]\nExecStart=%h/crampguard/.venv/bin/crampguard run\n"
                    "ExecReload=/bin/kill -HUP $MAINPID\n")
    s.unit.write_text(hand_written)
    proc = s.cli("service", "install")
    assert proc.returncode == 1
    assert proc.stderr == (
        f"{s.unit}: exists and was not written by crampguard (it has no \"Written by "
        "crampguard service install\" line); move it away, or run `crampguard service "
        "install --force` to replace it\n")
    assert s.unit.read_text() == hand_written

    status = s.json("service", "status")
    assert status["entries"][0]["ours"] is False
    assert status["entries"][0]["command"] == [
        f"{s.home}/crampguard/.venv/bin/crampguard", "run"]  # %h is the home
    assert status["entries"][0]["stale"] is True

    kept = s.json("service", "uninstall")
    assert kept["removed"] == [] and kept["kept"] == [str(s.unit)]
    assert s.unit.read_text() == hand_written

    forced = s.json("service", "install", "--force")
    assert forced["file"] == "replaced" and formats.is_ours(s.unit.read_text())


def test_a_foreign_autostart_file_beside_the_unit_is_named(systemd: Session) -> None:
    s = systemd
    s.desktop_file.parent.mkdir(parents=True)
    s.desktop_file.write_text("[Desktop Entry]\nType=Application\nName=cg\nExec=crampguard run\n")
    result = s.json("service", "install")
    assert s.desktop_file.exists()  # not ours: not removed
    assert any(n.startswith(f"{s.desktop_file} starts crampguard too") for n in result["notes"])
    status = s.json("service", "status")
    assert len(status["entries"]) == 2 and "start twice" in status["notes"][0]


def test_a_failing_start_is_an_error_that_names_the_log(systemd: Session) -> None:
    s = systemd
    (s.bin / "systemctl").write_text(FAKE_SYSTEMCTL.replace(
        'echo active > "$here/active" ;;',
        'echo "Job for crampguard.service failed." >&2; exit 1 ;;'))
    proc = s.cli("service", "install")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "`systemctl --user start crampguard.service` failed: Job for crampguard.service "
        "failed.; `journalctl --user -u crampguard` shows the daemon's log",
        f"{s.unit} is written; once that is fixed, `crampguard service install` again"]


def test_a_daemon_already_running_is_not_started_twice(systemd: Session, tmp_path: Path) -> None:
    s = systemd
    routines = tmp_path / "routines"
    routines.mkdir()
    (routines / "later.toml").write_text(routine_text("Later", "03:00"))
    with Daemon({**s.env, "PATH": os.environ["PATH"]}) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for("crampguard running")
        result = s.json("service", "install")
        assert "systemctl --user start crampguard.service" not in result["ran"]
        assert "systemctl --user enable crampguard.service" in result["ran"]
        pid = daemon.proc.pid  # type: ignore[union-attr]
        assert any(f"already running (pid {pid})" in n for n in result["notes"])
        assert s.json("service", "status")["pid"] == pid
        assert daemon.stop() == 0


def test_crampguard_variables_are_said_not_to_reach_the_service(no_manager: Session) -> None:
    result = no_manager.json("service", "install")
    assert any("CRAMPGUARD_CONFIG_DIR" in n and "does not start from this shell" in n
               for n in result["notes"])


def test_a_crampguard_found_only_through_pythonpath_is_named(no_manager, tmp_path) -> None:
    """The session has no PYTHONPATH: a copy run from there is not what it would start."""
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT / "scheduler", copy / "scheduler",
                    ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "scheduler", "service", "install", "--json"],
                          capture_output=True, text=True, timeout=60, cwd=copy,
                          env={**no_manager.env, "PYTHONPATH": str(copy)})
    assert proc.returncode == 0, proc.stderr
    [note] = [n for n in json.loads(proc.stdout)["notes"] if "PYTHONPATH" in n or
              "another crampguard" in n]
    assert note.endswith("install crampguard (`pip install .` in a venv) and run its "
                         "`crampguard service install`")
    # where the crampguard under test is the installed one (`pip install -e .`): no note
    installed = subprocess.run(
        [sys.executable, "-c", "import scheduler; print(scheduler.__file__)"],
        capture_output=True, text=True, cwd=no_manager.home, timeout=30,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    if Path(installed.stdout.strip()).parent == ROOT / "scheduler":
        assert not [n for n in no_manager.json("service", "install")["notes"]
                    if "PYTHONPATH" in n or "another crampguard" in n]


def test_the_console_script_is_what_the_entry_runs(no_manager: Session) -> None:
    if not SCRIPT.exists():
        pytest.skip(f"{SCRIPT} is not installed")
    proc = subprocess.run([str(SCRIPT), "service", "install", "--json"], capture_output=True,
                          text=True, env=no_manager.env, timeout=30, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["command"] == [str(SCRIPT), "run"]


# --- macOS and Windows: the files, written and removed where they would be -------------------


class Recorder:
    def __init__(self, loaded: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.loaded = loaded

    def __call__(self, argv: Sequence[str], env) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        code = 0 if argv[1] != "print" or self.loaded else 113
        return subprocess.CompletedProcess(list(argv), code, "", "")


def test_a_launch_agent_installed_and_removed(tmp_path: Path) -> None:
    runner = Recorder()
    mac = Autostart("darwin", {"HOME": str(tmp_path)}, runner)
    done = mac.install(("/Users/a/.local/bin/crampguard", "run"))
    path = tmp_path / "Library" / "LaunchAgents" / "local.crampguard.plist"
    assert (done.kind, done.path, done.file) == ("launchd", path, "created")
    assert plistlib.loads(path.read_bytes())["StandardErrorPath"] == str(
        tmp_path / "Library" / "Logs" / "crampguard.log")
    uid = os.getuid()
    assert done.ran == [f"launchctl bootstrap gui/{uid} {path}"]
    runner.loaded = True
    assert mac.status().manager.active == "loaded"  # type: ignore[union-attr]
    gone = mac.uninstall()
    assert gone.removed == [path] and gone.ran == [f"launchctl bootout gui/{uid}/local.crampguard"]
    assert not path.exists()


def test_a_startup_script_installed_and_removed(tmp_path: Path) -> None:
    windows = Autostart("win32", {"APPDATA": str(tmp_path), "HOME": str(tmp_path)},
                        Recorder())
    command = (r"C:\Python311\Scripts\crampguard.exe", "run")
    done = windows.install(command)
    path = tmp_path / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup" / \
        "crampguard.vbs"
    assert (done.path, done.ran) == (path, [])
    assert formats.startup_command(path.read_bytes().decode("utf-16")) == command
    assert windows.status().entries[0].ours
    assert windows.uninstall().removed == [path] and not path.exists()


# --- readiness: what a Type=notify manager hears from a real `crampguard run` ------------------


def _listen(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + address[1:] if address.startswith("@") else address)
    sock.settimeout(15)
    return sock


def _message(sock: socket.socket) -> dict[str, str]:
    return dict(line.split("=", 1) for line in sock.recv(4096).decode().splitlines())


@pytest.mark.parametrize("abstract", [False, True], ids=["path", "abstract"])
def test_the_daemon_reports_ready_reloading_and_stopping(tmp_path: Path, abstract: bool) -> None:
    address = f"@crampguard-test-{os.getpid()}-{id(tmp_path)}" if abstract \
        else str(tmp_path / "notify.sock")
    routines = tmp_path / "routines"
    routines.mkdir()
    (routines / "later.toml").write_text(routine_text("Later", "03:00"))
    with _listen(address) as sock, Daemon({**os.environ, "NOTIFY_SOCKET": address,
                                           "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent"}
                                          ) as daemon:
        daemon.start("--routines", str(routines))
        ready = _message(sock)
        daemon.wait_for("crampguard running: 1 routine", timeout=2)  # logged before READY
        assert ready == {"READY": "1", "STATUS": "1 routine(s) scheduled"}
        daemon.signal(signal.SIGHUP)
        reloading = _message(sock)
        assert reloading.keys() == {"RELOADING", "MONOTONIC_USEC"}
        assert int(reloading["MONOTONIC_USEC"]) > 0
        assert _message(sock) == ready
        daemon.signal(signal.SIGTERM)
        assert _message(sock) == {"STOPPING": "1"}
        assert daemon.stop() == 0


def test_without_a_notify_socket_nothing_is_sent(monkeypatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert readiness.ready("x") is False


def test_a_notify_socket_nobody_listens_on_is_logged_not_raised(tmp_path, caplog) -> None:
    env = {"NOTIFY_SOCKET": str(tmp_path / "nobody.sock")}
    assert readiness.notify("READY=1", env=env) is False
    assert "could not tell the service manager READY=1" in caplog.text
