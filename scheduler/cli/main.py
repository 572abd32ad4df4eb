"""The command line: parse, run one command, print through ``render``, pick the exit code.

The only place that catches ``CrampguardError``. Heavy modules are imported inside the
handlers so ``crampguard --help`` starts in a blink.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from scheduler import footprint, i18n
from scheduler.cli import language
from scheduler.cli.parsing import (
    BadCommandLine,
    Group,
    Parser,
    context,
    global_options,
    notifier_option,
    speak_argparse,
)
from scheduler.errors import CrampguardError
from scheduler.i18n import N_, _

DESCRIPTION = N_("""\
Desktop reminders for the documented leg-cramp prevention routine: a warm foot soak and
calf stretches before bed, warm calves at night, leg breaks from long sitting, and more.

Routines are TOML files: the shipped ones, with your own in the config folder laid over
them by id (`crampguard init` copies them there for editing).""")

EPILOG = N_("""\
environment:
  CRAMPGUARD_CONFIG       settings file (default: <config dir>/config.toml)
  CRAMPGUARD_ROUTINES     use only the routine files in this folder
  CRAMPGUARD_CONFIG_DIR   config folder (config.toml, routines/)
  CRAMPGUARD_STATE_DIR    state folder (journal)
  CRAMPGUARD_RUNTIME_DIR  runtime folder (socket, lock)
  CRAMPGUARD_TIMEZONE, CRAMPGUARD_QUIET_HOURS, CRAMPGUARD_NOTIFIER,
  CRAMPGUARD_ANCHORS__BEDTIME, ...  override config.toml keys
  CRAMPGUARD_LANGUAGE     the language (zh_CN, en; default: LANGUAGE, LC_ALL,
                          LC_MESSAGES, LANG)

