"""Images attached to a conversation's message: kept as the owner's uploads (counted
against their storage quota), sent to a model that reads images as image_url parts,
and again with the later turns of the thread."""

import base64

import pytest

from conversations.models import Conversation, Message
from generation.models import GeneratedImage, Generation
from tests.factories import GeneratedImageFactory, png_bytes

VISION = "openai/gpt-4o-mini"
MB = 1024 * 1024


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def url_of(conversation):
    return f"/api/conversations/{conversation.pk}/messages"


def chats(fake):
    return [r for r in fake.received if r.path.endswith("/chat/completions")]


@pytest.fixture
def vision_conversation(catalogue, user):
    return Conversation.objects.create(owner=user, model_id=VISION)


def test_anonymous_is_refused(client_for, vision_conversation):
    response = client_for(None).post(url_of(vision_conversation), {"images": [data_url(png_bytes())]}, format="json")
    assert response.status_code == 401


def test_another_user_and_an_admin_get_404_and_nothing_is_stored(
    client_for, vision_conversation, other_user, admin_user, fake_openrouter
):
    for someone in (other_user, admin_user):
        response = client_for(someone).post(
            url_of(vision_conversation), {"content": "look", "images": [data_url(png_bytes())]}, format="json"
        )
        assert response.status_code == 404
    assert GeneratedImage.objects.count() == 0 and chats(fake_openrouter) == []


def test_the_image_reaches_the_model_as_an_image_url_part_and_is_kept(
    client_for, user, vision_conversation, fake_openrouter
):
    image = png_bytes(20, 10)
    response = client_for(user).post(
        url_of(vision_conversation), {"content": "What is this?", "images": [data_url(image)]}, format="json"
    )
    assert response.status_code == 201, response.content
    sent = chats(fake_openrouter)[-1].body["messages"][-1]
    assert sent["role"] == "user"
    assert sent["content"][0] == {"type": "text", "text": "What is this?"}
    assert sent["content"][1]["type"] == "image_url"
    assert base64.b64decode(sent["content"][1]["image_url"]["url"].split(",", 1)[1]) == image

    message = Message.objects.get(role="user")
    [kept] = message.images.all()
    assert kept.generation.owner == user and kept.generation.is_upload and kept.size_bytes == len(image)
    assert response.json()["message"]["images"] == [{"id": kept.pk, "url": kept.url}]
    # The answer's history row records what was sent, never the bytes.
    answer = Generation.objects.get(kind="text")
    assert answer.params["images"][0]["data"] == f"image/png, {len(image)} bytes"

    # The next turn sends the thread again, the earlier image with it.
    client_for(user).post(url_of(vision_conversation), {"content": "And now?"}, format="json")
    first = chats(fake_openrouter)[-1].body["messages"][0]
    assert first["content"][1]["type"] == "image_url" and first["content"][0]["text"] == "What is this?"


def test_an_image_alone_is_a_message(client_for, user, vision_conversation, fake_openrouter):
    response = client_for(user).post(url_of(vision_conversation), {"images": [data_url(png_bytes())]}, format="json")
    assert response.status_code == 201, response.content
    sent = chats(fake_openrouter)[-1].body["messages"][-1]
    assert [part["type"] for part in sent["content"]] == ["image_url"]
    assert Message.objects.get(role="user").content == ""


def test_a_model_that_does_not_read_images_is_refused_with_400_on_images(client_for, user, catalogue, fake_openrouter):
    conversation = Conversation.objects.create(owner=user, model_id="fake/echo")
    response = client_for(user).post(
        url_of(conversation), {"content": "x", "images": [data_url(png_bytes())]}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["images"]
    assert Message.objects.count() == 0 and GeneratedImage.objects.count() == 0 and chats(fake_openrouter) == []


@pytest.mark.parametrize(
    "images",
    [["https://example.com/a.png"], ["data:image/png;base64,bm90IGFuIGltYWdl"], [data_url(png_bytes())] * 5],
)
def test_bad_images_are_a_400_naming_the_field(client_for, user, vision_conversation, fake_openrouter, images):
    response = client_for(user).post(url_of(vision_conversation), {"content": "x", "images": images}, format="json")
    assert response.status_code == 400 and "images" in response.json(), response.content
    assert Message.objects.count() == 0 and chats(fake_openrouter) == []


def test_past_the_storage_quota_the_message_is_refused_409(
    client_for, user, vision_conversation, settings, fake_openrouter
):
    settings.STORAGE_QUOTA_MB = 1
    GeneratedImageFactory(generation__owner=user, size_bytes=MB)
    response = client_for(user).post(
        url_of(vision_conversation), {"content": "x", "images": [data_url(png_bytes())]}, format="json"
    )
    assert response.status_code == 409 and response.json()["storage"]["quota_bytes"] == MB
    assert Message.objects.count() == 0 and chats(fake_openrouter) == []


def test_the_uploads_count_in_the_storage_used(client_for, user, vision_conversation):
    from storage.quota import used_bytes

    image = png_bytes(30, 30)
    client_for(user).post(url_of(vision_conversation), {"content": "x", "images": [data_url(image)]}, format="json")
    assert used_bytes(user_id=user.pk) == len(image)


def test_a_streamed_turn_takes_images_too(stream_post, user, vision_conversation, fake_openrouter):
    status, _, body = stream_post(
        url_of(vision_conversation), {"content": "Stream it", "images": [data_url(png_bytes())], "stream": True}
    )
    assert status == 200 and "event: done" in body
    assert chats(fake_openrouter)[-1].body["messages"][-1]["content"][1]["type"] == "image_url"
    assert Message.objects.get(role="user").images.count() == 1
