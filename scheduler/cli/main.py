"""The command line: parse, run one command, print through ``render``, pick the exit code.

The only place that catches ``CrampguardError``. Heavy modules are imported inside the
handlers so ``crampguard --help`` starts in a blink.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from scheduler.cli import times
from scheduler.cli.times import in_words
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

exit status: 0 ok, 1 bad input (every problem is printed), 2 bad command line,
  130 interrupted (Ctrl-C), 141 the output was closed early (`crampguard next | head`).
  With --json a failure is JSON on stdout too: {"error": ..., "problems": [...]}."""

#: An instant typed on the command line: the years it may fall in.
YEARS_HELP = f"in the years {times.YEARS}"


#: The options whose value is a file name, which may be any bytes, UTF-8 or not.
FILE_OPTIONS = ("config", "routines", "out")
#: A word of a minus and a digit (`pause -5m`, `--when -1h`) is a value, which its own
#: check then explains ("a pause cannot be negative"), not an unknown option: argparse
#: takes only "-5" and "-1.5" so. No option of ours looks like one.
NEGATIVE_VALUE = re.compile(r"^-\d")


def _global_options(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument("--config", metavar="FILE", default=default,
                        help="settings file (env CRAMPGUARD_CONFIG)")
    parser.add_argument("--routines", metavar="DIR", default=default,
                        help="use only the routine files in DIR, none of the shipped ones "
                             "(env CRAMPGUARD_ROUTINES)")


class BadCommandLine(SystemExit):
    """argparse's complaint about the command line (exit 2), raised instead of printed so
    that ``main`` can say it as JSON too under --json."""

    def __init__(self, parser: argparse.ArgumentParser, message: str):
        super().__init__(2)
        self.parser, self.message = parser, message


class _Parser(argparse.ArgumentParser):
    # The commands' parsers are made of the same class (add_subparsers' default).
    def error(self, message: str) -> NoReturn:
        raise BadCommandLine(self, message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="crampguard", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=_version())
    _global_options(parser, None)
    # The same options after the command name too (`crampguard next --routines x`).
    common = _Parser(add_help=False)
    _global_options(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, handler: Callable[..., Any], help_text: str,
                description: str | None = None) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text,
                           description=description or help_text)
        p._negative_number_matcher = NEGATIVE_VALUE
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
                "Firings held back by quiet hours are listed and marked. A broken routine "
                "file is a warning and the rest are shown, but the exit status is 1 so a "
                "script can tell the plan is not whole.")
    p.add_argument("--count", "-n", type=int, default=10, metavar="N",
                   help=f"how many, {times.COUNT} (default 10)")
    p.add_argument("--from", dest="start", metavar="TIME",
                   help="start here instead of now: ISO 8601, e.g. 2026-03-29T21:00; "
                        "without an offset it is a wall time in the chosen zone; "
                        + YEARS_HELP)
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
                "(dbus, plyer, console) and say which one delivered it. A notifier chosen "
                "by name (--notifier dbus, or the setting) is tried alone: when it cannot "
                "deliver, say why and exit 1.")
    p.add_argument("--notifier", choices=("auto", "dbus", "plyer", "console"),
                   help="override the notifier setting")
    p.add_argument("--json", action="store_true", help="print JSON")

    # --- talking to the running daemon --------------------------------------------------
    live_help = " Talks to the running daemon; prints \"not running\" and exits 1 without one."
    p = command("status", _live("status"), "show the running daemon's state",
                "Running since, paused until, each routine's next firing, the last "
                "delivery." + live_help)
    p.add_argument("--json", action="store_true", help="print JSON")
    pause_default = in_words(defaults.PAUSE)
    p = command("pause", _pause, f"hold all reminders for a while (default {pause_default})",
                f"Hold all reminders: `pause` ({pause_default}), `pause 30m`, "
                "`pause until 21:00` or "
                "`pause until 2026-11-23T21:00`. A pause always ends by itself; reminders "
                "due during it are recorded as skipped, not delivered later." + live_help)
    p.add_argument("when", nargs="*", metavar="DURATION | until TIME",
                   help="a duration like 30m, 2h or 3d, or `until` HH:MM or an ISO 8601 "
                        f"time; {times.PAUSE_RULE}")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command("resume", _live("resume"), "end a pause now", "End a pause now." + live_help)
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command("snooze", _snooze,
                f"remind again later (default {in_words(defaults.SNOOZE)})",
                "Deliver the routine's last reminder again after DURATION (default "
                f"{format_duration(defaults.SNOOZE)})."
                + live_help)
    p.add_argument("id", metavar="ID")
    p.add_argument("duration", nargs="?", metavar="DURATION",
                   help=f"e.g. 10m, 1h; at most {in_words(times.SNOOZE_MAX)}")
    p.add_argument("--json", action="store_true", help="print JSON")
    for name, text, description in (
            ("skip", "drop the routine's next firing",
             "Drop the routine's next firing (held ones are passed over); says which, and "
             "which comes after it."),
            ("trigger", "deliver the routine's reminder now",
             "Deliver the routine's reminder now. It is recorded as manual: adherence "
             "counts only reminders that were due.")):
        p = command(name, _live(name, with_id=True), text, description + live_help)
        p.add_argument("id", metavar="ID")
        p.add_argument("--json", action="store_true", help="print JSON")
    p = command("done", _done, "record a reminder as done",
                "Record the routine's most recent unanswered reminder as done: one that was "
                "shown or missed (the laptop asleep, say), up to a day back. --due picks "
                "another; a reminder counts once however often it is marked." + live_help)
    p.add_argument("id", metavar="ID")
    p.add_argument("--due", metavar="TIME",
                   help='the reminder due at TIME: "21:45" (the last time the clock showed '
                        'it), or ISO 8601')
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command("reload", _live("reload"), "re-read the routine files and config.toml now",
                "Re-read the routine files and config.toml now." + live_help)
    p.add_argument("--json", action="store_true", help="print JSON")

    # --- the journal ---------------------------------------------------------------------
    p = command("history", _history, "show the journal, newest first",
                "The journal, newest first, in local time: reminders due, delivered, "
                "missed, done, snoozed, skipped; pauses; config errors; cramps.")
    p.add_argument("--days", type=int, default=7, metavar="N",
                   help=f"how far back, {times.DAYS} days (default 7)")
    p.add_argument("--routine", metavar="ID", help="only this routine")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command("stats", _stats, "how well you kept each routine, and cramp nights",
                "Per routine: due, delivered, done, snoozed, skipped, missed, adherence "
                "(done / due) and the current streak of days done. Then the nights (local "
                "noon to noon) with a cramp, without one (answered at the morning check-in "
                "or `log-cramp --none`) and unknown (nothing logged); and for each evening "
                "routine the cramp rate on nights it was done versus nights it was not, "
                "over known nights only, with the counts behind each rate (no claim when "
                "there are too few nights).")
    p.add_argument("--days", type=int, default=30, metavar="N",
                   help=f"how far back, {times.DAYS} days (default 30)")
    p.add_argument("--json", action="store_true", help="print JSON")
    period_help = {
        "days": f"the N days ending with --to (or today), {times.DAYS}",
        "from": "the first day, YYYY-MM-DD (not with --days)",
        "to": "the last day, YYYY-MM-DD (default today)"}

    def period_options(p: argparse.ArgumentParser, days_default: str) -> None:
        p.add_argument("--days", type=int, metavar="N",
                       help=period_help["days"] + days_default)
        p.add_argument("--from", dest="start", metavar="DATE", help=period_help["from"])
        p.add_argument("--to", dest="end", metavar="DATE", help=period_help["to"])

    p = command("report", _report, "a month at a glance: an HTML page (or PNG) to keep or print",
                "Write one self-contained HTML page (it opens from the file, with no network) "
                "about a period: a calendar with a row per enabled routine (done, skipped, "
                "missed, held, not due), the nights (cramp, no cramp, unknown) under the "
                "evening routines, the comparison `stats` makes for each evening routine, "
                "and for each routine the documented step it puts into practice with what "
                "published studies found. With --out FILE.png, the same pictures as an "
                "image. It prints cleanly and reads in a dark theme.")
    period_options(p, "; default 30")
    p.add_argument("--out", metavar="FILE", type=Path,
                   help="FILE.html, or FILE.png for the pictures as an image (default "
                        "crampguard-report-LAST-DAY.html here); an existing file that "
                        "crampguard did not write is never replaced")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")

    p = command("export", _export, "the journal as CSV or JSON, for a spreadsheet",
                "Every journal entry in the period (default: all of it), one row each, "
                "oldest first, in local time with the UTC offset. The columns are listed in "
                "the README and stay stable; CSV opens in a spreadsheet as it is.")
    p.add_argument("--format", choices=("csv", "json"), default="csv",
                   help="csv (default) or json (an array of objects with the same names)")
    period_options(p, "; default: the whole journal")
    p.add_argument("--out", metavar="FILE", type=Path,
                   help="write to FILE (replacing it) instead of standard output")

    p = command("log-cramp", _log_cramp, "record a leg cramp, or a night without one",
                "Record a leg cramp in the journal (default: now), or with --none a night "
                "without cramps (default: the night just gone), as the morning check-in's "
                "buttons do. Nights run from local noon to noon; the latest answer about a "
                "night wins.")
    p.add_argument("--when", metavar="TIME",
                   help='"last night", "02:30" (the last time the clock showed it), or ISO '
                        f"8601 {YEARS_HELP}; not in the future; with --none, the night "
                        "that TIME falls in")
    p.add_argument("--none", action="store_true",
                   help="no cramp that night (not with --leg or --severity)")
    p.add_argument("--leg", choices=("left", "right", "both"))
    p.add_argument("--severity", type=int, metavar="1-5", help="1 mild to 5 worst")
    p.add_argument("--note", metavar="TEXT")
    p.add_argument("--json", action="store_true", help="print JSON")
    from scheduler.journal.events import USER_EVENTS

    p = command("log", _log_event, "record something you did: log workout",
                "Record an event in the journal: `log workout` (default: now). Routines "
                'with after = "workout + 1h" fire that long after it. The running daemon '
                "is told at once; one that is not running reads the journal when it "
                "starts.")
    p.add_argument("event", metavar="EVENT", help=f"one of: {', '.join(USER_EVENTS)}")
    p.add_argument("--when", metavar="TIME",
                   help='"18:30" (the last time the clock showed it) or ISO 8601 '
                        f"{YEARS_HELP}; not in the future; default now")
    p.add_argument("--json", action="store_true", help="print JSON")

    command("init", _init, "copy the shipped routines and a config.toml for editing",
            "Copy the shipped routines into your routines folder and write a commented "
            "config.toml. Existing files are never overwritten.")

    # --- the session ---------------------------------------------------------------------
    p = command("service", _service, "start crampguard with your session: install, "
                "uninstall, status",
                "Start the daemon at login: a systemd user unit where a systemd user manager "
                "runs (else an XDG autostart file), a LaunchAgent on macOS, a script in the "
                "Startup folder on Windows. Files it did not write are left alone.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
            ("install", "write the start-up entry for this crampguard, enable and start it; "
                        "again to update it"),
            ("uninstall", "stop and remove the start-up entry crampguard wrote"),
            ("status", "what is installed, what it runs, and whether crampguard runs")):
        a = actions.add_parser(name, parents=[common], help=text, description=text[0].upper()
                               + text[1:] + ".")
        a.add_argument("--json", action="store_true", help="print JSON")
        if name == "install":
            a.add_argument("--force", action="store_true",
                           help="replace a file there that crampguard did not write")
    p = command("doctor", _doctor, "why reminders might not reach you: check everything",
                "Check what reminders depend on, without changing anything: the "
                "notification server, the notifier that would deliver, the next firing of "
                "each enabled routine, problems in the files, the journal, the service and "
                "the daemon, the presence sources. Exit 1 when something stops reminders "
                "(each is named as a problem, with the fix).")
    p.add_argument("--json", action="store_true", help="print JSON")
    return parser


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

    times.COUNT.check(args.count, "--count")
    tz = file_commands.zone_flag(args.tz) if args.tz else None
    return file_commands.next_firings(_context(args, timezone=tz), count=args.count,
                                      start=args.start, routine_id=args.routine)


