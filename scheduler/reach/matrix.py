"""The Matrix channel (two-way): a reminder is a message in a room, posted by crampguard's
own account; the person answers from any Matrix app by replying or reacting to it.

The client-server API is a handful of JSON requests, spoken here over ``http.client``
(the standard library, verified TLS) rather than a client library: matrix-nio and mautrix
are asyncio frameworks with end-to-end encryption stores, aiohttp and their own sync loop,
several MiB resident for the few calls this needs, and the daemon stays in its budget.

Answers (only from ``user``; everything else is ignored and logged by sender):

- a reply whose first word is ``done``, ``snooze`` (optionally with a duration, ``snooze
  20m``), ``skip``; on the check-in ``none`` / ``one`` / ``several`` (or ``0``, ``1``,
  ``2``…);
- a reaction: ✅ or 👍 done, 💤 snooze, ⏭ skip; on the check-in 0️⃣ none, 1️⃣ one, 🔢 or any of
  2️⃣…9️⃣ several;
- a message that is not a reply and says no more than the answer ("done", "snooze 20m")
  answers the latest reminder in the room.

Each reminder's message carries its key in ``org.crampguard.reminder`` (and its answers in
``org.crampguard.answers``), so that any daemon of the person's, on any machine, knows which
reminder an answer is for, and does not post a reminder that is already there.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import socket
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

from scheduler import footprint
from scheduler.i18n import _
from scheduler.reach.base import (
    Answer,
    Channel,
    ChannelDown,
    ChannelError,
    Message,
    loopback,
    parse_reminder_key,
    read_secret,
)

log = logging.getLogger("crampguard")

#: the custom fields of a reminder's message: its key and its answer keys
KEY_FIELD = "org.crampguard.reminder"
ANSWERS_FIELD = "org.crampguard.answers"
#: how long one request other than the long poll may take
TIMEOUT_S = 20.0
#: how long one /sync waits while nothing happens: one wakeup every 3 minutes on an idle
#: room. A proxy in front of the homeserver that ends a wait sooner (nginx: after 60 s) is
#: met by waiting as long as the daemon asks from then on.
LONG_POLL_S = 180.0
#: how far back in the room a reminder already posted (or the latest one) is looked for
LOOK_BACK = 50
API = "/_matrix/client/v3"

#: a reply's first word → the answer it names (a prefix of the message's answer keys)
WORDS = {"done": "done", "snooze": "snooze", "skip": "skip",
         "none": "cramps:none", "no": "cramps:none", "0": "cramps:none",
         "one": "cramps:one", "1": "cramps:one", "several": "cramps:several"}
#: a reaction (without emoji variation selectors) → the answer it names
REACTIONS = {"✅": "done", "✔": "done", "👍": "done", "💤": "snooze", "⏭": "skip",
             "0\u20e3": "cramps:none", "1\u20e3": "cramps:one", "🔢": "cramps:several",
             **{f"{n}\u20e3": "cramps:several" for n in range(2, 10)}, "🔟": "cramps:several"}
#: how each answer is offered in the message, in order
OFFERED = {"done": "✅", "snooze": "💤", "skip": "⏭️",
           "cramps:none": "0️⃣", "cramps:one": "1️⃣", "cramps:several": "🔢"}
#: the check-in's "one" has two spellings among the keys ("cramps:one", "cramps:1")
_ALIKE = {"cramps:one": ("cramps:one", "cramps:1")}


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _tls_context() -> Any:
    """One TLS context for the process (verified, host names checked), made at the first
    https request: the daemon's start-up block on ``ssl`` is lifted only then (``run``
    keeps OpenSSL out of its memory while nothing needs it). Where the system keeps its
    authorities as a hashed folder (Debian's /etc/ssl/certs), OpenSSL reads the one it
    needs when it needs it, instead of holding the whole bundle (~1 MiB) all session."""
    global _CONTEXT
    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            footprint.allow("ssl")
            import ssl

            paths = ssl.get_default_verify_paths()
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, checks names
            hashed = paths.capath and any(re.fullmatch(r"[0-9a-f]{8}\.\d+", name)
                                          for name in _listdir(paths.capath))
            if hashed and paths.openssl_cafile_env not in os.environ:
                context.load_verify_locations(capath=paths.capath)
            else:
                context.load_default_certs()
            _CONTEXT = context
        return _CONTEXT


def _listdir(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


_CONTEXT: Any = None
_CONTEXT_LOCK = threading.Lock()


# --- what an event in the room means (pure) -----------------------------------------------


@dataclass(frozen=True)
class Posted:
    """A reminder's message in the room."""

    event_id: str
    key: str
    answers: tuple[str, ...]
    ts: int


def posted(event: dict[str, Any], me: str) -> Posted | None:
    """The reminder ``event`` carries, if it is one of ours that is still up."""
    content = event.get("content") or {}
    key = content.get(KEY_FIELD)
    if (event.get("type") != "m.room.message" or event.get("sender") != me
            or not isinstance(key, str) or parse_reminder_key(key) is None):
        return None
    answers = content.get(ANSWERS_FIELD)
    keys = tuple(a for a in answers if isinstance(a, str)) if isinstance(answers, list) else ()
    return Posted(str(event.get("event_id", "")), key, keys, int(event.get("origin_server_ts", 0)))


def _strip_fallback(body: str) -> str:
    """A reply's own text, without the quoted lines older clients put before it."""
    lines = body.splitlines()
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).strip()


