"""The tests' own rules (tests/support/plugin.py): a notification server starts only in a
test marked `desktop`, and every test using the `desktop` fixture carries that marker."""

from __future__ import annotations

import pytest

from tests.support.desktop import Desktop


def test_a_desktop_does_not_start_in_a_test_without_the_marker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_spawn(self: Desktop, *args: object, **kwargs: object) -> None:
        raise AssertionError("the guard let a Desktop start a program")

    monkeypatch.setattr(Desktop, "_spawn", no_spawn)
    half_started = Desktop()
    with pytest.raises(pytest.fail.Exception, match="without the `desktop` marker"):
        half_started.start()
    assert half_started.dir is None


def test_every_collected_test_using_the_desktop_fixture_is_marked(
    request: pytest.FixtureRequest,
) -> None:
    unmarked = [item.nodeid for item in request.session.items
                if "desktop" in getattr(item, "fixturenames", ())
                and item.get_closest_marker("desktop") is None]
    assert unmarked == []