def _run(args: argparse.Namespace) -> Any:
    # The daemon never speaks TLS nor needs OpenSSL's hashes, but APScheduler and
    # pydantic-settings import asyncio, whose optional `import ssl` maps OpenSSL into the
    # daemon's resident memory, and pydantic imports `secrets`, whose hashlib maps
    # libcrypto (3.4 MiB resident). A None entry makes each import fail, which asyncio and
    # hashlib handle (they support Pythons built without OpenSSL; hashlib falls back on its
    # built-in md5, sha1, sha2, sha3 and blake2).
    sys.modules.setdefault("ssl", None)  # type: ignore[arg-type]
    sys.modules.setdefault("_hashlib", None)  # type: ignore[arg-type]
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


def _done(args: argparse.Namespace) -> Any:
    from scheduler.cli import daemon_commands

    return daemon_commands.done(_context(args), args.id, args.due)


def _snooze(args: argparse.Namespace) -> Any:
    from scheduler.cli import daemon_commands

    return daemon_commands.snooze(_context(args), args.id, args.duration)


def _history(args: argparse.Namespace) -> Any:
    from scheduler.cli import journal_commands

    return journal_commands.history(_context(args), days=args.days, routine=args.routine)


def _stats(args: argparse.Namespace) -> Any:
    from scheduler.cli import journal_commands

    return journal_commands.stats(_context(args), days=args.days)


