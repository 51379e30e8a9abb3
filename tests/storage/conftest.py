import pytest

from tests.support.provider import catalogue, fake_openrouter, fault_copies  # noqa: F401


@pytest.fixture(autouse=True)
def _media_in_tmp(media_root):
    """Every storage test stores its files in its own temporary MEDIA_ROOT."""
    return media_root
