"""The report's pictures as one PNG (`report --out FILE.png`): the calendar blocks with the
nights row and the legend, and each evening routine's comparison as small bars.

matplotlib with the Agg backend (no display needed) and DejaVu Sans, which ships inside
matplotlib: the same image on every machine. Imported only for a PNG: matplotlib is the
slowest import crampguard has, and neither the daemon nor the HTML page needs it.

Everything is drawn on one set of axes measured in calendar cells (x to the right, y
downwards), one collection per kind of mark, so a year of 20 routines is a few dozen
artists, not thousands.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot or any backend is chosen: no display, no GUI toolkit

import numpy as np  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.markers import MarkerStyle  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402
from matplotlib.textpath import TextPath  # noqa: E402

from scheduler.report import legend  # noqa: E402
from scheduler.report.model import ReportModel, day_words  # noqa: E402

FONT = "DejaVu Sans"
CELL_IN = 0.28  # one calendar cell, in inches
DPI = 110
#: Past this many pixels in height the image is drawn at a lower resolution (a decade of
#: days would otherwise pass what PNG viewers open).
MAX_PIXELS = 30_000
LABEL = 10.0  # the routine names' column, in cells
MONTH_COLUMNS = 31
WIDTH = LABEL + MONTH_COLUMNS + 1.0
INK, MUTED, LINE = "#1a1a1a", "#555a60", "#c9ccd1"
BAR_DONE, BAR_NOT, TRACK = "#1b7a3a", "#8a5a00", "#e6e8eb"


def render(model: ReportModel, *, made: datetime, version: str) -> bytes:
    board = _Board()
    board.header(model, made)
    board.key()
    for month in model.months:
        board.month(model, month.label, month.start, month.stop)
    board.comparisons(model)
    return board.png(version)


class _Board:
    """Marks collected cell by cell, drawn in one go at the end."""

    def __init__(self) -> None:
        self.y = 0.0
        self.cells: list[tuple[float, float, str, bool]] = []  # x, y, face, dashed edge
        self.symbols: dict[tuple[str, str], list[tuple[float, float]]] = {}
        self.texts: list[tuple[float, float, str, dict[str, Any]]] = []
        self.bars: list[tuple[float, float, float, float, str]] = []

    # -- what goes on it -----------------------------------------------------------------

    def text(self, x: float, y: float, text: str, **style: Any) -> None:
        self.texts.append((x, y, text, style))

    def header(self, m: ReportModel, made: datetime) -> None:
        self.text(0, self.y + 0.9, "Leg-cramp prevention routines", size=17, weight="bold")
        self.text(0, self.y + 2.0, f"{day_words(m.first)} to {day_words(m.last)} · "
                  f"{len(m.days)} days · times in {m.zone}", size=12)
        n = m.night_counts
        self.text(0, self.y + 3.0,
                  f"{len(m.routines)} routines enabled · nights: {n.cramp} with a cramp, "
                  f"{n.no_cramp} without, {n.unknown} unknown (nothing logged)"
                  + (f", {m.nights_ahead} not over" if m.nights_ahead else "")
                  + f" · made {made:%Y-%m-%d %H:%M} by crampguard", size=9.5, color=MUTED)
        self.y += 4.2

    def key(self) -> None:
        """The legend: each kind of day, then of night."""
        for looks, prefix in ((legend.DAY, ""), (legend.NIGHT, "night: ")):
            x = 0.0
            for look in looks:
                self.cell(x, self.y, look, dashed=look.key == "unknown" and prefix != "")
                self.text(x + 1.25, self.y + 0.5, prefix + look.label, size=8.5,
                          va="center")
                x += 1.8 + 0.25 * len(prefix + look.label)
            self.y += 1.3
        self.y += 0.4

    def month(self, m: ReportModel, label: str, start: int, stop: int) -> None:
        self.text(0, self.y + 0.8, label, size=12, weight="bold")
        self.y += 1.3
        for column, day in enumerate(m.days[start:stop]):
            x = LABEL + column + 0.5
            weekend = day.weekday() >= 5
            self.text(x, self.y + 0.35, f"{day:%a}"[:2], size=6, ha="center", color=MUTED)
            self.text(x, self.y + 0.85, str(day.day), size=7.5, ha="center",
                      weight="bold" if weekend else "normal",
                      color=INK if weekend else MUTED)
        self.y += 1.1
        for row in m.routines:
            name = row.title if len(row.title) <= 38 else row.title[:37] + "…"
            self.text(LABEL - 0.3, self.y + 0.5, name, size=8, ha="right", va="center")
            for column, cell in enumerate(row.cells[start:stop]):
                self.cell(LABEL + column, self.y, legend.DAY_LOOK[cell.status])
            self.y += 1
        self.y += 0.15  # the nights row sits apart from the routines, under the evenings
        self.text(LABEL - 0.3, self.y + 0.5, "Nights", size=8, ha="right", va="center",
                  weight="bold")
        for column, night in enumerate(m.nights[start:stop]):
            look = legend.NIGHT_LOOK[night.status]
            self.cell(LABEL + column, self.y, look, dashed=night.status == "unknown")
            if night.mark:
                self.text(LABEL + column + 0.92, self.y + 0.92, night.mark, size=5.5,
                          ha="right", va="bottom", color=look.light[1], weight="bold")
        self.y += 1.6

    def comparisons(self, m: ReportModel) -> None:
        self.text(0, self.y + 0.8, "Cramps on your nights, with and without each evening "
                  "routine", size=12, weight="bold")
        self.text(0, self.y + 1.7, "An association on your own nights, not a cause. Unknown "
                  f"nights are left out; no claim until each group has {m.min_nights} nights.",
                  size=8.5, color=MUTED)
        self.y += 2.4
        if not m.comparisons:
            self.text(0, self.y + 0.6, "No evening routine is enabled.", size=9)
            self.y += 1.2
        for c in m.comparisons:
            r = c.relation
            self.text(0, self.y + 0.7, c.title, size=10, weight="bold")
            self.y += 1.0
            for what, nights, cramped, rate, colour in (
                    ("done", r.nights_done, r.cramp_nights_done, r.rate_done, BAR_DONE),
                    ("due, not done", r.nights_not_done, r.cramp_nights_not_done,
                     r.rate_not_done, BAR_NOT)):
                percent = "–" if rate is None else f"{rate:.0%}"
                self.text(0.3, self.y + 0.5, f"nights {what}: {nights}, {cramped} with a "
                          f"cramp ({percent})", size=8.5, va="center")
                self.bars.append((LABEL + 5, self.y + 0.2, 12, 0.6, TRACK))
                if rate:
                    self.bars.append((LABEL + 5, self.y + 0.2, 12 * rate, 0.6, colour))
                self.y += 0.8
            self.text(0.3, self.y + 0.55, f"On your nights: {r.verdict}.", size=8.5,
                      va="center", style="italic")
            self.y += 1.3

    def cell(self, x: float, y: float, look: legend.Look, *, dashed: bool = False) -> None:
        self.cells.append((x, y, look.light[0], dashed))
        if look.symbol:
            self.symbols.setdefault((look.symbol, look.light[1]), []).append(
                (x + 0.5, y + 0.5))

    # -- drawing -------------------------------------------------------------------------

    def png(self, version: str) -> bytes:
        height = self.y + 0.5
        dpi = min(DPI, MAX_PIXELS / (height * CELL_IN))
        fig = Figure(figsize=(WIDTH * CELL_IN, height * CELL_IN), dpi=dpi,
                     facecolor="#ffffff")
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(-0.5, WIDTH - 0.5)
        ax.set_ylim(height, 0)
        ax.axis("off")
        boxes = [Rectangle((x + 0.06, y + 0.06), 0.88, 0.88) for x, y, _, _ in self.cells]
        ax.add_collection(PatchCollection(
            boxes, facecolors=[face for _, _, face, _ in self.cells],
            edgecolors=[INK if dashed else LINE for *_, dashed in self.cells],
            linestyles=["--" if dashed else "-" for *_, dashed in self.cells],
            linewidths=0.6))
        ax.add_collection(PatchCollection(
            [Rectangle((x, y), w, h) for x, y, w, h, _ in self.bars],
            facecolors=[colour for *_, colour in self.bars], linewidths=0))
        points_per_cell = CELL_IN * 72
        for (symbol, colour), where in self.symbols.items():
            xs, ys = zip(*where, strict=True)
            ax.scatter(xs, ys, marker=_marker(symbol), c=colour, linewidths=0,
                       s=(points_per_cell * 0.62) ** 2)
        for x, y, text, style in self.texts:
            ax.text(x, y, text, family=FONT, color=style.pop("color", INK), **style)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=dpi,
                    metadata={"Software": f"crampguard {version} report"})
        return out.getvalue()


def _marker(symbol: str) -> MarkerStyle:
    """A glyph as a scatter marker, centred on its point. matplotlib scales a path marker
    about the origin until its farthest point is at the edge: the glyph's box is moved to
    the origin, and two bare move-to points at the corners of one size for every glyph
    keep a dot a dot, not a blot as big as a tick."""
    path = TextPath((0, 0), symbol, prop=FontProperties(family=FONT), size=10)
    low, high = path.vertices.min(axis=0), path.vertices.max(axis=0)
    reach = 6.0  # half the box every glyph is drawn in, in the text path's units
    vertices = np.concatenate([path.vertices - (low + high) / 2, [[reach, reach],
                                                                  [-reach, -reach]]])
    codes = np.concatenate([path.codes, [MplPath.MOVETO, MplPath.MOVETO]])
    return MarkerStyle(MplPath(vertices, codes))
