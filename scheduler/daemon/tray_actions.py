"""What each entry of the tray's menu does (menu module docstring: its keys), on the
daemon's loop: the notice's buttons' path for a reminder's answer, the control commands'
for a pause, the journal's own functions for a night or a cramp, `crampguard report` for
the report. Imported at the first click.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from scheduler.daemon import handlers
from scheduler.journal import nights
from scheduler.tray import menu

if TYPE_CHECKING:
    from scheduler.config.context import Context
    from scheduler.config.settings import Settings
    from scheduler.daemon.ledger import Ledger
    from scheduler.daemon.memory import Memory

log = logging.getLogger("crampguard")
#: How long the report may take to write before the menu gives up on opening it.
REPORT_TIMEOUT_S = 120.0


class Host(handlers.Service, Protocol):
    """What the tray needs of the running daemon (``service.Daemon`` implements it)."""

    ctx: Context
    settings: Settings
    memory: Memory
    ledger: Ledger

    def next_reminders(self, now: datetime) -> list[tuple[str, str, datetime | None]]: ...


def act(daemon: Host, key: str, now: datetime) -> None:
    """Carry out a menu entry's key (menu module docstring) on the loop."""
    log.info("tray: %s", key)
    what, _, rest = key.partition(" ")
    if what == "answer":
        routine_id, due, button = rest.split(" ")
        daemon.answers.tray(routine_id, datetime.fromisoformat(due), button, now)
    elif what == "pause":
        until = menu.pause_until(rest, now, daemon.settings.zone,
                                 daemon.settings.anchors.wake)
        _command(daemon, {"cmd": "pause", "until": until.isoformat()})
    elif what == "resume":
        _command(daemon, {"cmd": "resume"})
    elif what == "night":
        night = nights.night_before(now, daemon.settings.zone)
        daemon.ledger.write(lambda j: j.log_night(night, "none", at=now, source="tray"))
        log.info("night of %s: none (tray)", night.isoformat())
    elif what == "cramp":
        daemon.ledger.write(lambda j: j.log_cramp(when=now, at=now))
        log.info("cramp logged (tray)")
    elif what == "report":
        _open_report(daemon, now)
    else:
        log.warning("tray: unknown entry %r", key)


def _command(daemon: Host, request: dict[str, Any]) -> None:
    """A control command, as the control socket hands it to the daemon."""
    reply = handlers.handle(daemon, request)
    if not reply.get("ok"):
        log.warning("tray: %s: %s", request["cmd"], reply.get("error"))


def _open_report(daemon: Host, now: datetime) -> None:
    """`crampguard report` for this month so far, opened in the user's browser: on a
    thread of its own, so the reminders do not wait for the drawing."""
    paths = daemon.ctx.paths
    today = now.astimezone(daemon.settings.zone).date()
    out = paths.state_dir / f"crampguard-report-{today:%Y-%m}.html"
    argv = [sys.executable, "-m", "scheduler", *_same_files(paths.config_file,
                                                           paths.config_named_by,
                                                           paths.only_routines),
            "report", "--from", today.replace(day=1).isoformat(), "--out", str(out)]
    threading.Thread(target=_write_and_open, args=(argv, out),
                     name="crampguard-tray-report", daemon=True).start()


def _same_files(config: Path, named_by: str | None, routines: Path | None) -> list[str]:
    """The options that point the report at the daemon's own files."""
    return [*(["--config", str(config)] if named_by else []),
            *(["--routines", str(routines)] if routines else [])]


def _write_and_open(argv: list[str], out: Path) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=REPORT_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("tray: the report was not written: %s", exc)
        return
    if done.returncode != 0:
        log.warning("tray: the report was not written: %s", done.stderr.strip())
        return
    opener = shutil.which("xdg-open")
    if opener is None:
        log.warning("tray: the report is at %s (no xdg-open to open it)", out)
        return
    log.info("tray: opening the report %s", out)
    # waited for on this thread, so no zombie is left behind
    subprocess.run([opener, str(out)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, start_new_session=True, check=False)
