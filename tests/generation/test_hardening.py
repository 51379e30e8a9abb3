"""Hardening of generations: answers rendered once when saved (never on a read, linear in
their length), and rows that a killed process or a deletion left behind."""

import importlib
from types import SimpleNamespace

import pytest

from core.db import Coalesced
from generation import markdown, records, services
from generation.models import GeneratedImage, Generation
from openrouter.types import Usage
from tests.openrouter.test_hardening import BOMB
from tests.support.sse import parse_events

pytestmark = pytest.mark.django_db

TEXT_URL = "/api/generate/text"


@pytest.fixture
def render_calls(monkeypatch):
    """Every text the renderer is asked to render, in order."""
    calls = []
    real = markdown.render_markdown

    def counting(text):
        calls.append(text)
        return real(text)

    monkeypatch.setattr(markdown, "render_markdown", counting)
    return calls


@pytest.fixture
def no_rendering(monkeypatch):
    """From now on any rendering (the function or the parser itself) fails the test."""

    def boom(*args, **kwargs):
        raise AssertionError("markdown rendered on a read")

    def forbid():
        monkeypatch.setattr(markdown, "render_markdown", boom)
        monkeypatch.setattr(getattr(markdown, "_parser", markdown), "parse", boom, raising=False)

    return forbid


def test_answer_is_rendered_once_when_saved_and_never_on_a_read(
    catalogue, user_api, client, user, render_calls, no_rendering
):
    created = user_api.post(TEXT_URL, {"prompt": "some **bold** words", "model": "fake/echo"}, format="json")

    assert created.status_code == 200, created.content
    assert created.json()["html"] == "<p>some <strong>bold</strong> words</p>\n"
    assert render_calls == ["some **bold** words"]
    row = Generation.objects.get()
    assert row.html == "<p>some <strong>bold</strong> words</p>\n"

    no_rendering()
    listed = user_api.get("/api/generations")
    detail = user_api.get(f"/api/generations/{row.pk}")
    client.force_login(user)
    page = client.get(f"/history/{row.pk}")
    history = client.get("/history")

    assert listed.status_code == 200 and listed.json()["results"][0]["html"] == row.html
    assert detail.status_code == 200 and detail.json()["html"] == row.html
    assert page.status_code == 200 and "<strong>bold</strong>" in page.content.decode()
    assert history.status_code == 200


def test_streamed_answer_is_rendered_once_and_the_done_event_carries_it(catalogue, stream_post, render_calls):
    status, _, body = stream_post(TEXT_URL, {"prompt": "a *b* c", "model": "fake/echo", "stream": True})

    assert status == 200
    name, final = parse_events(body)[-1]
    assert name == "done" and final["html"] == "<p>a <em>b</em> c</p>\n"
    assert render_calls == ["a *b* c"]


@pytest.mark.timeout(60)
def test_twenty_thousand_brackets_render_once(catalogue, user_api, settings, render_calls, no_rendering):
    """The old renderer took seconds per read on 8,000 brackets (quadratic); now one
    linear render at save time, and reads only load the stored HTML."""
    settings.GENERATION_PROMPT_MAX_CHARS = 30_000
    brackets = "[" * 20_000

    created = user_api.post(TEXT_URL, {"prompt": brackets, "model": "fake/echo"}, format="json")

    assert created.status_code == 200, created.content
    assert created.json()["html"] == f"<p>{brackets}</p>\n"
    assert render_calls == [brackets]
    no_rendering()
    for _ in range(3):
        assert user_api.get(f"/api/generations/{created.json()['id']}").json()["html"] == f"<p>{brackets}</p>\n"


def test_text_beyond_the_limit_is_shown_escaped_not_parsed(settings, monkeypatch):
    settings.GENERATION_MARKDOWN_MAX_CHARS = 40
    text = "**not bold** <script>x()</script> " * 3

    def boom(*args, **kwargs):
        raise AssertionError("parsed past the limit")

    monkeypatch.setattr(markdown._parser, "parse", boom)
    html = markdown.render_markdown(text)

    assert html.startswith("<pre>") and html.endswith("</pre>")
    assert "<strong>" not in html and "<script" not in html and "&lt;script&gt;" in html


