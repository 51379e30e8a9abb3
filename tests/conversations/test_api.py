"""The conversations API: who may do what, turns whole and streamed, regenerate, trimming."""

import pytest
from asgiref.sync import async_to_sync

from conversations import services
from conversations.models import Conversation, Message
from generation.models import Generation
from tests.conversations.conftest import events_of
from tests.support.provider import change_catalogue_rows

LIST = "/api/conversations"


def detail(conversation):
    return f"/api/conversations/{conversation.pk}"


def messages_url(conversation):
    return f"/api/conversations/{conversation.pk}/messages"


def chat_requests(fake):
    return [r for r in fake.received if r.path.endswith("/chat/completions")]


# ------------------------------------------------------------------ authorization


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", LIST),
        ("post", LIST),
        ("get", "detail"),
        ("patch", "detail"),
        ("delete", "detail"),
        ("post", "messages"),
        ("post", "regenerate"),
    ],
)
def test_anonymous_is_refused_everywhere(client_for, conversation, method, url):
    answer = Message.objects.create(conversation=conversation, role="assistant", content="x")
    url = {
        "detail": detail(conversation),
        "messages": messages_url(conversation),
        "regenerate": f"{messages_url(conversation)}/{answer.pk}/regenerate",
    }.get(url, url)
    response = getattr(client_for(None), method)(url, {}, format="json")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", "detail"),
        ("patch", "detail"),
        ("delete", "detail"),
        ("post", "messages"),
        ("post", "regenerate"),
    ],
)
def test_another_user_gets_404_and_changes_nothing(client_for, conversation, other_user, fake_openrouter, method, url):
    Message.objects.create(conversation=conversation, role="user", content="q")
    answer = Message.objects.create(conversation=conversation, role="assistant", content="x")
    url = {
        "detail": detail(conversation),
        "messages": messages_url(conversation),
        "regenerate": f"{messages_url(conversation)}/{answer.pk}/regenerate",
    }[url]
    response = getattr(client_for(other_user), method)(url, {"content": "hi", "title": "mine"}, format="json")
    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.title == "" and conversation.messages.count() == 2
    assert chat_requests(fake_openrouter) == []


def test_the_list_holds_only_your_own(client_for, conversation, other_user):
    Conversation.objects.create(owner=other_user, model_id="fake/echo", title="theirs")
    ids = [row["id"] for row in client_for(conversation.owner).get(LIST).json()["results"]]
    assert ids == [conversation.pk]
    assert client_for(other_user).get(LIST).json()["count"] == 1


def test_an_admin_may_read_but_not_change_or_talk_in_it(client_for, conversation, admin_user):
    api = client_for(admin_user)
    assert api.get(detail(conversation)).status_code == 200
    assert api.get(LIST).json()["count"] == 0
    assert api.patch(detail(conversation), {"title": "x"}, format="json").status_code == 404
    assert api.post(messages_url(conversation), {"content": "hi"}, format="json").status_code == 404
    assert api.delete(detail(conversation)).status_code == 404
    assert Conversation.objects.filter(pk=conversation.pk).exists()


# ------------------------------------------------------------------ conversations


