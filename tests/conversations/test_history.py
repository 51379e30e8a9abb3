"""Conversations in the history: one entry each (answers, regenerated ones too, are not
listed again as loose generations), interleaved with generations by time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Conversation, Message
from generation import sections
from generation.models import Generation
from tests.factories import GenerationFactory


@pytest.fixture
def web(client, user):
    client.force_login(user)
    return client


def messages_url(conversation):
    return f"/api/conversations/{conversation.pk}/messages"


def three_turns_and_a_regenerate(user_api, conversation):
    conversation.model_id = "fake/echo"
    conversation.save()
    for content in ("first question", "second question"):
        answer = user_api.post(messages_url(conversation), {"content": content}, format="json").json()["answer"]
    assert (
        user_api.post(f"{messages_url(conversation)}/{answer['id']}/regenerate", {}, format="json").status_code == 201
    )


def entries(html: str) -> int:
    return html.count('data-testid="history-item"')


def test_a_conversation_is_one_history_entry(web, user_api, user, conversation, fake_openrouter):
    three_turns_and_a_regenerate(user_api, conversation)
    assert Generation.objects.filter(owner=user).count() == 3  # two answers and the replaced one
    assert set(Generation.objects.values_list("conversation_id", flat=True)) == {conversation.pk}

    html = web.get("/history").content.decode()
    assert entries(html) == 1
    assert f'href="/conversations/{conversation.pk}"' in html and "first question" in html
    assert "4 messages" in html and "fake/echo" in html
    assert "second question" not in html  # an answer's prompt is not a separate line


def test_the_history_interleaves_by_time_and_filters(web, user_api, user, conversation, fake_openrouter):
    now = timezone.now()
    old = GenerationFactory(owner=user, prompt="an old text", created_at=now - timedelta(days=2))
    Conversation.objects.filter(pk=conversation.pk).update(title="Rivers", updated_at=now - timedelta(days=1))
    new = GenerationFactory(owner=user, kind="image", prompt="a new image", created_at=now)
    GenerationFactory(owner=user, prompt="an answer", conversation=conversation, created_at=now)

    html = web.get("/history").content.decode()
    assert entries(html) == 3
    assert html.index("a new image") < html.index("Rivers") < html.index("an old text")
    assert "an answer" not in html

    text = web.get("/history?kind=text").content.decode()
    assert entries(text) == 1 and "an old text" in text
    only = web.get("/history?kind=conversation").content.decode()
    assert entries(only) == 1 and "Rivers" in only and 'data-kind="conversation"' in only
    assert new.pk and old.pk


def test_history_pages_through_both_kinds(web, user, settings):
    now = timezone.now()
    for i in range(15):
        GenerationFactory(owner=user, prompt=f"generation {i}", created_at=now - timedelta(minutes=2 * i))
        Conversation.objects.create(
            owner=user, model_id="fake/echo", title=f"conversation {i}", updated_at=now - timedelta(minutes=2 * i + 1)
        )
    first, second = (web.get(f"/history?page={n}").content.decode() for n in (1, 2))
    assert entries(first) == 20 and entries(second) == 10
    assert "conversation 9<" in first and "generation 10<" not in first and "generation 10<" in second
    assert "Page 2 of 2" in second and "?page=1" in second


def test_another_users_conversations_stay_out(web, user, other_user):
    Conversation.objects.create(owner=other_user, model_id="fake/echo", title="Not yours")
    assert "Not yours" not in web.get("/history").content.decode()
    assert "Not yours" not in web.get("/history?kind=conversation").content.decode()


def test_the_dashboards_recent_list_shows_conversations(web, user_api, user, conversation, fake_openrouter):
    GenerationFactory(owner=user, prompt="a text of mine", created_at=timezone.now() - timedelta(hours=1))
    three_turns_and_a_regenerate(user_api, conversation)
    request = type("Request", (), {"user": user})()

    recent = sections.dashboard_context(request)["recent"]
    assert [entry.conversation.pk if entry.conversation else entry.generation.prompt for entry in recent] == [
        conversation.pk,
        "a text of mine",
    ]
    dashboard = web.get("/").content.decode()
    recent_list = dashboard[dashboard.index('data-testid="recent-generations"') :]
    assert f'href="/conversations/{conversation.pk}"' in recent_list and "4 messages" in recent_list


def test_deleting_a_conversation_gives_its_answers_back_to_the_history(
    web, user_api, user, conversation, fake_openrouter
):
    three_turns_and_a_regenerate(user_api, conversation)
    web.post(f"/conversations/{conversation.pk}/delete")
    assert Generation.objects.filter(owner=user, conversation__isnull=True).count() == 3
    assert entries(web.get("/history").content.decode()) == 3


def test_the_api_keeps_listing_every_generation_with_its_conversation(user_api, user, conversation, fake_openrouter):
    three_turns_and_a_regenerate(user_api, conversation)
    GenerationFactory(owner=user, prompt="loose")
    body = user_api.get("/api/generations").json()
    assert body["count"] == 4
    assert sorted(row["conversation_id"] for row in body["results"] if row["conversation_id"]) == [conversation.pk] * 3
    assert user_api.get("/api/generations?kind=conversation").status_code == 400


def test_an_answers_page_links_its_conversation(web, user_api, conversation, fake_openrouter):
    three_turns_and_a_regenerate(user_api, conversation)
    answer = Message.objects.filter(role="assistant").last()
    html = web.get(f"/history/{answer.generation_id}").content.decode()
    assert 'data-testid="in-conversation"' in html and f'href="/conversations/{conversation.pk}"' in html
