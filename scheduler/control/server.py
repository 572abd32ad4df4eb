"""The daemon's end of the control channel (the wire format is in ``wire``).

The server is one background thread around a ``selectors`` loop on non-blocking sockets.
It sleeps with no timeout while nobody is connected (the daemon's idle budget is a few
wakeups a minute, and this thread must not spend any of it); with clients connected it
sleeps until the nearest client deadline. ``stop`` wakes it through a self-pipe.

Anything a client sends, or fails to send, costs that client its connection and nothing
more: the request is capped at ``max_request`` bytes, every connection has a deadline,
and the number of connections is capped.
"""

from __future__ import annotations

import json
import logging
import os
import selectors
import socket
import stat
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scheduler.control import wire
from scheduler.errors import CrampguardError

Handler = Callable[[dict[str, Any]], dict[str, Any]]

_PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
# Python ignores SIGPIPE, but a host program may not; where the flag exists, a client that
# hung up costs an EPIPE, never the daemon.
_NOSIGNAL = getattr(socket, "MSG_NOSIGNAL", 0)


class _Client:
    """One connection: it reads until the first newline, then writes one reply.

    A client whose line is too long is answered at once and then *drained*: whatever it
    still sends is read and thrown away until it hangs up or its deadline passes. A client
    that simply writes its whole (over-long) request and then reads the reply gets the
    reply instead of a broken pipe, and the server still holds no more than one chunk.
    """

    def __init__(self, sock: socket.socket, deadline: float, peer: str):
        self.sock = sock
        self.deadline = deadline
        self.peer = peer  # "pid N uid N", for the log
        self.inbox = bytearray()
        self.outbox = b""
        self.draining = False


