"""Model access: an administrator's switches (enabled, admins_only) through the API, the
admin panel and the Django admin; what the pickers and GET /api/models offer; what the
generation and video APIs refuse; and syncs that respect MODELS_ENABLED_BY_DEFAULT and
never overwrite the switches."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from catalogue import selectors, services
from catalogue.errors import UnknownModel
from catalogue.models import ProviderModel
from generation.models import Generation
from tests.factories import AdminFactory, ProviderModelFactory, UserFactory
from tests.support.accounts import bearer_client
from tests.support.provider import change_catalogue_rows
from videos.models import VideoJob

pytestmark = pytest.mark.django_db

TEXT = "openai/gpt-4o-mini"
VIDEO = "google/veo-3.1"


def _switch(model_id, **switches):
    change_catalogue_rows(model_id, **switches)


def _listed(client, kind):
    response = client.get("/api/models", {"kind": kind})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()}


# ------------------------------------------------------------------ PATCH /api/models/{id}


@pytest.fixture
def actors(db):
    return {"user": UserFactory(), "other": UserFactory(), "admin": AdminFactory()}


@pytest.mark.parametrize("actor, expected", [("anonymous", 401), ("user", 403), ("other", 403), ("admin", 200)])
def test_model_switches_authorization_matrix(catalogue, actors, actor, expected):
    client = APIClient() if actor == "anonymous" else bearer_client(actors[actor])

    response = client.patch(f"/api/models/{VIDEO}", {"enabled": False}, format="json")

    assert response.status_code == expected, response.content
    assert ProviderModel.objects.get(pk=VIDEO).enabled is (expected != 200)


def test_admin_switches_a_model_through_the_api(catalogue, admin_user):
    api = bearer_client(admin_user)

    response = api.patch(f"/api/models/{TEXT}", {"enabled": False}, format="json")
    assert response.status_code == 200
    assert response.json()["id"] == TEXT
    assert (response.json()["enabled"], response.json()["admins_only"]) == (False, False)

    response = api.patch(f"/api/models/{TEXT}", {"enabled": True, "admins_only": True}, format="json")
    assert (response.json()["enabled"], response.json()["admins_only"]) == (True, True)
    model = ProviderModel.objects.get(pk=TEXT)
    assert model.enabled and model.admins_only

    # Only what is sent changes.
    response = api.patch(f"/api/models/{TEXT}", {"admins_only": False}, format="json")
    assert (response.json()["enabled"], response.json()["admins_only"]) == (True, False)


def test_model_switches_refuse_bad_bodies_and_unknown_models(catalogue, admin_user):
    api = bearer_client(admin_user)
    assert api.patch(f"/api/models/{TEXT}", {}, format="json").status_code == 400
    response = api.patch(f"/api/models/{TEXT}", {"enabled": "perhaps"}, format="json")
    assert response.status_code == 400 and "enabled" in response.json()
    assert api.patch("/api/models/nobody/nothing", {"enabled": False}, format="json").status_code == 404


# ------------------------------------------------------------------ what is offered


def test_pickers_api_hides_disabled_and_admins_only_models_from_users(catalogue, user, admin_user):
    _switch(TEXT, enabled=False)
    _switch("fake/echo", admins_only=True)
    as_user, as_admin = bearer_client(user), bearer_client(admin_user)

    assert TEXT not in _listed(as_user, "text") and "fake/echo" not in _listed(as_user, "text")
    admin_sees = _listed(as_admin, "text")
    assert "fake/echo" in admin_sees and TEXT not in admin_sees  # disabled is disabled for everyone
    row = next(r for r in as_admin.get("/api/models").json() if r["id"] == "fake/echo")
    assert row["admins_only"] is True and row["enabled"] is True


def test_catalogue_list_filters_for_the_given_user_only():
    ProviderModelFactory(id="a/on")
    ProviderModelFactory(id="a/off", enabled=False)
    ProviderModelFactory(id="a/admins", admins_only=True)
    user, admin = UserFactory(), AdminFactory()

    def ids(**kw):
        return set(selectors.catalogue_list(kind="text", **kw).values_list("pk", flat=True))

    assert ids(user=user) == {"a/on"}
    assert ids(user=admin) == {"a/on", "a/admins"}
    assert ids() == {"a/on", "a/off", "a/admins"}  # no user: the whole catalogue (admin panel)


def test_pages_pickers_offer_only_the_models_the_person_may_use(catalogue, user, admin_user):
    _switch(TEXT, enabled=False)
    _switch("fake/echo", admins_only=True)
    _switch(VIDEO, admins_only=True)
    as_user, as_admin = Client(), Client()
    as_user.force_login(user)
    as_admin.force_login(admin_user)

    user_text = as_user.get("/generate/text").content.decode()
    admin_text = as_admin.get("/generate/text").content.decode()
    assert f'value="{TEXT}"' not in user_text and f'value="{TEXT}"' not in admin_text
    assert 'value="fake/echo"' not in user_text and 'value="fake/echo"' in admin_text
    assert f'value="{VIDEO}"' not in as_user.get("/generate/video").content.decode()
    assert f'value="{VIDEO}"' in as_admin.get("/generate/video").content.decode()


# ------------------------------------------------------------------ what is refused


def test_catalogue_entry_refuses_disabled_and_admins_only_models_naming_the_field():
    ProviderModelFactory(id="a/off", enabled=False)
    ProviderModelFactory(id="a/admins", admins_only=True)
    user, admin = UserFactory(), AdminFactory()

    with pytest.raises(UnknownModel) as refused:
        selectors.catalogue_entry(model_id="a/off", kind="text", user=admin)
    assert refused.value.field == "model" and "disabled" in refused.value.message
    with pytest.raises(UnknownModel) as refused:
        selectors.catalogue_entry(model_id="a/admins", kind="text", user=user)
    assert refused.value.field == "model" and "administrators only" in refused.value.message
    assert selectors.catalogue_entry(model_id="a/admins", kind="text", user=admin).pk == "a/admins"


def test_generation_apis_refuse_a_disabled_model_on_the_model_field(catalogue, fake_openrouter, user):
    _switch(TEXT, enabled=False)
    _switch("google/gemini-2.5-flash-image", enabled=False)
    api = bearer_client(user)

    text = api.post("/api/generate/text", {"prompt": "hi", "model": TEXT}, format="json")
    image = api.post(
        "/api/generate/image", {"prompt": "a fox", "model": "google/gemini-2.5-flash-image"}, format="json"
    )
    video = api.post("/api/generate/video", {"prompt": "a fox", "model": VIDEO}, format="json")

    assert text.status_code == 400 and "disabled" in text.json()["model"][0]
    assert image.status_code == 400 and "disabled" in image.json()["model"][0]
    assert video.status_code == 202, video.content  # still enabled
    _switch(VIDEO, enabled=False)
    video = api.post("/api/generate/video", {"prompt": "a fox", "model": VIDEO}, format="json")
    assert video.status_code == 400 and "disabled" in video.json()["model"][0]
    assert not Generation.objects.exists() and VideoJob.objects.count() == 1
    assert not [r for r in fake_openrouter.received if r.method == "POST"]


def test_admins_only_models_are_refused_to_users_and_served_to_admins(catalogue, user, admin_user):
    _switch("fake/echo", admins_only=True)

    refused = bearer_client(user).post("/api/generate/text", {"prompt": "hi", "model": "fake/echo"}, format="json")
    served = bearer_client(admin_user).post("/api/generate/text", {"prompt": "hi", "model": "fake/echo"}, format="json")

    assert refused.status_code == 400 and "administrators only" in refused.json()["model"][0]
    assert served.status_code == 200, served.content


# ------------------------------------------------------------------ the sync


def test_new_models_start_enabled_by_default(fake_openrouter, settings):
    assert settings.MODELS_ENABLED_BY_DEFAULT is True
    services.catalogue_sync()
    assert ProviderModel.objects.exists()
    assert not ProviderModel.objects.filter(enabled=False).exists()
    assert not ProviderModel.objects.filter(admins_only=True).exists()


def test_new_models_start_disabled_when_the_setting_says_so(fake_openrouter, settings):
    settings.MODELS_ENABLED_BY_DEFAULT = False
    services.catalogue_sync()
    assert ProviderModel.objects.exists() and not ProviderModel.objects.filter(enabled=True).exists()


def test_later_syncs_keep_the_administrators_switches(fake_openrouter, settings):
    services.catalogue_sync()
    _switch(TEXT, enabled=False)
    _switch(VIDEO, admins_only=True)
    _switch("fake/echo", name="changed by the provider")  # makes the next sync update that row
    ProviderModel.objects.filter(pk="openai/dall-e-3").delete()  # seen as new next time
    settings.MODELS_ENABLED_BY_DEFAULT = False

    result = services.catalogue_sync()

    assert result.created == 1 and result.updated >= 1
    assert ProviderModel.objects.get(pk=TEXT).enabled is False
    assert ProviderModel.objects.get(pk=VIDEO).admins_only is True
    echo = ProviderModel.objects.get(pk="fake/echo")
    assert echo.enabled and not echo.admins_only and echo.name != "changed by the provider"
    assert ProviderModel.objects.get(pk="openai/dall-e-3").enabled is False  # new: the setting decides
    assert ProviderModel.objects.filter(enabled=True).count() == ProviderModel.objects.count() - 2


# ------------------------------------------------------------------ the admin panel and Django admin


def test_admin_panel_lists_models_with_prices_and_switches(catalogue, admin_user, user):
    panel = Client()
    panel.force_login(admin_user)

    page = panel.get("/admin-panel/models")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-model="{TEXT}"' in html and "prompt:" in html  # the pricing dict's keys
    response = panel.post("/admin-panel/models/access", {"model": TEXT, "enabled": "off"}, follow=True)
    assert response.status_code == 200 and f"{TEXT} is now disabled" in response.content.decode()
    assert ProviderModel.objects.get(pk=TEXT).enabled is False
    panel.post("/admin-panel/models/access", {"model": TEXT, "enabled": "on", "admins_only": "on"})
    model = ProviderModel.objects.get(pk=TEXT)
    assert model.enabled and model.admins_only
    assert panel.post("/admin-panel/models/access", {"model": "nobody/nothing", "enabled": "on"}).status_code == 404

    as_user = Client()
    as_user.force_login(user)
    assert as_user.get("/admin-panel/models").status_code == 403
    assert as_user.post("/admin-panel/models/access", {"model": TEXT, "enabled": "off"}).status_code == 403
    assert Client().get("/admin-panel/models").status_code == 302
    assert ProviderModel.objects.get(pk=TEXT).enabled is True


def test_django_admin_edits_the_switches_in_the_list(admin_user):
    ProviderModelFactory(id="a/one")
    ProviderModelFactory(id="a/two")
    client = Client()
    client.force_login(admin_user)
    page = client.get("/admin/catalogue/providermodel/")
    assert page.status_code == 200 and 'name="form-0-enabled"' in page.content.decode()

    response = client.post(
        "/admin/catalogue/providermodel/",
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "2",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": "a/one",
            "form-0-enabled": "",
            "form-0-admins_only": "on",
            "form-1-id": "a/two",
            "form-1-enabled": "on",
            "form-1-admins_only": "",
            "_save": "Save",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    one, two = ProviderModel.objects.get(pk="a/one"), ProviderModel.objects.get(pk="a/two")
    assert (one.enabled, one.admins_only) == (False, True)
    assert (two.enabled, two.admins_only) == (True, False)
