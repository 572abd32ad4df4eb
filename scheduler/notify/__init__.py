"""Desktop notifications: one Notifier protocol, a backend per module, a chain that falls back.

Pick the backends with ``build_chain(settings.notifier, log)``; the chain's ``send`` returns a
Delivery naming the backend that showed the notice, for the journal.
"""

from .base import Delivery, Notice, Notifier, NotifierAway, NotifyError
from .chain import build_chain

__all__ = ["Delivery", "Notice", "Notifier", "NotifierAway", "NotifyError", "build_chain"]
