"""The one way to write a routine file in tests: a head, a body, and a file in a folder.

``write_routine`` (the fixture) and ``routine_text`` (for the daemon tests) both build on
``routine_head``; ``write_routine_file`` writes what either made.
"""

from __future__ import annotations

from pathlib import Path

SEED = "stretch-before-bed"


def routine_head(title: str, message: str, *, seed: str = SEED) -> str:
    """The keys every routine needs: schema_version, title, message and a routine seed."""
    return (f'schema_version = 1\ntitle = "{title}"\nmessage = "{message}"\n'
            f'seed = "{seed}"\n')


#: The head ``write_routine`` puts before a body unless told ``head=False``.
ROUTINE_HEAD = routine_head("Test routine", "Do the thing.")


def routine_text(title: str, at: str, *, extra: str = "", notify: str = "") -> str:
    """A whole routine firing daily at ``at``, regardless of quiet hours; ``extra`` goes
    before its [schedule], ``notify`` (e.g. a [notify] table) after it."""
    return (routine_head(title, f"Body of {title}.") + f'{extra}\n[schedule]\nat = "{at}"\n'
            f'quiet_hours = "ignore"\n{notify}')


def write_routine_file(folder: Path, name: str, text: str) -> Path:
    """Write ``folder/name.toml`` (making the folder) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path
