"""Text and image generation in a real Chromium against the live server, in demo mode
(the offline OpenRouter double)."""

import pytest

from generation.models import Generation
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo_studio(settings, transactional_db, media_root):
    """Demo mode as `make run` has it: the double serving the provider API, the catalogue
    synced from it."""
    from catalogue.services import catalogue_sync
    from openrouter.fake import FakeOpenRouter

    # Pieces a little apart, so the page is seen filling in while the answer streams.
    with FakeOpenRouter(port=0, stream_delay=0.05) as fake:
        settings.DEMO_MODE = True
        settings.OPENROUTER_BASE_URL = fake.base_url
        settings.OPENROUTER_API_KEY = "demo-key"
        settings.OPENROUTER_MAX_RETRIES = 0
        catalogue_sync()
        yield fake


@pytest.fixture
def signed_in(demo_studio, page, login):
    user = UserFactory()
    login(user.email, DEFAULT_PASSWORD)
    return user


def test_text_answer_streams_into_the_page(signed_in, page, shots):
    page.goto("/generate/text")
    assert page.locator(".demo-banner").is_visible()
    page.select_option("#id_model", "openai/gpt-4o-mini")
    page.fill("#id_prompt", 'Write about *rivers* and <img src=x onerror="window.__pwned=1">')
    # Record every state of the streamed text, to see it grow piece by piece.
    page.evaluate("""() => {
        window.__seen = [];
        const box = document.getElementById('answer-stream');
        new MutationObserver(() => window.__seen.push(box.textContent))
            .observe(box, {childList: true, characterData: true, subtree: true});
    }""")

    page.click("[data-testid=generate]")

    page.wait_for_function("() => document.getElementById('answer-card').dataset.state === 'done'")
    answer = page.locator("[data-testid=answer]")
    assert answer.is_visible()
    generation = Generation.objects.get(owner=signed_in)
    assert generation.status == "completed" and generation.text.startswith("Offline answer from openai/gpt-4o-mini")
    # The final answer is the server's markdown rendering of the saved text.
    assert answer.inner_text().startswith("Offline answer from openai/gpt-4o-mini")
    assert answer.locator("em").inner_text() == "rivers"
    seen = page.evaluate("window.__seen")
    growing = [text for text in seen if text]
    assert len(set(growing)) > 3, "the answer should appear piece by piece"
    assert all(generation.text.startswith(text) for text in growing)
    # Model output never runs as markup: the prompt's <img onerror> is shown as text.
    assert page.evaluate("window.__pwned") is None
    assert answer.locator("img").count() == 0
    assert "tokens" in page.locator("[data-testid=answer-meta]").inner_text().lower()
    page.screenshot(path=str(shots / "text-streamed.png"), full_page=True)


def _image_shape(page):
    image = page.locator("[data-testid=generated-image]")
    assert image.count() == 1
    page.wait_for_function(
        "() => document.querySelector('[data-testid=generated-image]').complete && "
        "document.querySelector('[data-testid=generated-image]').naturalWidth > 0"
    )
    return page.evaluate("""() => {
        const img = document.querySelector('[data-testid=generated-image]');
        const box = img.getBoundingClientRect();
        return {naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
                width: box.width, height: box.height};
    }""")


