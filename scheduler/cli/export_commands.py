"""`export`: every journal entry in a period, as CSV or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scheduler.config.context import Context
from scheduler.errors import CrampguardError


def export(ctx: Context, *, fmt: str, days: int | None, start: str | None, end: str | None,
           out: Path | None) -> Any:
    raise CrampguardError("export: not built yet")