def spoken(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """(what the event answers — a prefix of an answer key —, the event it answers or None
    for a message that is no reply); (None, None) for an event that is no answer."""
    content = event.get("content") or {}
    relates = content.get("m.relates_to") or {}
    if event.get("type") == "m.reaction":
        if relates.get("rel_type") != "m.annotation" or not isinstance(relates.get("key"), str):
            return None, None
        emoji = relates["key"].replace("\ufe0f", "").strip()
        return REACTIONS.get(emoji), relates.get("event_id")
    if event.get("type") != "m.room.message" or not isinstance(content.get("body"), str):
        return None, None
    if relates.get("rel_type") == "m.replace":
        return None, None  # an edit: its first version counted
    words = re.findall(r"[\w:]+", _strip_fallback(content["body"]).lower())
    if not words:
        return None, None
    answer = WORDS.get(words[0])
    if answer is None and words[0].isdigit():
        answer = "cramps:several"
    if answer == "snooze" and len(words) > 1 and re.fullmatch(r"\d+[a-z]+", words[1]):
        answer = f"snooze:{words[1]}"
    target = (relates.get("m.in_reply_to") or {}).get("event_id")
    if not isinstance(target, str):
        # Not a reply: only a message that is the answer alone ("done", "snooze 20m")
        # answers the latest reminder; a sentence that starts with "one" does not.
        return (answer if len(words) <= 2 else None), None
    return answer, target


def answer_key(said: str, offered: tuple[str, ...]) -> str | None:
    """The message's answer key ``said`` names: "snooze" is its snooze (with the duration
    it offers), "snooze:20m" a snooze of 20 minutes where it offers one; done and skip
    always (as `crampguard done` and `skip` take any reminder); None where the reminder
    offers no such answer."""
    if said in ("done", "skip"):
        return said
    if said.startswith("snooze:"):
        return said if any(k.startswith("snooze:") for k in offered) else None
    for key in offered:
        if key in _ALIKE.get(said, (said,)) or (said == "snooze" and key.startswith("snooze:")):
            return key
    return None


def message_content(message: Message, user: str) -> dict[str, Any]:
    """The reminder as a room message: title, body, the answers to give, the person
    mentioned (so the phone notifies), and the machine-readable key."""
    offered = [key for key, _label in message.answers]
    words = [f"{OFFERED[_family(k)]} {_word(k)}" for k in offered if _family(k) in OFFERED]
    lines = [message.title, message.body]
    if words and not message.test:
        lines += ["", _("Reply or react: {answers}").format(answers=" · ".join(words))]
    text = "\n".join(lines).strip()
    rest = "<br>".join(_escape(line) for line in lines[1:]).strip()
    content: dict[str, Any] = {
        "msgtype": "m.text", "body": f"{user}: {text}",
        "format": "org.matrix.custom.html",
        "formatted_body": f'<a href="https://matrix.to/#/{_escape(user)}">{_escape(user)}</a>: '
                          f"<b>{_escape(message.title)}</b><br>{rest}",
        "m.mentions": {"user_ids": [user]},
    }
    if not message.test:
        content[KEY_FIELD] = message.key
        content[ANSWERS_FIELD] = offered
    return content


def _family(key: str) -> str:
    if key.startswith("snooze:"):
        return "snooze"
    return "cramps:one" if key == "cramps:1" else key


def _word(key: str) -> str:
    return _family(key).removeprefix("cramps:")


def _escape(text: str) -> str:
    """Text as HTML, inside an element or a quoted attribute."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def sync_filter(room_id: str) -> str:
    """Only the room's timeline, only the events that can be reminders or answers."""
    none: dict[str, Any] = {"types": []}
    return json.dumps({
        "presence": none, "account_data": none,
        "room": {"rooms": [room_id], "state": {"types": [], "lazy_load_members": True},
                 "ephemeral": none, "account_data": none,
                 "timeline": {"limit": 50, "types": ["m.room.message", "m.reaction"]}},
    }, separators=(",", ":"))


class _TLSConnection(http.client.HTTPConnection):
    """HTTPS with the system's certificates, host name checked. (http.client's own
    HTTPSConnection exists only where ssl could be imported when http.client was first
    imported, which the daemon's start-up block may have prevented.)"""

    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        context = _tls_context()
        super().connect()
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


# --- the channel ----------------------------------------------------------------------------


class MatrixChannel(Channel):
    kind = "matrix"
    two_way = True

    def __init__(self, name: str, settings: Any, state_dir: Any) -> None:
        super().__init__(name, settings, state_dir)
        parts = urllib.parse.urlsplit(settings.homeserver)
        if parts.scheme == "http" and not loopback(parts.hostname):
            raise ChannelError(f"reach.{name}.homeserver: plain http is only for a server on "
                               f"this machine; use https")
        self._parts = parts
        self._token: str | None = None
        self._me: str | None = None
        self._room_id: str | None = settings.room if settings.room.startswith("!") else None
        #: the reminders seen in the room, by event id
        self._posted: dict[str, Posted] = {}
        self._lock = threading.Lock()
        self._polling: http.client.HTTPConnection | None = None
        self._closed = False
        #: the poll under way was ended on purpose (the computer woke), not by the server
        self._woken = False
        #: how long a poll waits; None: LONG_POLL_S until a proxy is seen to end it sooner
        self._poll_s: float | None = None

    def describe(self) -> str:
        return f"{self._parts.hostname} {self.settings.room}"

    # --- HTTP ---------------------------------------------------------------------------

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        host, port = self._parts.hostname or "", self._parts.port
        if self._parts.scheme == "https":
            return _TLSConnection(host, port, timeout=timeout)
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def _token_text(self) -> str:
        if self._token is None:
            self._token = read_secret(self.settings.token_file,
                                      f"reach.{self.name}.token_file")
        return self._token

    def _call(self, method: str, path: str, body: Any = None, *, timeout: float = TIMEOUT_S,
              auth: bool = True, polling: bool = False) -> dict[str, Any]:
        """One request; its JSON answer. ChannelDown where trying later may help (no
        connection, a timeout, 429, 5xx), ChannelError where it will not."""
        what = f"{method} {path.split('?')[0]}"
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self._token_text()}"
        data = None if body is None else json.dumps(body).encode()
        conn = self._connection(timeout)
        if polling:
            with self._lock:
                if self._closed:
                    raise ChannelDown(f"{self.name}: closed")
                self._polling = conn
        try:
            conn.request(method, self._parts.path + path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
            raise ChannelDown(f"{self._parts.hostname}: {what}: {reason}") from None
        finally:
            if polling:
                with self._lock:
                    self._polling = None
            conn.close()
        try:
            reply = json.loads(raw) if raw else {}
        except ValueError:
            reply = {}
        if 200 <= status < 300 and isinstance(reply, dict):
            return reply
        error = reply.get("errcode", "") if isinstance(reply, dict) else ""
        text = f"{self._parts.hostname}: {what}: {status} {error}".rstrip()
        if status == 429 or status >= 500 or not isinstance(reply, dict):
            raise ChannelDown(text)
        if error == "M_UNKNOWN_TOKEN" or status == 401:
            raise ChannelError(f"{text}: the access token in reach.{self.name}.token_file "
                               f"was refused (signed out?); put a valid one there")
        raise ChannelError(text)

    def _whoami(self) -> str:
        if self._me is None:
            self._me = str(self._call("GET", f"{API}/account/whoami")["user_id"])
        return self._me

    def _room(self) -> str:
        """The room's ID (an alias resolved once)."""
        if self._room_id is None:
            reply = self._call("GET", f"{API}/directory/room/{_quote(self.settings.room)}")
            self._room_id = str(reply["room_id"])
        return self._room_id

    def _room_path(self, tail: str) -> str:
        return f"{API}/rooms/{_quote(self._room())}/{tail}"

    def _recent(self, limit: int = LOOK_BACK) -> list[Posted]:
        """Our reminders among the room's latest messages, newest first (the room's
        order, the same for every daemon)."""
        me = self._whoami()
        flt = json.dumps({"types": ["m.room.message"], "senders": [me]})
        reply = self._call("GET", self._room_path(
            f"messages?dir=b&limit={limit}&filter={_quote(flt)}"))
        found = [p for p in (posted(e, me) for e in reply.get("chunk", [])) if p is not None]
        with self._lock:
            self._posted.update((p.event_id, p) for p in found)
        return found

    # --- what the daemon calls ------------------------------------------------------------

    def already_sent(self, message: Message) -> str | None:
        if message.test:
            return None
        # The first in the room's order, not by timestamp: a message stamped earlier may
        # reach the room later, after its sender's rival looked and saw none.
        mine = [p for p in self._recent() if p.key == message.key]
        return mine[-1].event_id if mine else None

    def send(self, message: Message) -> str:
        content = message_content(message, self.settings.user)
        # The same reminder sent twice by this login (a retry after a lost answer) is one
        # event: the server keeps transaction ids per login.
        txn = (uuid.uuid4().hex if message.test
               else "crampguard-" + sha256(message.key.encode()).hexdigest()[:32])
        event_id = str(self._call("PUT", self._room_path(f"send/m.room.message/{txn}"),
                                  content)["event_id"])
        if message.test:
            return event_id
        # Another daemon of the person's may have posted the same reminder meanwhile: the
        # earlier message stays, the later one is taken down, both answer the reminder.
        first = self.already_sent(message) or event_id
        if first != event_id:
            log.info("%s: %s was posted by another daemon too; keeping the earlier message",
                     self.name, message.key)
            self._redact(event_id, "posted twice")
        return first

    def _redact(self, event_id: str, reason: str) -> None:
        self._call("PUT", self._room_path(f"redact/{_quote(event_id)}/{uuid.uuid4().hex}"),
                   {"reason": reason})

    def withdraw(self, sent: str, note: str) -> None:
        """A short notice in reply (a notice does not make the phone ring again)."""
        self._call("PUT", self._room_path(f"send/m.room.message/{uuid.uuid4().hex}"), {
            "msgtype": "m.notice", "body": note,
            "m.relates_to": {"m.in_reply_to": {"event_id": sent}}})

    def answers(self, since: str | None, timeout: float) -> tuple[list[Answer], str | None]:
        room = self._room()
        query = f"filter={_quote(sync_filter(room))}"
        if since is None:  # the first run ever: from now on
            reply = self._call("GET", f"{API}/sync?{query}&timeout=0")
            return [], str(reply.get("next_batch") or "") or None
        wait = self._poll_s or max(timeout, LONG_POLL_S)
        began = time.monotonic()
        try:
            reply = self._call("GET", f"{API}/sync?{query}&since={_quote(since)}"
                                      f"&timeout={int(wait * 1000)}",
                               timeout=wait + TIMEOUT_S, polling=True)
        except ChannelDown as exc:
            with self._lock:
                woken, self._woken = self._woken, False
            if woken:
                return [], since  # poll again at once, on a fresh connection
            waited = time.monotonic() - began
            if wait > timeout and waited >= min(timeout, 30.0) and not self._closed:
                self._poll_s = timeout
                log.info("%s: the way to the homeserver ends a wait after %ds (%s); "
                         "waiting %ds at a time from now", self.name, waited, exc, timeout)
                return [], since
            raise
        joined = (reply.get("rooms") or {}).get("join") or {}
        timeline = (joined.get(room) or {}).get("timeline") or {}
        events = list(timeline.get("events") or [])
        if timeline.get("limited") and timeline.get("prev_batch"):
            events = self._gap(timeline["prev_batch"], since) + events
        found = self._heard(events)
        return found, str(reply.get("next_batch") or since)

    def _gap(self, before: str, since: str) -> list[dict[str, Any]]:
        """The events the sync left out (more than its limit came meanwhile: a long sleep),
        oldest first."""
        flt = json.dumps({"types": ["m.room.message", "m.reaction"]})
        events: list[dict[str, Any]] = []
        token: str | None = before
        for _page in range(20):
            if not token:
                break
            reply = self._call("GET", self._room_path(
                f"messages?dir=b&from={_quote(token)}&to={_quote(since)}&limit=100"
                f"&filter={_quote(flt)}"))
            chunk = reply.get("chunk") or []
            events[:0] = reversed(chunk)
            token = reply.get("end") if chunk else None
        return events

    def _heard(self, events: list[dict[str, Any]]) -> list[Answer]:
        me, user = self._whoami(), self.settings.user
        found: list[Answer] = []
        for event in events:
            sender = event.get("sender")
            mine = posted(event, me)
            if mine is not None:
                with self._lock:
                    self._posted[mine.event_id] = mine
                continue
            if sender == me:
                continue
            said, target = spoken(event)
            if sender != user:
                log.info("%s: ignored %s from %s: only %s answers", self.name,
                         event.get("type"), sender, user)
                continue
            if said is None:
                continue
            reminder = self._reminder(target, int(event.get("origin_server_ts", 0)))
            if reminder is None:
                log.info("%s: %s from %s answers no reminder of crampguard's", self.name,
                         event.get("event_id"), sender)
                continue
            key = answer_key(said, reminder.answers)
            parsed = parse_reminder_key(reminder.key)
            if key is None or parsed is None:
                log.info("%s: %s from %s: %r is not an answer %s offers", self.name,
                         event.get("event_id"), sender, said, reminder.key)
                continue
            ts = int(event.get("origin_server_ts", 0))
            found.append(Answer(routine=parsed[0], due=parsed[1], key=key, channel=self.name,
                                sender=user, at=datetime.fromtimestamp(ts / 1000, UTC),
                                ref=str(event.get("event_id", ""))))
        return found

    def _reminder(self, target: str | None, before_ts: int) -> Posted | None:
        """The reminder an answer is for: the one replied or reacted to, else the latest
        one posted before it."""
        with self._lock:
            known = dict(self._posted)
        if target is not None:
            if target in known:
                return known[target]
            try:
                event = self._call("GET", self._room_path(f"event/{_quote(target)}"))
            except ChannelError:
                return None
            return posted(event, self._whoami())
        earlier = [p for p in known.values() if p.ts <= before_ts]
        if not earlier:
            earlier = [p for p in self._recent() if p.ts <= before_ts]
        return max(earlier, key=lambda p: p.ts) if earlier else None

    def check(self) -> list[str]:
        problems: list[str] = []
        try:
            self._call("GET", "/_matrix/client/versions", auth=False)
            me = self._whoami()
            joined = self._call("GET", f"{API}/joined_rooms").get("joined_rooms") or []
            room = self._room()
        except ChannelError as exc:
            return [str(exc)]
        if room not in joined:
            return [f"{me} is not in the room {self.settings.room}: invite it there and "
                    f"accept the invitation as {me}"]
        members = self._call("GET", self._room_path("joined_members")).get("joined") or {}
        if self.settings.user not in members:
            problems.append(f"{self.settings.user} is not in the room {self.settings.room}: "
                            f"join it there, or only the person set as `user` answers")
        return problems

    def wake(self) -> None:
        """The computer woke from sleep: the poll under way may hang on a connection the
        server dropped meanwhile; end it, so that the next one (at once) reads the answers
        given while it slept."""
        with self._lock:
            self._woken = self._polling is not None
        self._interrupt()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._interrupt()

    def _interrupt(self) -> None:
        with self._lock:
            conn = self._polling
        if conn is not None and conn.sock is not None:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


CHANNEL = MatrixChannel
