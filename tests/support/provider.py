"""Reusable fixtures for tests that talk to the provider: the offline OpenRouter double
over real HTTP, and the model catalogue synced from it into the test database.

Use them from any test folder's conftest.py:

    from tests.support.provider import catalogue, fake_openrouter  # noqa: F401

The client (openrouter.client.get_client) rebuilds itself whenever the OPENROUTER_*
settings change, so pointing the settings at the double is all the "reset" it needs.
"""

import pytest


@pytest.fixture
def fake_openrouter(settings):
    """A started FakeOpenRouter on a free port; settings point the client at it.

    Retries are off so fault tests answer at once (the client's retry policy has its
    own tests); ``fake_openrouter.received`` lists every request the double got.
    """
    from openrouter.fake import FakeOpenRouter

    with FakeOpenRouter(port=0) as fake:
        settings.OPENROUTER_BASE_URL = fake.base_url
        settings.OPENROUTER_API_KEY = "test-key"
        settings.OPENROUTER_MAX_RETRIES = 0
        settings.OPENROUTER_READ_TIMEOUT = 30.0
        yield fake


@pytest.fixture
def catalogue(fake_openrouter, db):
    """The double's catalogue synced into ProviderModel; the double's request log is
    cleared afterwards so tests see only their own requests."""
    from catalogue.models import ProviderModel
    from catalogue.services import catalogue_sync

    catalogue_sync()
    fake_openrouter.received.clear()
    return ProviderModel.objects.all()


def fault_copies(default_base: str):
    """``make(fault, *, base=default_base)``: copy the catalogue entry ``base`` as
    ``<base>:fault=<fault>`` (the double's model-name marker, which it answers with that
    fault) and return the copy's id. For a conftest's fault-model fixture."""
    from catalogue.models import ProviderModel

    def make(fault: str, *, base: str = default_base) -> str:
        entry = ProviderModel.objects.get(pk=base)
        entry.pk = f"{base}:fault={fault}"
        entry.save(force_insert=True)
        return entry.pk

    return make


def change_catalogue_rows(model_id: str, **fields) -> None:
    """Change catalogue rows directly, as another process would (QuerySet.update sends no
    signal), then forget the entries this process keeps (catalogue.selectors), as the
    catalogue services do after their own changes."""
    from catalogue.models import ProviderModel
    from catalogue.selectors import catalogue_entries_changed

    ProviderModel.objects.filter(pk=model_id).update(**fields)
    catalogue_entries_changed()
