"""Exporting a conversation as Markdown and JSON: the owner's only (anyone else, an
administrator too, gets 404), as a download."""

import json

import pytest

from conversations.models import Conversation, Message
from generation.models import Generation
from tests.factories import GenerationFactory


@pytest.fixture
def conversation(db, user):
    conversation = Conversation.objects.create(
        owner=user, model_id="openai/gpt-4o-mini", title="Rivers: the long ones", system="Be brief.\nUse metres."
    )
    Message.objects.create(conversation=conversation, role="user", content="Which river is the longest?")
    answer = GenerationFactory(
        owner=user, conversation=conversation, text="The **Nile**.", model_id="openai/gpt-4o-mini"
    )
    Message.objects.create(conversation=conversation, role="assistant", generation=answer)
    Message.objects.create(conversation=conversation, role="user", content="And the second?")
    stopped = GenerationFactory(
        owner=user, conversation=conversation, text="The Ama", status=Generation.Status.PARTIAL, model_id="fake/echo"
    )
    Message.objects.create(conversation=conversation, role="assistant", generation=stopped)
    return conversation


def url(conversation, kind):
    return f"/api/conversations/{conversation.pk}/export/{kind}"


@pytest.mark.parametrize("kind", ["markdown", "json"])
def test_anonymous_gets_401(client_for, conversation, kind):
    assert client_for(None).get(url(conversation, kind)).status_code == 401


@pytest.mark.parametrize("kind", ["markdown", "json"])
def test_another_user_and_an_admin_get_404(client_for, conversation, other_user, admin_user, kind):
    assert client_for(other_user).get(url(conversation, kind)).status_code == 404
    assert client_for(admin_user).get(url(conversation, kind)).status_code == 404


def test_the_owner_downloads_json(client_for, user, conversation):
    response = client_for(user).get(url(conversation, "json"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == f'attachment; filename="rivers-the-long-ones-{conversation.pk}.json"'
    body = json.loads(response.content)
    assert body["title"] == "Rivers: the long ones" and body["system"] == "Be brief.\nUse metres."
    assert [(m["role"], m["content"], m["status"]) for m in body["messages"]] == [
        ("user", "Which river is the longest?", "completed"),
        ("assistant", "The **Nile**.", "completed"),
        ("user", "And the second?", "completed"),
        ("assistant", "The Ama", "partial"),
    ]
    assert body["messages"][3]["model"] == "fake/echo"


def test_the_owner_downloads_markdown(client_for, user, conversation):
    response = client_for(user).get(url(conversation, "markdown"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/markdown")
    assert response["Content-Disposition"].endswith(f'-{conversation.pk}.md"')
    text = response.content.decode()
    assert text.startswith("# Rivers: the long ones\n")
    assert "> **Instructions:** Be brief.\n> Use metres." in text
    assert "## You\n\nWhich river is the longest?" in text
    assert "## Answer (openai/gpt-4o-mini)\n\nThe **Nile**." in text
    assert "*(partial)*" in text and text.index("Which river") < text.index("And the second?")


def test_the_page_links_download_the_same_for_the_owner_only(client, user, other_user, conversation, catalogue):
    client.force_login(user)
    page = client.get(f"/conversations/{conversation.pk}").content.decode()
    assert f"/conversations/{conversation.pk}/export/markdown" in page
    response = client.get(f"/conversations/{conversation.pk}/export/json")
    assert response.status_code == 200 and json.loads(response.content)["id"] == conversation.pk
    client.force_login(other_user)
    assert client.get(f"/conversations/{conversation.pk}/export/markdown").status_code == 404
    client.logout()
    assert client.get(f"/conversations/{conversation.pk}/export/markdown").status_code == 302
