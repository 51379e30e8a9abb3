"""Editing an earlier message and asking again: the thread is cut at that message (later
messages removed, their answers kept in the history) and the edited message answered anew."""

import pytest

from conversations.models import Conversation, Message
from generation.models import Generation
from tests.factories import GenerationFactory


def chats(fake):
    return [r for r in fake.received if r.path.endswith("/chat/completions")]


def edit_url(conversation, message):
    return f"/api/conversations/{conversation.pk}/messages/{message.pk}/edit"


@pytest.fixture
def thread(catalogue, user):
    """A conversation of two turns, answered by the echo model."""
    conversation = Conversation.objects.create(owner=user, model_id="fake/echo", title="Two turns")
    messages = []
    for question in ("First question", "Second question"):
        messages.append(Message.objects.create(conversation=conversation, role="user", content=question))
        answer = GenerationFactory(owner=user, conversation=conversation, prompt=question, text=f"About {question}")
        messages.append(Message.objects.create(conversation=conversation, role="assistant", generation=answer))
    return conversation, messages


def test_anonymous_is_refused(client_for, thread):
    conversation, messages = thread
    assert (
        client_for(None).post(edit_url(conversation, messages[0]), {"content": "x"}, format="json").status_code == 401
    )


def test_another_user_and_an_admin_get_404_and_nothing_changes(
    client_for, thread, other_user, admin_user, fake_openrouter
):
    conversation, messages = thread
    for someone in (other_user, admin_user):
        response = client_for(someone).post(edit_url(conversation, messages[0]), {"content": "x"}, format="json")
        assert response.status_code == 404
    assert conversation.messages.count() == 4 and chats(fake_openrouter) == []
    assert Message.objects.get(pk=messages[0].pk).content == "First question"


def test_the_owner_edits_the_first_message_and_the_thread_is_cut_there(client_for, user, thread, fake_openrouter):
    conversation, messages = thread
    response = client_for(user).post(
        edit_url(conversation, messages[0]), {"content": "A better question"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["message"]["id"] == messages[0].pk and body["message"]["content"] == "A better question"
    assert body["answer"]["content"] == "A better question"  # the echo model answers with the prompt
    kept = list(conversation.messages.order_by("id"))
    assert [m.pk for m in kept[:1]] == [messages[0].pk] and len(kept) == 2
    assert kept[0].content == "A better question" and kept[1].role == "assistant"
    # The provider got the thread up to the edited message only.
    assert chats(fake_openrouter)[-1].body["messages"] == [{"role": "user", "content": "A better question"}]
    # The answers removed from the thread stay in the history (they were asked and charged).
    assert Generation.objects.filter(owner=user, kind="text").count() == 3


def test_editing_the_last_message_keeps_what_came_before(client_for, user, thread, fake_openrouter):
    conversation, messages = thread
    response = client_for(user).post(
        edit_url(conversation, messages[2]), {"content": "Second, rephrased"}, format="json"
    )
    assert response.status_code == 201
    assert [m["content"] for m in chats(fake_openrouter)[-1].body["messages"]] == [
        "First question",
        "About First question",
        "Second, rephrased",
    ]
    assert conversation.messages.count() == 4


def test_an_answer_cannot_be_edited_409(client_for, user, thread, fake_openrouter):
    conversation, messages = thread
    response = client_for(user).post(edit_url(conversation, messages[1]), {"content": "x"}, format="json")
    assert response.status_code == 409 and "answers" in response.json()["detail"]
    assert conversation.messages.count() == 4 and chats(fake_openrouter) == []


def test_an_unknown_message_is_404(client_for, user, thread):
    conversation, _ = thread
    response = client_for(user).post(
        f"/api/conversations/{conversation.pk}/messages/999999/edit", {"content": "x"}, format="json"
    )
    assert response.status_code == 404


def test_empty_text_is_a_400_on_content(client_for, user, thread, fake_openrouter):
    conversation, messages = thread
    response = client_for(user).post(edit_url(conversation, messages[0]), {"content": "  "}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["content"]
    assert conversation.messages.count() == 4


def test_while_an_answer_is_being_written_an_edit_is_409_and_changes_nothing(client_for, user, thread, fake_openrouter):
    conversation, messages = thread
    Message.objects.create(conversation=conversation, role="user", content="Third")
    pending = GenerationFactory(owner=user, conversation=conversation, status=Generation.Status.PENDING, text="")
    Message.objects.create(conversation=conversation, role="assistant", generation=pending)
    response = client_for(user).post(edit_url(conversation, messages[0]), {"content": "x"}, format="json")
    assert response.status_code == 409 and "still being written" in response.json()["detail"]
    assert conversation.messages.count() == 6 and chats(fake_openrouter) == []
    assert Message.objects.get(pk=messages[0].pk).content == "First question"


def test_an_edit_streams_as_a_turn_does(stream_post, user, thread, fake_openrouter):
    conversation, messages = thread
    status, _, body = stream_post(edit_url(conversation, messages[0]), {"content": "Streamed edit", "stream": True})
    assert status == 200 and "event: start" in body and "event: done" in body
    assert conversation.messages.count() == 2
    assert Message.objects.get(pk=messages[0].pk).content == "Streamed edit"
