"""The tests' pytest plugin, loaded by tests/conftest.py: the shared fixtures, and the
`desktop` marker on every test that starts a notification server.

A test using the ``desktop`` fixture, directly or through other fixtures, is marked at
collection; one that starts a ``Desktop`` itself must carry the marker by hand, or its
``Desktop.start()`` fails. So ``pytest -m "not desktop"`` starts no bus, Xvfb or dunst.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from tests.support import desktop as harness

pytest_plugins = ["tests.support.fixtures"]

MARKER = "desktop"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if MARKER in getattr(item, "fixturenames", ()) and not item.get_closest_marker(MARKER):
            item.add_marker(MARKER)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """While ``item`` runs (setup, call, teardown), a Desktop starts only if it is marked."""

    def guard() -> None:
        if item.get_closest_marker(MARKER) is None:
            pytest.fail(
                f"{item.nodeid} starts a notification server (Desktop) without the "
                f"`{MARKER}` marker: use the `{MARKER}` fixture or add "
                f"@pytest.mark.{MARKER}",
                pytrace=False,
            )

    harness.start_guard = guard
    try:
        return (yield)
    finally:
        harness.start_guard = None
