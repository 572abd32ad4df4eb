"""`export` and `report` read the journal while the real daemon writes it: what the daemon
has just recorded is in them, and reading holds up neither a reminder nor an answer."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.support.daemon_proc import Daemon, cli, clock_in
from tests.support.routines import routine_text

pytestmark = pytest.mark.slow


def exported(env: dict[str, str]) -> list[dict[str, object]]:
    result = cli("export", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def todays_cell(page: str, title: str) -> str:
    """The status class of the routine's cell for today, read from the page's tooltips."""
    today = datetime.now(ZoneInfo("Europe/Berlin"))
    day = f"{today:%a} {today.day} {today:%b %Y}"
    row = page[page.index(title):]
    found = re.search(r'<td class="d-([a-z-]+)" title="' + re.escape(day), row)
    assert found, f"no cell for {day} after {title!r}"
    return found.group(1)


def test_export_and_report_while_the_daemon_delivers_and_records(
        routines: Path, console_env: dict[str, str], tmp_path: Path) -> None:
    (routines / "soak.toml").write_text(routine_text("Foot soak", clock_in(2)))
    (routines / "later.toml").write_text(routine_text("Later one", clock_in(12)))
    env = {**console_env, "CRAMPGUARD_ROUTINES": str(routines)}
    page = tmp_path / "report.html"
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"delivered soak via console", timeout=20)

        rows = [r for r in exported(env) if r["routine"] == "soak"]
        assert [r["kind"] for r in rows] == ["due", "delivered"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", str(rows[0]["due"]))
        made = cli("report", "--out", str(page), "--days", "1", env=env)
        assert made.returncode == 0, made.stderr
        assert todays_cell(page.read_text(encoding="utf-8"), "Foot soak") == "shown"

        # The readers held nothing: an answer and the next reminder go through.
        done = cli("done", "soak", env=env)
        assert done.returncode == 0, done.stderr
        daemon.wait_for(r"delivered later via console", timeout=30)
        assert [r["kind"] for r in exported(env) if r["routine"] == "soak"] == \
            ["due", "delivered", "done"]
        made = cli("report", "--out", str(page), "--days", "1", env=env)
        assert made.returncode == 0, made.stderr
        assert todays_cell(page.read_text(encoding="utf-8"), "Foot soak") == "done"
        assert daemon.stop() == 0
