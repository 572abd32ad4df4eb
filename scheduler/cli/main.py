"""The command line: parse, run one command, print through ``render``, pick the exit code.

The only place that catches ``CrampguardError``. Heavy modules are imported inside the
handlers so ``crampguard --help`` starts in a blink.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from scheduler.config import defaults
from scheduler.timing.grammar import format_duration

DESCRIPTION = """\
Desktop reminders for the documented leg-cramp prevention routine: a warm foot soak and
calf stretches before bed, warm calves at night, leg breaks from long sitting, and more.

Routines are TOML files: the shipped ones, with your own in the config folder laid over
them by id (`crampguard init` copies them there for editing)."""

EPILOG = """\
environment:
  CRAMPGUARD_CONFIG       settings file (default: <config dir>/config.toml)
  CRAMPGUARD_ROUTINES     use only the routine files in this folder
  CRAMPGUARD_CONFIG_DIR   config folder (config.toml, routines/)
  CRAMPGUARD_STATE_DIR    state folder (journal)
  CRAMPGUARD_RUNTIME_DIR  runtime folder (socket, lock)
  CRAMPGUARD_TIMEZONE, CRAMPGUARD_QUIET_HOURS, CRAMPGUARD_NOTIFIER,
  CRAMPGUARD_ANCHORS__BEDTIME, ...  override config.toml keys

