"""``kind = "ntfy"``: the reminder as an ntfy notification with up to three buttons, and
the answer heard back (two-way).

Each button is an ntfy ``http`` action that posts the answer (``done foot-soak@…Z``) to a
secret reply topic; the daemon subscribes to that topic's JSON stream (``/<topic>/json``)
and resumes after a sleep or a restart from the last message it read (``since=<id>``). Only
what arrives on the reply topic counts, and only in that form: the topic's name is the
secret (random, 24 characters, kept in the state folder unless ``reply_topic`` names one).

Speaks ntfy's published HTTP API (publish as JSON to the server's root, subscribe to the
JSON stream) over the standard library: two requests need no client library.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from scheduler.reach.base import (
    Answer,
    Channel,
    ChannelDown,
    ChannelError,
    Message,
    allow_tls,
    parse_reminder_key,
    read_secret,
)

allow_tls()  # before http.client looks for ssl, once, at its import (only with this channel)
import http.client  # noqa: E402
import ssl  # noqa: E402

log = logging.getLogger("crampguard")

TIMEOUT_S = 20.0
#: ntfy shows at most three buttons on a notification.
MAX_BUTTONS = 3
PRIORITY = {"low": 2, "normal": 3, "critical": 5}


class NtfyChannel(Channel):
    kind = "ntfy"
    two_way = True

    def __init__(self, name: str, settings: Any, state_dir: Path) -> None:
        super().__init__(name, settings, state_dir)
        parts = urlsplit(settings.server)
        self._tls = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._reply: str | None = settings.reply_topic
        self._stream: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._socket: socket.socket | None = None

    def describe(self) -> str:
        return f"{self.settings.server}/{self.settings.topic}"

    # --- publishing ------------------------------------------------------------------------

    def send(self, message: Message) -> str:
        reply = self.reply_topic()
        body: dict[str, Any] = {
            "topic": self.settings.topic, "title": message.title, "message": message.body,
            "priority": PRIORITY.get(message.urgency, 3), "tags": ["crampguard"]}
        if not message.test:
            body["actions"] = [
                {"action": "http", "label": label, "method": "POST", "clear": True,
                 "url": self._url(reply), "body": f"{key} {message.key}",
                 **({"headers": self._auth()} if self._auth() else {})}
                for key, label in message.answers[:MAX_BUTTONS]]
        answer = self._request("POST", self._prefix + "/", json.dumps(body).encode())
        try:
            return str(json.loads(answer)["id"])
        except (ValueError, KeyError, TypeError):
            return ""

    def withdraw(self, sent: str, note: str) -> None:
        """ntfy keeps what it delivered: a quiet note follows (the phone's notice was
        cleared by the button, if one was pressed)."""
        body = {"topic": self.settings.topic, "message": note, "priority": 1,
                "tags": ["crampguard"]}
        self._request("POST", self._prefix + "/", json.dumps(body).encode())

    # --- the reply topic -------------------------------------------------------------------

    def reply_topic(self) -> str:
        """The secret topic the buttons post to: the configured one, or one made once and
        kept (mode 0600) in the state folder."""
        if self._reply is not None:
            return self._reply
        path = self.state_dir / f"reach-{self.name}.reply-topic"
        try:
            self._reply = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            self._reply = "cg-" + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(self._reply + "\n")
        except OSError as exc:
            raise ChannelError(f"{path}: cannot read the reply topic: {exc.strerror}") \
                from None
        return self._reply

    def answers(self, since: str | None, timeout: float) -> tuple[list[Answer], str | None]:
        """The reply topic's JSON stream from ``since`` (a message id, or the time the
        first subscription began), read until an answer comes or ``timeout`` passes."""
        reply = self.reply_topic()
        cursor = since or str(int(time.time()))
        path = f"{self._prefix}/{quote(reply)}/json?since={quote(cursor)}"
        deadline = time.monotonic() + timeout
        found: list[Answer] = []
        conn = self._connection(timeout=timeout + 5)
        with self._lock:
            if self._closed:
                return [], cursor
            self._stream = conn
        try:
            response = self._open(conn, "GET", path, None)
            if response.status != 200:
                raise self._refused(response)
            stream = self._socket
            while time.monotonic() < deadline:
                if stream is not None:
                    stream.settimeout(max(0.1, deadline - time.monotonic()))
                try:
                    line = response.readline()
                except TimeoutError:
                    break
                if not line:
                    break  # the server ended the stream: read again from the cursor
                event = _event(line)
                if event is None or event.get("event") != "message":
                    continue  # "open", "keepalive"
                cursor = str(event.get("id") or cursor)
                answer = self._answer(event)
                if answer is not None:
                    found.append(answer)
                    deadline = min(deadline, time.monotonic() + 0.2)  # others in the burst
        except (OSError, http.client.HTTPException) as exc:
            if self._closed:
                return found, cursor
            if found:
                return found, cursor
            raise ChannelDown(f"{self.describe()}: {_why(exc)}") from None
        finally:
            with self._lock:
                self._stream = None
            conn.close()
        return found, cursor

    def _answer(self, event: dict[str, Any]) -> Answer | None:
        text = str(event.get("message") or "").strip()
        key, _, ref = text.partition(" ")
        reminder = parse_reminder_key(ref)
        if reminder is None or not key:
            log.info("reach %s: a message on the reply topic that is no answer, ignored",
                     self.name)
            return None
        routine, due = reminder
        stamp = event.get("time")
        at = datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int | float) \
            else datetime.now(UTC)
        return Answer(routine=routine, due=due, key=key, channel=self.name,
                      sender="reply topic", at=at, ref=str(event.get("id") or ""))

    def check(self) -> list[str]:
        """Reachable and, with a token, let in: a poll of the reply topic sends nothing."""
        try:
            reply = self.reply_topic()
            self._request("GET", f"{self._prefix}/{quote(reply)}/json?poll=1&since=1m", None)
        except ChannelError as exc:
            return [str(exc)]
        return []

    def close(self) -> None:
        with self._lock:
            self._closed = True
            stream = self._socket if self._stream is not None else None
        if stream is not None:
            try:
                stream.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # --- HTTP ------------------------------------------------------------------------------

    def _url(self, topic: str) -> str:
        return f"{self.settings.server}/{quote(topic)}"

    def _auth(self) -> dict[str, str]:
        if self.settings.token_file is None:
            return {}
        token = read_secret(self.settings.token_file, f"reach.{self.name}.token_file")
        return {"Authorization": f"Bearer {token}"}

    def _connection(self, timeout: float = TIMEOUT_S) -> http.client.HTTPConnection:
        if self._tls:
            return http.client.HTTPSConnection(self._host, self._port, timeout=timeout,
                                               context=ssl.create_default_context())
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def _open(self, conn: http.client.HTTPConnection, method: str, path: str,
              body: bytes | None) -> http.client.HTTPResponse:
        headers = {"Accept": "application/json", **self._auth()}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        # the response may take the socket over (a stream the server ends by closing)
        self._socket = conn.sock
        return conn.getresponse()

    def _request(self, method: str, path: str, body: bytes | None) -> bytes:
        conn = self._connection()
        try:
            response = self._open(conn, method, path, body)
            data = response.read()
            if response.status != 200:
                raise self._refused(response, data)
            return data
        except (OSError, http.client.HTTPException) as exc:
            raise ChannelDown(f"{self.describe()}: {_why(exc)}") from None
        finally:
            conn.close()

    def _refused(self, response: http.client.HTTPResponse,
                 data: bytes | None = None) -> ChannelError:
        try:
            text = json.loads(data or response.read(2048))["error"]
        except (ValueError, KeyError, TypeError, OSError):
            text = response.reason
        what = f"{self.describe()}: {response.status} {text}"
        if response.status in (401, 403):
            return ChannelError(what + " (check token_file)")
        if response.status == 429 or response.status >= 500:
            return ChannelDown(what)
        return ChannelError(what)


def _event(line: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _why(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the certificate is not trusted ({exc.verify_message})"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "no answer in time"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


CHANNEL = NtfyChannel
