"""The report as one self-contained HTML page (templates/report.html.j2).

jinja2 with autoescape on: routine titles come from the user's files and go through the
template's escaping, never into hand-joined strings. The page loads nothing: its CSS is
inline, it has no script, and its Content-Security-Policy forbids every fetch, so nothing
on it can leave the machine.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import jinja2
from markupsafe import Markup

from scheduler import i18n
from scheduler.report import legend
from scheduler.report.model import NO_EVIDENCE, ReportModel, day_words, short_weekday

#: In every page crampguard writes: an existing file without it is not crampguard's, and
#: is never replaced unasked.
GENERATOR = "crampguard report"
_TEMPLATES = Path(__file__).with_name("templates")


def render(model: ReportModel, *, made: datetime, version: str) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["percent"] = _percent
    env.filters["day_words"] = day_words
    env.filters["short_weekday"] = short_weekday
    env.filters["routine_text"] = i18n.routine_text
    env.filters["seed_text"] = i18n.seed_text
    # The page's words through the catalog, as `_("...")` in the template. Each comes back
    # escaped, as Markup, so that its .format() escapes what is put into it (a routine's
    # title from the user's file) and nothing is escaped twice.
    env.globals.update(_=lambda text: Markup.escape(i18n._(text)),
                       ngettext=lambda one, more, n: Markup.escape(i18n.ngettext(one, more, n)))
    return env.get_template("report.html.j2").render(
        lang=i18n.tag(), stats_command=Markup("<code>crampguard stats</code>"),
        m=model, made=made, version=version, generator=GENERATOR, day=legend.DAY,
        night=legend.NIGHT, day_look=legend.DAY_LOOK, night_look=legend.NIGHT_LOOK,
        no_evidence=NO_EVIDENCE, css_colours=Markup(_css_colours()))


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.0%}"


def _css_colours() -> str:
    """The legend's colours as CSS rules, light then dark (legend.py is the one table);
    on paper always the light ones."""
    rules = {"light": [], "dark": []}  # type: dict[str, list[str]]
    for prefix, looks in (("d", legend.DAY), ("n", legend.NIGHT)):
        for look in looks:
            for theme in rules:
                bg, fg = getattr(look, theme)
                rules[theme].append(f".{prefix}-{look.key} {{ background: {bg}; color: {fg}; }}")
    return ("\n".join(rules["light"]) + "\n@media screen and (prefers-color-scheme: dark) {\n  "
            + "\n  ".join(rules["dark"]) + "\n}")