exit status: 0 ok, 1 bad input (every problem is printed), 2 bad command line."""


def _global_options(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument("--config", metavar="FILE", default=default,
                        help="settings file (env CRAMPGUARD_CONFIG)")
    parser.add_argument("--routines", metavar="DIR", default=default,
                        help="use only the routine files in DIR, none of the shipped ones "
                             "(env CRAMPGUARD_ROUTINES)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crampguard", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=_version())
    _global_options(parser, None)
    # The same options after the command name too (`crampguard next --routines x`).
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, handler: Callable[..., Any], help_text: str,
                description: str | None = None) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text,
                           description=description or help_text)
        p.set_defaults(handler=handler)
        return p

    p = command("check", _check, "validate routine files and config.toml",
                "Validate the active set (shipped + your routines) and config.toml, or only "
                "the given files or folders. Prints every problem as PATH:LINE: field: "
                "message, and exits 1 if there is any. A file named config.toml (or the "
                "settings file) is checked as settings. An enabled routine that is never "
                "shown (every firing inside quiet hours, or a schedule that never fires) is "
                "a warning, printed after the summary: not an error, exit 0.")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                   help="routine files or folders, or config.toml (default: the active set)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = command("list", _list, "show each routine: id, on/off, schedule, seed step",
                "Show each routine: id, on/off, its schedule with the resolved times, its "
                "seed step, the file(s) its values came from (a file of yours that changes "
                "a shipped routine is named with the keys it sets), and a warning if it is "
                "enabled but never shown.")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("next", _next, "show the next reminders in time order",
                "Show the next firings across the enabled routines, in time order. "
                "Firings held back by quiet hours are listed and marked.")
    p.add_argument("--count", "-n", type=int, default=10, metavar="N",
                   help="how many (default 10)")
    p.add_argument("--from", dest="start", metavar="TIME",
                   help="start here instead of now: ISO 8601, e.g. 2026-03-29T21:00; "
                        "without an offset it is a wall time in the chosen zone")
    p.add_argument("--tz", metavar="ZONE", help="IANA time zone, overriding the settings")
    p.add_argument("--routine", metavar="ID", help="only this routine (even if disabled)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON array of {routine, title, message, at, held}")

    p = command("run", _run, "run the reminder daemon in the foreground",
                "Run the daemon in the foreground (for a terminal or a service manager): "
                "schedule every enabled routine and deliver each reminder as a desktop "
                "notification. Edits to routine files and config.toml apply live; SIGHUP "
                "reloads; SIGTERM or Ctrl-C stops. Logs go to stderr.")
    p.add_argument("--verbose", "-v", action="store_true", help="log debug detail")
    p.add_argument("--notifier", choices=("auto", "dbus", "plyer", "console"),
                   help="override the notifier setting")

    p = command("notify-test", _notify_test, "send one test notification",
                "Send one test notification through the configured chain of notifiers "
                "(dbus, plyer, console) and say which one delivered it.")
    p.add_argument("--notifier", choices=("auto", "dbus", "plyer", "console"),
                   help="override the notifier setting")
    p.add_argument("--json", action="store_true", help="print JSON")

    # --- talking to the running daemon --------------------------------------------------
    live_help = " Talks to the running daemon; prints \"not running\" and exits 1 without one."
    p = command("status", _live("status"), "show the running daemon's state",
                "Running since, paused until, each routine's next firing, the last "
                "delivery." + live_help)
    p.add_argument("--json", action="store_true", help="print JSON")
    pause_default = _in_words(defaults.PAUSE)
    p = command("pause", _pause, f"hold all reminders for a while (default {pause_default})",
                f"Hold all reminders: `pause` ({pause_default}), `pause 30m`, "
                "`pause until 21:00` or "
                "`pause until 2026-11-23T21:00`. A pause always ends by itself; reminders "
                "due during it are recorded as skipped, not delivered later." + live_help)
    p.add_argument("when", nargs="*", metavar="DURATION | until TIME")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command("resume", _live("resume"), "end a pause now", "End a pause now." + live_help)
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command("snooze", _snooze,
                f"remind again later (default {_in_words(defaults.SNOOZE)})",
                "Deliver the routine's last reminder again after DURATION (default "
                f"{format_duration(defaults.SNOOZE)})."
                + live_help)
    p.add_argument("id", metavar="ID")
    p.add_argument("duration", nargs="?", metavar="DURATION", help="e.g. 10m, 1h")
    p.add_argument("--json", action="store_true", help="print JSON")
    for name, text in (("skip", "drop the routine's next firing"),
                       ("done", "record the routine's last reminder as done"),
                       ("trigger", "deliver the routine's reminder now")):
        p = command(name, _live(name, with_id=True), text, text[0].upper() + text[1:] + "."
                    + live_help)
        p.add_argument("id", metavar="ID")
        p.add_argument("--json", action="store_true", help="print JSON")
    p = command("reload", _live("reload"), "re-read the routine files and config.toml now",
                "Re-read the routine files and config.toml now." + live_help)
    p.add_argument("--json", action="store_true", help="print JSON")

    # --- the journal ---------------------------------------------------------------------
    p = command("history", _history, "show the journal, newest first",
                "The journal, newest first, in local time: reminders due, delivered, "
                "missed, done, snoozed, skipped; pauses; config errors; cramps.")
    p.add_argument("--days", type=int, default=7, metavar="N", help="how far back (default 7)")
    p.add_argument("--routine", metavar="ID", help="only this routine")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command("stats", _stats, "how well you kept each routine, and cramp nights",
                "Per routine: due, delivered, done, snoozed, skipped, missed, adherence "
                "(done / due) and the current streak of days done. Then, for each evening "
                "routine, the cramp rate on nights it was done versus nights it was not, "
                "with the counts behind each rate (no claim when there are too few nights).")
    p.add_argument("--days", type=int, default=30, metavar="N", help="how far back (default 30)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command("log-cramp", _log_cramp, "record a leg cramp",
                "Record a leg cramp in the journal (default: now).")
    p.add_argument("--when", metavar="TIME",
                   help='"last night", "02:30" (the last time the clock showed it), or ISO 8601')
    p.add_argument("--leg", choices=("left", "right", "both"))
    p.add_argument("--severity", type=int, metavar="1-5", help="1 mild … 5 worst")
    p.add_argument("--note", metavar="TEXT")
    p.add_argument("--json", action="store_true", help="print JSON")

    command("init", _init, "copy the shipped routines and a config.toml for editing",
            "Copy the shipped routines into your routines folder and write a commented "
            "config.toml. Existing files are never overwritten.")
    return parser


def _in_words(span: timedelta) -> str:
    """60 minutes reads "1 hour", 10 minutes "10 minutes"."""
    minutes = int(span.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _version() -> str:
    from scheduler import __version__

    return f"crampguard {__version__}"


def _context(args: argparse.Namespace, **flags: Any) -> Any:
    from scheduler.config.context import Context
    from scheduler.paths import resolve_paths

    paths = resolve_paths(config=args.config, routines=args.routines)
    return Context(paths, {k: v for k, v in flags.items() if v is not None})


def _check(args: argparse.Namespace) -> Any:
    from scheduler.cli import file_commands

    return file_commands.check(_context(args), args.paths)


def _list(args: argparse.Namespace) -> Any:
    from scheduler.cli import file_commands

    return file_commands.list_routines(_context(args))


def _next(args: argparse.Namespace) -> Any:
    from scheduler.cli import file_commands

    tz = file_commands.zone_flag(args.tz) if args.tz else None
    return file_commands.next_firings(_context(args, timezone=tz), count=args.count,
                                      start=args.start, routine_id=args.routine)


def _run(args: argparse.Namespace) -> Any:
    # The daemon never speaks TLS, but APScheduler and pydantic-settings import asyncio,
    # whose optional `import ssl` maps OpenSSL into the daemon's resident memory. A None
    # entry makes that import fail, which asyncio handles (it supports Pythons built
    # without ssl).
    sys.modules.setdefault("ssl", None)  # type: ignore[arg-type]
    import logging

    logging.basicConfig(
        stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s")
    from scheduler.daemon.service import Daemon

    Daemon(_context(args, notifier=args.notifier)).run()
    return None


def _notify_test(args: argparse.Namespace) -> Any:
    from scheduler.cli import file_commands

    return file_commands.notify_test(_context(args, notifier=args.notifier))


def _live(command: str, *, with_id: bool = False) -> Callable[[argparse.Namespace], Any]:
    def handler(args: argparse.Namespace) -> Any:
        from scheduler.cli import daemon_commands

        extra = {"id": args.id} if with_id else {}
        return daemon_commands.call(_context(args), command, **extra)

    return handler


def _pause(args: argparse.Namespace) -> Any:
    from scheduler.cli import daemon_commands

    return daemon_commands.pause(_context(args), args.when)


def _snooze(args: argparse.Namespace) -> Any:
    from scheduler.cli import daemon_commands

    return daemon_commands.snooze(_context(args), args.id, args.duration)


def _history(args: argparse.Namespace) -> Any:
    from scheduler.cli import journal_commands

    return journal_commands.history(_context(args), days=args.days, routine=args.routine)


def _stats(args: argparse.Namespace) -> Any:
    from scheduler.cli import journal_commands

    return journal_commands.stats(_context(args), days=args.days)


def _log_cramp(args: argparse.Namespace) -> Any:
    from scheduler.cli import journal_commands

    return journal_commands.log_cramp(_context(args), when=args.when, leg=args.leg,
                             severity=args.severity, note=args.note)


def _init(args: argparse.Namespace) -> Any:
    from scheduler.cli import file_commands

    return file_commands.init(_context(args))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from scheduler.errors import CrampguardError

    try:
        result = args.handler(args)
        if result is not None:
            from scheduler.cli import render

            render.emit(result, as_json=getattr(args, "json", False))
    except CrampguardError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
