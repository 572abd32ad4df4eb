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

from scheduler import i18n
from scheduler.config import defaults
from scheduler.i18n import N_, _

if TYPE_CHECKING:
    from scheduler.config.context import Context

#: A word of a minus and a digit (`pause -5m`, `--when -1h`) is a value, which its own
#: check then explains ("a pause cannot be negative"), not an unknown option: argparse
#: takes only "-5" and "-1.5" so. No option of ours looks like one.
NEGATIVE_VALUE = re.compile(r"^-\d")


#: argparse's own words that a person meets (it looks each up through the `_` and
#: `ngettext` of its module, which ``speak_argparse`` points at ours), kept here so that
#: they are in crampguard's catalog.
ARGPARSE_WORDS = (
    N_("usage: "), N_("positional arguments"), N_("options"),
    N_("show this help message and exit"), N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"), N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"), N_("expected one argument"),
    N_("expected at most one argument"), N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"), N_("one of the arguments %s is required"),
    N_("ignored explicit argument %r"),
)


def speak_argparse() -> None:
    """argparse's words through crampguard's catalog (Python ships no translation of its
    own); they are looked up as the parser is built and used, after the language is set."""
    argparse._ = i18n._  # type: ignore[attr-defined]
    argparse.ngettext = i18n.ngettext  # type: ignore[attr-defined]


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
                        help=_("settings file (env CRAMPGUARD_CONFIG)"))
    parser.add_argument("--routines", metavar="DIR", default=default,
                        help=_("use only the routine files in DIR, none of the shipped ones "
                               "(env CRAMPGUARD_ROUTINES)"))


def json_option(parser: argparse.ArgumentParser, help_text: str | None = None) -> None:
    parser.add_argument("--json", action="store_true", help=help_text or _("print JSON"))


def notifier_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notifier", choices=defaults.NOTIFIERS,
                        help=_("override the notifier setting"))


def period_options(parser: argparse.ArgumentParser, days_default: str) -> None:
    """`--days N`, or `--from DATE [--to DATE]` (`report`, `export`)."""
    from scheduler.cli.times import DAYS

    parser.add_argument("--days", type=int, metavar="N",
                        help=_("the N days ending with --to (or today), {range}{default}")
                        .format(range=DAYS, default=days_default))
    parser.add_argument("--from", dest="start", metavar="DATE",
                        help=_("the first day, YYYY-MM-DD (not with --days)"))
    parser.add_argument("--to", dest="end", metavar="DATE",
                        help=_("the last day, YYYY-MM-DD (default today)"))


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
