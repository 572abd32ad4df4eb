"""A real Matrix homeserver for the Matrix channel's tests: Synapse from PyPI, in a virtual
environment of its own (its dependencies — Twisted, cryptography, … — stay out of the
project's), on a free loopback port, with SQLite and a registration shared secret.

``.ci/run`` installs it into ``SYNAPSE_VENV`` (default
``~/.cache/crampguard-tests/synapse-venv``); where it is absent the tests skip, saying how to
install it. ``Synapse(folder).start()`` writes a small configuration (no federation,
presence, URL previews or metrics; rate limits lifted), starts the server and waits until
``/_matrix/client/versions`` answers; ``stop()`` then ``start()`` again runs it on the same
data and port (the homeserver down, then back). ``register(name)`` makes an account through
the shared-secret admin API and returns a ``Account`` that speaks the client-server API:
what the person's phone, or a stranger, does in the room.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SERVER_NAME = "crampguard.test"
VENV = Path(os.environ.get("SYNAPSE_VENV", "~/.cache/crampguard-tests/synapse-venv")).expanduser()
PYTHON = VENV / "bin" / "python"
#: how long a start may take (a cold start imports Twisted and Synapse: ~3 s here)
START_TIMEOUT_S = 60.0


def missing() -> str | None:
    """Why Synapse cannot run here, or None."""
    if not PYTHON.exists() or not any(VENV.glob("lib/python*/site-packages/synapse")):
        return (f"needs Synapse in {VENV} (`python3 -m venv {VENV} && "
                f"{VENV}/bin/pip install matrix-synapse`, as .ci/run does)")
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_CONFIG = """\
server_name: "{server_name}"
pid_file: "{folder}/homeserver.pid"
public_baseurl: "{base}/"
{tls_files}listeners:
  - port: {port}
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: {tls}
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "{folder}/homeserver.db"
log_config: "{folder}/log.yaml"
media_store_path: "{folder}/media"
signing_key_path: "{folder}/signing.key"
registration_shared_secret: "{secret}"
macaroon_secret_key: "{macaroon}"
form_secret: "{form}"
report_stats: false
enable_metrics: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
presence:
  enabled: false
url_preview_enabled: false
enable_room_list_search: false
user_directory:
  enabled: false
caches:
  global_factor: 0.1
rc_message: {{per_second: 1000, burst_count: 1000}}
rc_login:
  address: {{per_second: 1000, burst_count: 1000}}
  account: {{per_second: 1000, burst_count: 1000}}
  failed_attempts: {{per_second: 1000, burst_count: 1000}}
rc_registration: {{per_second: 1000, burst_count: 1000}}
rc_joins:
  local: {{per_second: 1000, burst_count: 1000}}
  remote: {{per_second: 1000, burst_count: 1000}}
rc_invites:
  per_room: {{per_second: 1000, burst_count: 1000}}
  per_user: {{per_second: 1000, burst_count: 1000}}
"""

_LOG = """\
version: 1
formatters:
  plain: {{format: "%(asctime)s %(name)s %(levelname)s %(message)s"}}
handlers:
  file:
    class: logging.FileHandler
    formatter: plain
    filename: "{folder}/homeserver.log"
  access:
    class: logging.FileHandler
    formatter: plain
    filename: "{folder}/access.log"
loggers:
  synapse.access:
    level: INFO
    handlers: [access]
    propagate: false
root: {{level: WARNING, handlers: [file]}}
disable_existing_loggers: false
"""


class MatrixError(Exception):
    def __init__(self, status: int, body: dict[str, Any]):
        self.status, self.body = status, body
        super().__init__(f"{status}: {body}")


def urlopen(request: urllib.request.Request | str, timeout: float) -> Any:
    """As urllib's, trusting the test server's own certificate where it has one."""
    url = request.full_url if isinstance(request, urllib.request.Request) else request
    context = None
    if url.startswith("https:"):
        import ssl

        context = ssl.create_default_context(cafile=_TRUSTED.get(url.split("/")[2]))
    return urllib.request.urlopen(request, timeout=timeout, context=context)


#: host:port → the certificate the tests trust there
_TRUSTED: dict[str, str] = {}


def call(base: str, method: str, path: str, body: Any = None, token: str | None = None,
         timeout: float = 30.0) -> Any:
    """One client-server API request; the JSON answer, or MatrixError."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = {"raw": raw.decode(errors="replace")}
        raise MatrixError(exc.code, parsed) from None


def quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