class ControlServer:
    """Serves ``handle`` on a Unix socket from one background thread.

    ``handle`` runs on that thread, one request at a time; whatever it raises becomes
    ``{"ok": false, "error": "internal error"}`` and a logged traceback.
    """

    def __init__(self, path: Path, handle: Handler, log: logging.Logger, *,
                 max_request: int = 64 * 1024, client_timeout: float = 2.0,
                 max_clients: int = 16):
        self.path = Path(path)
        self._handle = handle
        self._log = log
        self.max_request = max_request
        self.client_timeout = client_timeout
        self.max_clients = max_clients
        #: The most bytes ever buffered for one request: a gauge the tests read.
        self.peak_buffered = 0
        self._listener: socket.socket | None = None
        self._selector: selectors.BaseSelector | None = None
        self._wake_r = self._wake_w = -1
        self._thread: threading.Thread | None = None
        self._clients: dict[int, _Client] = {}
        self._accept_paused_until: float | None = None
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of our socket

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        wire.check_path_length(self.path)
        self._private_dir(self.path.parent)
        self._remove_stale_socket()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        bound = False
        try:
            # The folder is 0700, so the moment between bind and chmod exposes nothing.
            listener.bind(os.fspath(self.path))
            bound = True
            os.chmod(self.path, 0o600)
            st = os.stat(self.path)
            listener.listen(self.max_clients)
            listener.setblocking(False)
        except OSError as exc:
            listener.close()
            if bound:
                self.path.unlink(missing_ok=True)
            raise CrampguardError(f"{self.path}: cannot open the control socket: "
                                  f"{exc.strerror or exc}") from None
        self._identity = (st.st_dev, st.st_ino)
        self._listener = listener
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._selector.register(listener, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._serve, name="crampguard-control",
                                        daemon=True)
        self._thread.start()
        self._log.info("control socket listening on %s", self.path)

    def stop(self, timeout: float = 5.0) -> None:
        """Wake the thread, wait up to ``timeout`` seconds for it, remove the socket.

        The thread closes its own sockets on the way out. It can only be late when
        ``handle`` is stuck, e.g. waiting for the very loop that is calling ``stop``;
        the socket file goes anyway, so new clients see ``NotRunning``.
        """
        thread, self._thread = self._thread, None
        if thread is None:
            return
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass  # the thread already ended (and logged why)
        finally:
            os.close(self._wake_w)
            self._wake_w = -1
        thread.join(timeout)
        if thread.is_alive():
            self._log.warning("the control thread did not stop within %gs (a request is "
                              "still being handled)", timeout)
        self._unlink_own_socket()

    def _private_dir(self, folder: Path) -> None:
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            st = os.stat(folder)
        except OSError as exc:
            raise CrampguardError(f"{folder}: cannot create the runtime folder: "
                                  f"{exc.strerror or exc}") from None
        if not stat.S_ISDIR(st.st_mode):
            raise CrampguardError(f"{folder}: the runtime folder is not a folder")
        if st.st_uid != os.getuid():
            # Someone else's folder (e.g. a pre-created /tmp/crampguard-UID): they could
            # swap the socket under us, so refuse rather than chmod.
            raise CrampguardError(f"{folder}: the runtime folder belongs to uid {st.st_uid}, "
                                  f"not to you; remove it or set CRAMPGUARD_RUNTIME_DIR")
        if stat.S_IMODE(st.st_mode) != 0o700:
            try:
                os.chmod(folder, 0o700)
            except OSError as exc:
                raise CrampguardError(f"{folder}: cannot make the runtime folder private: "
                                      f"{exc.strerror or exc}") from None
            self._log.info("%s: mode set to 0700 (it was %04o)", folder,
                           stat.S_IMODE(st.st_mode))

    def _remove_stale_socket(self) -> None:
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(st.st_mode):
            raise CrampguardError(f"{self.path}: exists and is not a socket; remove it")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            try:
                probe.connect(os.fspath(self.path))
            except ConnectionRefusedError:
                pass  # left by a daemon that died: nobody listens
            except FileNotFoundError:
                return
            except OSError as exc:
                # A timeout means a listener with a full backlog: alive, so keep it.
                raise CrampguardError(f"{self.path}: cannot tell whether another daemon "
                                      f"uses this socket: {exc.strerror or exc}") from None
            else:
                raise CrampguardError(f"crampguard is already running ({self.path} answers)")
        self._log.info("removing the stale control socket %s", self.path)
        self.path.unlink(missing_ok=True)

    def _unlink_own_socket(self) -> None:
        # Only our own socket: a successor may already have replaced the file.
        try:
            st = os.lstat(self.path)
            if (st.st_dev, st.st_ino) == self._identity:
                self.path.unlink()
        except FileNotFoundError:
            pass

    # --- the thread ----------------------------------------------------------------------

    def _serve(self) -> None:
        assert self._selector is not None and self._listener is not None
        try:
            while True:
                events = self._selector.select(self._timeout())
                for key, mask in events:
                    if key.fileobj == self._wake_r:
                        return
                    if key.fileobj is self._listener:
                        self._accept()
                    else:
                        self._service(key.data, mask)
                self._expire()
        except Exception:  # a bug here must not take the daemon down with it
            self._log.exception("the control socket failed; control commands are off")
        finally:
            for client in list(self._clients.values()):
                self._drop(client)
            self._selector.close()
            self._listener.close()
            os.close(self._wake_r)

    def _timeout(self) -> float | None:
        """None (sleep until something happens) unless a deadline is pending."""
        deadlines = [c.deadline for c in self._clients.values()]
        if self._accept_paused_until is not None:
            deadlines.append(self._accept_paused_until)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - time.monotonic())

    def _accept(self) -> None:
        assert self._listener is not None and self._selector is not None
        while True:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                # Out of file descriptors: the listener would stay readable and spin the
                # loop, so stop listening for a second.
                self._log.warning("control socket: accept failed (%s); pausing 1s", exc)
                self._selector.unregister(self._listener)
                self._accept_paused_until = time.monotonic() + 1.0
                return
            sock.setblocking(False)
            self._admit(sock)

    def _admit(self, sock: socket.socket) -> None:
        try:
            pid, uid = _peer(sock)
        except OSError as exc:  # fail closed: an unknown peer on Linux is not let in
            self._log.warning("control socket: refused a peer whose credentials could not "
                              "be read (%s)", exc)
            _reject(sock, "permission denied")
            return
        peer = f"pid {pid} uid {uid}" if uid is not None else "a peer (no SO_PEERCRED here)"
        if uid is not None and uid != os.getuid():
            self._log.warning("control socket: refused %s (not uid %d)", peer, os.getuid())
            _reject(sock, "permission denied")
            return
        if len(self._clients) >= self.max_clients:
            self._log.warning("control socket: refused %s (%d clients already)", peer,
                              len(self._clients))
            _reject(sock, "busy")
            return
        self._log.debug("control socket: connection from %s", peer)
        client = _Client(sock, time.monotonic() + self.client_timeout, peer)
        self._clients[sock.fileno()] = client
        assert self._selector is not None
        self._selector.register(sock, selectors.EVENT_READ, client)

    def _service(self, client: _Client, mask: int) -> None:
        try:
            if client.outbox:
                self._write(client)
            elif client.draining:
                self._drain(client)
            else:
                self._read(client)
        except OSError as exc:  # reset, broken pipe: the client is gone
            self._log.debug("control socket: %s went away (%s)", client.peer, exc)
            self._drop(client)

    def _read(self, client: _Client) -> None:
        room = self.max_request + 1 - len(client.inbox)
        try:
            chunk = client.sock.recv(min(wire.CHUNK, room))
        except (BlockingIOError, InterruptedError):
            return
        if not chunk:  # hung up mid-request: nobody to answer
            self._log.debug("control socket: %s hung up mid-request", client.peer)
            self._drop(client)
            return
        start = len(client.inbox)
        client.inbox += chunk
        self.peak_buffered = max(self.peak_buffered, len(client.inbox))
        end = client.inbox.find(b"\n", start)
        if end >= 0 and end <= self.max_request:
            self._respond(client, self._answer(bytes(client.inbox[:end])))
        elif len(client.inbox) > self.max_request:
            self._log.warning("control socket: %s sent more than %d bytes without a newline",
                              client.peer, self.max_request)
            self._respond(client, wire.error("request too large"), drain=True)

    def _respond(self, client: _Client, reply: bytes, *, drain: bool = False) -> None:
        """Start writing the reply; it gets a fresh deadline (``handle`` may have been slow)."""
        client.inbox = bytearray()
        client.outbox = reply
        client.draining = drain
        client.deadline = time.monotonic() + self.client_timeout
        assert self._selector is not None
        self._selector.modify(client.sock, selectors.EVENT_WRITE, client)
        self._write(client)

    def _write(self, client: _Client) -> None:
        try:
            sent = client.sock.send(client.outbox, _NOSIGNAL)
        except (BlockingIOError, InterruptedError):
            return
        client.outbox = client.outbox[sent:]
        if client.outbox:
            return
        if not client.draining:
            self._drop(client)
            return
        # The reply is out; tell the client there is no more and swallow the rest.
        client.sock.shutdown(socket.SHUT_WR)
        assert self._selector is not None
        self._selector.modify(client.sock, selectors.EVENT_READ, client)

    def _drain(self, client: _Client) -> None:
        try:
            chunk = client.sock.recv(wire.CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        if not chunk:
            self._drop(client)

    def _answer(self, line: bytes) -> bytes:
        try:
            message = json.loads(line)
        except json.JSONDecodeError as exc:
            return wire.error(f"bad request: not JSON ({exc.msg} at column {exc.colno})")
        except UnicodeDecodeError:
            return wire.error("bad request: not JSON (not UTF-8 text)")
        except (ValueError, RecursionError):
            return wire.error("bad request: not JSON (nested too deeply)")
        if not isinstance(message, dict):
            return wire.error("bad request: expected a JSON object")
        if not isinstance(message.get("cmd"), str):
            return wire.error('bad request: "cmd" must be a string')
        try:
            reply = self._handle(message)
            if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
                raise TypeError(f"the handler returned {reply!r}, not a dict with a bool 'ok'")
            return wire.line(reply)
        except Exception:
            self._log.exception("control command %r failed", message.get("cmd"))
            return wire.error("internal error")

    def _expire(self) -> None:
        now = time.monotonic()
        for client in [c for c in self._clients.values() if c.deadline <= now]:
            self._log.debug("control socket: %s timed out", client.peer)
            self._drop(client)
        if self._accept_paused_until is not None and self._accept_paused_until <= now:
            self._accept_paused_until = None
            assert self._selector is not None and self._listener is not None
            self._selector.register(self._listener, selectors.EVENT_READ)

    def _drop(self, client: _Client) -> None:
        fd = client.sock.fileno()
        if self._clients.pop(fd, None) is not None:
            assert self._selector is not None
            self._selector.unregister(client.sock)
        client.sock.close()


def _peer(sock: socket.socket) -> tuple[int | None, int | None]:
    """(pid, uid) of the other end, where the platform says (Linux ``SO_PEERCRED``).

    Elsewhere the 0700 folder and the 0600 socket are the only gate.
    """
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None, None
    pid, uid, _gid = _PEERCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, option,
                                                      _PEERCRED.size))
    return pid, uid


def _reject(sock: socket.socket, message: str) -> None:
    """One best-effort line to a client that is not let in, then close.

    A fresh socket's send buffer always holds a short line, so this never blocks; if it
    cannot be sent, the client just sees the connection close.
    """
    try:
        sock.send(wire.error(message), _NOSIGNAL)
    except OSError:
        pass
    finally:
        sock.close()