def _report(args: argparse.Namespace) -> Any:
    from scheduler.cli import report_commands

    return report_commands.report(_context(args), days=args.days, start=args.start,
                                  end=args.end, out=args.out)


def _export(args: argparse.Namespace) -> Any:
    from scheduler.cli import export_commands

    return export_commands.export(_context(args), fmt=args.format, days=args.days,
                                  start=args.start, end=args.end, out=args.out)


def _log_cramp(args: argparse.Namespace) -> Any:
    from scheduler.cli import journal_commands

    return journal_commands.log_cramp(_context(args), when=args.when, leg=args.leg,
                             severity=args.severity, note=args.note, none=args.none)


def _log_event(args: argparse.Namespace) -> Any:
    from scheduler.cli import journal_commands

    return journal_commands.log_event(_context(args), args.event, when=args.when)


def _service(args: argparse.Namespace) -> Any:
    from scheduler.cli import service_commands

    if args.action == "install":
        return service_commands.install(_context(args), force=args.force, config=args.config,
                                        routines=args.routines)
    return getattr(service_commands, args.action)(_context(args))


def _doctor(args: argparse.Namespace) -> Any:
    from scheduler.cli import doctor_commands

    return doctor_commands.doctor(_context(args))


def _init(args: argparse.Namespace) -> Any:
    from scheduler.cli import file_commands

    return file_commands.init(_context(args))


