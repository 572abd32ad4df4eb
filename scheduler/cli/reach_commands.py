"""The command line's side of the ``[reach]`` channels: `doctor` checks each one without
sending anything, `notify-test --reach NAME` sends one test message. A channel's module is
imported only here, and only for a configured channel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scheduler import clock
from scheduler.errors import CrampguardError
from scheduler.i18n import _


@dataclass(frozen=True)
class ChannelCheck:
    name: str
    kind: str
    #: where it goes (never a secret)
    to: str
    #: what is wrong; empty when it answers as it should
    problems: list[str]


def check_channels(tables: dict[str, Any], state_dir: Path) -> list[ChannelCheck]:
    from scheduler.reach import registry

    found = []
    for name, table in tables.items():
        try:
            channel = registry.open_channel(name, table, state_dir)
        except CrampguardError as exc:
            found.append(ChannelCheck(name, table.kind, "", exc.problems))
            continue
        try:
            found.append(ChannelCheck(name, channel.kind, channel.describe(), channel.check()))
        except CrampguardError as exc:
            found.append(ChannelCheck(name, channel.kind, channel.describe(), exc.problems))
        finally:
            channel.close()
    return found


def send_test(tables: dict[str, Any], state_dir: Path, name: str) -> str:
    """Send one test message through ``[reach.NAME]``; its backend name."""
    from scheduler.planning import notices
    from scheduler.reach import Message, registry

    table = tables.get(name)
    if table is None:
        known = ", ".join(sorted(tables)) or _("none is configured")
        raise CrampguardError(_("no channel [reach.{name}] in the settings (channels: "
                                "{known})").format(name=name, known=known))
    notice = notices.test()
    channel = registry.open_channel(name, table, state_dir)
    try:
        channel.send(Message(routine="notify-test", due=clock.now(), title=notice.title,
                             body=notice.body, test=True))
    except CrampguardError as exc:
        raise CrampguardError([f"reach {name}: {p}" for p in exc.problems]) from None
    finally:
        channel.close()
    return f"reach:{name}"
