"""A TCP proxy on loopback between a client and a server the test runs, to make the way
between them fail as networks do: every connection cut after some seconds (a proxy that
ends long waits), or all of them gone dead at once, open but carrying nothing (a suspend);
new connections then work."""

from __future__ import annotations

import socket
import threading


class Proxy:
    def __init__(self, target_port: int, *, cut_after: float | None = None):
        self.target, self.cut_after = target_port, cut_after
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.server.getsockname()[1]
        self.live: list[tuple[socket.socket, socket.socket]] = []
        self._dead: set[int] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.live.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b, id(client)),
                                 daemon=True).start()
            if self.cut_after is not None:
                threading.Timer(self.cut_after, _cut, (client, upstream)).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, key: int) -> None:
        try:
            while data := source.recv(65536):
                if key not in self._dead:
                    sink.sendall(data)
        except OSError:
            pass

    def freeze(self) -> None:
        """Every connection open now carries nothing more (and is never closed)."""
        self._dead |= {id(client) for client, _ in self.live}

    def close(self) -> None:
        self.server.close()
        for pair in self.live:
            _cut(*pair)


def _cut(*sockets: socket.socket) -> None:
    for s in sockets:
        try:
            s.shutdown(socket.SHUT_RDWR)
            s.close()
        except OSError:
            pass
