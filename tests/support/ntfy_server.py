"""An ntfy server for the tests, written from ntfy's published API (docs.ntfy.sh:
"Publish" and "Subscribe via API"), on loopback: no ntfy server package exists here.

- ``POST /`` with a JSON object (``topic``, ``message``, ``title``, ``priority``, ``tags``,
  ``actions``) publishes to its topic; ``POST /<topic>`` publishes the body as the message
  (what an ``http`` action button sends). Both answer the message as JSON (``id``, ``time``,
  ``event: "message"``, ``topic`` …).
- ``GET /<topic>/json`` streams one JSON object a line: an ``open`` event, the cached
  messages after ``since=`` (a message id, a Unix time, or ``all``), then each new one as
  it comes; ``poll=1`` ends after the cached ones.
- With ``token`` set, every request needs ``Authorization: Bearer <token>`` (401 if not).

``press(message, label)`` does what the phone does when a button is tapped: the action's
HTTP request, as the message describes it.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class NtfyServer:
    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.messages: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        #: while set, every request is answered 503 (a server that is down)
        self.down = False
        self._cond = threading.Condition()
        self._subscribed: dict[str, int] = {}
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> NtfyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()

    _closing = False

    # --- what the tests look at --------------------------------------------------------------

    def on(self, topic: str) -> list[dict[str, Any]]:
        with self._cond:
            return [m for m in self.messages if m["topic"] == topic]

    def wait_for(self, topic: str, count: int = 1, timeout: float = 10.0
                  ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len([m for m in self.messages if m["topic"] == topic]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{count} message(s) on {topic!r} not within "
                                         f"{timeout}s; have {self.messages}")
                self._cond.wait(left)
            return [m for m in self.messages if m["topic"] == topic]

    def subscribers(self, topic: str) -> int:
        with self._cond:
            return self._subscribed.get(topic, 0)

    def press(self, message: dict[str, Any], label: str) -> None:
        """Tap the button ``label`` of ``message``, as the phone app does."""
        (action,) = [a for a in message["actions"] if a["label"] == label]
        assert action["action"] == "http"
        request = urllib.request.Request(
            action["url"], data=(action.get("body") or "").encode(),
            method=action.get("method", "POST"), headers=action.get("headers") or {})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200

    # --- the server ------------------------------------------------------------------------

    def _publish(self, topic: str, fields: dict[str, Any]) -> dict[str, Any]:
        message = {"id": secrets.token_urlsafe(9), "time": int(time.time()),
                   "event": "message", "topic": topic, **fields}
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()
        return message

    def _after(self, topic: str, since: str | None) -> list[dict[str, Any]]:
        """The cached messages ``since=`` names (none without it)."""
        mine = [m for m in self.messages if m["topic"] == topic]
        if since is None:
            return []
        if since == "all":
            return mine
        if since.isdigit():
            return [m for m in mine if m["time"] >= int(since)]
        ids = [m["id"] for m in mine]
        return mine[ids.index(since) + 1:] if since in ids else mine

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: Any) -> None:
                pass

            def _refuse(self) -> bool:
                headers = dict(self.headers.items())
                with server._cond:
                    server.requests.append((self.command, self.path, headers))
                if server.down:
                    self._json(503, {"code": 50301, "http": 503,
                                     "error": "service unavailable"})
                    return True
                if server.token is not None and \
                        self.headers.get("Authorization") != f"Bearer {server.token}":
                    self._json(401, {"code": 40101, "http": 401, "error": "unauthorized"})
                    return True
                return False

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode() + b"\n"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 (the server's API)
                if self._refuse():
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = unquote(urlsplit(self.path).path).strip("/")
                if path == "":
                    fields = json.loads(body)
                    topic = fields.pop("topic")
                else:
                    topic, fields = path, {"message": body.decode()}
                self._json(200, server._publish(topic, fields))

            def do_GET(self) -> None:  # noqa: N802
                if self._refuse():
                    return
                parts = urlsplit(self.path)
                topic, _, kind = unquote(parts.path).strip("/").rpartition("/")
                if kind != "json":
                    self._json(404, {"code": 40401, "http": 404, "error": "page not found"})
                    return
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson; charset=utf-8")
                self.end_headers()
                self._line({"id": secrets.token_urlsafe(9), "time": int(time.time()),
                            "event": "open", "topic": topic})
                with server._cond:
                    sent = server._after(topic, query.get("since"))
                    known = len(server.messages)
                    if "poll" not in query:
                        server._subscribed[topic] = server._subscribed.get(topic, 0) + 1
                for message in sent:
                    self._line(message)
                if "poll" in query:
                    return
                try:
                    while True:
                        with server._cond:
                            server._cond.wait_for(
                                lambda seen=known: len(server.messages) > seen
                                or server._closing, timeout=30)
                            if server._closing:
                                return
                            new = [m for m in server.messages[known:] if m["topic"] == topic]
                            known = len(server.messages)
                        for message in new:
                            self._line(message)
                        if not new:
                            self._line({"id": secrets.token_urlsafe(9),
                                        "time": int(time.time()), "event": "keepalive",
                                        "topic": topic})
                except OSError:
                    return
                finally:
                    with server._cond:
                        server._subscribed[topic] -= 1

            def _line(self, event: dict[str, Any]) -> None:
                self.wfile.write(json.dumps(event).encode() + b"\n")
                self.wfile.flush()

        return Handler
