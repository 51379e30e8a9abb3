"""Chat beyond the basics, in a real Chromium against the live server and the offline
double: default instructions from the profile, images attached to a message, editing an
earlier message, searching inside messages, export, and a read-only share link."""

import pytest

from conversations.models import Conversation
from tests.e2e.test_generation_browser import demo_studio, shots, signed_in  # noqa: F401

pytestmark = pytest.mark.e2e

IDLE = "() => document.getElementById('thread').dataset.state === 'idle'"
LAST_DONE = "() => document.querySelector('#thread li:last-child').dataset.status === 'completed'"


def chats(fake):
    return [r for r in fake.received if r.path.endswith("/chat/completions")]


def new_conversation(page):
    page.goto("/conversations")
    page.click("[data-testid=new-conversation]")
    page.wait_for_url("**/conversations/*")


def send(page, text):
    page.fill("[data-testid=composer-content]", text)
    page.click("[data-testid=send]")
    page.wait_for_function(IDLE)
    page.wait_for_function(LAST_DONE)


def test_default_instructions_from_the_profile_reach_the_model(signed_in, demo_studio, page):
    page.goto("/users/profile")
    page.fill("[data-testid=default-system-form] textarea", "Answer like a pirate.")
    page.click("[data-testid=default-system-save]")
    page.wait_for_url("**/users/profile")
    assert page.input_value("[data-testid=default-system-form] textarea") == "Answer like a pirate."

    new_conversation(page)
    assert page.input_value("[data-testid=system-input]") == "Answer like a pirate."
    send(page, "Hello")
    assert Conversation.objects.get(owner=signed_in).system == "Answer like a pirate."
    assert chats(demo_studio)[-1].body["messages"][0] == {"role": "system", "content": "Answer like a pirate."}