def test_images_have_the_requested_shape_on_the_page(signed_in, page, shots):
    page.goto("/generate/image")

    # A chat-image model: aspect ratio and resolution, no exact size.
    page.select_option("#id_model", "google/gemini-2.5-flash-image")
    assert page.locator("[data-control=aspect_ratio]").is_visible()
    assert page.locator("[data-control=image_size]").is_visible()
    assert not page.locator("[data-control=size]").is_visible()
    page.fill("#id_prompt", "A harbour at dawn")
    page.select_option("#id_aspect_ratio", "16:9")
    page.select_option("#id_image_size", "2K")
    page.click("[data-testid=generate]")
    page.wait_for_url("**/history/*")

    wide = _image_shape(page)
    assert (wide["naturalWidth"], wide["naturalHeight"]) == (2048, 1152)
    assert wide["width"] / wide["height"] == pytest.approx(16 / 9, rel=0.01)
    assert page.locator("[data-testid=download]").get_attribute("href").endswith("?download=1")
    page.screenshot(path=str(shots / "image-16x9-2k.png"), full_page=True)
    chat = Generation.objects.get(owner=signed_in, model_id="google/gemini-2.5-flash-image")
    assert chat.route == "chat" and chat.params["aspect_ratio"] == "16:9"

    # A DALL-E-style image-only model: exact sizes, no aspect ratio.
    page.goto("/generate/image")
    page.select_option("#id_model", "openai/dall-e-3")
    assert page.locator("[data-control=size]").is_visible()
    assert not page.locator("[data-control=aspect_ratio]").is_visible()
    assert not page.locator("[data-control=image_size]").is_visible()
    page.fill("#id_prompt", "A wide valley")
    page.select_option("#id_size", "1792x1024")
    page.screenshot(path=str(shots / "image-form-dalle.png"), full_page=True)
    page.click("[data-testid=generate]")
    page.wait_for_url("**/history/*")

    sized = _image_shape(page)
    assert (sized["naturalWidth"], sized["naturalHeight"]) == (1792, 1024)
    assert sized["width"] / sized["height"] == pytest.approx(1792 / 1024, rel=0.01)
    assert Generation.objects.get(owner=signed_in, model_id="openai/dall-e-3").route == "images"

    # The history shows both, with thumbnails.
    page.goto("/history?kind=image")
    assert page.locator("[data-testid=history-item]").count() == 2
    assert page.locator("[data-testid=thumbnail]").count() == 2
    page.screenshot(path=str(shots / "history.png"), full_page=True)


@pytest.fixture
def shots(tmp_path):
    """Where screenshots go (kept with the test's temporary files, for a person to look at)."""
    return tmp_path


