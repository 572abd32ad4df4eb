"""``[reach.NAME]`` in config.toml: the channels that carry a reminder away from the desk
(``kind`` picks the table's keys). Imported only when config.toml has such a table."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, ValidationError, model_validator
from pydantic_settings import NoDecode

from scheduler.config.routine import Strict
from scheduler.i18n import N_, _
from scheduler.timing import grammar

_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def _pattern(pattern: str, what: str) -> Any:
    """A text field that must match ``pattern``, saying what it should look like."""
    compiled = re.compile(pattern)

    def check(value: Any) -> str:
        if not isinstance(value, str) or not compiled.match(value):
            raise ValueError(_(what))
        return value

    return PlainValidator(check)


REACH_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def _service_url(value: Any, example: str) -> str:
    """An http(s) address: https, or plain http to this machine only (a token and health
    data would otherwise cross the network in the clear)."""
    from urllib.parse import urlsplit

    text = value.strip().rstrip("/") if isinstance(value, str) else ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(_('give the server\'s address, e.g. "{example}"').format(
            example=example))
    if parts.scheme == "http" and not (parts.hostname in _LOOPBACK_HOSTS
                                       or parts.hostname.startswith("127.")):
        raise ValueError(_("plain http is only for a server on this machine (localhost); "
                           "use https"))
    if parts.username or parts.password:
        raise ValueError(_("no user or password in the address: give `token_file`"))
    return text


def _secret_file(value: Any) -> Path:
    path = Path(value).expanduser() if isinstance(value, str) and value.strip() else None
    if path is None or not path.is_absolute():
        raise ValueError(_('give the full path of a file holding the secret alone, e.g. '
                           '"~/.config/crampguard/ntfy-token" (mode 0600)'))
    return path


SecretFile = Annotated[Path, PlainValidator(_secret_file), NoDecode]


class ReachMatrix(Strict):
    """``kind = "matrix"``: a room on a Matrix homeserver (two-way)."""

    kind: Literal["matrix"]
    homeserver: Annotated[str, PlainValidator(
        lambda v: _service_url(v, "https://matrix.example.org")), NoDecode]
    #: the room's ID ("!abc:example.org"; from room version 12 on without the server's
    #: name: "!KmF_v4eaffPm1…") or alias ("#crampguard:example.org")
    room: Annotated[str, _pattern(r"^(![^\s:]+(:\S+)?|#[^:\s]+:\S+)$", N_(
        'give the room\'s ID or alias, e.g. "!abc123:example.org" or '
        '"#crampguard:example.org"'))]
    #: the person's own Matrix ID: only their answers count
    user: Annotated[str, _pattern(r"^@[^:\s]+:\S+$", N_(
        'give your own Matrix ID, e.g. "@alice:example.org"'))]
    #: the access token of the account crampguard posts as
    token_file: SecretFile


class ReachNtfy(Strict):
    """``kind = "ntfy"``: a topic on an ntfy server (two-way, through a reply topic)."""

    kind: Literal["ntfy"]
    server: Annotated[str, PlainValidator(lambda v: _service_url(v, "https://ntfy.sh")),
                      NoDecode] = "https://ntfy.sh"
    topic: Annotated[str, _pattern(r"^[A-Za-z0-9_-]{1,64}$", N_(
        "a topic is letters, digits, - and _ (up to 64); pick one nobody guesses"))]
    #: where the buttons post the answer; None: a secret one crampguard makes and keeps
    reply_topic: Annotated[str, _pattern(
        r"^[A-Za-z0-9_-]{16,64}$", N_(
            "the reply topic is the secret that lets an answer in: 16 to 64 letters, digits, "
            "- and _; or leave it out for one made for you"))] | None = None
    token_file: SecretFile | None = None


class ReachEmail(Strict):
    """``kind = "email"``: a message by SMTP (one-way)."""

    kind: Literal["email"]
    host: str = Field(min_length=1)
    #: "starttls" (port 587), "tls" (implicit, port 465), "plain" (this machine only)
    security: Literal["starttls", "tls", "plain"] = "starttls"
    port: int | None = Field(default=None, ge=1, le=65535)
    user: str | None = None
    password_file: SecretFile | None = None
    sender: Annotated[str, _pattern(r"^[^@\s]+@[^@\s]+$", N_(
        'an address, e.g. "crampguard@example.org"'))]
    to: Annotated[str, _pattern(r"^[^@\s]+@[^@\s]+$", N_(
        'an address, e.g. "me@example.org"'))]

    @model_validator(mode="after")
    def _safe(self) -> ReachEmail:
        if self.security == "plain" and not (self.host in _LOOPBACK_HOSTS
                                             or self.host.startswith("127.")):
            raise ValueError(_('security = "plain" is only for a server on this machine; '
                               'use "starttls" or "tls"'))
        if (self.user is None) != (self.password_file is None):
            raise ValueError(_("give both `user` and `password_file`, or neither"))
        return self


class ReachCommand(Strict):
    """``kind = "command"``: a program run with an argv template (one-way), never a shell."""

    kind: Literal["command"]
    #: ["kdeconnect-cli", "-d", "ID", "--ping-msg", "{title}: {message}"]
    argv: tuple[str, ...] = Field(min_length=1)
    timeout: Annotated[timedelta, PlainValidator(
        lambda v: grammar.parse_duration(str(v)))] = timedelta(seconds=30)


_MODELS: dict[str, type[Strict]] = {"matrix": ReachMatrix, "ntfy": ReachNtfy,
                                    "email": ReachEmail, "command": ReachCommand}


def reach_tables(value: Any) -> dict[str, Any]:
    """The ``[reach]`` tables as their models; every problem with its place
    (``reach.phone.topic``), as pydantic reports it."""
    if not isinstance(value, dict):
        raise ValueError(_('give one table per channel, e.g. [reach.phone] with kind = "ntfy"'))
    tables: dict[str, Any] = {}
    errors: list[Any] = []
    for name, table in value.items():
        if not REACH_NAME.match(str(name)):
            raise ValueError(_("[reach.{name}]: a channel's name is lower-case letters, "
                               "digits, - and _ (up to 32), e.g. [reach.phone]").format(
                                   name=name))
        kind = table.get("kind") if isinstance(table, dict) else None
        model = _MODELS.get(kind) if isinstance(kind, str) else None
        if model is None:
            errors.append({"type": "literal_error", "loc": (name, "kind"), "input": kind,
                           "ctx": {"expected": ", ".join(f'"{k}"' for k in _MODELS)}})
            continue
        try:
            tables[name] = model.model_validate(table)
        except ValidationError as exc:
            errors += [_placed(err, name, str(kind), model) for err in exc.errors()]
    if errors:
        raise ValidationError.from_exception_data("reach", errors)
    return tables


def _placed(err: Any, name: str, kind: str, model: type[Strict]) -> Any:
    """A table's error placed under its name, an unknown key with the keys of its kind."""
    placed = {**err, "loc": (name, *err["loc"])}
    if err["type"] == "extra_forbidden":
        keys = ", ".join(model.model_fields)
        placed.update(type="value_error", ctx={"error": ValueError(
            _('unknown key for kind = "{kind}"; valid keys here: {keys}').format(
                kind=kind, keys=keys))})
    return placed