def test_create_read_rename_and_delete(user_api, catalogue, user):
    created = user_api.post(LIST, {"model": "fake/echo", "system": "Be kind."}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["model"] == "fake/echo" and body["system"] == "Be kind." and body["messages"] == []
    url = f"{LIST}/{body['id']}"
    changed = user_api.patch(url, {"title": "  Rivers  of  Europe ", "model": "openai/gpt-4o-mini"}, format="json")
    assert changed.status_code == 200
    assert changed.json()["title"] == "Rivers of Europe" and changed.json()["model"] == "openai/gpt-4o-mini"
    assert user_api.patch(url, {"model": "openai/dall-e-3"}, format="json").status_code == 400
    assert user_api.delete(url).status_code == 204
    assert user_api.get(url).status_code == 404


def test_create_refuses_an_unknown_model(user_api, catalogue):
    response = user_api.post(LIST, {"model": "nope/none"}, format="json")
    assert response.status_code == 400 and "model" in response.json()


def test_the_list_is_newest_first_searchable_and_paged(user_api, user, catalogue):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    for i in range(25):
        title = f"Topic {i} {'river' if i % 5 == 0 else ''}"
        Conversation.objects.create(
            owner=user, model_id="fake/echo", title=title, updated_at=now + timedelta(minutes=i)
        )
    first = user_api.get(LIST).json()
    assert first["count"] == 25 and len(first["results"]) == 20
    assert first["results"][0]["title"].startswith("Topic 24")
    found = user_api.get(LIST, {"search": "RIVER"}).json()
    assert [row["title"].split()[1] for row in found["results"]] == ["20", "15", "10", "5", "0"]


# ------------------------------------------------------------------ turns


def test_a_turn_answers_with_the_whole_thread_and_titles_the_conversation(user_api, conversation, fake_openrouter):
    first = user_api.post(messages_url(conversation), {"content": "Tell me about rivers\nin detail"}, format="json")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["message"]["role"] == "user" and body["answer"]["status"] == "completed"
    assert body["answer"]["content"].startswith("Offline answer from openai/gpt-4o-mini")
    assert "<p>" in body["answer"]["html"] and body["answer"]["usage"]["total_tokens"] > 0
    second = user_api.post(
        messages_url(conversation), {"content": "And lakes?", "model": "fake/echo"}, format="json"
    ).json()
    assert second["answer"]["content"] == "And lakes?" and second["answer"]["model"] == "fake/echo"

    sent = [r.body["messages"] for r in chat_requests(fake_openrouter)]
    assert sent[1] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Tell me about rivers\nin detail"},
        {"role": "assistant", "content": body["answer"]["content"]},
        {"role": "user", "content": "And lakes?"},
    ]
    conversation.refresh_from_db()
    assert conversation.title == "Tell me about rivers" and conversation.model_id == "fake/echo"
    # Each answer is a text generation in the owner's history, linked from its message.
    answer = Message.objects.get(pk=second["answer"]["id"])
    assert answer.generation.kind == "text" and answer.generation.prompt == "And lakes?"
    assert answer.generation.params["conversation"] == conversation.pk
    thread = user_api.get(detail(conversation)).json()["messages"]
    assert [m["role"] for m in thread] == ["user", "assistant", "user", "assistant"]


def test_the_thread_is_trimmed_from_the_oldest_turns(user_api, conversation, fake_openrouter, settings):
    change_catalogue_rows("fake/echo", context_length=600)
    settings.CONVERSATION_ANSWER_TOKENS = 100
    conversation.model_id = "fake/echo"
    conversation.system = ""
    conversation.save()
    for word in ("a", "b", "c"):
        user_api.post(messages_url(conversation), {"content": word * 400}, format="json")
    user_api.post(messages_url(conversation), {"content": "last"}, format="json")
    sent = chat_requests(fake_openrouter)[-1].body["messages"]
    # budget 600 - 100 = 500: "last" (5) and two turns of 2 x 104 tokens fit, not three.
    assert [m["content"][:1] for m in sent] == ["b", "b", "c", "c", "l"]  # the "a" turn went


def test_an_empty_message_is_refused_before_anything_is_recorded(user_api, conversation, fake_openrouter):
    response = user_api.post(messages_url(conversation), {"content": "  "}, format="json")
    assert response.status_code == 400 and "content" in response.json()
    assert not Message.objects.exists() and not Generation.objects.exists()


def test_a_provider_failure_is_recorded_on_the_answer(user_api, conversation, fault_model):
    conversation.model_id = fault_model("bad_gateway")
    conversation.save()
    response = user_api.post(messages_url(conversation), {"content": "hi"}, format="json")
    assert response.status_code == 502
    answer = Message.objects.get(role="assistant")
    assert answer.status == "failed" and answer.error and answer.generation.status == "failed"
    # The failed answer is not sent as context next time.
    conversation.model_id = "fake/echo"
    conversation.save()
    assert user_api.post(messages_url(conversation), {"content": "again"}, format="json").status_code == 201


