"""Markdown is rendered on threads of its own, never on the database-step pool (a short
answer on the event loop, at once), and a render that takes too long is not waited for
(the answer is saved escaped)."""

import asyncio
import base64
import threading
import time
from unittest import mock

import pytest
from asgiref.sync import async_to_sync

from core.db import close_step_pool, in_db
from core.errors import InvalidInput
from generation import markdown, services, validation
from generation.models import Generation
from tests.factories import png_bytes
from tests.support.sse import parse_events

pytestmark = pytest.mark.django_db

TEXT_URL = "/api/generate/text"


@pytest.fixture
def render_threads(monkeypatch):
    """The name of the thread each render ran on."""
    names = []
    real = markdown.render_markdown

    def recording(text):
        names.append(threading.current_thread().name)
        return real(text)

    monkeypatch.setattr(markdown, "render_markdown", recording)
    return names


LONG = " (and a tail to make it longer than what is rendered in place)" * 4


def test_a_whole_answer_is_rendered_on_a_renderers_thread(catalogue, user_api, render_threads):
    response = user_api.post(TEXT_URL, {"prompt": "some **bold**" + LONG, "model": "fake/echo"}, format="json")

    assert response.status_code == 200
    assert response.json()["html"] == f"<p>some <strong>bold</strong>{LONG}</p>\n"
    assert len(render_threads) == 1 and render_threads[0].startswith("markdown")


def test_a_short_answer_is_rendered_at_once_on_no_thread_of_its_own(catalogue, user_api, render_threads):
    response = user_api.post(TEXT_URL, {"prompt": "some **bold**", "model": "fake/echo"}, format="json")

    assert response.status_code == 200 and response.json()["html"] == "<p>some <strong>bold</strong></p>\n"
    assert len(render_threads) == 1 and not render_threads[0].startswith(("markdown", "db-step"))


def test_a_streamed_answer_is_rendered_on_a_renderers_thread(catalogue, stream_post, render_threads):
    status, _, body = stream_post(TEXT_URL, {"prompt": "a *b*" + LONG, "model": "fake/echo", "stream": True})

    assert status == 200 and parse_events(body)[-1][1]["html"] == f"<p>a <em>b</em>{LONG}</p>\n"
    assert len(render_threads) == 1 and render_threads[0].startswith("markdown")


def test_a_database_step_runs_while_a_long_render_holds_a_renderer(settings):
    """With the production pool: a render that takes long does not hold up database steps."""
    settings.WEB_DB_THREADS = "pool"
    rendering, release = threading.Event(), threading.Event()

    def slow(text):
        rendering.set()
        release.wait(10)
        return "<p>late</p>"

    async def both():
        with mock.patch.object(markdown, "render_markdown", slow):
            render = asyncio.ensure_future(markdown.render_markdown_async("x" * (markdown.INLINE_RENDER_CHARS + 1)))
            await asyncio.to_thread(rendering.wait, 10)
            started = time.monotonic()
            step = await in_db(lambda: threading.current_thread().name)()
            took = time.monotonic() - started
            release.set()
            await render
        return step, took

    try:
        step_thread, took = async_to_sync(both)()
    finally:
        release.set()
        close_step_pool()
    assert step_thread.startswith("db-step") and took < 1.0


def test_a_render_past_its_time_is_saved_escaped(catalogue, user_api, monkeypatch):
    monkeypatch.setattr(markdown, "RENDER_SECONDS", 0.05)
    real = markdown.render_markdown

    def slow(text):
        time.sleep(0.5)
        return real(text)

    monkeypatch.setattr(markdown, "render_markdown", slow)

    monkeypatch.setattr(markdown, "INLINE_RENDER_CHARS", 0)

    response = user_api.post(TEXT_URL, {"prompt": "**x** <b>", "model": "fake/echo"}, format="json")

    assert response.status_code == 200
    assert Generation.objects.get().html == "<pre>**x** &lt;b&gt;</pre>" == response.json()["html"]


# ------------------------------------------------------------------ base64 off the database steps


@pytest.mark.parametrize("where", ["messages", "source_image_url"])
def test_images_sent_as_data_urls_are_decoded_outside_the_database_step(catalogue, user, user_api, monkeypatch, where):
    threads: dict[str, list] = {"decode": [], "step": []}
    decode, entry = validation.decode_image_data_url, validation.catalogue_entry

    def decoding(*args, **kwargs):
        threads["decode"].append(threading.current_thread())
        return decode(*args, **kwargs)

    def stepping(*args, **kwargs):  # runs in the opening's database step
        threads["step"].append(threading.current_thread())
        return entry(*args, **kwargs)

    monkeypatch.setattr(validation, "decode_image_data_url", decoding)
    monkeypatch.setattr(validation, "catalogue_entry", stepping)
    picture = f"data:image/png;base64,{base64.b64encode(png_bytes(8, 6)).decode()}"

    if where == "messages":  # as /v1/chat/completions sends them
        parts = [{"type": "text", "text": "What is it?"}, {"type": "image_url", "image_url": {"url": picture}}]
        answer = async_to_sync(services.text_generate)(
            user=user, model="openai/gpt-4o-mini", messages=[{"role": "user", "content": parts}]
        )
        assert answer.status == "completed" and "1 image" in answer.text
    else:
        response = user_api.post(
            "/api/generate/image",
            {"prompt": "make it blue", "model": "google/gemini-2.5-flash-image", "source_image_url": picture},
            format="json",
        )
        assert response.status_code == 201, response.content
    assert len(threads["decode"]) == 1 and threads["step"]
    assert threads["decode"][0] not in threads["step"]


def test_a_bad_data_url_is_still_refused_in_validations_order(catalogue, user):
    """Decoded ahead, a bad image is refused where validation meets it: after the model."""
    parts = [{"type": "image_url", "image_url": {"url": "data:image/png;base64,bm90IGFuIGltYWdl"}}]

    with pytest.raises(InvalidInput) as refused:
        async_to_sync(services.text_generate)(
            user=user, model="fake/echo", messages=[{"role": "user", "content": parts}]
        )

    assert refused.value.field == "messages" and "does not take images" in refused.value.message
    assert not Generation.objects.exists()
