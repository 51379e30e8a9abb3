"""The default instructions of a profile: kept on the account (API and page), and what a
new conversation without instructions of its own starts with."""

import pytest

from accounts.models import User
from conversations.models import Conversation
from tests.factories import DEFAULT_PASSWORD

ME = "/api/users/me"


@pytest.mark.parametrize("method", ["get", "patch", "put"])
def test_anonymous_cannot_read_or_set_them(client_for, method):
    response = getattr(client_for(None), method)(ME, {"default_system": "x"}, format="json")
    assert response.status_code == 401


def test_the_owner_sets_them_without_a_password_and_reads_them_back(client_for, user):
    api = client_for(user)
    response = api.patch(ME, {"default_system": "  Answer in French.  "}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["default_system"] == "Answer in French."
    assert api.get(ME).json()["default_system"] == "Answer in French."
    user.refresh_from_db()
    assert user.default_system == "Answer in French."


def test_each_person_sets_only_their_own(client_for, user, other_user, admin_user):
    client_for(other_user).patch(ME, {"default_system": "Theirs"}, format="json")
    client_for(admin_user).patch(ME, {"default_system": "The admin's"}, format="json")
    assert client_for(user).get(ME).json()["default_system"] == ""
    assert User.objects.get(pk=other_user.pk).default_system == "Theirs"
    assert User.objects.get(pk=admin_user.pk).default_system == "The admin's"


def test_too_long_is_a_400_naming_the_field_and_keeps_the_rest(client_for, user, settings):
    settings.GENERATION_PROMPT_MAX_CHARS = 10
    response = client_for(user).patch(
        ME,
        {"default_system": "x" * 11, "email": "new@example.com", "current_password": DEFAULT_PASSWORD},
        format="json",
    )
    assert response.status_code == 400 and list(response.json()) == ["default_system"]
    user.refresh_from_db()
    assert user.email != "new@example.com" and user.default_system == ""


def test_an_email_change_still_needs_the_current_password(client_for, user):
    response = client_for(user).patch(ME, {"default_system": "x", "email": "new@example.com"}, format="json")
    assert response.status_code == 400 and "current_password" in response.json()
    user.refresh_from_db()
    assert user.default_system == ""


def test_a_new_conversation_starts_with_them_unless_given_its_own(client_for, user, catalogue):
    api = client_for(user)
    api.patch(ME, {"default_system": "Be terse."}, format="json")
    plain = api.post("/api/conversations", {"model": "fake/echo"}, format="json").json()
    own = api.post("/api/conversations", {"model": "fake/echo", "system": "Be verbose."}, format="json").json()
    assert plain["system"] == "Be terse." and own["system"] == "Be verbose."
    # A later change of the default leaves existing conversations as they are.
    api.patch(ME, {"default_system": ""}, format="json")
    assert Conversation.objects.get(pk=plain["id"]).system == "Be terse."


def test_the_profile_page_saves_them_and_the_new_conversation_page_uses_them(client, user, catalogue):
    client.force_login(user)
    page = client.get("/users/profile")
    assert b'name="default_system"' in page.content
    response = client.post("/users/profile/instructions", {"default_system": "Use British spelling."})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.default_system == "Use British spelling."
    created = client.post("/conversations/new", {"model": "fake/echo"})
    assert created.status_code == 302
    assert Conversation.objects.get(owner=user).system == "Use British spelling."


def test_the_profile_page_refuses_too_long_instructions_with_the_field_named(client, user, settings):
    settings.GENERATION_PROMPT_MAX_CHARS = 5
    client.force_login(user)
    response = client.post("/users/profile/instructions", {"default_system": "far too long"})
    assert response.status_code == 400 and b"At most 5 characters" in response.content
    user.refresh_from_db()
    assert user.default_system == ""


def test_the_page_form_is_for_signed_in_people_only(client):
    response = client.post("/users/profile/instructions", {"default_system": "x"})
    assert response.status_code == 302 and "/login" in response["Location"]
