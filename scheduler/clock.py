"""The one place that reads the clock. Everything else takes ``now`` as an argument."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


def now(zone: tzinfo | None = None) -> datetime:
    current = datetime.now(UTC)
    return current.astimezone(zone) if zone is not None else current
