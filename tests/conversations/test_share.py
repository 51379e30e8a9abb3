"""A read-only share link: the owner creates and revokes it; anyone holding it reads the
thread without signing in; a revoked or made-up link is 404; both changes are audited."""

import pytest

from audit.models import AuditEntry
from conversations.models import Conversation, Message
from tests.factories import GenerationFactory


@pytest.fixture
def conversation(db, user):
    conversation = Conversation.objects.create(owner=user, model_id="openai/gpt-4o-mini", title="Shared rivers")
    Message.objects.create(conversation=conversation, role="user", content="Which river is the longest?")
    answer = GenerationFactory(
        owner=user, conversation=conversation, text="The Nile", html="<p>The <strong>Nile</strong></p>"
    )
    Message.objects.create(conversation=conversation, role="assistant", generation=answer)
    return conversation


def share(conversation):
    return f"/api/conversations/{conversation.pk}/share"


def test_anonymous_cannot_create_or_revoke(client_for, conversation):
    assert client_for(None).post(share(conversation)).status_code == 401
    assert client_for(None).delete(share(conversation)).status_code == 401


def test_another_user_and_an_admin_get_404_and_nothing_is_shared(client_for, conversation, other_user, admin_user):
    for someone in (other_user, admin_user):
        assert client_for(someone).post(share(conversation)).status_code == 404
        assert client_for(someone).delete(share(conversation)).status_code == 404
    conversation.refresh_from_db()
    assert conversation.share_token is None and not AuditEntry.objects.exists()


def test_the_owner_shares_anyone_reads_the_owner_revokes(client_for, client, user, conversation):
    created = client_for(user).post(share(conversation))
    assert created.status_code == 200, created.content
    link = created.json()["url"]
    token = link.rsplit("/", 1)[1]
    assert link.startswith("http://testserver/shared/") and len(token) >= 32
    # The same link while shared.
    assert client_for(user).post(share(conversation)).json()["url"] == link
    assert client_for(user).get(f"/api/conversations/{conversation.pk}").json()["shared"] is True

    page = client.get(f"/shared/{token}")  # no one signed in
    assert page.status_code == 200
    html = page.content.decode()
    assert "Shared rivers" in html and "Which river is the longest?" in html and "<strong>Nile</strong>" in html
    assert page["X-Robots-Tag"].startswith("noindex") and page["Referrer-Policy"] == "no-referrer"
    assert 'id="composer"' not in html and "data-edit-message" not in html  # read-only

    assert client_for(user).delete(share(conversation)).status_code == 204
    assert client.get(f"/shared/{token}").status_code == 404
    # Sharing again makes a new link; the old one stays dead.
    again = client_for(user).post(share(conversation)).json()["url"]
    assert again != link and client.get(f"/shared/{token}").status_code == 404
    assert [e.after for e in AuditEntry.objects.order_by("id")] == [
        {"shared": True},
        {"shared": False},
        {"shared": True},
    ]
    entry = AuditEntry.objects.first()
    assert entry.action == "conversation.shared" and entry.target_id == str(conversation.pk)
    assert entry.actor_id == user.pk


@pytest.mark.parametrize("token", ["", "short", "x" * 40, "../../etc/passwd"])
def test_a_made_up_link_is_404(client, db, token):
    assert client.get(f"/shared/{token}").status_code == 404


def test_the_page_buttons_share_and_stop_sharing_for_the_owner_only(client, user, other_user, conversation, catalogue):
    client.force_login(other_user)
    assert client.post(f"/conversations/{conversation.pk}/share").status_code == 404
    client.force_login(user)
    assert client.post(f"/conversations/{conversation.pk}/share").status_code == 302
    conversation.refresh_from_db()
    page = client.get(f"/conversations/{conversation.pk}").content.decode()
    assert f"/shared/{conversation.share_token}" in page and "Stop sharing" in page
    assert client.post(f"/conversations/{conversation.pk}/unshare").status_code == 302
    conversation.refresh_from_db()
    assert conversation.share_token is None
