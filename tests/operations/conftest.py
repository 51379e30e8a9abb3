from tests.support.provider import catalogue, fake_openrouter, fault_copies  # noqa: F401
