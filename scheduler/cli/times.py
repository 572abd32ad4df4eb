"""Times typed on the command line (`next --from`, `pause until`, `log-cramp --when`):
ISO 8601, where a value without an offset is a wall time in the user's zone."""

from __future__ import annotations

from datetime import datetime, tzinfo

from scheduler.errors import CrampguardError

ISO_HINT = 'write ISO 8601, e.g. "2026-03-29T21:00" or "2026-03-29T21:00+02:00"'


def parse_instant(text: str, zone: tzinfo, flag: str, *, hint: str = "") -> datetime:
    """An aware instant; a naive value resolves under the DST contract (see triggers)."""
    from scheduler.timing.plans import resolve  # imports APScheduler: only when needed

    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CrampguardError(f"{flag}: not a time (got {text!r}); {hint or ISO_HINT}") from None
    if not 1970 <= value.year <= 9000:
        raise CrampguardError(f"{flag}: give a time between the years 1970 and 9000 "
                              f"(got {text!r})")
    return resolve(value, zone) if value.tzinfo is None else value
