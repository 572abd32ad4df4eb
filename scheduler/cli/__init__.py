"""The command line (`crampguard`): the parser and `main`, a module per command group, and
the renderer. Nothing outside this folder imports it."""

from scheduler.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
