"""Every command of the parser is documented: help in `crampguard --help`, a description in
its own `--help`, and a row in one of the README's command tables.

The commands come from the parser itself, so a command added later is checked too.
"""

from __future__ import annotations

import argparse
import re

import pytest

from scheduler.cli import build_parser
from tests.support.fixtures import ROOT


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return actions[0] if actions else None


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser, argparse._SubParsersAction]]:
    """(name path, its parser, the sub-parsers action it is in) for every command, sub-commands
    of commands included; an alias counts once, under its own name."""
    action = _subparsers(parser)
    if action is None:
        return []
    found = []
    seen: set[int] = set()
    for name, sub in action.choices.items():
        if id(sub) in seen:
            continue
        seen.add(id(sub))
        found.append(((*path, name), sub, action))
        found += _commands(sub, (*path, name))
    return found


COMMANDS = _commands(build_parser())
IDS = [" ".join(path) for path, _parser, _action in COMMANDS]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TABLE_ROWS = [line for line in README.splitlines() if line.startswith("|")]


def test_the_parser_has_commands() -> None:
    assert len(COMMANDS) > 1


@pytest.mark.parametrize(("path", "parser", "action"), COMMANDS, ids=IDS)
def test_each_command_has_help_and_a_description(
    path: tuple[str, ...], parser: argparse.ArgumentParser, action: argparse._SubParsersAction
) -> None:
    # argparse lists a command in its parent's help only when it was given help=
    helps = {choice.dest: choice.help for choice in action._choices_actions}
    assert (helps.get(path[-1]) or "").strip(), f"{' '.join(path)} has no help text"
    assert (parser.description or "").strip(), f"{' '.join(path)} has no description"


def test_each_command_is_listed_in_the_top_level_help(run) -> None:
    code, out, _err = run("--help")
    assert code == 0
    for path, _parser, action in COMMANDS:
        if len(path) == 1:
            help_text = {c.dest: c.help for c in action._choices_actions}[path[0]]
            assert re.search(rf"^\s+{re.escape(path[0])}\s", out, re.M), path[0]
            # argparse may wrap a long help text: compare its words, not its lines
            assert " ".join(help_text.split()) in " ".join(out.split()), path[0]


@pytest.mark.parametrize("path", [path for path, _p, _a in COMMANDS], ids=IDS)
def test_each_command_is_in_a_readme_command_table(path: tuple[str, ...]) -> None:
    usage = re.compile(rf"`crampguard {re.escape(' '.join(path))}[\s`]")
    rows = [row for row in TABLE_ROWS if usage.search(row)]
    assert rows, f"no README table row with `crampguard {' '.join(path)}`"


@pytest.mark.parametrize("path", [path for path, _p, _a in COMMANDS], ids=IDS)
def test_each_command_answers_help(run, path: tuple[str, ...]) -> None:
    code, out, err = run(*path, "--help")
    assert code == 0, err
    assert f"crampguard {' '.join(path)}" in out.split("\n\n")[0]  # the usage line