#: The exit status of a program whose reader went away (128 + SIGPIPE), as a shell shows it.
CLOSED_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    from scheduler.errors import CrampguardError

    status, args = 0, None
    as_json = wants_json(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        _require_text(parser, args)
        result = args.handler(args)
        if result is not None:
            from scheduler.cli import render

            render.emit(result, as_json=getattr(args, "json", False))
            status = getattr(result, "exit_status", 0)  # a report that found problems
        # Inside the try: with a pipe, the rest of the output leaves here, not in print.
        sys.stdout.flush()
    except BadCommandLine as exc:
        exc.parser.print_usage(sys.stderr)
        print(f"{exc.parser.prog}: error: {exc.message}", file=sys.stderr)
        _json_error([f"{exc.parser.prog}: {exc.message}"], as_json)
        return 2
    except CrampguardError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        _json_error(exc.problems, as_json)
        return 1
    except KeyboardInterrupt:
        _json_error(["interrupted"], as_json)
        return 130
    except BrokenPipeError:
        _drop_stdout()
        return CLOSED_PIPE
    finally:
        _warn_environment(args)
    return status


def _warn_environment(args: argparse.Namespace | None) -> None:
    """Unknown CRAMPGUARD_* variables (config/settings.py decides which), on stderr after a
    command that read the settings: one that did not (`status`) stays clear of pydantic,
    and the daemon (`run`) logs them itself."""
    settings = sys.modules.get("scheduler.config.settings")
    if settings is None or args is None or args.command == "run":
        return
    for warning in settings.unknown_variables(os.environ):
        print(f"warning: {warning}", file=sys.stderr)


def wants_json(argv: Sequence[str]) -> bool:
    """Whether the command line asks for --json (argparse takes a prefix such as --js), read
    before parsing: a command line argparse rejects is answered as JSON too."""
    words = list(argv)
    words = words[:words.index("--")] if "--" in words else words
    return any(len(w) >= 3 and "--json".startswith(w) for w in words)


def _json_error(problems: list[str], as_json: bool) -> None:
    """Under --json a failure is JSON on stdout as well as text on stderr, so a script
    parses every outcome; the exit status stays the same."""
    if as_json:
        from scheduler.cli import render

        render.emit_error(problems)


def _require_text(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Bytes that are not UTF-8 reach Python as lone surrogates, which a file name may hold
    but an id, a time or a note may not: they could be neither stored nor printed."""
    from scheduler.errors import CrampguardError

    for dest, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        bad = next((v for v in values if isinstance(v, str) and _surrogates(v)), None)
        if bad is not None and dest not in FILE_OPTIONS:
            raise CrampguardError(f"{_option_name(parser, args.command, dest)}: not UTF-8 text "
                                  f"(got {bad!r})")


def _surrogates(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)


def _option_name(parser: argparse.ArgumentParser, command: str, dest: str) -> str:
    """How the user wrote the option stored in ``dest``: "--from", or the metavar."""
    actions = [*parser._actions, *subcommands(parser)[command]._actions]
    action = next(a for a in actions if a.dest == dest)
    return action.option_strings[0] if action.option_strings else str(action.metavar or dest)


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parser of each command, by name."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _drop_stdout() -> None:
    """After the reader of stdout went away (`crampguard next | head -1`): point stdout at
    /dev/null so that the interpreter's own flush at exit does not fail a second time (see
    "Note on SIGPIPE" in the documentation of the signal module)."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # not a file (output captured in process): nothing to do
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
