"""The control socket: a real ControlServer in this process, real sockets as clients.

Unix socket paths must stay under ~100 bytes, and pytest's tmp_path is long, so every
server lives under a short ``tempfile.mkdtemp(prefix="cg-")`` folder.
"""

from __future__ import annotations

import json
import logging
import os
import select
import shutil
import socket
import stat
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scheduler.control.client import request
from scheduler.control.server import ControlServer
from scheduler.errors import CrampguardError, NotRunning

log = logging.getLogger("crampguard.test-control")
NOBODY = 65534


class Recorder:
    """The daemon's stand-in: records each request and echoes it back."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def __call__(self, message: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(message)
        cmd = message["cmd"]
        if cmd == "boom":
            raise RuntimeError("the handler broke")
        if cmd == "not-a-dict":
            return ["ok"]  # type: ignore[return-value]
        if cmd == "huge":
            return {"ok": True, "blob": "x" * (8 * 1024 * 1024)}
        if cmd == "status":
            return {"ok": True, "echo": message}
        return {"ok": False, "error": "unknown command"}


@pytest.fixture
def base() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="cg-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def sock_path(base: Path) -> Path:
    return base / "run" / "control.sock"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def serve(sock_path: Path, recorder: Recorder) -> Iterator[Callable[..., ControlServer]]:
    """``serve(**options)`` starts a server at ``sock_path``; all are stopped afterwards."""
    servers: list[ControlServer] = []

    def _serve(**options: Any) -> ControlServer:
        server = ControlServer(sock_path, recorder, log, **options)
        server.start()
        servers.append(server)
        return server

    yield _serve
    for server in servers:
        server.stop()


def raw(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(2.0)
    sock.connect(os.fspath(path))
    return sock


def read_reply(sock: socket.socket) -> dict[str, Any]:
    data = bytearray()
    while b"\n" not in data:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            break
        data += chunk
    assert data.endswith(b"\n"), f"no complete reply line: {bytes(data[:200])!r}"
    return json.loads(data)


def ask_raw(path: Path, line: bytes) -> dict[str, Any]:
    with raw(path) as sock:
        sock.sendall(line)
        return read_reply(sock)


def closed(sock: socket.socket) -> bool:
    """The server closed it: EOF, or a reset when it left our bytes unread."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def wait_until(condition: Callable[[], bool], timeout: float = 1.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.01)