@dataclass
class Account:
    """An account on the server and what its owner does in a room, from any Matrix app."""

    base: str
    user_id: str
    token: str
    password: str = ""

    def login(self) -> Account:
        """Another login of the same account (another device: a second computer)."""
        reply = call(self.base, "POST", "/_matrix/client/v3/login", {
            "type": "m.login.password", "password": self.password,
            "identifier": {"type": "m.id.user", "user": self.user_id}})
        return Account(self.base, self.user_id, reply["access_token"], self.password)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return call(self.base, method, path, body, self.token)

    def create_room(self, *invite: Account, alias: str | None = None) -> str:
        body: dict[str, Any] = {"preset": "private_chat", "invite": [a.user_id for a in invite]}
        if alias:
            body["room_alias_name"] = alias
        return str(self.call("POST", "/_matrix/client/v3/createRoom", body)["room_id"])

    def join(self, room: str) -> None:
        self.call("POST", f"/_matrix/client/v3/join/{quote(room)}", {})

    def invite(self, room: str, other: Account) -> None:
        self.call("POST", f"/_matrix/client/v3/rooms/{quote(room)}/invite",
                  {"user_id": other.user_id})

    def send(self, room: str, content: dict[str, Any], kind: str = "m.room.message") -> str:
        txn = secrets.token_hex(8)
        reply = self.call("PUT", f"/_matrix/client/v3/rooms/{quote(room)}/send/{kind}/{txn}",
                          content)
        return str(reply["event_id"])

    def say(self, room: str, text: str) -> str:
        return self.send(room, {"msgtype": "m.text", "body": text})

    def reply(self, room: str, event_id: str, text: str, *, fallback: str = "") -> str:
        """A reply as Element sends it (with the older clients' quoted fallback when
        ``fallback`` names the text replied to)."""
        body = f"> <@crampguard:{SERVER_NAME}> {fallback}\n\n{text}" if fallback else text
        return self.send(room, {"msgtype": "m.text", "body": body,
                                "m.relates_to": {"m.in_reply_to": {"event_id": event_id}}})

    def react(self, room: str, event_id: str, emoji: str) -> str:
        return self.send(room, {"m.relates_to": {"rel_type": "m.annotation",
                                                 "event_id": event_id, "key": emoji}},
                         kind="m.reaction")

    def messages(self, room: str, limit: int = 100) -> list[dict[str, Any]]:
        """The room's timeline, oldest first (redacted events have empty content)."""
        reply = self.call("GET", f"/_matrix/client/v3/rooms/{quote(room)}/messages"
                                 f"?dir=b&limit={limit}")
        return list(reversed(reply["chunk"]))

    def reminders(self, room: str) -> list[dict[str, Any]]:
        """The messages carrying a reminder key that are still up (not redacted)."""
        return [e for e in self.messages(room) if e["type"] == "m.room.message"
                and "org.crampguard.reminder" in e.get("content", {})]


class Synapse:
    """``tls=True``: HTTPS only, at https://localhost:PORT, with a certificate of its own
    (``self.certificate``) that no system trusts."""

    def __init__(self, folder: Path, port: int | None = None, *, tls: bool = False):
        self.folder = folder
        self.port = port or free_port()
        self.tls = tls
        self.certificate = folder / "cert.pem"
        self.secret = secrets.token_hex(16)
        self.proc: subprocess.Popen[bytes] | None = None
        #: seconds each start took, exec to the first answer of /versions
        self.start_times: list[float] = []
        folder.mkdir(parents=True, exist_ok=True)
        tls_files = ""
        if tls:
            key = folder / "key.pem"
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", str(key), "-out", str(self.certificate), "-days", "2",
                            "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                           check=True, capture_output=True, timeout=60)
            _TRUSTED[f"localhost:{self.port}"] = str(self.certificate)
            tls_files = (f'tls_certificate_path: "{self.certificate}"\n'
                         f'tls_private_key_path: "{key}"\n')
        (folder / "homeserver.yaml").write_text(_CONFIG.format(
            base=self.base, tls="true" if tls else "false", tls_files=tls_files,
            server_name=SERVER_NAME, folder=folder, port=self.port, secret=self.secret,
            macaroon=secrets.token_hex(16), form=secrets.token_hex(16)))
        (folder / "log.yaml").write_text(_LOG.format(folder=folder))

    @property
    def base(self) -> str:
        if self.tls:
            return f"https://localhost:{self.port}"
        return f"http://127.0.0.1:{self.port}"

    def _ready(self) -> bool:
        try:
            with urlopen(f"{self.base}/_matrix/client/versions", timeout=1) as response:
                return bool(response.status == 200)
        except (OSError, ValueError):
            return False

    def start(self) -> Synapse:
        reason = missing()
        if reason:
            pytest.skip(reason)
        config = str(self.folder / "homeserver.yaml")
        if not (self.folder / "signing.key").exists():
            subprocess.run([str(PYTHON), "-m", "synapse.app.homeserver", "-c", config,
                            "--generate-keys"], check=True, capture_output=True,
                           timeout=START_TIMEOUT_S)
        began = time.monotonic()
        self.proc = subprocess.Popen(
            [str(PYTHON), "-m", "synapse.app.homeserver", "-c", config],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.folder,
            start_new_session=True)
        deadline = began + START_TIMEOUT_S
        while not self._ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log = self.folder / "homeserver.log"
                raise AssertionError("Synapse did not start:\n"
                                     + (log.read_text()[-3000:] if log.exists() else ""))
            time.sleep(0.05)
        self.start_times.append(time.monotonic() - began)
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None

    def __enter__(self) -> Synapse:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests(self, path: str) -> int:
        """How many requests for ``path`` (e.g. "/sync") the server has answered."""
        log = self.folder / "access.log"
        return log.read_text().count(path) if log.exists() else 0

    def register(self, name: str, password: str | None = None) -> Account:
        """A new account through the shared-secret admin API (as `register_new_matrix_user`
        does), signed in; its token for the client-server API."""
        password = password or secrets.token_hex(12)
        path = "/_synapse/admin/v1/register"
        nonce = call(self.base, "GET", path)["nonce"]
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), name.encode(), password.encode(),
                                 b"notadmin"]))
        reply = call(self.base, "POST", path, {"nonce": nonce, "username": name,
                                               "password": password, "admin": False,
                                               "mac": mac.hexdigest()})
        return Account(self.base, reply["user_id"], reply["access_token"], password)


@dataclass
class Room:
    """A room with the person, crampguard's bot and a stranger in it."""

    server: Synapse
    room_id: str
    person: Account
    bot: Account
    stranger: Account


def make_room(server: Synapse, tag: str) -> Room:
    """Three fresh accounts (named with ``tag``) and a private room the person made, the bot
    and the stranger invited and joined."""
    person = server.register(f"person-{tag}")
    bot = server.register(f"crampguard-{tag}")
    stranger = server.register(f"stranger-{tag}")
    room_id = person.create_room(bot, stranger)
    bot.join(room_id)
    stranger.join(room_id)
    return Room(server, room_id, person, bot, stranger)
