"""The language of a command, known before its parser is built (its `--help` is text a
person reads): ``CRAMPGUARD_LANGUAGE``, else ``language`` in the settings file, else the
environment's LANGUAGE, LC_ALL, LC_MESSAGES and LANG (scheduler/i18n.py).

Read with tomllib alone, not through the settings: `--help` must stay quick, and a broken
file is the settings' to report (`check`, `doctor`), not this reader's, which then falls
back on the environment.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence

from scheduler import i18n


def setting(argv: Sequence[str], env: Mapping[str, str] | None = None) -> str | None:
    """The `language` setting as the settings would load it, or None where none is set."""
    env = os.environ if env is None else env
    if env.get("CRAMPGUARD_LANGUAGE"):
        return env["CRAMPGUARD_LANGUAGE"]
    from scheduler.paths import resolve_paths

    try:
        path = resolve_paths(env, config=_config_option(argv)).config_file
        with open(path, "rb") as f:
            value = tomllib.load(f).get("language")
    except (OSError, ValueError):  # no file, or a broken one: the settings will say
        return None
    return value if isinstance(value, str) and (
        value == i18n.AUTO or i18n.CODE.match(value)) else None


def _config_option(argv: Sequence[str]) -> str | None:
    """`--config FILE` or `--config=FILE`, wherever it stands (before `--`)."""
    words = list(argv)
    for i, word in enumerate(words):
        if word == "--":
            break
        if word == "--config" and i + 1 < len(words):
            return words[i + 1]
        if word.startswith("--config="):
            return word.removeprefix("--config=")
    return None
