"""Markdown is rendered on threads of its own, never on the database-step pool, and a
render that takes too long is not waited for (the answer is saved escaped)."""

import asyncio
import threading
import time
from unittest import mock

import pytest
from asgiref.sync import async_to_sync

from core.db import close_step_pool, in_db
from generation import markdown
from generation.models import Generation
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


def test_a_whole_answer_is_rendered_on_a_renderers_thread(catalogue, user_api, render_threads):
    response = user_api.post(TEXT_URL, {"prompt": "some **bold**", "model": "fake/echo"}, format="json")

    assert response.status_code == 200 and response.json()["html"] == "<p>some <strong>bold</strong></p>\n"
    assert len(render_threads) == 1 and render_threads[0].startswith("markdown")


def test_a_streamed_answer_is_rendered_on_a_renderers_thread(catalogue, stream_post, render_threads):
    status, _, body = stream_post(TEXT_URL, {"prompt": "a *b*", "model": "fake/echo", "stream": True})

    assert status == 200 and parse_events(body)[-1][1]["html"] == "<p>a <em>b</em></p>\n"
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
            render = asyncio.ensure_future(markdown.render_markdown_async("x"))
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

    response = user_api.post(TEXT_URL, {"prompt": "**x** <b>", "model": "fake/echo"}, format="json")

    assert response.status_code == 200
    assert Generation.objects.get().html == "<pre>**x** &lt;b&gt;</pre>" == response.json()["html"]
