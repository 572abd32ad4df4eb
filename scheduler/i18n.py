"""The user's language: one gettext catalog per process, English as the message id.

Every layer may import this (standard library only). ``_`` and ``ngettext`` translate
when called, so a text must be looked up where it is shown, not where a module is
imported: the language is known only once the settings are read. ``N_`` marks a text for
the catalog without translating it (tables built at import time), to be passed through
``_`` where it is shown.

What is data never goes through here: ``--json`` output, the journal, the files written
for the user, the routine grammar (``bedtime - 45m``, ``mon``) and the daemon's log.
"""

from __future__ import annotations

import contextlib
import gettext as _gettext
import os
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path

DOMAIN = "crampguard"
LOCALE_DIR = Path(__file__).with_name("locale")
#: The `language` setting's value that defers to the environment.
AUTO = "auto"
#: gettext's own order: the first of these that is set names the language(s).
VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
#: A language code as the setting takes it: "zh_CN", "zh-CN", "en", "de_AT".
CODE = re.compile(r"^[a-z]{2,3}(?:[_-][A-Za-z]{2,4})?$")
#: A bare language with one catalog for it here: "zh" means the Chinese we have.
_ALIASES = {"zh": "zh_CN"}

_ENGLISH = _gettext.NullTranslations()
#: The user's language, loaded by ``use``: (catalog, name).
_chosen: tuple[_gettext.NullTranslations, str] = (_ENGLISH, "en")
#: What the process speaks where nothing says otherwise: the user's language in the CLI;
#: English in the daemon, whose log and replies are data, with ``speaking()`` around
#: the notices it shows.
_process: tuple[_gettext.NullTranslations, str] = (_ENGLISH, "en")
#: This thread's own choice for a while (``speaking``, ``english``): a context variable,
#: so that the daemon's other threads go on in English meanwhile.
_here: ContextVar[tuple[_gettext.NullTranslations, str] | None] = ContextVar(
    "crampguard_language", default=None)


def _current() -> tuple[_gettext.NullTranslations, str]:
    return _here.get() or _process


def _(message: str) -> str:
    return _current()[0].gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _current()[0].ngettext(singular, plural, n)


def routine_text(text: str) -> str:
    """A shipped routine's title or message in the user's language: the catalog holds
    them under the context "routine", so that a user's own text is shown as written
    (unless it is word for word a shipped one) and never mistaken for a word of the
    program's."""
    return _current()[0].pgettext("routine", text)


def seed_text(text: str) -> str:
    """A text of the shipped seeds (a catalog step's summary, what studies found) in the
    user's language, under the context "seeds"; the quotes from the source texts are
    shown as they are, word for word."""
    return _current()[0].pgettext("seeds", text)


def N_(message: str) -> str:
    """Marks ``message`` for the catalog; translated later, where it is shown."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a plural pair for the catalog, for ``ngettext(*pair, n)`` where it is shown."""
    return singular, plural


def wanted(setting: str | None, environ: Mapping[str, str] | None = None) -> list[str]:
    """The languages to try, best first: the setting unless it is "auto", else the first
    of gettext's variables that is set (``LANGUAGE`` may list several, "zh_CN:en");
    "C" and "POSIX" mean English."""
    if setting and setting != AUTO:
        return [setting.replace("-", "_")]
    environ = os.environ if environ is None else environ
    for name in VARIABLES:
        value = environ.get(name)
        if value:
            return [v for v in value.split(":") if v]
    return []


def use(setting: str | None = None, environ: Mapping[str, str] | None = None, *,
        everywhere: bool = True) -> str:
    """Load the catalog for the setting (or the environment) and return the language
    chosen ("en" when no catalog matches: English is the message id and the fallback for
    every text a catalog lacks). ``everywhere``: the whole process speaks it (the CLI);
    else only what runs under ``speaking()`` does (the daemon's notices)."""
    global _chosen, _process
    _chosen = (_ENGLISH, "en")
    for code in wanted(setting, environ):
        if code.split(".")[0] in ("C", "POSIX") or code.startswith("en"):
            break  # English asked for before any catalog: no later one overrides it
        code = _ALIASES.get(code.split(".")[0], code)
        try:
            catalog = _gettext.translation(DOMAIN, LOCALE_DIR, languages=[code])
        except OSError:
            continue
        _chosen = (catalog, code.split(".")[0].split("@")[0])
        break
    _process = _chosen if everywhere else (_ENGLISH, "en")
    return _chosen[1]


def language() -> str:
    """The language spoken here and now, as gettext names it: "en", "zh_CN"."""
    return _current()[1]


def tag() -> str:
    """The language spoken here and now as HTML and BCP 47 write it: "en", "zh-CN"."""
    return language().replace("_", "-")


@contextlib.contextmanager
def _speaking(choice: tuple[_gettext.NullTranslations, str]) -> Iterator[None]:
    token = _here.set(choice)
    try:
        yield
    finally:
        _here.reset(token)


def speaking() -> contextlib.AbstractContextManager[None]:
    """The user's language for a while, in this thread (what a person reads)."""
    return _speaking(_chosen)


def english() -> contextlib.AbstractContextManager[None]:
    """English for a while, in this thread (data that must not change with the
    language)."""
    return _speaking((_ENGLISH, "en"))


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: a Chinese character takes two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int) -> str:
    """``text`` in a column ``abs(columns)`` wide, to the right (to the left when
    ``columns`` is negative), as ``f"{text:>5}"`` does for text one column a character."""
    fill = " " * max(0, abs(columns) - width(text))
    return text + fill if columns < 0 else fill + text


#: The weekdays as a person reads them next to a date; strftime's %a would follow the C
#: locale (Python never calls setlocale), these follow the catalog.
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def weekday(day: int) -> str:
    """Monday is 0, as ``date.weekday()`` counts."""
    return _(WEEKDAYS[day])
