"""Presence: whether the user is there, do-not-disturb is on, the machine about to sleep.

For the daemon (``Presence``: callbacks on changes, ``state()`` on demand) and for
``crampguard doctor`` (``probe``: which sources answer here). Builds on base only, with
jeepney for D-Bus and ctypes for Xlib; imported by daemon/ and by the doctor command, never
by the light commands (it loads jeepney).
"""

from .monitor import Presence, probe
from .state import Absence, PresenceState, SourceReport, describe

__all__ = ["Absence", "Presence", "PresenceState", "SourceReport", "describe", "probe"]
