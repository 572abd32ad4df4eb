"""Files the CLI writes for the user (`report`, `export --out`): all of it or nothing.

A temporary file beside the target takes its place only once everything is written and
synced, so a reader never sees half a file and a failure leaves the old one as it was. The
file is private (0600, as ``mkstemp`` makes it): what crampguard writes out is health data.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from scheduler.errors import CrampguardError


@contextmanager
def replacing(target: Path, *, label: str, text: bool) -> Iterator[IO[Any]]:
    """A file to write that becomes ``target`` when the block ends without an error.

    ``label`` starts each error line (``--out FILE``, or the file's name when the user
    named none); ``text``: UTF-8 text with newlines as written, else bytes.
    """
    try:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                    suffix=".part")
    except OSError as exc:
        raise CrampguardError(f"{label}: cannot write in {target.parent} ({exc.strerror}); "
                              "give a file in a folder you can write") from None
    try:
        with (open(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") if text
              else open(fd, "wb")) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, target)
    except OSError as exc:
        os.unlink(temp)
        raise CrampguardError(f"{label}: writing failed ({exc.strerror or exc}); nothing was "
                              "changed there") from None
    except BaseException:
        os.unlink(temp)
        raise