def test_the_in_flight_cap_applies_per_message(user_api, conversation, settings, fake_openrouter):
    from generation import capacity

    settings.GENERATION_MAX_IN_FLIGHT = 1
    capacity.try_acquire_slot(conversation.owner_id)
    try:
        response = user_api.post(messages_url(conversation), {"content": "hi"}, format="json")
    finally:
        capacity.release_slot(conversation.owner_id)
    assert response.status_code == 429 and "Retry-After" in response
    assert not Message.objects.exists() and chat_requests(fake_openrouter) == []


def test_regenerate_replaces_the_last_answer(user_api, conversation, fake_openrouter):
    conversation.model_id = "fake/echo"
    conversation.save()
    user_api.post(messages_url(conversation), {"content": "first"}, format="json")
    turn = user_api.post(messages_url(conversation), {"content": "second"}, format="json").json()
    old = turn["answer"]["id"]
    first_answer = Message.objects.filter(role="assistant").order_by("id").first()
    assert (
        user_api.post(f"{messages_url(conversation)}/{first_answer.pk}/regenerate", {}, format="json").status_code
        == 409
    )
    response = user_api.post(
        f"{messages_url(conversation)}/{old}/regenerate", {"model": "openai/gpt-4o-mini"}, format="json"
    )
    assert response.status_code == 201, response.content
    new = response.json()
    assert new["id"] != old and new["model"] == "openai/gpt-4o-mini" and new["status"] == "completed"
    thread = [(m.role, m.text) for m in conversation.messages.select_related("generation")]
    assert [role for role, _ in thread] == ["user", "assistant", "user", "assistant"]
    assert thread[-1][1] == new["content"] and not Message.objects.filter(pk=old).exists()
    # The provider got the thread up to the message answered again, once.
    sent = chat_requests(fake_openrouter)[-1].body["messages"]
    assert [m["content"] for m in sent] == ["Be brief.", "first", "first", "second"]
    # The replaced answer's history row stays in the history.
    assert Generation.objects.count() == 3


def test_a_turn_streams_as_the_text_endpoint_does(stream_post, conversation, fake_openrouter):
    status, headers, body = stream_post(messages_url(conversation), {"content": "Stream it", "stream": True})
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = events_of(body)
    assert events[0][0] == "start" and events[-1][0] == "done"
    pieces = "".join(data["text"] for name, data in events if name == "message")
    done = events[-1][1]
    answer = Message.objects.get(role="assistant")
    assert done["id"] == events[0][1]["answer"] == answer.pk and done["content"] == pieces == answer.text
    assert answer.status == "completed" and answer.html.startswith("<p>")
    assert events[0][1]["message"] == Message.objects.get(role="user").pk


def test_a_stream_refused_before_it_opens_is_a_plain_error(stream_post, conversation, fault_model):
    conversation.model_id = fault_model("rate_limit")
    conversation.save()
    status, _headers, body = stream_post(messages_url(conversation), {"content": "hi", "stream": True})
    assert status == 429
    assert Message.objects.get(role="assistant").status == "failed"


def test_a_stream_closed_midway_keeps_a_partial_answer(conversation, user):
    async def read_three_then_close():
        stream = await services.message_stream_start(
            user=user, conversation_id=conversation.pk, content="A long answer please"
        )
        pieces = stream.pieces()
        received = [await anext(pieces) for _ in range(3)]
        await stream.aclose()
        return received, stream.answer

    received, answer = async_to_sync(read_three_then_close)()
    answer = Message.objects.select_related("generation").get(pk=answer.pk)
    assert answer.status == "partial" and answer.text == "".join(received) != ""
    assert "cut short" in answer.error and answer.generation.status == "partial"
    # The slot came back: another turn may start.
    from generation import capacity

    assert capacity._acquire(user.pk) == 1


