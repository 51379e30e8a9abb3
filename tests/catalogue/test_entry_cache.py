"""The catalogue entries a web process keeps (CATALOGUE_CACHE_SECONDS): read once per
period, forgotten at once after this process's own changes, and another process's
direct change seen once the period is over."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue import selectors, services
from catalogue.errors import UnknownModel
from catalogue.models import ProviderModel
from tests.factories import ProviderModelFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept(settings):
    settings.CATALOGUE_CACHE_SECONDS = 60
    selectors.catalogue_entries_changed()
    yield
    selectors.catalogue_entries_changed()


def _reads(model_id, **kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        selectors.catalogue_entry(model_id=model_id, kind="text", **kwargs)
    return sum('"provider_models"' in query["sql"] for query in queries.captured_queries)


def test_an_entry_is_read_once_per_period(kept):
    ProviderModelFactory(id="acme/chat")
    assert [_reads("acme/chat") for _ in range(3)] == [1, 0, 0]


def test_unknown_models_are_kept_too_and_still_refused(kept):
    for _ in range(2):
        with pytest.raises(UnknownModel):
            selectors.catalogue_entry(model_id="acme/none", kind="text")
    ProviderModelFactory(id="acme/none")  # a save forgets what was kept
    assert selectors.catalogue_entry(model_id="acme/none", kind="text").pk == "acme/none"


def test_the_admins_switch_applies_at_once(kept):
    model = ProviderModelFactory(id="acme/chat")
    user = UserFactory()
    selectors.catalogue_entry(model_id="acme/chat", kind="text", user=user)
    services.model_access_update(model=model, enabled=False)
    with pytest.raises(UnknownModel) as refused:
        selectors.catalogue_entry(model_id="acme/chat", kind="text", user=user)
    assert refused.value.field == "model"


def test_a_sync_forgets_the_kept_entries(kept, catalogue):
    entry = selectors.catalogue_entry(model_id="openai/gpt-4o-mini", kind="text")
    ProviderModel.objects.filter(pk=entry.pk).update(available=False)  # as another process would
    services.catalogue_sync()  # the double lists it again
    assert _reads("openai/gpt-4o-mini") == 1


def test_another_processs_change_shows_after_the_period(settings):
    settings.CATALOGUE_CACHE_SECONDS = 0.2
    selectors.catalogue_entries_changed()
    ProviderModelFactory(id="acme/chat")
    selectors.catalogue_entry(model_id="acme/chat", kind="text")
    ProviderModel.objects.filter(pk="acme/chat").update(available=False)  # no signal: like another process
    assert selectors.catalogue_entry(model_id="acme/chat", kind="text").pk == "acme/chat"
    time.sleep(0.3)
    with pytest.raises(UnknownModel):
        selectors.catalogue_entry(model_id="acme/chat", kind="text")
    selectors.catalogue_entries_changed()


def test_callers_get_their_own_copy(kept):
    ProviderModelFactory(id="acme/chat", name="Chat")
    first = selectors.catalogue_entry(model_id="acme/chat", kind="text")
    first.name = "changed by a caller"
    assert selectors.catalogue_entry(model_id="acme/chat", kind="text").name == "Chat"
