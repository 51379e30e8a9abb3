import pytest

from tests.support.provider import catalogue, fake_openrouter, fault_copies  # noqa: F401


@pytest.fixture(autouse=True)
def _media_in_tmp(media_root):
    """Every storage test stores its files in its own temporary MEDIA_ROOT."""
    return media_root


@pytest.fixture(autouse=True)
def _fresh_disk_full_reports(monkeypatch):
    """The log line about a full disk comes at most once a minute per process: each test
    starts as a process would."""
    from core import diskfull

    monkeypatch.setattr(diskfull, "_last_report", 0.0)
