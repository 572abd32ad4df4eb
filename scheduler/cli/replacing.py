"""Files the CLI writes for the user (`report`, `export --out`): all of it or nothing.

A temporary file beside the target takes its place only once everything is written and
synced, so a reader never sees half a file and a failure leaves the old one as it was. The
file is private (0600, as ``mkstemp`` makes it): what crampguard writes out is health data.

Only a regular file is replaced, or a new one made. A symbolic link is written through: the
file it points to is replaced and the link stays, as a dotfile manager's link is meant to
be used. Anything else (a device such as /dev/full, a FIFO, a socket) is refused: renaming
over it would take it away from everything else that uses it (run as root, the machine's
/dev/full), and writing into it is not "replaced whole".
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from scheduler.errors import CrampguardError
from scheduler.i18n import _


@contextmanager
def replacing(target: Path, *, label: str, text: bool) -> Iterator[IO[Any]]:
    """A file to write that becomes ``target`` when the block ends without an error.

    ``label`` starts each error line (``--out FILE``, or the file's name when the user
    named none); ``text``: UTF-8 text with newlines as written, else bytes.
    """
    target = regular_target(target, label)
    try:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                    suffix=".part")
    except OSError as exc:
        raise CrampguardError(_("{label}: cannot write in {parent} ({strerror}); give a file "
                                "in a folder you can write").format(
                                    label=label, parent=target.parent,
                                    strerror=exc.strerror)) from None
    try:
        with (open(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") if text
              else open(fd, "wb")) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, target)
    except OSError as exc:
        os.unlink(temp)
        raise CrampguardError(_("{label}: writing failed ({value}); nothing was "
                                "changed there").format(
            label=label, value=exc.strerror or exc)) from None
    except BaseException:
        os.unlink(temp)
        raise


#: What a file that is not a regular one is, in words, by ``stat.S_IFMT``.
_KINDS = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFSOCK: "a socket",
          stat.S_IFDIR: "a folder"}


def regular_target(target: Path, label: str, hint: str = "") -> Path:
    """The file to replace for ``target``: itself when it is a regular file or does not
    exist yet, the file a symbolic link points to; an error for anything else (``hint``
    ends the error for a device, a FIFO or a socket: how to write into one)."""
    try:
        is_link = target.is_symlink()
        resolved = target.resolve(strict=True) if is_link else target
        mode = resolved.stat().st_mode
    except FileNotFoundError:
        if target.is_symlink():
            raise CrampguardError(_("{label}: a symbolic link to {target}, which does not "
                                    "exist; give the file itself, or a new name").format(
                                        label=label, target=os.readlink(target))) \
                from None
        return target
    except OSError as exc:
        raise CrampguardError(_("{label}: cannot look at it ({value})").format(
            label=label, value=exc.strerror or exc)) from None
    if stat.S_ISREG(mode):
        return resolved
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    through = f" (the link leads to {resolved})" if is_link else ""
    raise CrampguardError(_("{label}: that is {kind}{through}, not a regular file; "
                            "crampguard replaces only a regular file, or writes a new "
                            "one{hint}").format(label=label, kind=kind, through=through, hint=hint))
