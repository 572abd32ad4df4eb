"""Which module carries which kind of channel, imported only when one is configured (a
daemon without ``[reach]`` tables loads none of this package's channels)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scheduler.reach.base import Channel, ChannelError

#: kind → the module that defines ``CHANNEL``, a ``Channel`` subclass.
KINDS: dict[str, str] = {
    "command": "scheduler.reach.command",
    "email": "scheduler.reach.mail",
    "ntfy": "scheduler.reach.ntfy",
    "matrix": "scheduler.reach.matrix",
}


def channel_class(kind: str) -> type[Channel]:
    module_name = KINDS.get(kind)
    if module_name is None:
        raise ChannelError(f"no channel of kind {kind!r}; the kinds are "
                           f"{', '.join(sorted(KINDS))}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # an optional library not installed
        raise ChannelError(f"the {kind} channel cannot load: {exc}") from None
    found: type[Channel] = module.CHANNEL
    return found


def open_channel(name: str, settings: Any, state_dir: Path) -> Channel:
    """The channel ``[reach.NAME]`` describes (``settings.kind`` picks the module)."""
    return channel_class(settings.kind)(name, settings, state_dir)


def open_channels(tables: Mapping[str, Any], state_dir: Path) -> dict[str, Channel]:
    return {name: open_channel(name, table, state_dir) for name, table in tables.items()}
