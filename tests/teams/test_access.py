"""Models limited to groups: the pickers' list, GET /api/models, GET /v1/models and the
generation paths agree, through catalogue.selectors; a membership change applies to the
next request, even with the per-process entry cache on."""

import pytest

from accounts.api_keys import api_key_create
from catalogue.errors import UnknownModel
from catalogue.selectors import catalogue_entry, catalogue_list
from teams import services

pytestmark = pytest.mark.django_db
MINI = "openai/gpt-4o-mini"


@pytest.fixture
def limited(catalogue, group, user):
    """MINI limited to the group "Research", of which ``user`` is a member."""
    return group("Research", members=[user], models=[MINI])


def _api_models(client):
    response = client.get("/api/models?kind=text")
    assert response.status_code == 200, response.content
    body = response.json()
    return {m["id"] for m in (body["results"] if isinstance(body, dict) else body)}


def _v1_models(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user, name='k').secret}")
    response = client.get("/v1/models")
    assert response.status_code == 200, response.content
    return {m["id"] for m in response.json()["data"]}


def test_a_limited_model_is_offered_and_accepted_only_for_members_and_admins(
    limited, user, other_user, admin_user, client_for, fake_openrouter
):
    for person, sees in ((user, True), (other_user, False), (admin_user, True)):
        assert (MINI in {m.pk for m in catalogue_list(kind="text", user=person)}) is sees
        assert (MINI in _api_models(client_for(person))) is sees
        # An API key acts with a user's reach whatever its owner's role (accounts.authentication):
        # an administrator outside the group does not get the model through a key.
        assert (MINI in _v1_models(person)) is (sees and person is not admin_user)
    assert catalogue_entry(model_id=MINI, kind="text", user=user).pk == MINI
    with pytest.raises(UnknownModel) as refused:
        catalogue_entry(model_id=MINI, kind="text", user=other_user)
    assert "limited to groups" in refused.value.message

    response = client_for(other_user).post("/api/generate/text", {"prompt": "hi", "model": MINI}, format="json")
    assert response.status_code == 400 and "model" in response.json()
    assert (
        client_for(user).post("/api/generate/text", {"prompt": "hi", "model": MINI}, format="json").status_code == 200
    )


def test_other_models_stay_open_to_everyone(limited, other_user):
    offered = {m.pk for m in catalogue_list(kind="text", user=other_user)}
    assert offered and MINI not in offered
    assert offered == {m.pk for m in catalogue_list(kind="text")} - {MINI} - {
        m.pk for m in catalogue_list(kind="text") if not m.enabled or m.admins_only
    }


def test_membership_and_model_changes_apply_to_the_next_request_with_the_cache_on(
    limited, user, other_user, admin_user, settings
):
    settings.CATALOGUE_CACHE_SECONDS = 300
    assert catalogue_entry(model_id=MINI, kind="text", user=user)  # now kept by this process
    services.member_remove(team=limited, user_id=user.pk, by=admin_user)
    with pytest.raises(UnknownModel):
        catalogue_entry(model_id=MINI, kind="text", user=user)
    services.member_add(team=limited, user=other_user, by=admin_user)
    assert catalogue_entry(model_id=MINI, kind="text", user=other_user)
    # The model opened again (no group): everyone, at once.
    services.team_update(team=limited, by=admin_user, models=[])
    assert catalogue_entry(model_id=MINI, kind="text", user=user)
    services.team_update(team=limited, by=admin_user, models=[MINI])
    with pytest.raises(UnknownModel):
        catalogue_entry(model_id=MINI, kind="text", user=user)
    services.team_delete(team=limited, by=admin_user)
    assert catalogue_entry(model_id=MINI, kind="text", user=user)