def test_markdown_features_of_the_old_renderer_are_kept():
    html = markdown.render_markdown(
        "~~gone~~ [ok](https://example.com) [bad](javascript:alert(1))\n\n"
        "| a | b |\n|:-|-:|\n| 1 | 2 |\n\n3. three\n4. four\n\n```py\n<b>x</b>\n```"
    )

    assert "<del>gone</del>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>' in html
    assert 'href="javascript:' not in html
    assert '<th align="left">a</th>' in html and '<td align="right">2</td>' in html and "style=" not in html
    assert '<ol start="3">' in html and "<pre><code>&lt;b&gt;x&lt;/b&gt;" in html


def test_records_render_partial_and_failed_text(user, render_calls):
    partial = Generation.objects.create(owner=user, kind="text", model_id="fake/echo", prompt="p")
    failed = Generation.objects.create(owner=user, kind="text", model_id="fake/echo", prompt="p")

    records.record_cut_short(partial, text="half *an*", why="client gone")
    records.record_failure(failed, RuntimeError("boom"), text="some `code`")

    assert Generation.objects.get(pk=partial.pk).html == "<p>half <em>an</em></p>\n"
    assert Generation.objects.get(pk=failed.pk).html == "<p>some <code>code</code></p>\n"


def test_migration_renders_the_answers_already_stored(user):
    from django.apps import apps
    from django.db import connection

    done = Generation.objects.create(owner=user, kind="text", model_id="fake/echo", prompt="p", text="# Hi")
    empty = Generation.objects.create(owner=user, kind="text", model_id="fake/echo", prompt="p")
    migration = importlib.import_module("generation.migrations.0003_generation_html")

    migration.render_existing(apps, SimpleNamespace(connection=connection))

    assert Generation.objects.get(pk=done.pk).html == "<h1>Hi</h1>\n"
    assert Generation.objects.get(pk=empty.pk).html == ""


def test_finishing_a_row_renders_its_text(user, render_calls):
    row = Generation.objects.create(owner=user, kind="text", model_id="fake/echo", prompt="p")

    [finished] = records.complete_texts([records.TextAnswer(row, "**x**", "id", "stop", Usage())])

    assert finished.html == "<p><strong>x</strong></p>\n" and render_calls == ["**x**"]


def test_rows_finished_together_keep_what_each_answer_changed(user):
    """One batch of answers: an answer that called functions adds them to its row's
    params, the others keep theirs, and every row is completed."""
    plain, calling = (
        Generation.objects.create(
            owner=user, kind="text", model_id="fake/echo", prompt="p", params={"max_tokens": 9}, status="pending"
        )
        for _ in range(2)
    )
    call = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}

    records.complete_texts(
        [
            records.TextAnswer(plain, "hi", "id-1", "stop", Usage(prompt_tokens=1)),
            records.TextAnswer(calling, "", "id-2", "tool_calls", Usage(prompt_tokens=2), tool_calls=(call,)),
        ]
    )

    plain.refresh_from_db()
    calling.refresh_from_db()
    assert (plain.status, plain.text, plain.params, plain.prompt_tokens) == ("completed", "hi", {"max_tokens": 9}, 1)
    assert calling.status == "completed" and calling.finish_reason == "tool_calls"
    assert calling.params == {"max_tokens": 9, "tool_calls": [call]} and calling.prompt_tokens == 2


# ------------------------------------------------------------------ oversized provider images


@pytest.mark.parametrize("model", ["google/gemini-2.5-flash-image", "black-forest-labs/flux-1.1-pro"])
def test_a_provider_image_claiming_a_huge_canvas_is_a_502_not_a_500(
    catalogue, user_api, monkeypatch, stored_files, model
):
    from openrouter.fake import media

    monkeypatch.setattr(media, "png_bytes", lambda *args, **kwargs: BOMB)

    response = user_api.post("/api/generate/image", {"prompt": "a very large cat", "model": model}, format="json")

    assert response.status_code == 502, response.content
    assert "image too large to keep" in response.json()["detail"]
    row = Generation.objects.get()
    assert row.status == "failed" and row.error == response.json()["detail"]
    assert stored_files() == [] and not GeneratedImage.objects.exists()


# ------------------------------------------------------------------ rows left pending


def _pending(owner, *, seconds_ago):
    from datetime import timedelta

    from django.utils import timezone

    return Generation.objects.create(
        owner=owner,
        kind="text",
        model_id="fake/echo",
        prompt="p",
        status="pending",
        created_at=timezone.now() - timedelta(seconds=seconds_ago),
    )


