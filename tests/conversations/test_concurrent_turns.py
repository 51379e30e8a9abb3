"""Two tabs sending in one conversation at the same moment, with real threads (each its
own database connection, on either store): one turn is answered, the other is refused
with a 409 that says what to do; never a 500, never a message half kept."""

import threading

import pytest

from conversations import selectors
from conversations.models import Conversation, Message
from conversations.records import TurnInProgress
from generation import capacity
from generation.models import Generation
from tests.support.threads import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def conversation(catalogue, user):
    return Conversation.objects.create(owner=user, model_id="fake/echo")


def _send(client_for, user, conversation, content):
    url = f"/api/conversations/{conversation.pk}/messages"
    return lambda: client_for(user).post(url, {"content": content}, format="json")


def _assert_nothing_half_kept(conversation, user, answered: int) -> None:
    messages = list(conversation.messages.select_related("generation").order_by("id"))
    assert [m.role for m in messages] == ["user", "assistant"] * answered
    assert all(m.status == "completed" for m in messages)
    assert Generation.objects.count() == answered
    assert capacity._acquire(user.pk) == 1, "a slot was left taken"
    capacity.release_slot(user.pk)


def test_two_tabs_that_read_the_thread_together_one_is_answered_the_other_409(
    client_for, user, conversation, monkeypatch
):
    # Both read the thread before either begins its turn: the race the turn's conditional
    # write must decide.
    both_read = threading.Barrier(2)
    read = selectors.thread

    def read_then_wait(conversation):
        messages = read(conversation)
        both_read.wait(timeout=30)
        return messages

    monkeypatch.setattr(selectors, "thread", read_then_wait)

    results = run_at_once(
        _send(client_for, user, conversation, "from the first tab"),
        _send(client_for, user, conversation, "from the second tab"),
    )

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(r.status_code for r in results) == [201, 409], [r.content for r in results]
    won = next(r for r in results if r.status_code == 201).json()
    refused = next(r for r in results if r.status_code == 409).json()
    assert refused["detail"] == TurnInProgress.default_message
    assert "was not kept" in refused["detail"] and "send yours again" in refused["detail"]
    _assert_nothing_half_kept(conversation, user, answered=1)
    assert Message.objects.get(role="user").content == won["message"]["content"]
    # The conversation goes on: the refused message can be sent again.
    monkeypatch.setattr(selectors, "thread", read)
    again = _send(client_for, user, conversation, "from the second tab")()
    assert again.status_code == 201, again.content
    _assert_nothing_half_kept(conversation, user, answered=2)


def test_many_sends_at_once_are_answered_or_refused_whole(client_for, user, conversation, settings):
    settings.GENERATION_MAX_IN_FLIGHT = 8

    results = run_at_once(*[_send(client_for, user, conversation, f"tab {i}") for i in range(4)])

    assert not [r for r in results if isinstance(r, BaseException)], results
    codes = [r.status_code for r in results]
    assert set(codes) <= {201, 409} and 201 in codes, [r.content for r in results]
    _assert_nothing_half_kept(conversation, user, answered=codes.count(201))
