"""What each cell of the report's calendar can say, and how it looks: a label, a symbol
(so the page reads in black and white, printed or photocopied) and a colour pair (cell
background, symbol) for the light and the dark theme. The HTML page and the PNG draw from
this one table, so they never disagree; tests/test_report.py checks each pair's contrast.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.i18n import N_, _


@dataclass(frozen=True)
class Look:
    key: str
    #: the label and the meaning as message ids; ``label`` and ``meaning`` translate them
    label_id: str
    symbol: str
    meaning_id: str
    light: tuple[str, str]  # (background, symbol)
    dark: tuple[str, str]

    @property
    def label(self) -> str:
        return _(self.label_id)

    @property
    def meaning(self) -> str:
        return _(self.meaning_id)


#: A routine's day, strongest first: a day with several reminders (a break every 50
#: minutes) shows the furthest any of them got, done before skipped before shown (seen,
#: not answered) before missed (never shown in time) before held (kept back on purpose).
DAY = (
    Look("done", N_("done"), "✓", N_("done at least once"), ("#1b7a3a", "#ffffff"),
         ("#5cc27f", "#06210f")),
    Look("skipped", N_("skipped"), "↷", N_("you answered skip"), ("#f0c541", "#3a2c00"),
         ("#d6a82a", "#1c1500")),
    Look("shown", N_("shown, not answered"), "○", N_("shown, and neither done nor skipped"),
         ("#cfe2f6", "#0b3d6b"), ("#2a4a6d", "#d9eafb")),
    Look("missed", N_("missed"), "✗", N_("due but never shown in time (computer off or asleep, "
         "or away past its catch-up)"), ("#b3261e", "#ffffff"), ("#e2685f", "#1a0000")),
    Look("held", N_("held"), "‖", N_("held back: a pause, quiet hours, or you were away"),
         ("#d6d6d6", "#2b2b2b"), ("#5c5f66", "#f2f2f2")),
    Look("none", N_("not due"), "·", N_("nothing was due"), ("#ffffff", "#6b6b6b"),
         ("#1e2126", "#a4aab2")),
    Look("ahead", N_("not over"), "…", N_("today, nothing recorded yet"), ("#ffffff", "#6b6b6b"),
         ("#1e2126", "#a4aab2")),
)

#: A night (local noon to noon the next day; see scheduler/journal/stats.py).
NIGHT = (
    Look("cramp", N_("cramp"), "●", N_("a cramp was logged (the figure: worst severity, 1-5)"),
         ("#5b1a8c", "#ffffff"), ("#b98ae0", "#16002a")),
    Look("quiet", N_("no cramp"), "☾", N_("you answered: no cramp"), ("#d2eee7", "#0c4a3e"),
         ("#1e5a4f", "#d9f6ee")),
    Look("unknown", N_("unknown"), "?", N_("nothing logged: left out of the comparisons, never "
         "counted as quiet"), ("#ffffff", "#4d4d4d"), ("#1e2126", "#c8ccd2")),
    Look("ahead", N_("not over"), "", N_("not over within the period (a night ends at noon "
         "the next day)"), ("#ffffff", "#6b6b6b"),
         ("#1e2126", "#a4aab2")),
)

DAY_LOOK = {look.key: look for look in DAY}
NIGHT_LOOK = {look.key: look for look in NIGHT}
#: The precedence of DAY, for the model.
PRECEDENCE = ("done", "skipped", "shown", "missed", "held")


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    low, high = sorted((_luminance(first), _luminance(second)))
    return (high + 0.05) / (low + 0.05)


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
