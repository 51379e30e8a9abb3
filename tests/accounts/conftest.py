import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_throttle_counters():
    """Throttle counters live in the cache (LocMem, or Redis with CACHE_URL): every test
    starts and leaves with none, so no test is throttled by another's requests."""
    cache.clear()
    yield
    cache.clear()
