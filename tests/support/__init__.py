"""Test helpers, loaded as a pytest plugin (``tests.support.plugin``) by tests/conftest.py."""
