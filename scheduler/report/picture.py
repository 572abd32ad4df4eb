"""The report's pictures as one PNG (`report --out FILE.png`): the calendar blocks with the
nights row and the legend, and each evening routine's comparison as small bars.

matplotlib with the Agg backend (no display needed) and DejaVu Sans, which ships inside
matplotlib: the same image on every machine. Chinese needs a font with its glyphs, which
DejaVu Sans has not: the first of ``CJK_FONTS`` the system has (Debian's
fonts-wqy-microhei or fonts-noto-cjk) takes over for those characters; without one the
command draws the picture in English and says why (``can_draw``). Imported only for a PNG:
matplotlib is the slowest import crampguard has, and neither the daemon nor the HTML page needs it.

Everything is drawn on one set of axes measured in calendar cells (x to the right, y
downwards): the cells as one collection, and all text and symbols as filled outlines, one
path per colour, so a year of 20 routines is a handful of artists, not thousands of texts.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

import matplotlib

matplotlib.use("Agg")  # before pyplot or any backend is chosen: no display, no GUI toolkit

import numpy as np  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402
from matplotlib.textpath import TextPath  # noqa: E402

from scheduler import i18n  # noqa: E402
from scheduler.i18n import N_, _, ngettext  # noqa: E402
from scheduler.report import legend  # noqa: E402
from scheduler.report.model import ReportModel, day_words, short_weekday  # noqa: E402

FONT = "DejaVu Sans"
#: Fonts with the Chinese glyphs, in the order tried (by their family names).
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC")
#: How their files are named (fonts-wqy-microhei, fonts-noto-cjk).
CJK_FILES = ("wqy-microhei", "notosanscjk", "notosanssc", "sourcehansans")
#: The languages whose words DejaVu Sans cannot draw.
CJK_LANGUAGES = ("zh", "ja", "ko")
CELL_IN = 0.28  # one calendar cell, in inches
POINTS_PER_CELL = CELL_IN * 72
SYMBOL_PT = POINTS_PER_CELL * 0.6
DPI = 100
#: Past this many pixels in height the image is drawn at a lower resolution (a decade of
#: days would otherwise pass what PNG viewers open).
MAX_PIXELS = 30_000
LABEL = 10.0  # the routine names' column, in cells
MONTH_COLUMNS = 31
WIDTH = LABEL + MONTH_COLUMNS + 1.0
#: An outline in cell units: its vertices, and their path codes.
Shape = tuple[np.ndarray, np.ndarray]
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
        #: text and symbols as filled outlines, by colour: (shape, where its origin goes)
        self.ink: dict[str, list[tuple[Shape, tuple[float, float]]]] = {}
        self.bars: list[tuple[float, float, float, float, str]] = []

    # -- what goes on it -----------------------------------------------------------------

    def text(self, x: float, y: float, text: str, *, size: float, color: str = INK,
             weight: str = "normal", style: Literal["normal", "italic"] = "normal",
             ha: str = "left",
             va: str = "baseline") -> None:
        """``text`` placed as ``Axes.text`` would place it (``ha``, ``va``), as an outline."""
        shape, dx, dy = _aligned(text, size, weight, style, ha, va)
        if len(shape[0]):
            self.ink.setdefault(color, []).append((shape, (x + dx, y + dy)))

    def header(self, m: ReportModel, made: datetime) -> None:
        self.text(0, self.y + 0.9, _("Leg-cramp prevention routines"), size=17, weight="bold")
        self.text(0, self.y + 2.0, " · ".join((
            _("{first} to {last}").format(first=day_words(m.first), last=day_words(m.last)),
            ngettext("{n} day", "{n} days", len(m.days)).format(n=len(m.days)),
            _("times in {zone}").format(zone=m.zone))), size=12)
        n = m.night_counts
        self.text(0, self.y + 3.0,
                  _("{routines} routines enabled · nights: {cramp} with a cramp, {no_cramp} "
                    "without, {unknown} unknown (nothing logged)").format(
                      routines=len(m.routines), cramp=n.cramp, no_cramp=n.no_cramp,
                      unknown=n.unknown)
                  + (_(", {n} not over").format(n=m.nights_ahead) if m.nights_ahead else "")
                  + " · " + _("made {made} by crampguard").format(
                      made=f"{made:%Y-%m-%d %H:%M}"), size=9.5, color=MUTED)
        self.y += 4.2

    def key(self) -> None:
        """The legend: each kind of day, then of night."""
        for looks, night in ((legend.DAY, False), (legend.NIGHT, True)):
            x = 0.0
            for look in looks:
                self.cell(x, self.y, look, dashed=look.key == "unknown" and night)
                label = _("night: {label}").format(label=look.label) if night else look.label
                self.text(x + 1.25, self.y + 0.5, label, size=8.5, va="center")
                x += 1.8 + 0.25 * i18n.width(label)
            self.y += 1.3
        self.y += 0.4

    def month(self, m: ReportModel, label: str, start: int, stop: int) -> None:
        self.text(0, self.y + 0.8, label, size=12, weight="bold")
        self.y += 1.3
        for column, day in enumerate(m.days[start:stop]):
            x = LABEL + column + 0.5
            weekend = day.weekday() >= 5
            self.text(x, self.y + 0.35, short_weekday(day), size=6, ha="center", color=MUTED)
            self.text(x, self.y + 0.85, str(day.day), size=7.5, ha="center",
                      weight="bold" if weekend else "normal",
                      color=INK if weekend else MUTED)
        self.y += 1.1
        for row in m.routines:
            title = i18n.routine_text(row.title)
            name = title if i18n.width(title) <= 38 else _cut(title, 37) + "…"
            self.text(LABEL - 0.3, self.y + 0.5, name, size=8, ha="right", va="center")
            for column, cell in enumerate(row.cells[start:stop]):
                self.cell(LABEL + column, self.y, legend.DAY_LOOK[cell.status])
            self.y += 1
        self.y += 0.15  # the nights row sits apart from the routines, under the evenings
        self.text(LABEL - 0.3, self.y + 0.5, _("Nights"), size=8, ha="right", va="center",
                  weight="bold")
        for column, night in enumerate(m.nights[start:stop]):
            look = legend.NIGHT_LOOK[night.status]
            self.cell(LABEL + column, self.y, look, dashed=night.status == "unknown")
            if night.mark:
                self.text(LABEL + column + 0.92, self.y + 0.92, night.mark, size=5.5,
                          ha="right", va="bottom", color=look.light[1], weight="bold")
        self.y += 1.6

    def comparisons(self, m: ReportModel) -> None:
        self.text(0, self.y + 0.8, _("Cramps on your nights, with and without each evening "
                                     "routine"), size=12, weight="bold")
        self.text(0, self.y + 1.7, _("An association on your own nights, not a cause. Unknown "
                                     "nights are left out; no claim until each group has {n} "
                                     "nights.").format(n=m.min_nights),
                  size=8.5, color=MUTED)
        self.y += 2.4
        if not m.comparisons:
            self.text(0, self.y + 0.6, _("No evening routine is enabled."), size=9)
            self.y += 1.2
        for c in m.comparisons:
            r = c.relation
            self.text(0, self.y + 0.7, i18n.routine_text(c.title), size=10, weight="bold")
            self.y += 1.0
            for what, nights, cramped, rate, colour in (
                    (_("nights done: {nights}, {cramped} with a cramp ({percent})"),
                     r.nights_done, r.cramp_nights_done, r.rate_done, BAR_DONE),
                    (_("nights due, not done: {nights}, {cramped} with a cramp ({percent})"),
                     r.nights_not_done, r.cramp_nights_not_done, r.rate_not_done, BAR_NOT)):
                percent = "–" if rate is None else f"{rate:.0%}"
                self.text(0.3, self.y + 0.5, what.format(nights=nights, cramped=cramped,
                                                         percent=percent),
                          size=8.5, va="center")
                self.bars.append((LABEL + 5, self.y + 0.2, 12, 0.6, TRACK))
                if rate:
                    self.bars.append((LABEL + 5, self.y + 0.2, 12 * rate, 0.6, colour))
                self.y += 0.8
            self.text(0.3, self.y + 0.55, _("On your nights: {verdict}.").format(
                verdict=r.verdict), size=8.5,
                      va="center", style="italic")
            self.y += 1.3

    def cell(self, x: float, y: float, look: legend.Look, *, dashed: bool = False) -> None:
        self.cells.append((x, y, look.light[0], dashed))
        if look.symbol:
            self.text(x + 0.5, y + 0.5, look.symbol, size=SYMBOL_PT, color=look.light[1],
                      ha="center", va="center")

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
        # Collections of plain arrays: a year is ~8,000 cells, and a patch object for each
        # took longer than the whole page.
        corners = np.array([[0.06, 0.06], [0.94, 0.06], [0.94, 0.94], [0.06, 0.94]])
        at = np.array([(x, y) for x, y, *_rest in self.cells]).reshape(-1, 1, 2)
        ax.add_collection(PolyCollection(
            at + corners, facecolors=[face for *_xy, face, _dashed in self.cells],
            edgecolors=[INK if dashed else LINE for *_, dashed in self.cells],
            linestyles=["--" if dashed else "-" for *_, dashed in self.cells],
            linewidths=0.6), autolim=False)
        ax.add_collection(PolyCollection(
            [[(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
             for x, y, w, h, _colour in self.bars],
            facecolors=[colour for *_, colour in self.bars], linewidths=0), autolim=False)
        for colour, placed in self.ink.items():
            # add_artist: add_patch would walk every curve of every glyph for the data
            # limits, which are fixed above
            ax.add_artist(PathPatch(_compound(placed), facecolor=colour, edgecolor="none",
                                    linewidth=0))
        out = io.BytesIO()
        # zlib level 3, not 6: a year's image is ~13 megapixels, and the default level took
        # half a second longer for a file ~15 % smaller
        fig.savefig(out, format="png", dpi=dpi, pil_kwargs={"compress_level": 3},
                    metadata={"Software": f"crampguard {version} report"})
        return out.getvalue()


def can_draw(language: str) -> tuple[bool, str | None]:
    """Whether the picture can be drawn in ``language`` (gettext's name), and a note for
    the user when it cannot."""
    if not language.startswith(CJK_LANGUAGES):
        return True, None
    if _cjk_font() is not None:
        return True, None
    return False, N_("no font with Chinese characters is installed (Debian: apt-get "
                     "install fonts-wqy-microhei); the picture is drawn in English")


@lru_cache(maxsize=1)
def _cjk_font() -> str | None:
    from matplotlib import font_manager

    manager = font_manager.fontManager
    found = _first_cjk({f.name for f in manager.ttflist})
    if found is None:
        # matplotlib keeps its list of fonts in a cache made the first time it ran, so a
        # font installed since is not in it: look at the system's fonts once more.
        for path in font_manager.findSystemFonts():
            if Path(path).name.lower().startswith(CJK_FILES):
                manager.addfont(path)
        found = _first_cjk({f.name for f in manager.ttflist})
    return found


def _first_cjk(names: set[str]) -> str | None:
    return next((name for name in CJK_FONTS if name in names), None)


def _families() -> list[str]:
    """DejaVu Sans first (the symbols, the Latin letters: the same look in every
    language), then a Chinese font for what it lacks."""
    cjk = _cjk_font() if i18n.language().startswith(CJK_LANGUAGES) else None
    return [FONT, cjk] if cjk else [FONT]


def _shape(text: str, size: float, weight: str, style: Literal["normal", "italic"]) -> Shape:
    """``text`` at ``size`` points as an outline in cell units, y downwards, its baseline's
    left end at the origin (the same shape is placed many times: a symbol, a day number)."""
    prop = FontProperties(family=_families(), weight=weight, style=style)
    path = TextPath((0, 0), text, size=size, prop=prop)
    scale = np.array([1 / POINTS_PER_CELL, -1 / POINTS_PER_CELL])
    return np.asarray(path.vertices) * scale, np.asarray(path.codes)


@lru_cache(maxsize=4096)
def _aligned(text: str, size: float, weight: str, style: Literal["normal", "italic"],
             ha: str, va: str) -> tuple[Shape, float, float]:
    """The shape of ``text`` and where its origin goes from the point it is placed at."""
    shape = _shape(text, size, weight, style)
    if not len(shape[0]):
        return shape, 0.0, 0.0
    (left, top), (right, bottom) = shape[0].min(axis=0), shape[0].max(axis=0)
    dx = {"left": 0.0, "center": -(left + right) / 2, "right": -right}[ha]
    dy = {"baseline": 0.0, "center": -(top + bottom) / 2, "bottom": -bottom}[va]
    return shape, float(dx), float(dy)


def _compound(placed: list[tuple[Shape, tuple[float, float]]]) -> MplPath:
    """One path of many placed shapes: one artist to draw instead of thousands of texts."""
    vertices = np.concatenate([shape[0] + np.array(where) for shape, where in placed])
    codes = np.concatenate([shape[1] for shape, _where in placed])
    return MplPath(vertices, codes)


def _cut(text: str, columns: int) -> str:
    """The start of ``text`` that fits in ``columns`` (a Chinese character takes two)."""
    while i18n.width(text) > columns:
        text = text[:-1]
    return text
