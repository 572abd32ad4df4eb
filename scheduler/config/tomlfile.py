"""Reading the user's TOML files and turning every problem in them into a line that names
the file, the line and the field, with the fix where one helps.

Shared by routine files and ``config.toml`` so both speak the same error language.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from scheduler.errors import CrampguardError
from scheduler.i18n import _

M = TypeVar("M", bound=BaseModel)

_POSITION_RE = re.compile(r"^(.*?)\s*\(at line (\d+), column (\d+)\)$", re.S)
_HEADER_RE = re.compile(r"^\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY_RE = re.compile(r"^([A-Za-z0-9_\-.\"' ]+?)\s*=")
_INLINE_KEY_RE = re.compile(r"([A-Za-z0-9_-]+)\s*=")


def read(path: Path) -> tuple[dict[str, Any], str]:
    """Parse ``path``; a syntax error becomes ``PATH:LINE:COL: message``."""
    try:
        # "utf-8-sig": Notepad and some other editors start a UTF-8 file with a byte-order
        # mark, which TOML does not allow; it says nothing, so it is dropped.
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise CrampguardError(_("{path}: no such file").format(path=path)) from None
    except UnicodeDecodeError as exc:
        raise CrampguardError(
            _("{path}: not UTF-8 text (byte {start}); save the file as UTF-8").format(
                path=path, start=exc.start)) from None
    except OSError as exc:
        raise CrampguardError(_("{path}: cannot read: {strerror}").format(
            path=path, strerror=exc.strerror)) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise CrampguardError(_syntax_problem(path, str(exc))) from None


def load_model(path: Path, model: type[M]) -> M:
    """A shipped data file (the catalog, the evidence) read and validated as ``model``,
    every problem named by file, line and field."""
    data, text = read(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CrampguardError(validation_problems(path, text, exc, model)) from None


def _syntax_problem(path: Path, message: str) -> str:
    m = _POSITION_RE.match(message)
    if not m:
        return f"{path}: {message}"
    what, line, col = m[1], m[2], m[3]
    hint = ""
    if what.startswith("Invalid value") or what.startswith("Expected newline"):
        hint = '; text values need quotes, e.g. at = "21:30"'
    return f"{path}:{line}:{col}: TOML syntax: {what}{hint}"


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """First line of every key and table header, by dotted path (good enough to point at)."""
    found: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    in_string = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
            in_string = not in_string
            if not in_string:
                continue
        if in_string or not line or line.startswith("#"):
            continue
        header = _HEADER_RE.match(line)
        if header:
            table = _split_key(header[1])
            found.setdefault(table, number)
            continue
        key = _KEY_RE.match(line)
        if key:
            path = table + _split_key(key[1])
            found.setdefault(path, number)
            inline = line[key.end():].strip()
            if inline.startswith("{"):
                for inner in _INLINE_KEY_RE.finditer(inline):
                    found.setdefault(path + (inner[1],), number)
    return found


def _split_key(key: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in key.split("."))


def line_of(lines: Mapping[tuple[str, ...], int], loc: tuple[str, ...]) -> int | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def validation_problems(path: Path | str, text: str | None, exc: ValidationError,
                        model: type[BaseModel]) -> list[str]:
    """One ``PATH:LINE: field: message (got VALUE)`` line per pydantic error."""
    lines = key_lines(text) if text is not None else {}
    problems = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"] if not isinstance(p, int))
        field = ".".join(str(p) for p in err["loc"]) or "(file)"
        message = _message(err, loc, model)
        got = err.get("input")
        if err["type"] != "missing" and not isinstance(got, dict):
            message += f" (got {_show(got)})"
        line = line_of(lines, loc)
        where = f"{path}:{line}" if line else str(path)
        problems.append(f"{where}: {field}: {message}")
    return problems


def _message(err: Any, loc: tuple[str, ...], model: type[BaseModel]) -> str:
    kind = err["type"]
    if kind == "missing":
        return "required; add it"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        close = close_match(loc[-1], allowed)
        hint = f'did you mean "{close[0]}"? ' if close else ""
        return _("unknown key; {hint}valid keys here: {allowed}").format(
            hint=hint, allowed=', '.join(allowed))
    text = err["msg"]
    return text.removeprefix("Value error, ")


def close_match(word: str, choices: list[str]) -> list[str]:
    """The nearest choice, for "did you mean"; difflib is imported only when a file is
    wrong, not by every start of the daemon."""
    import difflib

    return difflib.get_close_matches(word, choices, n=1)


def _allowed_keys(model: type[BaseModel], loc: tuple[str, ...]) -> list[str]:
    for name in loc:
        field = model.model_fields.get(name)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
