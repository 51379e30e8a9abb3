"""Fair use of the web process: at most GENERATION_MAX_IN_FLIGHT generations per person
at once, and GENERATION_DEADLINE bounding a whole request, streaming included."""

import pytest

from generation import capacity
from generation.models import Generation

pytestmark = pytest.mark.django_db

URL = "/api/generate/text"
IMAGE_URL = "/api/generate/image"


def _parse(text):
    events = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        name = next((line[7:] for line in lines if line.startswith("event: ")), "message")
        events.append(name)
    return events


@pytest.mark.parametrize(
    "url, body",
    [
        (URL, {"prompt": "hi", "model": "fake/echo"}),
        (URL, {"prompt": "hi", "model": "fake/echo", "stream": True}),
        (IMAGE_URL, {"prompt": "a cat", "model": "google/gemini-2.5-flash-image"}),
    ],
)
def test_beyond_the_cap_is_429_with_retry_after_and_nothing_sent(
    catalogue, fake_openrouter, stream_post, settings, user, url, body
):
    settings.GENERATION_MAX_IN_FLIGHT = 2
    capacity.try_acquire_slot(user.pk)
    capacity.try_acquire_slot(user.pk)  # two generations of this user are running

    status, headers, text = stream_post(url, body)

    assert status == 429 and int(headers["Retry-After"]) >= 1
    assert "2 generations running" in text and "try again" in text
    assert not Generation.objects.exists() and list(fake_openrouter.received) == []


def test_a_finished_generation_frees_its_slot(catalogue, stream_post, settings, user):
    settings.GENERATION_MAX_IN_FLIGHT = 1

    answers = [stream_post(URL, {"prompt": "hi", "model": "fake/echo"})[0] for _ in range(3)]
    streamed = [stream_post(URL, {"prompt": "hi", "model": "fake/echo", "stream": True})[0] for _ in range(3)]
    failed = stream_post(URL, {"prompt": "hi", "model": "openai/gpt-4o-mini:fault=rate_limit"})[0]

    assert answers == [200, 200, 200] and streamed == [200, 200, 200]
    assert failed in (400, 429)  # refused by the provider (or unknown model): either way the slot comes back
    assert stream_post(URL, {"prompt": "hi", "model": "fake/echo"})[0] == 200


def test_the_cap_is_per_person(catalogue, stream_post, settings, other_user):
    settings.GENERATION_MAX_IN_FLIGHT = 1
    capacity.try_acquire_slot(other_user.pk)

    assert stream_post(URL, {"prompt": "hi", "model": "fake/echo"})[0] == 200


def test_a_whole_answer_past_the_deadline_is_504_and_recorded(fault_model, stream_post, settings):
    settings.GENERATION_DEADLINE = 0.5
    model = fault_model("slow")  # the double answers after a few seconds

    status, headers, text = stream_post(URL, {"prompt": "hi", "model": model})

    assert status == 504 and "GENERATION_DEADLINE" in text
    row = Generation.objects.get()
    assert row.status == "failed" and row.error_kind == "provider_timeout"


def test_a_stream_past_the_deadline_ends_with_an_error_event_and_keeps_its_text(catalogue, stream_post, settings):
    settings.GENERATION_DEADLINE = 1.0
    model = "fake/long-stream"  # 100 pieces 0.1 s apart: 10 s, far past the deadline

    status, headers, text = stream_post(URL, {"prompt": "hi", "model": model, "stream": True})

    events = _parse(text)
    assert status == 200 and events[0] == "start" and events[-1] == "error"
    assert "message" in events  # some pieces arrived before the deadline
    assert "did not finish within 1 seconds" in text and "GENERATION_DEADLINE" in text
    row = Generation.objects.get()
    assert row.status == "failed" and row.error_kind == "provider_timeout" and row.text.startswith("word1")


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "hi", "model": "fake/echo"},
        {"prompt": "hi", "model": "fake/echo", "stream": True},
    ],
)
def test_a_pending_row_that_cannot_be_written_frees_its_slot_and_sends_nothing(
    catalogue, fake_openrouter, stream_post, settings, monkeypatch, body
):
    from core.db import Coalesced
    from generation import services

    def refused(generations):
        raise RuntimeError("the database refused the rows")

    settings.GENERATION_MAX_IN_FLIGHT = 1
    monkeypatch.setattr(services, "_insert_pending", Coalesced(refused))
    status, _, text = stream_post(URL, body)
    monkeypatch.undo()

    assert status == 503 and "could not be recorded" in text and "Try again" in text
    assert not Generation.objects.exists() and list(fake_openrouter.received) == []
    # The one slot came back: the next request is served.
    assert stream_post(URL, body)[0] == 200
