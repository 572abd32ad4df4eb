"""`report`: a period of the journal as one HTML page, or its pictures as a PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scheduler.config.context import Context
from scheduler.errors import CrampguardError


def report(ctx: Context, *, days: int | None, start: str | None, end: str | None,
           out: Path | None) -> Any:
    raise CrampguardError("report: not built yet")
