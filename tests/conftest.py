"""The shared fixtures and helpers live in tests/support/ (see its plugin module)."""

pytest_plugins = ["tests.support.plugin"]
