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


def _png_file(tmp_path, name, size):
    from tests.factories import png_bytes

    path = tmp_path / name
    path.write_bytes(png_bytes(*size))
    return path


PASTE_OR_DROP = """async ([kind, b64]) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], kind + '.png', {type: 'image/png'}));
    if (kind === 'paste') {
        const target = document.querySelector('[data-testid=composer-content]');
        target.dispatchEvent(new ClipboardEvent('paste', {clipboardData: transfer, bubbles: true, cancelable: true}));
    } else {
        const target = document.getElementById('composer');
        target.dispatchEvent(new DragEvent('dragover', {dataTransfer: transfer, bubbles: true, cancelable: true}));
        target.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }
}"""


def test_images_picked_pasted_and_dropped_reach_a_vision_model_as_image_url_parts(
    signed_in, demo_studio, page, tmp_path, shots
):
    import base64

    from conversations.models import Message
    from tests.factories import png_bytes

    new_conversation(page)
    page.select_option("[data-testid=composer-model]", "openai/gpt-4o-mini")
    picked = _png_file(tmp_path, "picked.png", (12, 8))
    page.set_input_files("[data-testid=composer-images]", str(picked))
    pasted, dropped = png_bytes(9, 9, (200, 10, 10)), png_bytes(7, 5, (10, 200, 10))
    page.evaluate(PASTE_OR_DROP, ["paste", base64.b64encode(pasted).decode()])
    page.evaluate(PASTE_OR_DROP, ["drop", base64.b64encode(dropped).decode()])
    page.wait_for_function("() => document.querySelectorAll('#attachments img').length === 3")
    page.screenshot(path=str(shots / "chat-attachments.png"))
    send(page, "What do these show?")

    sent = chats(demo_studio)[-1].body["messages"][-1]
    assert sent["content"][0] == {"type": "text", "text": "What do these show?"}
    urls = [part["image_url"]["url"] for part in sent["content"][1:]]
    assert [part["type"] for part in sent["content"][1:]] == ["image_url"] * 3
    assert [base64.b64decode(url.split(",", 1)[1]) for url in urls] == [picked.read_bytes(), pasted, dropped]
    assert page.locator("#attachments img").count() == 0  # sent: the composer is empty again

    # Kept with the message: shown again after a reload, from the stored uploads.
    message = Message.objects.get(role="user", conversation__owner=signed_in)
    assert message.images.count() == 3
    page.reload()
    images = page.locator("li.message-user [data-testid=attached-image]")
    assert images.count() == 3
    assert page.evaluate(
        "() => Array.from(document.querySelectorAll('li.message-user img')).every(i => i.naturalWidth > 0)"
    )


def test_an_image_for_a_model_that_does_not_read_images_is_refused_in_words(signed_in, demo_studio, page, tmp_path):
    new_conversation(page)
    page.select_option("[data-testid=composer-model]", "fake/echo")
    page.set_input_files("[data-testid=composer-images]", str(_png_file(tmp_path, "a.png", (8, 8))))
    page.wait_for_function("() => document.querySelectorAll('#attachments img').length === 1")
    page.fill("[data-testid=composer-content]", "Look")
    page.click("[data-testid=send]")
    page.wait_for_function(IDLE)
    error = page.locator("[data-testid=turn-error]")
    error.wait_for(state="visible")
    assert "does not take images" in error.inner_text()
    # The message and its image are given back for another try.
    assert page.input_value("[data-testid=composer-content]") == "Look"
    assert page.locator("#attachments img").count() == 1
    assert chats(demo_studio) == []


def test_edit_an_earlier_message_and_send_it_again_cuts_the_thread_there(signed_in, demo_studio, page, shots):
    from conversations.models import Message

    new_conversation(page)
    page.select_option("[data-testid=composer-model]", "fake/echo")
    for text in ("First question", "Second question", "Third question"):
        send(page, text)
    assert page.locator("[data-testid=message]").count() == 6

    first = page.locator("li.message-user").first
    first.get_by_test_id("edit-message").click()
    page.fill("[data-testid=edit-content]", "A better first question")
    page.screenshot(path=str(shots / "chat-edit.png"))
    page.click("[data-testid=edit-send]")
    page.wait_for_function(IDLE)
    page.wait_for_function(LAST_DONE)
    assert page.locator("[data-testid=message]").count() == 2
    assert "A better first question" in page.locator("li.message-assistant").last.inner_text()
    assert chats(demo_studio)[-1].body["messages"] == [{"role": "user", "content": "A better first question"}]

    # What the page shows is what was saved: a reload shows the cut thread.
    page.reload()
    assert page.locator("[data-testid=message]").count() == 2
    assert page.locator("li.message-user .user-text").inner_text() == "A better first question"
    assert Message.objects.filter(conversation__owner=signed_in).count() == 2

    # Cancel leaves the message as it was.
    page.locator("li.message-user").first.get_by_test_id("edit-message").click()
    page.fill("[data-testid=edit-content]", "never sent")
    page.click("[data-testid=edit-form] button:has-text('Cancel')")
    assert page.locator("li.message-user .user-text").inner_text() == "A better first question"