def test_a_new_turn_waits_for_a_pending_answer(user_api, conversation, fake_openrouter):
    generation = Generation.objects.create(
        owner=conversation.owner, kind="text", model_id="fake/echo", prompt="q", status="pending"
    )
    Message.objects.create(conversation=conversation, role="user", content="q")
    Message.objects.create(conversation=conversation, role="assistant", generation=generation)
    assert user_api.post(messages_url(conversation), {"content": "hi"}, format="json").status_code == 409
    # Once its history row ends (stale sweep, stopped server) the answer takes its state.
    Generation.objects.filter(pk=generation.pk).update(status="failed", error="interrupted")
    assert user_api.post(messages_url(conversation), {"content": "hi"}, format="json").status_code == 201
    assert Message.objects.filter(role="assistant").first().error == "interrupted"


# ------------------------------------------------------------------ reading never writes


def _writes(queries) -> list[str]:
    verbs = ("INSERT", "UPDATE", "DELETE")
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(verbs)]


def test_reading_a_conversation_writes_nothing_and_shows_the_rows_final_state(user_api, client, conversation, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # An answer whose history row ended while nobody read it (the stale sweep, a stopped server).
    row = Generation.objects.create(owner=user, kind="text", model_id="fake/echo", prompt="q", status="pending")
    Message.objects.create(conversation=conversation, role="user", content="q")
    answer = Message.objects.create(conversation=conversation, role="assistant", generation=row)
    Generation.objects.filter(pk=row.pk).update(status="failed", error="interrupted", error_kind="failed")
    client.force_login(user)

    with CaptureQueriesContext(connection) as queries:
        api = user_api.get(detail(conversation))
        page = client.get(f"/conversations/{conversation.pk}")

    assert api.status_code == 200 and page.status_code == 200
    assert _writes(queries.captured_queries) == [], "a read wrote"
    [_, read] = api.json()["messages"]
    assert read["id"] == answer.pk and read["status"] == "failed" and read["error"] == "interrupted"
    assert "interrupted" in page.content.decode()


def test_an_answer_whose_history_row_was_deleted_says_so(user_api, conversation, user):
    row = Generation.objects.create(owner=user, kind="text", model_id="fake/echo", prompt="q", status="completed")
    Message.objects.create(conversation=conversation, role="user", content="q")
    Message.objects.create(conversation=conversation, role="assistant", generation=row)
    assert user_api.delete(f"/api/generations/{row.pk}").status_code == 204

    [_, answer] = user_api.get(detail(conversation)).json()["messages"]

    assert answer["status"] == "failed" and answer["error"] == Message.ANSWER_DELETED and answer["content"] == ""


# ------------------------------------------------------------------ models the user may not use


@pytest.mark.parametrize("switch", [{"enabled": False}, {"admins_only": True}])
def test_a_model_the_user_may_not_use_is_refused_at_create_and_patch(user_api, conversation, catalogue, switch):
    from catalogue.models import ProviderModel

    ProviderModel.objects.filter(pk="fake/echo").update(**switch)
    sent = user_api.post(messages_url(conversation), {"content": "hi", "model": "fake/echo"}, format="json")
    created = user_api.post(LIST, {"model": "fake/echo"}, format="json")
    patched = user_api.patch(detail(conversation), {"model": "fake/echo"}, format="json")

    assert sent.status_code == created.status_code == patched.status_code == 400
    assert created.json()["model"] == patched.json()["model"] == sent.json()["model"]
    assert Conversation.objects.count() == 1
    conversation.refresh_from_db()
    assert conversation.model_id == "openai/gpt-4o-mini"


def test_an_admin_may_choose_an_admins_only_model(client_for, admin_user, catalogue):
    from catalogue.models import ProviderModel

    ProviderModel.objects.filter(pk="fake/echo").update(admins_only=True)

    assert client_for(admin_user).post(LIST, {"model": "fake/echo"}, format="json").status_code == 201
