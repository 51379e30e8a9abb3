"""A conversation in a real Chromium against the live server and the offline double."""

import pytest

from conversations.models import Conversation, Message
from tests.e2e.test_generation_browser import demo_studio, shots, signed_in  # noqa: F401

pytestmark = pytest.mark.e2e

IDLE = "() => document.getElementById('thread').dataset.state === 'idle'"
SECOND = "Second question:\n\n```\nprint('hi')\n```"
COPY = "li.message-assistant:nth-of-type(4) [data-testid=copy-code]"


def copy_and_read(page, button_selector):
    """Click a code block's Copy button; what the clipboard then holds."""
    page.evaluate("(window.__clipboard || navigator.clipboard).writeText('')")
    page.click(button_selector)
    page.wait_for_function(f"() => document.querySelector({button_selector!r}).textContent === 'Copied'")
    return page.evaluate("(window.__clipboard || navigator.clipboard).readText()")


def send(page, text):
    page.fill("[data-testid=composer-content]", text)
    page.press("[data-testid=composer-content]", "Enter")  # Enter sends
    page.wait_for_function("() => document.getElementById('thread').dataset.state === 'streaming'")
    page.wait_for_function(IDLE)


def test_a_three_turn_conversation_streams_and_survives_a_reload(signed_in, demo_studio, page, shots):
    page.goto("/")
    page.click("[data-testid=link-conversations]")
    page.click("[data-testid=new-conversation]")
    page.wait_for_url("**/conversations/*")
    conversation = Conversation.objects.get(owner=signed_in)
    page.select_option("[data-testid=composer-model]", "openai/gpt-4o-mini")

    # Shift+Enter is a new line, not a send.
    page.fill("[data-testid=composer-content]", "Tell me about *rivers*")
    page.press("[data-testid=composer-content]", "Shift+Enter")
    page.keyboard.type("in two lines")
    assert page.input_value("[data-testid=composer-content]") == "Tell me about *rivers*\nin two lines"
    page.evaluate("""() => {
        window.__seen = [];
        const thread = document.getElementById('thread');
        new MutationObserver(() => {
            const box = thread.querySelector('pre.stream');
            if (box) window.__seen.push(box.textContent);
        }).observe(thread, {childList: true, characterData: true, subtree: true});
    }""")
    page.press("[data-testid=composer-content]", "Enter")
    page.wait_for_function(IDLE)
    growing = [text for text in page.evaluate("window.__seen") if text]
    assert len(set(growing)) > 3, "the answer should appear piece by piece"
    first = page.locator("li.message-assistant").last
    assert first.locator("em").inner_text() == "rivers"  # markdown rendered by the server
    assert page.input_value("[data-testid=conversation-title]") == "Tell me about *rivers*"

    # The model switches between turns.
    # fake/echo answers with the prompt: a code block, which gets a Copy button once rendered.
    page.select_option("[data-testid=composer-model]", "fake/echo")
    send(page, SECOND)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    assert page.locator(COPY).count() == 1
    assert copy_and_read(page, COPY) == "print('hi')\n"
    page.select_option("[data-testid=composer-model]", "anthropic/claude-3.5-haiku")
    send(page, "Third question")
    page.screenshot(path=str(shots / "conversation-three-turns.png"), full_page=True)

    answers = list(Message.objects.filter(conversation=conversation, role="assistant").order_by("id"))
    assert [a.status for a in answers] == ["completed"] * 3
    assert [a.model_id for a in answers] == ["openai/gpt-4o-mini", "fake/echo", "anthropic/claude-3.5-haiku"]
    assert answers[1].text == SECOND  # an answer reads its text through its history row

    # The provider saw the whole thread on the third turn.
    chats = [r for r in demo_studio.received if r.path.endswith("/chat/completions")]
    assert [m["content"] for m in chats[-1].body["messages"]] == [
        "Tell me about *rivers*\nin two lines",
        answers[0].text,
        SECOND,
        SECOND,
        "Third question",
    ]

    # A reload shows the same thread, rendered from what was saved.
    page.reload()
    assert page.locator("[data-testid=message]").count() == 6
    assert page.locator("li.message-assistant").first.locator("em").inner_text() == "rivers"
    assert page.locator("li.message-assistant").last.inner_text().count("Third question") == 1
    # The Copy button again, from the page as rendered; and without the Clipboard API.
    assert page.locator("[data-testid=copy-code]").count() == 1
    assert copy_and_read(page, COPY) == "print('hi')\n"
    page.evaluate("""() => {
        window.__clipboard = navigator.clipboard;
        Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});
    }""")
    page.wait_for_timeout(2100)  # the label goes back to "Copy"
    assert page.inner_text(COPY) == "Copy"
    assert copy_and_read(page, COPY) == "print('hi')\n"

    # Regenerate replaces the last answer.
    page.click("[data-testid=regenerate]")
    page.wait_for_function(IDLE)
    page.wait_for_function("() => document.querySelector('#thread li:last-child').dataset.status === 'completed'")
    assert page.locator("[data-testid=message]").count() == 6
    assert Message.objects.filter(conversation=conversation).count() == 6
    assert page.locator("text=Tell me about *rivers*").count() >= 1  # listed beside the thread


def test_stop_keeps_what_arrived_as_partial(signed_in, demo_studio, page):
    page.goto("/conversations")
    page.click("[data-testid=new-conversation]")
    page.wait_for_url("**/conversations/*")
    page.select_option("[data-testid=composer-model]", "fake/long-stream")
    page.fill("[data-testid=composer-content]", "Go on for a while")
    page.click("[data-testid=send]")
    page.wait_for_function("() => (document.querySelector('#thread pre.stream') || {}).textContent?.length > 10")
    page.click("[data-testid=stop]")
    page.wait_for_function(IDLE)
    page.wait_for_function("() => document.querySelector('#thread li:last-child').dataset.status === 'partial'")
    answer = Message.objects.get(role="assistant")
    for _ in range(50):
        answer.refresh_from_db()
        if answer.status != "pending":
            break
        page.wait_for_timeout(100)
    assert answer.status == "partial" and answer.text.startswith("word1")
    # Stopping is not a failure: a neutral "Stopped" badge and no red error, now and after a reload.
    for _ in range(2):
        last = page.locator("#thread li:last-child")
        page.wait_for_function("() => document.querySelector('#thread li:last-child .badge.status-stopped')")
        assert last.locator(".badge").inner_text() == "Stopped"
        assert last.locator(".errors:visible").count() == 0
        assert last.get_by_test_id("copy-answer").is_visible()
        page.reload()


def test_the_instructions_are_saved_and_sent_to_the_model(signed_in, demo_studio, page):
    page.goto("/conversations")
    page.click("[data-testid=new-conversation]")
    page.wait_for_url("**/conversations/*")
    page.click("[data-testid=system-prompt-box] summary")
    page.fill("[data-testid=system-input]", "Answer like a pirate.")
    page.click("[data-testid=system-save]")
    page.wait_for_function("() => document.getElementById('system-status').textContent.startsWith('Saved')")
    assert Conversation.objects.get(owner=signed_in).system == "Answer like a pirate."
    page.fill("[data-testid=composer-content]", "Hello")
    page.keyboard.press("Enter")
    page.wait_for_function(IDLE)
    page.wait_for_function("() => document.querySelector('#thread li:last-child').dataset.status === 'completed'")
    chat = [r for r in demo_studio.received if r.path.endswith("/chat/completions")][-1]
    assert chat.body["messages"][0] == {"role": "system", "content": "Answer like a pirate."}
