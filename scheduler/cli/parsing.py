"""What every command group's parser is made of: the parser class that raises instead of
printing, the global options, ``--json``, the notifier choice, and ``Group``, which adds a
command with its handler. Each group module adds its own commands (``add_parsers``).

Light on purpose: `crampguard --help` imports this and every group module, and nothing a
command needs only when it runs.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from scheduler.config import defaults

if TYPE_CHECKING:
    from scheduler.config.context import Context

#: A word of a minus and a digit (`pause -5m`, `--when -1h`) is a value, which its own
#: check then explains ("a pause cannot be negative"), not an unknown option: argparse
#: takes only "-5" and "-1.5" so. No option of ours looks like one.
NEGATIVE_VALUE = re.compile(r"^-\d")


class BadCommandLine(SystemExit):
    """argparse's complaint about the command line (exit 2), raised instead of printed so
    that ``main`` can say it as JSON too under --json."""

    def __init__(self, parser: argparse.ArgumentParser, message: str):
        super().__init__(2)
        self.parser, self.message = parser, message


class Parser(argparse.ArgumentParser):
    # The commands' parsers are made of the same class (add_subparsers' default).
    def error(self, message: str) -> NoReturn:
        raise BadCommandLine(self, message)

    def _print_message(self, message: str, file: Any = None) -> None:
        # argparse drops a failed write: a --help that did not reach a full disk would
        # still exit 0. Let main say it.
        if message:
            (file or sys.stderr).write(message)


def global_options(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument("--config", metavar="FILE", default=default,
                        help="settings file (env CRAMPGUARD_CONFIG)")
    parser.add_argument("--routines", metavar="DIR", default=default,
                        help="use only the routine files in DIR, none of the shipped ones "
                             "(env CRAMPGUARD_ROUTINES)")


def json_option(parser: argparse.ArgumentParser, help_text: str = "print JSON") -> None:
    parser.add_argument("--json", action="store_true", help=help_text)


def notifier_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notifier", choices=defaults.NOTIFIERS,
                        help="override the notifier setting")


def period_options(parser: argparse.ArgumentParser, days_default: str) -> None:
    """`--days N`, or `--from DATE [--to DATE]` (`report`, `export`)."""
    from scheduler.cli.times import DAYS

    parser.add_argument("--days", type=int, metavar="N",
                        help=f"the N days ending with --to (or today), {DAYS}{days_default}")
    parser.add_argument("--from", dest="start", metavar="DATE",
                        help="the first day, YYYY-MM-DD (not with --days)")
    parser.add_argument("--to", dest="end", metavar="DATE",
                        help="the last day, YYYY-MM-DD (default today)")


Handler = Callable[[argparse.Namespace], Any]


class Group:
    """Where a command group adds its commands: each with its handler (``args`` in, the
    result to print out), its help, and the global options after its name too."""

    def __init__(self, sub: Any, common: argparse.ArgumentParser):
        self._sub = sub
        self._common = common

    def add(self, name: str, handler: Handler, help_text: str,
            description: str | None = None) -> argparse.ArgumentParser:
        p = self._sub.add_parser(name, parents=[self._common], help=help_text,
                                 description=description or help_text)
        p._negative_number_matcher = NEGATIVE_VALUE
        p.set_defaults(handler=handler)
        return p

    def actions(self, parser: argparse.ArgumentParser) -> Any:
        """The sub-commands of ``parser`` (`service install`), with the global options."""
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        return Group(sub, self._common)


def context(args: argparse.Namespace, **flags: Any) -> Context:
    """The command's context: its paths from the global options, and ``flags`` (the
    command-line layer of the settings) that were given."""
    from scheduler.config.context import Context
    from scheduler.paths import resolve_paths

    paths = resolve_paths(config=args.config, routines=args.routines)
    return Context(paths, {k: v for k, v in flags.items() if v is not None})
