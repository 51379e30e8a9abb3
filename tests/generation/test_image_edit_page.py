"""Editing an image from its generation's page: POST /history/<pk>/images/<image_id>/edit."""

import re

import pytest
from django.urls import reverse

from generation.models import Generation
from tests.factories import GeneratedImageFactory

pytestmark = pytest.mark.django_db

EDITOR = "google/gemini-2.5-flash-image"


@pytest.fixture
def web(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def source(user):
    return GeneratedImageFactory(generation__owner=user)


def edit_url(image):
    return reverse("generation:image-edit", args=[image.generation_id, image.pk])


def chat_bodies(fake):
    return [r.body for r in fake.received if r.path.endswith("/chat/completions")]


def test_the_form_offers_only_models_that_take_and_give_images(web, catalogue, source):
    page = web.get(f"/history/{source.generation_id}").content.decode()
    form = re.search(r'<form [^>]*data-testid="edit-form".*?</form>', page, re.S).group(0)
    assert f'action="{reverse("generation:image-edit-picked", args=[source.generation_id])}"' in form
    assert 'id="id_edit_instruction"' in form
    assert f'<input type="hidden" name="image" value="{source.pk}">' in form  # one image: nothing to pick
    offered = set(re.findall(r'<option value="([^"]+)"', form))
    assert EDITOR in offered
    editors = {
        m.pk
        for m in catalogue
        if m.has_kind("image")
        and "image" in m.input_modalities
        and m.image_route == "chat"
        and m.enabled
        and not m.admins_only
    }
    assert offered == editors
    assert "openai/dall-e-3" not in offered and "openai/gpt-4o-mini" not in offered


def test_the_form_is_shown_only_on_your_own_images(client, admin_user, other_user, catalogue, source):
    client.force_login(other_user)
    assert client.get(f"/history/{source.generation_id}").status_code == 404
    client.force_login(admin_user)
    page = client.get(f"/history/{source.generation_id}")
    assert page.status_code == 200 and 'data-testid="generated-image"' in page.content.decode()
    assert 'data-testid="edit-form"' not in page.content.decode()


def test_the_form_is_not_shown_on_text_generations(web, catalogue):
    web.post("/generate/text", {"model": "fake/echo", "prompt": "hello"})
    page = web.get(f"/history/{Generation.objects.get().pk}").content.decode()
    assert 'data-testid="edit-form"' not in page


def test_editing_creates_a_linked_generation_and_redirects(web, catalogue, fake_openrouter, source):
    response = web.post(edit_url(source), {"instruction": "Make it night", "model": EDITOR})

    assert response.status_code == 302, response.content.decode()
    edit = Generation.objects.exclude(pk=source.generation_id).get()
    assert response["Location"] == reverse("generation:detail", args=[edit.pk])
    assert edit.source_image == source and edit.prompt == "Make it night" and edit.status == "completed"
    content = chat_bodies(fake_openrouter)[0]["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "Make it night"}
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    page = web.get(response["Location"]).content.decode()
    assert 'data-testid="edited-from"' in page and f'href="/history/{source.generation_id}"' in page


def test_someone_elses_image_is_not_found(client, other_user, catalogue, fake_openrouter, source):
    client.force_login(other_user)
    response = client.post(edit_url(source), {"instruction": "mine now", "model": EDITOR})
    assert response.status_code == 404
    assert chat_bodies(fake_openrouter) == [] and not Generation.objects.filter(owner=other_user).exists()


def test_an_image_of_another_generation_is_not_found(web, user, catalogue, fake_openrouter, source):
    elsewhere = GeneratedImageFactory(generation__owner=user)
    url = reverse("generation:image-edit", args=[elsewhere.generation_id, source.pk])
    assert web.post(url, {"instruction": "edit", "model": EDITOR}).status_code == 404
    assert chat_bodies(fake_openrouter) == []


def test_a_get_is_not_allowed(web, catalogue, source):
    assert web.get(edit_url(source)).status_code == 405


@pytest.mark.parametrize("model", ["openai/dall-e-3", "no/such-model"])
def test_a_bad_model_shows_the_error_on_the_page(web, catalogue, fake_openrouter, source, model):
    response = web.post(edit_url(source), {"instruction": "Make it night", "model": model})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="edit-form"' in page and "Select a valid choice" in page
    assert "Make it night" in page  # the submitted form is shown again
    assert chat_bodies(fake_openrouter) == [] and Generation.objects.count() == 1


def test_a_provider_failure_is_shown_as_a_form_error(web, catalogue, fault_model, fake_openrouter, source):
    model = fault_model("server_error", base=EDITOR)
    response = web.post(edit_url(source), {"instruction": "Make it night", "model": model})
    assert response.status_code >= 500
    page = response.content.decode()
    assert 'data-testid="edit-errors"' in page and "Make it night" in page
    assert Generation.objects.get(source_image=source).status == "failed"


def test_a_throttled_edit_is_shown_as_a_form_error(web, catalogue, fake_openrouter, source, monkeypatch):
    monkeypatch.setattr("generation.views.web_throttle_wait", lambda request: 30)
    response = web.post(edit_url(source), {"instruction": "Make it night", "model": EDITOR})
    assert response.status_code == 429 and "try again in 30 seconds" in response.content.decode()
    assert chat_bodies(fake_openrouter) == [] and Generation.objects.count() == 1


def test_one_form_picks_which_of_several_images(web, user, catalogue, fake_openrouter, source):
    second = GeneratedImageFactory(generation=source.generation, index=1)
    page = web.get(f"/history/{source.generation_id}").content.decode()
    assert page.count('data-testid="edit-form"') == 1
    form = re.search(r'<form [^>]*data-testid="edit-form".*?</form>', page, re.S).group(0)
    assert set(re.findall(r'<input type="radio" name="image" value="(\d+)"', form)) == {str(source.pk), str(second.pk)}

    url = reverse("generation:image-edit-picked", args=[source.generation_id])
    response = web.post(url, {"image": second.pk, "instruction": "Make it night", "model": EDITOR})
    assert response.status_code == 302, response.content.decode()
    assert Generation.objects.get(prompt="Make it night").source_image == second


def test_a_picked_image_of_another_generation_is_refused_on_its_field(web, user, catalogue, fake_openrouter, source):
    elsewhere = GeneratedImageFactory(generation__owner=user)
    url = reverse("generation:image-edit-picked", args=[source.generation_id])
    response = web.post(url, {"image": elsewhere.pk, "instruction": "edit", "model": EDITOR})
    assert response.status_code == 400
    assert 'id="id_edit_image_error"' in response.content.decode()
    assert chat_bodies(fake_openrouter) == []


def test_the_picked_route_is_the_owners_only(client, other_user, admin_user, catalogue, fake_openrouter, source):
    url = reverse("generation:image-edit-picked", args=[source.generation_id])
    body = {"image": source.pk, "instruction": "mine now", "model": EDITOR}
    assert client.post(url, body).status_code == 302  # anonymous: to the login page
    for someone in (other_user, admin_user):
        client.force_login(someone)
        assert client.post(url, body).status_code == 404
    assert chat_bodies(fake_openrouter) == []
