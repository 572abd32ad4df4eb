"""What the command line prints: history in the user's zone without empty fields, and
output to a reader that went away (`crampguard next | head -1`) ends quietly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.cli import render
from scheduler.cli.main import CLOSED_PIPE
from scheduler.cli.results import HistoryReport
from scheduler.journal.events import Event
from tests.support.daemon_proc import Daemon, cli
from tests.support.routines import routine_text

BERLIN = ZoneInfo("Europe/Berlin")
CRAMPGUARD = Path(sys.executable).with_name("crampguard")


# --- history ------------------------------------------------------------------------------

def test_history_shows_detail_instants_in_the_users_zone_and_leaves_out_empty_fields() -> None:
    events = [
        Event(3, datetime(2026, 11, 23, 20, 0, tzinfo=UTC), "paused", None, None, None,
              {"until": "2026-11-24T06:30:00+00:00"}),
        Event(2, datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "cramp", None, None, None,
              {"leg": None, "note": "", "severity": 2, "when": "2026-11-23T02:30:00+00:00"}),
        Event(1, datetime(2026, 11, 23, 8, 0, tzinfo=UTC), "missed", "foot-soak",
              datetime(2026, 11, 22, 20, 45, tzinfo=UTC), None,
              {"reason": "asleep", "problems": []}),
    ]
    lines = render.to_text(HistoryReport(events, BERLIN)).splitlines()
    assert lines[0].split() == ["Mon", "2026-11-23", "21:00:00", "paused",
                                "until", "Tue", "2026-11-24", "07:30:00"]
    assert lines[1].split() == ["Mon", "2026-11-23", "10:00:00", "cramp",
                                "severity", "2;", "when", "Mon", "2026-11-23", "03:30:00"]
    assert lines[2].split() == ["Mon", "2026-11-23", "09:00:00", "missed", "foot-soak",
                                "due", "Sun", "21:45:00;", "reason", "asleep"]
    assert "None" not in "\n".join(lines) and "+00:00" not in "\n".join(lines)


def test_text_that_only_looks_like_a_time_is_left_as_written() -> None:
    event = Event(1, datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "cramp", None, None, None,
                  {"note": "after 2026-11-22 dinner", "when": "2026-11-23T02:30"})
    line = render.to_text(HistoryReport([event], BERLIN))
    assert "note after 2026-11-22 dinner; when 2026-11-23T02:30" in line  # naive: unknown zone


def test_history_through_the_cli_is_local_and_has_no_empty_fields(run) -> None:
    when = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    code, _, err = run("log-cramp", "--when", when.isoformat())
    assert code == 0, err
    code, out, err = run("history")
    assert code == 0, err
    local = when.astimezone(BERLIN).strftime("%a %Y-%m-%d %H:%M:%S")
    assert out.rstrip().endswith(f"cramp{' ' * 31}when {local}"), out
    assert "None" not in out and "leg" not in out
    code, out, _ = run("history", "--json")  # scripts keep every field, as stored
    assert json.loads(out)[0]["detail"] == {"leg": None, "note": None, "severity": None,
                                            "when": when.isoformat()}


@pytest.mark.slow
def test_the_daemons_pause_reads_in_local_time_in_history(tmp_path: Path) -> None:
    """The longest pause the CLI allows gets through the real daemon, and history shows
    when it ends in the user's zone."""
    routines = tmp_path / "routines"
    routines.mkdir()
    (routines / "soak.toml").write_text(routine_text("Soak", "20:00"), encoding="utf-8")
    env = {**os.environ, "CRAMPGUARD_NOTIFIER": "console",
           "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent"}
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        longest = cli("pause", "30d", "--json")
        assert longest.returncode == 0, longest.stderr
        until = datetime.fromisoformat(json.loads(longest.stdout)["paused_until"])
        assert timedelta(days=30) - (until - datetime.now(UTC)) < timedelta(minutes=1)
        too_long = cli("pause", "30d1m")
        assert too_long.returncode == 1
        assert "a pause is at most 30 days" in too_long.stderr
        assert cli("resume").returncode == 0
        assert daemon.stop() == 0
    history = cli("history").stdout
    paused = next(line for line in history.splitlines() if " paused " in line)
    assert paused.endswith(f"until {until.astimezone(BERLIN):%a %Y-%m-%d %H:%M:%S}"), paused


# --- a closed pipe ------------------------------------------------------------------------

@pytest.fixture
def program() -> Path:
    """The installed `crampguard` program (the console script of this environment)."""
    if not CRAMPGUARD.exists():
        pytest.skip(f"no crampguard program next to {sys.executable} (pip install -e .)")
    return CRAMPGUARD


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_output_to_a_closed_pipe_ends_quietly(program: Path, extra: list[str]) -> None:
    """`crampguard next -n 5000 | head -1`: far more than a pipe holds, so the program is
    still writing when its reader leaves."""
    proc = subprocess.Popen(
        [str(program), "next", "-n", "5000", "--from", "2026-11-23T08:00", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=20)
    proc.stderr.close()
    assert first.strip()
    assert err == ""
    assert code == CLOSED_PIPE


def test_a_closed_pipe_in_a_shell_pipeline(program: Path, tmp_path: Path) -> None:
    """The issue's own words, through a shell and head."""
    script = (f'"{program}" next -n 5000 --from 2026-11-23T08:00 2>"{tmp_path}/err" '
              '| head -1; echo "status ${PIPESTATUS[0]}"')
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=20,
                          env=os.environ)
    first, status = proc.stdout.splitlines()
    assert first.startswith("Mon 2026-11-23")
    assert status == f"status {CLOSED_PIPE}"
    assert (tmp_path / "err").read_text() == ""