def test_rows_pending_past_the_deadline_and_margin_are_failed_as_interrupted(user, settings):
    from generation import services

    settings.GENERATION_DEADLINE, settings.GENERATION_STALE_MARGIN = 300, 120
    stale = _pending(user, seconds_ago=421)
    running = _pending(user, seconds_ago=400)  # its request may still finish it
    done = Generation.objects.create(
        owner=user, kind="text", model_id="fake/echo", prompt="p", status="completed", text="kept"
    )

    assert services.generation_fail_stale() == 1
    assert services.generation_fail_stale() == 0

    stale.refresh_from_db()
    assert stale.status == "failed" and stale.error_kind == "failed" and stale.finished_at is not None
    assert stale.error == "The generation was interrupted (the server restarted); try again."
    assert Generation.objects.get(pk=running.pk).status == "pending"
    assert Generation.objects.get(pk=done.pk).status == "completed"


def test_a_later_now_fails_the_rest(user, settings):
    from datetime import timedelta

    from django.utils import timezone

    from generation import services

    row = _pending(user, seconds_ago=0)
    later = timezone.now() + timedelta(seconds=settings.GENERATION_DEADLINE + settings.GENERATION_STALE_MARGIN + 1)

    assert services.generation_fail_stale(now=later) == 1
    assert Generation.objects.get(pk=row.pk).finished_at == later


def test_the_failed_row_reads_as_interrupted_in_the_api(user_api, user):
    from generation import services

    row = _pending(user, seconds_ago=10_000)
    services.generation_fail_stale()

    body = user_api.get(f"/api/generations/{row.pk}").json()
    assert body["status"] == "failed" and "interrupted" in body["error"]


def test_beat_fails_stale_generations_every_sweep_interval(settings, user):
    from generation import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["fail-stale-generations"]
    assert entry["task"] == tasks.fail_stale_generations.name == "generation.tasks.fail_stale_generations"
    assert entry["schedule"] == settings.GENERATION_SWEEP_INTERVAL == 60
    row = _pending(user, seconds_ago=10_000)
    assert tasks.fail_stale_generations() == 1
    assert Generation.objects.get(pk=row.pk).status == "failed"


@pytest.fixture
def deleted_after_pending(monkeypatch):
    """The owner deletes each generation right after its pending row is written, while
    the provider call is still to come."""
    deleted = []

    def wrap(name):
        real = getattr(records, name)

        def pending_then_deleted(**kwargs):
            generation = real(**kwargs)
            Generation.objects.filter(pk=generation.pk).delete()
            deleted.append(generation.pk)
            return generation

        monkeypatch.setattr(records, name, pending_then_deleted)

    def inserted_then_deleted(generations):
        for generation in records.insert_pending(generations):
            Generation.objects.filter(pk=generation.pk).delete()
            deleted.append(generation.pk)
        return generations

    wrap("image_pending")
    monkeypatch.setattr(services, "_insert_pending", Coalesced(inserted_then_deleted))
    return deleted


def test_a_text_deleted_during_its_call_is_no_500(catalogue, user_api, deleted_after_pending):
    response = user_api.post(TEXT_URL, {"prompt": "hi *there*", "model": "fake/echo"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["html"] == "<p>hi <em>there</em></p>\n"
    assert deleted_after_pending and not Generation.objects.exists()
    assert user_api.get(f"/api/generations/{deleted_after_pending[0]}").status_code == 404


def test_a_stream_deleted_during_its_call_is_no_500(catalogue, stream_post, deleted_after_pending):
    status, _, body = stream_post(TEXT_URL, {"prompt": "hi there", "model": "fake/echo", "stream": True})

    assert status == 200
    name, final = parse_events(body)[-1]
    assert name == "done" and final["text"] == "hi there"
    assert deleted_after_pending and not Generation.objects.exists()


# The images' rows go in a transaction of their own, which DuckDB cannot nest in a test's.
@pytest.mark.django_db(transaction=True)
def test_an_image_deleted_during_its_call_is_a_409_and_keeps_no_file(
    catalogue, user_api, deleted_after_pending, stored_files
):
    response = user_api.post("/api/generate/image", {"prompt": "a cat", "model": "openai/dall-e-3"}, format="json")

    assert response.status_code == 409, response.content
    assert response.json()["detail"] == "The generation was deleted while it ran; its images were not kept."
    assert deleted_after_pending and not Generation.objects.exists()
    assert stored_files() == [] and not GeneratedImage.objects.exists()
