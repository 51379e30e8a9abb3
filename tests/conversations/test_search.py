"""Searching conversations covers the messages too: the user's text and the answers'
text, case-insensitive, the owner's conversations only; each hit says where it matched."""

import pytest

from conversations import selectors
from conversations.models import Conversation, Message
from tests.factories import GenerationFactory

LIST = "/api/conversations"


@pytest.fixture
def conversations(db, user, other_user):
    titled = Conversation.objects.create(owner=user, model_id="fake/echo", title="Volcanoes")
    asked = Conversation.objects.create(owner=user, model_id="fake/echo", title="Geography")
    Message.objects.create(conversation=asked, role="user", content="Which is the longest River of Africa?")
    answered = Conversation.objects.create(owner=user, model_id="fake/echo", title="Travel")
    Message.objects.create(conversation=answered, role="user", content="Where should I go?")
    answer = GenerationFactory(owner=user, conversation=answered, text="Sail down the Danube river at dawn.")
    Message.objects.create(conversation=answered, role="assistant", generation=answer)
    theirs = Conversation.objects.create(owner=other_user, model_id="fake/echo", title="River talk")
    Message.objects.create(conversation=theirs, role="user", content="river river")
    return {"titled": titled, "asked": asked, "answered": answered, "theirs": theirs}


def test_anonymous_cannot_search(client_for):
    assert client_for(None).get(LIST, {"search": "river"}).status_code == 401


def test_the_search_finds_words_in_questions_and_answers_of_your_own_only(client_for, user, conversations):
    found = client_for(user).get(LIST, {"search": "RIVER"}).json()
    assert {row["id"] for row in found["results"]} == {conversations["asked"].pk, conversations["answered"].pk}
    snippets = {row["id"]: row["snippet"] for row in found["results"]}
    assert "longest River of Africa" in snippets[conversations["asked"].pk]
    assert "Danube river" in snippets[conversations["answered"].pk]
    # Titles still count, and then nothing in the messages needs showing.
    [volcano] = client_for(user).get(LIST, {"search": "volcano"}).json()["results"]
    assert volcano["id"] == conversations["titled"].pk and volcano["snippet"] == ""


def test_another_user_and_an_admin_find_only_their_own(client_for, other_user, admin_user, conversations):
    assert [r["id"] for r in client_for(other_user).get(LIST, {"search": "river"}).json()["results"]] == [
        conversations["theirs"].pk
    ]
    assert client_for(admin_user).get(LIST, {"search": "river"}).json()["count"] == 0


def test_a_conversation_matching_in_several_messages_is_listed_once_with_its_count(client_for, user, conversations):
    Message.objects.create(conversation=conversations["asked"], role="user", content="And another river?")
    [row] = [
        r
        for r in client_for(user).get(LIST, {"search": "river"}).json()["results"]
        if r["id"] == conversations["asked"].pk
    ]
    assert row["message_count"] == 2
    assert client_for(user).get(LIST, {"search": "river"}).json()["count"] == 2


def test_the_page_searches_messages_and_shows_where(client, user, conversations):
    client.force_login(user)
    page = client.get("/conversations", {"q": "danube"}).content.decode()
    assert "Travel" in page and "Geography" not in page and "Sail down the Danube" in page
    assert "No conversation mentions" in client.get("/conversations", {"q": "zzz"}).content.decode()


def test_a_snippet_is_cut_around_the_match():
    text = "word " * 100 + "needle " + "tail " * 100
    piece = selectors.snippet(text, "NEEDLE")
    assert "needle" in piece and piece.startswith("…") and piece.endswith("…")
    assert len(piece) <= selectors.SNIPPET_CHARS + 2
    assert selectors.snippet("nothing here", "needle") == ""
