"""Moved to tests/support/provider.py; kept so older imports still work."""

from tests.support.provider import catalogue, fake_openrouter  # noqa: F401
