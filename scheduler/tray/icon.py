"""The tray icon, drawn here rather than looked up in an icon theme: it looks the same on
every panel and needs no theme installed. A disc in the state's colour (green: running,
amber with a dot: an answer is waiting, grey with two bars: paused), as the ARGB32 pixels
in network byte order that a StatusNotifierItem's IconPixmap carries.
"""

from __future__ import annotations

from functools import cache

from scheduler.tray.menu import PAUSED, RUNNING, WAITING

#: The sizes offered; the panel scales the nearest.
SIZES = (22, 44)
_COLOURS = {RUNNING: (0x2E, 0x9E, 0x5B), WAITING: (0xE8, 0x8A, 0x1A),
            PAUSED: (0x80, 0x80, 0x80)}
_WHITE = (0xFF, 0xFF, 0xFF)
#: Sub-samples per pixel side: smooth edges without a drawing library.
_SUB = 4


@cache
def pixmap(look: str, size: int) -> bytes:
    colour = _COLOURS[look]
    out = bytearray()
    for y in range(size):
        for x in range(size):
            disc = mark = 0
            for sy in range(_SUB):
                for sx in range(_SUB):
                    # the sample, in units of the icon (0..1 across)
                    u = (x + (sx + 0.5) / _SUB) / size
                    v = (y + (sy + 0.5) / _SUB) / size
                    if (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.46 ** 2:
                        disc += 1
                        mark += _in_mark(look, u, v)
            total = _SUB * _SUB
            alpha = disc * 255 // total
            share = mark / disc if disc else 0.0
            rgb = [round(c * (1 - share) + w * share) for c, w in zip(colour, _WHITE, strict=True)]
            out += bytes((alpha, *rgb))
    return bytes(out)


def _in_mark(look: str, u: float, v: float) -> int:
    """Whether a point of the disc is in the state's white mark."""
    if look == PAUSED:  # two bars
        return int(0.3 <= v <= 0.7 and (0.33 <= u <= 0.45 or 0.55 <= u <= 0.67))
    if look == WAITING:  # a dot: something to see
        return int((u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.16 ** 2)
    return 0


def pixmaps(look: str) -> list[tuple[int, int, bytes]]:
    """IconPixmap's a(iiay): each size as (width, height, pixels)."""
    return [(size, size, pixmap(look, size)) for size in SIZES]
