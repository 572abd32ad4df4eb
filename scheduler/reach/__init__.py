"""Reaching the user away from the desk: channels that carry a reminder to the phone (or
anywhere else) and, for two-way ones, bring the answer back.

Builds on base only. The daemon and the CLI open channels through ``registry``, which
imports a channel's module only when a ``[reach.NAME]`` table of its kind is configured.
"""

from scheduler.reach.base import (
    Answer,
    Channel,
    ChannelDown,
    ChannelError,
    Message,
    read_secret,
)

__all__ = ["Answer", "Channel", "ChannelDown", "ChannelError", "Message", "read_secret"]