exit status: 0 ok, 1 bad input (every problem is printed), 2 bad command line,
  130 interrupted (Ctrl-C), 141 the output was closed early (`crampguard next | head`).
  With --json a failure is JSON on stdout too: {"error": ..., "problems": [...]}.""")

#: The order `crampguard --help` lists the commands in: files, the daemon, the journal,
#: the session (each group adds its own).
ORDER = ("check", "list", "next", "run", "notify-test", "status", "pause", "resume",
         "snooze", "skip", "trigger", "done", "reload", "history", "stats", "report",
         "export", "calendar", "log-cramp", "log", "init", "service", "doctor")
#: The options whose value is a file name, which may be any bytes, UTF-8 or not.
FILE_OPTIONS = ("config", "routines", "out")


def build_parser(only_run: bool = False) -> argparse.ArgumentParser:
    """The whole parser, or `run`'s own for the daemon, which stays resident for the whole
    session: the other commands' modules would cost it half a mebibyte."""
    speak_argparse()
    parser = Parser(
        prog="crampguard", description=_(DESCRIPTION), epilog=_(EPILOG),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=_version(),
                        help=_("show program's version number and exit"))
    global_options(parser, None)
    # The same options after the command name too (`crampguard next --routines x`).
    common = Parser(add_help=False)
    global_options(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    group = Group(sub, common)
    _add_run(group)
    if only_run:
        return parser
    from scheduler.cli import (
        calendar_commands,
        daemon_commands,
        doctor_commands,
        export_commands,
        file_commands,
        journal_commands,
        report_commands,
        service_commands,
    )

    for module in (file_commands, daemon_commands, journal_commands, report_commands,
                   export_commands, calendar_commands, service_commands, doctor_commands):
        module.add_parsers(group)
    sub._choices_actions.sort(key=lambda action: ORDER.index(action.dest))
    parsers = dict(sub.choices)  # the choices an unknown command is told, in that order too
    sub.choices.clear()
    sub.choices.update((name, parsers[name]) for name in ORDER)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The command word: the first word that is neither a global option nor its value."""
    words = iter(argv)
    for word in words:
        if word in ("--config", "--routines"):
            next(words, None)
        elif word == "--" or not word.startswith("-"):
            return None if word == "--" else word
    return None


def _add_run(group: Group) -> None:
    p = group.add("run", _run, _("run the reminder daemon in the foreground"),
                  _("Run the daemon in the foreground (for a terminal or a service manager): "
                    "schedule every enabled routine and deliver each reminder as a desktop "
                    "notification. Edits to routine files and config.toml apply live; SIGHUP "
                    "reloads; SIGTERM or Ctrl-C stops. Logs go to stderr."))
    p.add_argument("--verbose", "-v", action="store_true", help=_("log debug detail"))
    notifier_option(p)


def _version() -> str:
    from scheduler import __version__

    return f"crampguard {__version__}"


def _run(args: argparse.Namespace) -> Any:
    # The daemon's log and replies are English; it sets its notices' language itself,
    # from its settings, on every load.
    i18n.use(everywhere=False)
    import logging

    logging.basicConfig(
        stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s")
    from scheduler.daemon.service import Daemon

    Daemon(context(args, notifier=args.notifier)).run()
    return None


#: The exit status of a program whose reader went away (128 + SIGPIPE), as a shell shows it.
CLOSED_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    status, args = 0, None
    words = sys.argv[1:] if argv is None else argv
    as_json = wants_json(words)
    only_run = _command(words) == "run"
    if only_run:
        footprint.lighten()  # before anything is imported for the resident daemon
    # --json is for scripts: its output, errors included, never changes with the language.
    i18n.use("en" if as_json else language.setting(words))
    try:
        parser = build_parser(only_run)
        with _writing_stdout():  # --help and --version print while parsing
            args = parser.parse_args(argv)
        _require_text(parser, args)
        result = args.handler(args)
        with _writing_stdout():
            if result is not None:
                from scheduler.cli import render

                render.emit(result, as_json=getattr(args, "json", False))
                status = getattr(result, "exit_status", 0)  # a report that found problems
            # Inside the try: with a pipe, the rest of the output leaves here, not in print.
            sys.stdout.flush()
    except OutputFailed as exc:
        print(exc, file=sys.stderr)
        _drop_stdout()
        return 1
    except BadCommandLine as exc:
        exc.parser.print_usage(sys.stderr)
        print(_("{prog}: error: {message}").format(prog=exc.parser.prog, message=exc.message),
              file=sys.stderr)
        _json_error([f"{exc.parser.prog}: {exc.message}"], as_json)
        return 2
    except CrampguardError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        _json_error(exc.problems, as_json)
        return 1
    except KeyboardInterrupt:
        _json_error([_("interrupted")], as_json)
        return 130
    except BrokenPipeError:
        _drop_stdout()
        return CLOSED_PIPE
    finally:
        _warn_environment(args)
    return status


class OutputFailed(CrampguardError):
    """Standard output cannot be written (a full disk, /dev/full, an I/O error): said once
    on stderr, since writing the error to stdout would fail again."""


@contextmanager
def _writing_stdout() -> Iterator[None]:
    try:
        try:
            yield
        except SystemExit:
            sys.stdout.flush()  # --help's text may still be buffered: its failure shows here
            raise
    except BrokenPipeError:
        raise  # the reader went away: ends quietly (CLOSED_PIPE)
    except OSError as exc:
        if exc.filename is not None:
            raise  # a file the command reads or writes, not standard output
        raise OutputFailed(_("standard output: cannot write ({reason}); the output is "
                             "incomplete").format(reason=exc.strerror or exc)) from None


def _warn_environment(args: argparse.Namespace | None) -> None:
    """Unknown CRAMPGUARD_* variables (config/settings.py decides which), on stderr after a
    command that read the settings: one that did not (`status`) stays clear of pydantic,
    and the daemon (`run`) logs them itself."""
    settings = sys.modules.get("scheduler.config.settings")
    if settings is None or args is None or args.command == "run":
        return
    for warning in settings.unknown_variables(os.environ):
        print(_("warning: {warning}").format(warning=warning), file=sys.stderr)


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
    for dest, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        bad = next((v for v in values if isinstance(v, str) and _surrogates(v)), None)
        if bad is not None and dest not in FILE_OPTIONS:
            raise CrampguardError(_("{option}: not UTF-8 text (got {value})").format(
                option=_option_name(parser, args.command, dest), value=repr(bad)))


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
