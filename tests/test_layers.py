"""The package's architecture, held by a test: imports point one way and never loop.

base (errors, clock, paths, i18n) ← timing ← config ← planning ← calendar; journal, notify,
reach and the control channel build on base only; cli/ and daemon/ sit on top and do not
import each other (`crampguard run` starting the daemon is the one exception). Every import
counts: at the top of a module, inside a function, and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "scheduler"

#: What each layer may import, besides itself.
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "timing": {"base"},
    "config": {"base", "timing"},
    # notices.py builds the Notice (notify's data type) for a routine
    "planning": {"base", "timing", "config", "notify"},
    "journal": {"base"},
    "notify": {"base"},
    "control": {"base"},
    # the start-up entry: the command line's business only, never the daemon's
    "autostart": {"base"},
    # whether the user is there (D-Bus, X11): the daemon's and doctor's
    "presence": {"base"},
    # `report` and `export`: the journal and the routines drawn and written out (CLI side
    # only: the daemon never loads the drawing libraries)
    "report": {"base", "timing", "config", "journal"},
    # the phone's calendar: firings as iCalendar and a CalDAV collection kept in step
    # (the daemon and the CLI import it only when a calendar is configured or asked for)
    "calendar": {"base", "timing", "config", "planning"},
    # channels away from the desk (ntfy, e-mail, a command, Matrix): each kind's module is
    # imported only when a [reach.NAME] table of that kind is configured
    "reach": {"base"},
    "daemon": {"base", "timing", "config", "planning", "journal", "notify", "control",
               "presence", "calendar", "reach"},
    "cli": {"base", "timing", "config", "planning", "journal", "notify", "control",
            "autostart", "presence", "report", "calendar", "reach"},
    "entry": {"cli"},
}
#: (importer, imported): crossings the layers above do not allow, each for its reason.
EXCEPTIONS = {("scheduler.cli.main", "scheduler.daemon.service"),  # `run` starts the daemon
              # the control commands' checks quote the limits a user meets on the command
              # line and in a routine file (a snooze's longest), written once there
              ("scheduler.control.commands", "scheduler.config.defaults"),
              # the notifier's D-Bus reader, shared until it moves to a module of its own
              ("scheduler.presence.bus", "scheduler.notify.dbus")}
#: Third-party packages and the only layers (or modules) that may use them.
THIRD_PARTY = {
    "apscheduler": {"scheduler.daemon.engine"},
    "pydantic": {"config"},
    "pydantic_settings": {"config"},
    "jeepney": {"notify", "presence"},
    "plyer": {"notify"},
    "watchdog": {"scheduler.daemon.watcher"},
    "platformdirs": {"base"},
    "tzlocal": {"config"},
    "jinja2": {"report"},
    "matplotlib": {"scheduler.report.picture"},
    "icalendar": {"calendar"},
    "caldav": {"scheduler.calendar.collection"},
}
BASE = {"scheduler", "scheduler.errors", "scheduler.clock", "scheduler.paths",
        "scheduler.i18n"}


def layer(module: str) -> str:
    if module in BASE:
        return "base"
    if module == "scheduler.__main__":
        return "entry"
    return module.split(".")[1]


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(module: str, path: Path, known: set[str]) -> set[str]:
    """Every module ``module`` imports, anywhere in its text, resolved to known modules
    where they are ours and to the top-level name where they are not."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                if not is_package:
                    anchor = anchor[:-1]
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {name if name.split(".")[0] == "scheduler" else name.split(".")[0]
            for name in found}


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {module: imports(module, path, known) for module, path in found.items()}


def violations(edges: dict[str, set[str]]) -> list[str]:
    problems = []
    for importer, targets in sorted(edges.items()):
        for target in sorted(targets):
            if target.split(".")[0] != "scheduler":
                allowed = THIRD_PARTY.get(target)
                if allowed is not None and not ({importer, layer(importer)} & allowed):
                    problems.append(f"{importer} imports {target} (only {sorted(allowed)})")
                continue
            mine, theirs = layer(importer), layer(target)
            if mine == theirs or (importer, target) in EXCEPTIONS:
                continue
            if theirs not in ALLOWED[mine]:
                problems.append(f"{importer} ({mine}) imports {target} ({theirs})")
    return problems


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Import loops among our modules (each found once, from its smallest member)."""
    found = []
    ours = {m: {t for t in ts if t in edges} for m, ts in edges.items()}

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(ours[node]):
            if nxt == start:
                found.append([*path, start])
            elif nxt > start and nxt not in path:
                walk(start, nxt, [*path, nxt])

    for start in sorted(ours):
        walk(start, start, [start])
    return found


def test_every_import_points_the_right_way() -> None:
    assert violations(graph()) == []


def test_no_import_loops() -> None:
    assert cycles(graph()) == []


def test_every_module_belongs_to_a_layer() -> None:
    assert {layer(m) for m in modules()} <= set(ALLOWED)


# --- the checker catches what it should (so the two tests above can fail) -----------------


def test_a_forbidden_import_is_reported() -> None:
    edges = {"scheduler.timing.plans": {"scheduler.config.routine", "apscheduler"},
             "scheduler.daemon.service": {"scheduler.cli.render"},
             "scheduler.cli.main": {"scheduler.daemon.service"},
             "scheduler.journal.stats": {"scheduler.journal.events"}}
    assert violations(edges) == [
        "scheduler.daemon.service (daemon) imports scheduler.cli.render (cli)",
        "scheduler.timing.plans imports apscheduler (only ['scheduler.daemon.engine'])",
        "scheduler.timing.plans (timing) imports scheduler.config.routine (config)",
    ]


def test_a_loop_is_reported() -> None:
    edges = {"scheduler.journal.store": {"scheduler.journal.stats"},
             "scheduler.journal.stats": {"scheduler.journal.store"},
             "scheduler.journal.events": set()}
    assert cycles(edges) == [["scheduler.journal.stats", "scheduler.journal.store",
                              "scheduler.journal.stats"]]


@pytest.mark.parametrize(("text", "expected"), [
    ("from .base import Notice", "scheduler.notify.base"),
    ("from scheduler.timing import grammar", "scheduler.timing.grammar"),
    ("if TYPE_CHECKING:\n    from scheduler.cli.main import main", "scheduler.cli.main"),
    ("def f():\n    import scheduler.daemon.engine", "scheduler.daemon.engine"),
])
def test_imports_are_found_wherever_they_are(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "chain.py"
    path.write_text(text)
    assert expected in imports("scheduler.notify.chain", path, set(modules()))


# --- light commands stay light ------------------------------------------------------------

HEAVY = ("pydantic", "pydantic_settings", "apscheduler", "sqlite3", "jeepney", "watchdog",
         "scheduler.config.loader", "scheduler.daemon", "scheduler.presence")


@pytest.mark.parametrize("argv", [["--help"], ["status"], ["status", "--json"]])
def test_help_and_status_import_nothing_heavy(argv: list[str], tmp_path: Path) -> None:
    """`--help` and `status` (here: nothing running) start in a blink: no pydantic, no
    APScheduler, no SQLite, no D-Bus library, no daemon code."""
    import os
    import subprocess
    import sys

    code = ("import sys\nfrom scheduler.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)")
    env = {**os.environ, "CRAMPGUARD_RUNTIME_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=30, cwd=PACKAGE.parent)
    loaded = set(proc.stderr.split())
    assert "scheduler.cli.main" in loaded  # the probe itself worked
    assert sorted(m for m in loaded if m.startswith(HEAVY)) == []
