"""The one place that reads the clock.

The pure layers (timing, planning, the statistics, the journal) take ``now`` as an
argument; only the edges (the daemon's reminders and service, the CLI's commands) call
this, so tests move time with freezegun or time-machine in one place."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


def now(zone: tzinfo | None = None) -> datetime:
    current = datetime.now(UTC)
    return current.astimezone(zone) if zone is not None else current
