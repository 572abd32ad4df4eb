"""What the presence sources say, as data, and the one rule that turns it into "away".

Pure: no bus, no display, no clock read; ``Tracker.observe`` takes ``now``. The sources
(the other modules of this package) produce a ``Reading``; the tracker adds what a single
reading cannot know: since when the user has been away, and the last absence that ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

#: The idle time that makes the user "away" until the daemon sets one (the shipped sitting
#: and standing breaks' ``away_resets``).
DEFAULT_AWAY_AFTER_S = 300.0

# What a source tells (SourceReport.provides).
IDLE = "idle"
LOCK = "lock"
DND = "do-not-disturb"
SLEEP = "sleep"

# Why do-not-disturb is on: the texts PresenceState.dnd carries.
DUNST_PAUSED = "dunst paused"
FULLSCREEN = "fullscreen window"
INHIBITED = "notifications inhibited"
BANNERS_OFF = "GNOME banners off"


@dataclass(frozen=True)
class Absence:
    """One stretch of time the user was away: from their last input (or the lock) to their
    return. ``end`` is None while it lasts."""

    start: datetime
    end: datetime | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.end is None else (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class PresenceState:
    """Whether the user is there, at one instant.

    ``away``: idle for at least the threshold (``Presence.set_away_after``) or the screen
    locked. ``idle_seconds``: since the last keyboard or mouse input, None where no source
    tells. ``dnd``: why reminders should wait (one of the texts above), None when they need
    not. ``away_since``: while away, when it began. ``last_absence``: the most recent
    absence that has ended (compare its ``end`` with what you handled before: it stays the
    same until the next one ends). ``sources``: the names of the sources in use; empty on a
    headless box, where nothing is ever away or do-not-disturb. ``unknown``: why presence
    cannot be told now (a source in use went away, e.g. "org.gnome.Mutter.IdleMonitor went
    away"), None while it can; while it is set, ``locked``, ``idle_seconds`` and ``dnd``
    say nothing, an absence neither begins nor ends, and "not away" does not mean "there".
    """

    away: bool = False
    locked: bool = False
    idle_seconds: float | None = None
    dnd: str | None = None
    away_since: datetime | None = None
    last_absence: Absence | None = None
    sources: tuple[str, ...] = ()
    unknown: str | None = None

    @property
    def summary(self) -> tuple[bool, bool, str | None, str | None]:
        """What a change callback is about: away, locked, do-not-disturb, unknown."""
        return (self.away, self.locked, self.dnd, self.unknown)


@dataclass(frozen=True)
class SourceReport:
    """One presence source as ``probe`` found it, for ``crampguard doctor``.

    ``provides``: what it would tell ("idle", "lock", "do-not-disturb", "sleep"); ``used``:
    the daemon would take idle time from this one (only the first that answers is used for
    idle; every one that answers is used for the rest). ``detail``: what answered, or why
    nothing did, in words for the user.
    """

    name: str
    found: bool
    detail: str
    provides: tuple[str, ...] = ()
    used: bool = False


def describe(reports: list[SourceReport]) -> str:
    """One line: which source tells what, or that none answers (reminders then go on as
    without presence)."""
    found = [report for report in reports if report.found]
    if not found:
        return ("no presence source answers: reminders are shown whether or not you are "
                "there, and do-not-disturb is not seen")
    idle = next((report.name for report in found if report.used), None)
    parts = [f"idle time from {idle}" if idle else "no idle time"]
    for role, label in ((LOCK, "screen lock"), (DND, "do-not-disturb"), (SLEEP, "sleep")):
        names = [report.name for report in found if role in report.provides]
        parts.append(f"{label} from {', '.join(names)}" if names else f"no {label}")
    return "; ".join(parts)


@dataclass(frozen=True)
class Reading:
    """What the sources say at one instant (before the tracker's memory is added)."""

    idle_seconds: float | None = None
    locked: bool = False
    dnd: str | None = None
    #: why the sources cannot be read now (the rest of the reading is then void)
    unknown: str | None = None


class Tracker:
    """Readings over time → PresenceState. Not thread-safe: the caller holds a lock."""

    def __init__(self, away_after_s: float = DEFAULT_AWAY_AFTER_S) -> None:
        self.away_after_s = away_after_s
        self._since: datetime | None = None
        self._last: Absence | None = None

    def idle_away(self, idle_seconds: float | None) -> bool:
        return idle_seconds is not None and idle_seconds >= self.away_after_s

    def observe(
        self, now: datetime, reading: Reading, sources: tuple[str, ...] = ()
    ) -> PresenceState:
        if reading.unknown is not None:
            # A source that went away is no sign of the user: an absence goes on (it ends
            # when a source answers again and says they are back), none begins.
            return PresenceState(away=self._since is not None, away_since=self._since,
                                 last_absence=self._last, sources=sources,
                                 unknown=reading.unknown)
        away = reading.locked or self.idle_away(reading.idle_seconds)
        # The last input is when the user left (a lock comes after it) and, once they are
        # back, the latest sign of them; a source without idle time has only "now".
        last_input = now - timedelta(seconds=reading.idle_seconds or 0.0)
        if away and self._since is None:
            self._since = last_input
        elif not away and self._since is not None:
            self._last = Absence(self._since, max(last_input, self._since))
            self._since = None
        return PresenceState(
            away=away,
            locked=reading.locked,
            idle_seconds=reading.idle_seconds,
            dnd=reading.dnd,
            away_since=self._since,
            last_absence=self._last,
            sources=sources,
        )
