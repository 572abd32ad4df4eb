"""The CalDAV collection named in ``[calendar]``: read crampguard's items, put and delete
them. The only user of the caldav library (HTTP, authentication, TLS); every failure comes
out as one ``CrampguardError`` naming the address, never the password.

TLS is always verified; plain http is accepted for a server on this machine only (the
settings refuse it elsewhere, and so does ``open_collection``).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from scheduler import paths
from scheduler.config.settings import Calendar
from scheduler.errors import CrampguardError

#: A server that does not answer within this is down for this sync (tried again later).
TIMEOUT_S = 10
_DAV = "{DAV:}"
_CALDAV = "{urn:ietf:params:xml:ns:caldav}"
#: crampguard's items of one kind (VEVENT or VTODO) from an instant on: those whose UID is
#: in crampguard's domain. The items are read again (items.read_item) before any is
#: touched, so a server that ignores the text match costs time, not the user's items.
_QUERY = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="{kind}">
    <C:time-range start="{start}"/>
    <C:prop-filter name="UID"><C:text-match collation="i;octet">@crampguard</C:text-match>
    </C:prop-filter>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""


@dataclass(frozen=True)
class Stored:
    href: str
    etag: str | None
    text: str


def read_password(path: Path) -> str:
    """The calendar's password, from its 0600 file."""
    return paths.read_secret(path, "calendar.password_file", "password")


def _allow_tls() -> None:
    """Lift the daemon's start-up block on TLS and OpenSSL's hashes (``run`` keeps them
    out of its memory while nothing needs them): a calendar over https does."""
    for blocked in ("ssl", "_hashlib"):
        if blocked in sys.modules and sys.modules[blocked] is None:
            del sys.modules[blocked]


class Collection:
    def __init__(self, settings: Calendar, password: str, timeout: float = TIMEOUT_S):
        _allow_tls()  # before the HTTP stack looks for ssl, once, at its import
        import caldav
        from requests.auth import HTTPBasicAuth

        self.url = settings.url  # plain http only to loopback: the settings refuse the rest
        self._client = caldav.DAVClient(
            url=self.url, timeout=int(timeout), ssl_verify_cert=True,
            # sent with the first request: a server that is asked first (a 401) may
            # delay its answer, as a guard against guessing
            auth=HTTPBasicAuth(settings.user, password))

    def close(self) -> None:
        self._client.close()

    def items(self, since: datetime) -> list[Stored]:
        """crampguard's events and to-dos due from ``since`` on."""
        start = since.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        found: list[Stored] = []
        for kind in ("VEVENT", "VTODO"):
            response = self._call("REPORT", self.url, lambda k=kind: self._client.request(
                self.url, "REPORT", _QUERY.format(kind=k, start=start),
                {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}))
            found += self._multistatus(response.raw)
        return found

    def put(self, name_or_href: str, body: bytes, etag: str | None) -> None:
        """Write an item: a new one only where none is (If-None-Match), an existing one
        only as it was read (If-Match), so an edit made meanwhile is not lost unseen."""
        url = urljoin(self.url, name_or_href)
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        headers.update({"If-Match": etag} if etag else {"If-None-Match": "*"})
        self._call("PUT", url, lambda: self._client.request(
            url, "PUT", body.decode("utf-8"), headers), ok=(200, 201, 204))

    def delete(self, href: str, etag: str | None) -> None:
        url = urljoin(self.url, href)
        headers = {"If-Match": etag} if etag else {}
        self._call("DELETE", url, lambda: self._client.request(url, "DELETE", "", headers),
                   ok=(200, 204, 404))

    def _call(self, method: str, url: str, send: Any,
              ok: tuple[int, ...] = (207,)) -> Any:
        try:
            response = send()
        except CrampguardError:
            raise
        except Exception as exc:  # noqa: BLE001 - the library's and the network's, all
            # one thing to the user: the server could not be reached or refused
            raise CrampguardError(f"calendar: {method} {url}: {_reason(exc)}") from None
        if response.status not in ok:
            hint = ("; is that the calendar's own address? create the calendar first (your "
                    "calendar app or the server's page make one)") if response.status == 404 \
                else ""
            raise CrampguardError(f"calendar: {method} {url}: the server answered "
                                  f"{response.status}{hint}")
        return response

    def _multistatus(self, raw: bytes | str) -> list[Stored]:
        try:
            root = ET.fromstring(raw)
        except ET.ParseError as exc:
            raise CrampguardError(f"calendar: REPORT {self.url}: not a WebDAV answer "
                                  f"({exc})") from None
        found = []
        for response in root.iter(f"{_DAV}response"):
            href = response.findtext(f"{_DAV}href")
            for propstat in response.iter(f"{_DAV}propstat"):
                status = propstat.findtext(f"{_DAV}status") or ""
                data = propstat.findtext(f".//{_CALDAV}calendar-data")
                if href and data and " 200 " in f"{status} ":
                    found.append(Stored(href, propstat.findtext(f".//{_DAV}getetag"), data))
        return found


def _reason(exc: Exception) -> str:
    """The cause in a few words; the password is in no library's message, but the header
    it travels in could be: only the type and the first line are kept."""
    if type(exc).__name__ == "AuthorizationError":
        return "the server refused the user or the password (check user and password_file)"
    text = str(exc).splitlines()[0] if str(exc) else ""
    if "Authorization" in text:
        text = ""
    return f"{type(exc).__name__}{': ' + text[:200] if text else ''}"


def open_collection(settings: Calendar) -> Collection:
    parts = urlsplit(settings.url)
    if parts.scheme != "https" and not (parts.hostname or "").startswith(("127.", "localhost",
                                                                          "::1")):
        raise CrampguardError(f"calendar.url: {settings.url}: plain http only to this "
                              f"machine; use https")
    return Collection(settings, read_password(settings.password_file))
