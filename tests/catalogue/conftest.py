from tests.support.provider import catalogue, fake_openrouter  # noqa: F401
