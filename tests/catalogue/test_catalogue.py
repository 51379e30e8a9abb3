"""The model catalogue: sync from the offline double over real HTTP, the command, the
API the pickers use, and the lookup other apps validate against."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from catalogue import selectors, services
from catalogue.errors import EmptyCatalogue, UnknownModel
from catalogue.models import ProviderModel
from openrouter.validation import ParameterNotAccepted, validate_image_params, validate_video_params
from tests.factories import ProviderModelFactory
from tests.support.provider import change_catalogue_rows

pytestmark = pytest.mark.django_db


def _snapshot():
    """Every column but the bookkeeping timestamps, for comparing two syncs."""
    return {
        row["id"]: row
        for row in ProviderModel.objects.values().order_by("id")
        for _ in [row.pop("last_seen"), row.pop("updated_at")]
    }


def test_sync_fills_the_table_from_the_three_catalogues(fake_openrouter):
    started = timezone.now()
    result = services.catalogue_sync()

    paths = {request[1].split("?")[0] for request in fake_openrouter.received}
    assert {"/api/v1/models", "/api/v1/images/models", "/api/v1/videos/models"} <= paths
    assert result.created == ProviderModel.objects.count() > 0
    text = ProviderModel.objects.get(pk="openai/gpt-4o-mini")
    assert text.kinds == ["text"] and text.is_text and not text.is_image
    gemini = ProviderModel.objects.get(pk="google/gemini-2.5-flash-image")
    assert gemini.kinds == ["image"] and gemini.image_route == "chat"
    assert "16:9" in gemini.aspect_ratios and gemini.resolutions == ["1K", "2K", "4K"]
    assert set(gemini.output_modalities) == {"image", "text"}
    dalle = ProviderModel.objects.get(pk="openai/dall-e-3")
    assert dalle.image_route == "images" and "1792x1024" in dalle.sizes and dalle.max_n == 1
    veo = ProviderModel.objects.get(pk="google/veo-3.1")
    assert veo.is_video and veo.durations == [4, 6, 8] and "first_frame" in veo.frame_images
    assert veo.resolutions == ["720p", "1080p"] and veo.available
    assert veo.first_seen == veo.last_seen >= started


def test_sync_twice_is_idempotent(fake_openrouter):
    services.catalogue_sync()
    first = _snapshot()
    seen = ProviderModel.objects.get(pk="openai/dall-e-3").last_seen

    again = services.catalogue_sync()

    assert again.created == 0 and again.updated == 0 and again.marked_unavailable == 0
    assert again.unchanged == len(first)
    assert _snapshot() == first
    assert ProviderModel.objects.get(pk="openai/dall-e-3").last_seen > seen


def test_models_gone_from_the_provider_are_marked_unavailable_not_deleted(catalogue):
    ProviderModelFactory(id="retired/old-model", name="Old")

    result = services.catalogue_sync()

    assert result.marked_unavailable == 1
    retired = ProviderModel.objects.get(pk="retired/old-model")
    assert retired.available is False
    assert not selectors.catalogue_list(kind="text").filter(pk="retired/old-model").exists()
    with pytest.raises(UnknownModel):
        selectors.catalogue_entry(model_id="retired/old-model", kind="text")


def test_a_model_that_returns_is_available_again_and_changes_are_applied(catalogue):
    change_catalogue_rows("openai/dall-e-3", available=False, sizes=["1x1"])

    result = services.catalogue_sync()

    assert result.updated == 1 and result.created == 0
    dalle = ProviderModel.objects.get(pk="openai/dall-e-3")
    assert dalle.available and dalle.sizes == ["1024x1024", "1792x1024", "1024x1792"]


def test_an_empty_catalogue_changes_nothing(catalogue):
    before = _snapshot()
    with pytest.raises(EmptyCatalogue):
        services.catalogue_sync(entries=[])
    assert _snapshot() == before


def test_command_syncs_and_if_empty_skips_a_filled_table(fake_openrouter, capsys):
    call_command("sync_models", "--if-empty")
    assert ProviderModel.objects.exists()
    assert "synced" in capsys.readouterr().out
    fake_openrouter.received.clear()

    call_command("sync_models", "--if-empty")

    assert "nothing to do" in capsys.readouterr().out
    assert list(fake_openrouter.received) == []
    call_command("sync_models")
    assert "0 new" in capsys.readouterr().out


def test_command_reports_a_provider_failure(fake_openrouter, settings):
    from django.core.management.base import CommandError

    # Nothing listens on the discard port: the connection is refused.
    settings.OPENROUTER_BASE_URL = "http://127.0.0.1:9/api/v1"
    with pytest.raises(CommandError, match="sync failed"):
        call_command("sync_models")
    assert not ProviderModel.objects.exists()


def test_beat_runs_the_sync_daily():
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["sync-provider-models"]
    assert entry["task"] == "catalogue.tasks.sync_provider_models"
    assert entry["schedule"].total_seconds() == 24 * 3600
    app.loader.import_default_modules()
    assert "catalogue.tasks.sync_provider_models" in app.tasks


def test_sync_task_runs_the_service(fake_openrouter):
    from catalogue.tasks import sync_provider_models

    assert "new" in sync_provider_models.apply().get()
    assert ProviderModel.objects.filter(pk="openai/sora-2", is_video=True).exists()


# ------------------------------------------------------------------ lookups for other apps


def test_catalogue_entry_refuses_unknown_and_wrong_kind_models(catalogue):
    assert selectors.catalogue_entry(model_id="google/veo-3.1", kind="video").pk == "google/veo-3.1"
    with pytest.raises(UnknownModel) as unknown:
        selectors.catalogue_entry(model_id="nobody/nothing", kind="image")
    assert unknown.value.field == "model" and unknown.value.kind == "invalid"
    assert "nobody/nothing" in unknown.value.message and "image" in unknown.value.message
    with pytest.raises(UnknownModel) as wrong:
        selectors.catalogue_entry(model_id="openai/gpt-4o-mini", kind="video")
    assert "not a video model" in wrong.value.message and "text" in wrong.value.message
    with pytest.raises(UnknownModel):
        selectors.catalogue_entry(model_id="", kind="text")


def test_as_catalogue_model_feeds_the_validation_helpers(catalogue):
    gemini = ProviderModel.objects.get(pk="google/gemini-2.5-flash-image").as_catalogue_model()
    assert gemini.kinds == {"image"} and gemini.image_route == "chat"
    validate_image_params(gemini, n=1, aspect_ratio="16:9", image_size="2K")
    with pytest.raises(ParameterNotAccepted) as refused:
        validate_image_params(gemini, n=1, aspect_ratio="7:3")
    assert "16:9" in refused.value.accepted
    veo = ProviderModel.objects.get(pk="google/veo-3.1").as_catalogue_model()
    validate_video_params(veo, aspect_ratio="16:9", resolution="720p", duration=8, has_image=True)
    with pytest.raises(ParameterNotAccepted):
        validate_video_params(veo, duration=5)


# ------------------------------------------------------------------ GET /api/models


def test_models_api_lists_available_models_of_a_kind(catalogue, user_api):
    change_catalogue_rows("openai/gpt-image-1", available=False)

    images = user_api.get("/api/models", {"kind": "image"})

    assert images.status_code == 200
    by_id = {model["id"]: model for model in images.json()}
    assert "openai/gpt-image-1" not in by_id
    assert by_id["openai/dall-e-3"]["sizes"] == ["1024x1024", "1792x1024", "1024x1792"]
    assert by_id["google/gemini-2.5-flash-image"]["image_route"] == "chat"
    assert all("image" in model["kinds"] for model in by_id.values())
    videos = user_api.get("/api/models?kind=video").json()
    assert {m["id"] for m in videos} == {"google/veo-3.1", "openai/sora-2"}
    assert videos[0]["durations"]
    every = user_api.get("/api/models").json()
    assert len(every) == ProviderModel.objects.filter(available=True).count()


def test_models_api_refuses_an_unknown_kind(catalogue, user_api):
    response = user_api.get("/api/models?kind=audio")
    assert response.status_code == 400 and "kind" in response.json()


@pytest.mark.parametrize("who, status", [("anonymous", 401), ("user", 200), ("admin", 200)])
def test_models_api_needs_a_signed_in_user(catalogue, client_for, user, admin_user, who, status):
    client = client_for({"anonymous": None, "user": user, "admin": admin_user}[who])
    assert client.get("/api/models?kind=text").status_code == status
