"""The conversation pages: your list beside the thread, plain forms for new/rename/delete."""

import pytest

from conversations.models import Conversation, Message
from generation.models import Generation
from tests.core.test_csp import assert_no_inline_code, policy


@pytest.fixture
def web(client, user):
    client.force_login(user)
    return client


def test_the_page_lists_yours_and_shows_the_thread(web, conversation, other_user):
    Conversation.objects.create(owner=other_user, model_id="fake/echo", title="Not yours")
    conversation.title = "Rivers"
    conversation.save()
    Message.objects.create(conversation=conversation, role="user", content="<b>hello</b>")
    answer = Generation.objects.create(
        owner=conversation.owner,
        kind="text",
        model_id="fake/echo",
        prompt="<b>hello</b>",
        status="completed",
        text="*hi*",
        html="<p><em>hi</em></p>",
        conversation=conversation,
    )
    Message.objects.create(conversation=conversation, role="assistant", generation=answer)
    response = web.get(f"/conversations/{conversation.pk}")
    html = response.content.decode()
    assert response.status_code == 200 and "Rivers" in html and "Not yours" not in html
    assert "&lt;b&gt;hello&lt;/b&gt;" in html and "<p><em>hi</em></p>" in html
    assert 'id="conversation-data" type="application/json"' in html
    assert policy(response)["script-src"] == "'self'"
    assert_no_inline_code(html, "conversation page")
    assert web.get("/conversations").status_code == 200
    assert web.get("/conversations?q=riv").content.decode().count('data-testid="conversation-link"') == 1
    dashboard = web.get("/").content.decode()
    assert 'href="/conversations"' in dashboard and 'data-testid="link-video"' in dashboard


def test_another_users_conversation_is_not_found(web, catalogue, other_user):
    theirs = Conversation.objects.create(owner=other_user, model_id="fake/echo")
    assert web.get(f"/conversations/{theirs.pk}").status_code == 404
    assert web.post(f"/conversations/{theirs.pk}/rename", {"title": "x"}).status_code == 404
    assert web.post(f"/conversations/{theirs.pk}/delete").status_code == 404
    assert Conversation.objects.filter(pk=theirs.pk, title="").exists()


def test_new_rename_and_delete(web, catalogue, user):
    response = web.post("/conversations/new", {"model": "fake/echo"})
    conversation = Conversation.objects.get(owner=user)
    assert response.status_code == 302 and response["Location"] == f"/conversations/{conversation.pk}"
    web.post(f"/conversations/{conversation.pk}/rename", {"title": "Lakes"})
    conversation.refresh_from_db()
    assert conversation.title == "Lakes"
    assert web.post(f"/conversations/{conversation.pk}/delete").status_code == 302
    assert not Conversation.objects.exists()


def test_pages_need_sign_in(client, conversation):
    assert client.get("/conversations").status_code == 302
    assert client.get(f"/conversations/{conversation.pk}").status_code == 302