def _page_overflows(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


def test_long_unbroken_words_stay_inside_the_page(signed_in, page, shots):
    # A model may answer with a long URL or hash; neither it nor a long prompt may widen
    # the page past the window (they did: the answer card and history rows overflowed).
    word = "x" * 600
    page.goto("/generate/text")
    page.select_option("#id_model", "openai/gpt-4o-mini")
    page.fill("#id_prompt", word)
    page.click("[data-testid=generate]")
    page.wait_for_function("() => document.getElementById('answer-card').dataset.state === 'done'")
    assert "x" * 200 in page.locator("[data-testid=answer]").inner_text()
    page.screenshot(path=str(shots / "long-word-answer.png"), full_page=True)
    assert not _page_overflows(page)

    generation = Generation.objects.get(owner=signed_in)
    page.goto("/history")
    assert not _page_overflows(page)
    page.goto(f"/history/{generation.pk}")
    page.screenshot(path=str(shots / "long-word-detail.png"), full_page=True)
    assert not _page_overflows(page)


def test_text_page_shows_bad_input_next_to_its_field(signed_in, page, shots):
    page.goto("/generate/text")
    page.click("[data-testid=generate]")

    prompt_error = page.locator("#id_prompt + ul.errorlist")
    prompt_error.wait_for()
    assert "This field is required." in prompt_error.inner_text()
    assert not page.locator("#answer-card").is_visible()

    # A field inside the collapsed options: they open to show it.
    page.fill("#id_prompt", "hello")
    page.locator("details.options summary").click()
    page.fill("#id_temperature", "7")
    page.locator("details.options summary").click()
    page.click("[data-testid=generate]")
    temperature_error = page.locator("#id_temperature + ul.errorlist")
    temperature_error.wait_for()
    assert temperature_error.is_visible() and "0 to 2" in temperature_error.inner_text()
    assert page.locator("#id_prompt + ul.errorlist").count() == 0
    page.screenshot(path=str(shots / "text-field-errors.png"), full_page=True)
    assert not Generation.objects.filter(owner=signed_in).exists()

    # Fixed input: the errors go and the answer comes.
    page.fill("#id_temperature", "0.5")
    page.click("[data-testid=generate]")
    page.wait_for_function("() => document.getElementById('answer-card').dataset.state === 'done'")
    assert page.locator("ul.errorlist").count() == 0
    assert page.locator("[data-testid=answer]").is_visible()


def test_image_error_on_a_control_the_model_does_not_take_is_shown(signed_in, page, shots):
    # What a page loaded before a catalogue change sends: an aspect ratio to a model that
    # takes exact sizes only. The server's 400 names aspect_ratio; the picker used to hide
    # that control again, so the page came back with no visible error at all.
    page.goto("/generate/image")
    page.select_option("#id_model", "openai/dall-e-3")
    page.fill("#id_prompt", "A wide valley")
    page.evaluate("""() => {
        const field = document.getElementById('id_aspect_ratio');
        field.disabled = false;
        field.append(new Option('16:9', '16:9', true, true));
    }""")
    page.click("[data-testid=generate]")
    page.wait_for_load_state()

    error = page.locator("[data-control=aspect_ratio] .errorlist")
    assert error.is_visible() and "not accepted by openai/dall-e-3" in error.inner_text()
    page.screenshot(path=str(shots / "image-hidden-control-error.png"), full_page=True)
    assert not Generation.objects.filter(owner=signed_in).exists()

    # Sent again as it stands, the disabled control is left out and the image is made.
    page.click("[data-testid=generate]")
    page.wait_for_url("**/history/*")
    assert Generation.objects.get(owner=signed_in).params.get("aspect_ratio") in (None, "")


def test_text_page_stop_keys_counter_copy_and_regenerate(demo_studio, browser, asgi_server, settings):
    context = browser.new_context(base_url=asgi_server.url, viewport={"width": 390, "height": 844})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    user = UserFactory()
    page.goto("/login")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto("/generate/text")

    # The limit is visible: the counter says it, and a longer text is not kept silently.
    limit = settings.GENERATION_PROMPT_MAX_CHARS
    counter = page.get_by_test_id("prompt-counter")
    assert page.get_attribute("#id_prompt", "maxlength") == str(limit)
    page.fill("#id_prompt", "x" * (limit + 1000))
    assert f"{limit:,} / {limit:,} characters" in counter.inner_text() and "limit" in counter.inner_text()
    page.fill("#id_prompt", "Go on for a while")
    assert counter.inner_text() == f"17 / {limit:,} characters"
    assert "Ctrl+Enter" in page.inner_text("#prompt-hint")

    # Ctrl+Enter sends; Stop ends the stream and the page says so, without an error.
    page.select_option("#id_model", "fake/long-stream")
    page.focus("#id_prompt")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.getElementById('answer-stream').textContent.length > 10")
    page.get_by_test_id("stop").click()
    page.wait_for_function("() => document.getElementById('answer-card').dataset.state === 'done'")
    assert page.get_by_test_id("answer-meta").inner_text().startswith("Stopped.")
    assert page.get_by_test_id("answer-error").is_hidden()
    kept = page.inner_text("#answer-stream")

    page.get_by_test_id("copy-answer").click()
    assert page.evaluate("navigator.clipboard.readText()") == kept

    # Regenerate sends the same request again; this time it runs to its end.
    page.select_option("#id_model", "openai/gpt-4o-mini")  # not what is sent: the last request is
    page.get_by_test_id("regenerate").click()
    page.wait_for_function("() => document.getElementById('answer-stream').textContent.length > 10")
    page.get_by_test_id("stop").click()
    page.wait_for_function("() => document.getElementById('answer-card').dataset.state === 'done'")
    prompts = [g.model_id for g in Generation.objects.filter(owner=user).order_by("pk")]
    assert prompts == ["fake/long-stream", "fake/long-stream"]
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    context.close()