def stale_socket(path: Path) -> None:
    """A socket file nothing listens on, as a daemon that died leaves behind."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(os.fspath(path))
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


# --- life cycle and the client ------------------------------------------------------------


def test_round_trip(serve, sock_path, recorder):
    serve()
    reply = request(sock_path, {"cmd": "status", "verbose": True})
    assert reply == {"ok": True, "echo": {"cmd": "status", "verbose": True}}
    assert recorder.requests == [{"cmd": "status", "verbose": True}]


def test_unknown_commands_are_the_handlers_business(serve, sock_path):
    serve()
    assert request(sock_path, {"cmd": "dance"}) == {"ok": False, "error": "unknown command"}


def test_folder_is_0700_and_socket_0600(serve, sock_path):
    serve()
    assert stat.S_IMODE(os.stat(sock_path.parent).st_mode) == 0o700
    mode = os.lstat(sock_path).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600


def test_an_existing_folder_of_ours_is_made_private(serve, sock_path):
    sock_path.parent.mkdir()
    os.chmod(sock_path.parent, 0o755)
    serve()
    assert stat.S_IMODE(os.stat(sock_path.parent).st_mode) == 0o700


def test_not_running_when_the_socket_is_missing(sock_path):
    with pytest.raises(NotRunning) as caught:
        request(sock_path, {"cmd": "status"})
    assert isinstance(caught.value, CrampguardError)
    assert "crampguard is not running" in str(caught.value)
    assert str(sock_path) in str(caught.value)


def test_not_running_when_nothing_listens_on_a_stale_socket(sock_path):
    stale_socket(sock_path)
    with pytest.raises(NotRunning):
        request(sock_path, {"cmd": "status"})


def test_a_stale_socket_is_replaced_at_start(serve, sock_path):
    stale_socket(sock_path)
    serve()
    assert request(sock_path, {"cmd": "status"})["ok"] is True


def test_a_live_socket_is_not_taken_over(serve, sock_path, recorder):
    serve()
    second = ControlServer(sock_path, recorder, log)
    with pytest.raises(CrampguardError, match="already running"):
        second.start()
    assert request(sock_path, {"cmd": "status"})["ok"] is True


def test_a_file_that_is_not_a_socket_is_left_alone(sock_path, recorder):
    sock_path.parent.mkdir(mode=0o700)
    sock_path.write_text("mine")
    with pytest.raises(CrampguardError, match="not a socket"):
        ControlServer(sock_path, recorder, log).start()
    assert sock_path.read_text() == "mine"


def test_a_path_too_long_for_a_unix_socket_is_explained(base, recorder):
    path = base / ("d" * 120) / "control.sock"
    with pytest.raises(CrampguardError, match="CRAMPGUARD_RUNTIME_DIR"):
        ControlServer(path, recorder, log).start()
    with pytest.raises(CrampguardError, match="longer than"):
        request(path, {"cmd": "status"})


def test_stop_is_prompt_and_removes_the_socket(sock_path, recorder):
    server = ControlServer(sock_path, recorder, log)
    server.start()
    time.sleep(0.1)  # let the thread settle into its untimed wait
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 0.5
    assert not sock_path.exists()
    assert not [t for t in threading.enumerate() if t.name == "crampguard-control"]
    with pytest.raises(NotRunning):
        request(sock_path, {"cmd": "status"})
    server.stop()  # a second stop is harmless


def test_stop_with_clients_connected(sock_path, recorder):
    server = ControlServer(sock_path, recorder, log)
    server.start()
    with raw(sock_path) as silent:
        silent.sendall(b'{"cmd": ')
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 0.5
        assert closed(silent)  # by the server on its way out


def test_client_times_out_on_a_server_that_never_answers(sock_path):
    sock_path.parent.mkdir(mode=0o700)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as mute:
        mute.bind(os.fspath(sock_path))
        mute.listen(1)  # the kernel accepts the connection; nobody ever reads it
        started = time.monotonic()
        with pytest.raises(CrampguardError, match="did not answer"):
            request(sock_path, {"cmd": "status"}, timeout=0.3)
        assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("answer", [b"garbage\n", b"[1, 2]\n", b'{"no": "ok"}\n', b"{"])
def test_client_rejects_a_malformed_reply(sock_path, answer):
    sock_path.parent.mkdir(mode=0o700)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as fake:
        fake.bind(os.fspath(sock_path))
        fake.listen(1)

        def reply_once() -> None:
            conn, _ = fake.accept()
            with conn:
                conn.recv(1024)
                conn.sendall(answer)

        thread = threading.Thread(target=reply_once)
        thread.start()
        try:
            with pytest.raises(CrampguardError) as caught:
                request(sock_path, {"cmd": "status"}, timeout=1.0)
            assert not isinstance(caught.value, NotRunning)
        finally:
            thread.join()


# --- hostile and broken clients -----------------------------------------------------------


def test_bad_json(serve, sock_path, recorder):
    serve()
    reply = ask_raw(sock_path, b"{not json\n")
    assert reply["ok"] is False
    assert reply["error"].startswith("bad request: not JSON")
    assert recorder.requests == []


@pytest.mark.parametrize("line, error", [
    (b'["cmd", "status"]\n', "bad request: expected a JSON object"),
    (b'"status"\n', "bad request: expected a JSON object"),
    (b'{"verbose": true}\n', 'bad request: "cmd" must be a string'),
    (b'{"cmd": 7}\n', 'bad request: "cmd" must be a string'),
    (b"\xff\xfe\xfd\n", "bad request: not JSON (not UTF-8 text)"),
    (b"[" * 60000 + b"\n", "bad request: not JSON (nested too deeply)"),
])
def test_requests_that_are_not_a_command(serve, sock_path, recorder, line, error):
    serve()
    assert ask_raw(sock_path, line) == {"ok": False, "error": error}
    assert recorder.requests == []
    assert request(sock_path, {"cmd": "status"})["ok"] is True


def test_a_line_over_the_limit_is_refused_without_buffering_it(serve, sock_path):
    server = serve()
    total, chunk = 1024 * 1024, b"x" * 65536
    sent, sent_when_answered = 0, None
    with raw(sock_path) as sock:
        while sent < total:
            if sent_when_answered is None and select.select([sock], [], [], 0)[0]:
                sent_when_answered = sent
            sent += sock.send(chunk)
        sock.shutdown(socket.SHUT_WR)
        answer = bytearray()
        while data := sock.recv(65536):  # a clean EOF after the reply, no reset
            answer += data
    assert json.loads(answer) == {"ok": False, "error": "request too large"}
    assert sent_when_answered is not None and sent_when_answered < total
    assert server.peak_buffered <= server.max_request + 1
    assert request(sock_path, {"cmd": "status"})["ok"] is True


def test_a_client_that_keeps_streaming_is_cut_off(serve, sock_path):
    serve(client_timeout=0.5)
    started = time.monotonic()
    with raw(sock_path) as sock, pytest.raises((BrokenPipeError, ConnectionResetError)):
        while time.monotonic() - started < 3:
            sock.sendall(b"x" * 65536)  # never a newline, never an end
    assert time.monotonic() - started < 1.5
    assert request(sock_path, {"cmd": "status"})["ok"] is True


def test_a_silent_client_is_closed_and_does_not_block_others(serve, sock_path):
    serve(client_timeout=0.5)
    with raw(sock_path) as silent:
        connected = time.monotonic()
        assert request(sock_path, {"cmd": "status"})["ok"] is True
        assert time.monotonic() - connected < 0.3  # served while the silent one waits
        assert silent.recv(1) == b""
        waited = time.monotonic() - connected
    assert 0.4 <= waited < 1.5


def test_a_client_that_never_reads_its_reply_is_dropped(serve, sock_path):
    server = serve(client_timeout=0.5)
    with raw(sock_path) as lazy:
        lazy.sendall(b'{"cmd": "huge"}\n')  # 8 MiB of reply that is never read
        time.sleep(0.05)
        started = time.monotonic()
        assert request(sock_path, {"cmd": "status"})["ok"] is True
        assert time.monotonic() - started < 0.3
        wait_until(lambda: not server._clients, timeout=1.5)


def test_a_client_that_hangs_up_mid_request_is_cleaned_up(serve, sock_path, recorder):
    server = serve()
    with raw(sock_path) as sock:
        sock.sendall(b'{"cmd": "sta')
    wait_until(lambda: not server._clients)
    assert recorder.requests == []
    assert request(sock_path, {"cmd": "status"})["ok"] is True


def test_more_clients_than_allowed_are_told_busy(serve, sock_path):
    server = serve(max_clients=2)
    first, second = raw(sock_path), raw(sock_path)
    try:
        wait_until(lambda: len(server._clients) == 2)
        assert request(sock_path, {"cmd": "status"}) == {"ok": False, "error": "busy"}
    finally:
        first.close()
        second.close()
    wait_until(lambda: not server._clients)
    assert request(sock_path, {"cmd": "status"})["ok"] is True


def test_a_handler_that_raises_is_an_internal_error(serve, sock_path, caplog):
    serve()
    with caplog.at_level(logging.ERROR, logger=log.name):
        assert request(sock_path, {"cmd": "boom"}) == {"ok": False, "error": "internal error"}
        assert request(sock_path, {"cmd": "not-a-dict"}) == {"ok": False,
                                                              "error": "internal error"}
    failures = [r for r in caplog.records if r.exc_info]
    assert len(failures) == 2 and "the handler broke" in str(failures[0].exc_info[1])
    assert request(sock_path, {"cmd": "status"})["ok"] is True


@pytest.mark.skipif(not hasattr(os, "fork") or os.geteuid() != 0,
                    reason="needs root to connect as another user (uid 65534)")
def test_another_user_is_refused(serve, base, sock_path, caplog):
    serve()
    # Only this test's own folders: traversable and a world-writable socket, so that the
    # peer-credential check, not the file mode, is what refuses the other user.
    os.chmod(base, 0o711)
    os.chmod(sock_path.parent, 0o711)
    os.chmod(sock_path, 0o666)
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # 3.12+ warns about fork with threads; the child only makes system calls.
        warnings.simplefilter("ignore", DeprecationWarning)
        with caplog.at_level(logging.WARNING, logger=log.name):
            pid = os.fork()
            if pid == 0:  # the child: never return into pytest
                code = 1
                try:
                    os.close(read_end)
                    os.setgroups([])
                    os.setgid(NOBODY)
                    os.setuid(NOBODY)
                    reply = request(sock_path, {"cmd": "status"}, timeout=2.0)
                    os.write(write_end, json.dumps(reply).encode())
                    code = 0
                except BaseException as exc:  # noqa: B036 - report anything to the parent
                    os.write(write_end, repr(exc).encode())
                finally:
                    os._exit(code)
            os.close(write_end)
            with os.fdopen(read_end, "rb") as pipe:
                said = pipe.read()
            _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, said
    assert json.loads(said) == {"ok": False, "error": "permission denied"}
    assert any(f"uid {NOBODY}" in r.getMessage() and f"pid {pid}" in r.getMessage()
               for r in caplog.records)
    assert request(sock_path, {"cmd": "status"})["ok"] is True


# --- idle cost ----------------------------------------------------------------------------


def _context_switches(native_id: int) -> int:
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    return sum(int(line.split(":")[1]) for line in status.splitlines()
               if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
def test_an_idle_server_never_wakes_up(serve, sock_path):
    serve()
    assert request(sock_path, {"cmd": "status"})["ok"] is True  # a client came and went
    time.sleep(0.5)
    (thread,) = [t for t in threading.enumerate() if t.name == "crampguard-control"]
    assert thread.native_id is not None
    before = _context_switches(thread.native_id)
    time.sleep(3.0)
    assert _context_switches(thread.native_id) - before <= 1