def test_search_finds_a_conversation_by_words_in_its_messages(signed_in, demo_studio, page):
    new_conversation(page)
    page.select_option("[data-testid=composer-model]", "fake/echo")
    send(page, "Tell me about the Okavango delta")
    page.fill("[data-testid=conversation-title]", "Africa trip")
    page.click("[data-testid=rename]")
    new_conversation(page)
    send(page, "Something else entirely")

    page.fill("[data-testid=conversation-search]", "okavango")
    page.press("[data-testid=conversation-search]", "Enter")
    page.wait_for_url("**q=okavango**")
    links = page.locator("[data-testid=conversation-link]")
    assert links.count() == 1 and links.inner_text() == "Africa trip"
    assert "Okavango delta" in page.locator("[data-testid=conversation-snippet]").inner_text()


def test_export_downloads_markdown_and_json(signed_in, demo_studio, page):
    import json

    new_conversation(page)
    page.select_option("[data-testid=composer-model]", "fake/echo")
    send(page, "Export me")
    page.reload()
    for kind in ("markdown", "json"):
        with page.expect_download() as info:
            page.click(f"[data-testid=export-{kind}]")
        download = info.value
        text = open(download.path(), encoding="utf-8").read()
        if kind == "markdown":
            assert download.suggested_filename.endswith(".md")
            assert text.startswith("# Export me") and "## You\n\nExport me" in text
        else:
            assert download.suggested_filename.endswith(".json")
            body = json.loads(text)
            assert [m["content"] for m in body["messages"]] == ["Export me", "Export me"]


def test_a_share_link_opens_read_only_without_signing_in_and_dies_when_revoked(
    signed_in, demo_studio, page, browser, asgi_server
):
    new_conversation(page)
    page.select_option("[data-testid=composer-model]", "fake/echo")
    send(page, "A thought worth sharing")
    page.click("[data-testid=share]")
    link = page.input_value("[data-testid=share-url]")
    assert "/shared/" in link

    stranger = browser.new_context(base_url=asgi_server.url)  # no session: nobody signed in
    try:
        other = stranger.new_page()
        response = other.goto(link)
        assert response.status == 200
        assert other.locator("[data-testid=message]").count() == 2
        assert "A thought worth sharing" in other.locator("[data-testid=shared-thread]").inner_text()
        assert other.locator("#composer, [data-testid=edit-message], [data-testid=share]").count() == 0

        page.once("dialog", lambda dialog: dialog.accept())
        page.click("[data-testid=unshare]")
        page.wait_for_selector("[data-testid=share]")
        assert other.goto(link).status == 404
        assert "stopped sharing" in other.inner_text("main")
    finally:
        stranger.close()


def test_an_edit_while_an_answer_is_being_written_is_refused_in_words(signed_in, demo_studio, page):
    new_conversation(page)
    page.select_option("[data-testid=composer-model]", "fake/echo")
    send(page, "First question")
    url = page.url

    # A second tab streams a long answer; meanwhile the first edits the earlier message.
    other = page.context.new_page()
    other.goto(url)
    other.select_option("[data-testid=composer-model]", "fake/long-stream")
    other.fill("[data-testid=composer-content]", "Go on for a while")
    other.click("[data-testid=send]")
    other.wait_for_function("() => (document.querySelector('#thread pre.stream') || {}).textContent?.length > 5")

    page.locator("li.message-user").first.get_by_test_id("edit-message").click()
    page.fill("[data-testid=edit-content]", "Changed meanwhile")
    page.click("[data-testid=edit-send]")
    page.wait_for_function(IDLE)
    error = page.locator("[data-testid=turn-error]")
    error.wait_for(state="visible")
    assert "still being written" in error.inner_text()
    other.click("[data-testid=stop]")
    from conversations.models import Message

    assert Message.objects.filter(role="user", content="First question").exists()
    assert not Message.objects.filter(content="Changed meanwhile").exists()
