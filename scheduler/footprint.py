"""What the daemon keeps out of its resident memory, and how a feature takes it back.

The daemon stays resident all session, and the libraries it runs on import modules it never
uses. ``lighten()`` runs before anything else is imported for ``run``:

- *Blocked* optional C modules: the daemon never speaks TLS, hashes with OpenSSL,
  compresses or makes time-based UUIDs, but asyncio's optional ``import ssl``, hashlib's
  OpenSSL (pydantic's ``secrets``: libcrypto, 3.4 MiB), zipfile's and shutil's lzma and bz2
  (importlib.metadata) and uuid's libuuid (pydantic) would map those C libraries for the
  whole session. A None entry makes each optional import fail, which those modules handle:
  they support Pythons built without them (hashlib falls back on its built-in hashes).
- *Deferred* pure-Python modules: pydantic-settings imports asyncio for its command-line
  apps and APScheduler for one coroutine check, and APScheduler's scheduler imports its
  thread and process pools (multiprocessing, pickle); the daemon runs its timers inline and
  has no coroutines. Each stands in as a module object that holds the names those imports
  take; anything else asked of it imports the real module in its place and answers from
  it, so a later user of asyncio gets the real thing. About 2 MiB.

A feature that needs what was kept out (an https calendar or channel needs ssl) calls
``allow()`` before it imports its libraries.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

#: Optional C modules the daemon's libraries import and do without.
BLOCKED = ("ssl", "_hashlib", "_lzma", "_bz2", "_uuid")
#: Modules imported by the daemon's libraries for what the daemon never does, and the names
#: those imports take from them (each forwards to the real module if it is ever called).
DEFERRED: dict[str, tuple[str, ...]] = {
    "asyncio": ("iscoroutinefunction",),
    "apscheduler.executors.pool": ("ThreadPoolExecutor", "ProcessPoolExecutor"),
}

_lock = threading.RLock()


class _StandIn(types.ModuleType):
    """A deferred module until anything but its forwarding names is asked of it."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            # `from m import x` asks whether m is a package: a plain module is not
            raise AttributeError(name)
        return getattr(real(self.__name__), name)


def _forwarding(module: str, name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(real(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def lighten() -> None:
    """Before the daemon imports its libraries: keep what it never uses out of memory."""
    for optional in BLOCKED:
        sys.modules.setdefault(optional, None)  # type: ignore[arg-type]
    with _lock:
        for module, names in DEFERRED.items():
            if module not in sys.modules:
                stand_in = _StandIn(module)
                for name in names:
                    setattr(stand_in, name, _forwarding(module, name))
                sys.modules[module] = stand_in


def real(module: str) -> types.ModuleType:
    """``module`` itself, imported in place of its stand-in if it was deferred."""
    with _lock:
        if isinstance(sys.modules.get(module), _StandIn):
            del sys.modules[module]
        return importlib.import_module(module)


def allow(*modules: str) -> None:
    """Take back what ``lighten`` kept out (every module if none is named): before a
    feature imports libraries of its own (TLS for a server over https, say)."""
    with _lock:
        for module in modules or (*BLOCKED, *DEFERRED):
            found = sys.modules.get(module, ...)
            if found is None:
                del sys.modules[module]
            elif isinstance(found, _StandIn):
                real(module)


def deferred() -> list[str]:
    """The modules still standing in (for the tests and the footprint bench)."""
    return [name for name, module in sys.modules.items() if isinstance(module, _StandIn)]
