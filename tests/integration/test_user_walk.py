"""A person's walk through Studio, on the processes `make run` starts: the web server as the
Procfile's ``web:`` line runs it (uvicorn, core.asgi:application, the database-step pool),
a Celery worker (threads pool) and beat, on the store and broker the environment selects
(a DuckDB file and the filesystem broker by default; PostgreSQL and Redis on CI's second
pass), against the offline OpenRouter double. The test talks HTTP only, as a browser, the
openai SDK or curl would; what the provider received is read from the double."""

from __future__ import annotations

import json
import socket
import threading
import time
from decimal import Decimal

import httpx
import openai
import pytest
import requests

from billing.pricing import prompt_tokens_upper
from openrouter.fake import media as fake_media
from tests.conftest import SUBPROCESS_ENV
from tests.support.sse import parse_events
from tests.support.stack import Stack, timed_fake

pytestmark = pytest.mark.integration

PASSWORD = "correct-horse-battery-staple"
ADMIN = ("walk-admin@example.com", PASSWORD)
IN_FLIGHT = 3  # GENERATION_MAX_IN_FLIGHT of the stack: a person's requests running at once
SWEEP = 60  # seconds between the beat's video sweeps: far longer than a submit may take
VIDEO_SECONDS = 2  # the double's render time
PRICED = "anthropic/claude-3.5-haiku"  # a priced text model: the budget step spends on it
OVERLAPPING = "fake/long-stream:pieces=12:interval=0.1"  # a 1.2 s stream: turns overlap
SLOW = "openai/gpt-4o-mini:fault=slow"  # answers after the double's slow_seconds


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("user-walk")
    env = {
        **SUBPROCESS_ENV,
        "GENERATION_MAX_IN_FLIGHT": str(IN_FLIGHT),
        "VIDEO_SWEEP_INTERVAL": str(SWEEP),
        "VIDEO_SWEEP_GRACE": str(SWEEP),
        "VIDEO_POLL_INTERVAL": "0.5",
    }
    with (
        timed_fake(video_duration=VIDEO_SECONDS, slow_seconds=20) as fake,
        Stack(data_dir, fake=fake, env=env) as stack,
    ):
        stack.prepare(admins=[ADMIN], extra_models={OVERLAPPING: "fake/long-stream", SLOW: "openai/gpt-4o-mini"})
        stack.start()
        yield stack


class Person:
    """Someone who registered through the API and signed in: ``api`` sends their token."""

    def __init__(self, stack: Stack, email: str) -> None:
        self.stack, self.email = stack, email
        response = requests.post(
            stack.url("/api/auth/register"), json={"email": email, "password": PASSWORD}, timeout=30
        )
        assert response.status_code == 201, response.text
        self.id = response.json()["id"]
        self.api = stack.api(email, PASSWORD)
        self.token = self.api.headers["Authorization"].removeprefix("Bearer ")

    def post(self, path: str, body: dict, **kwargs) -> requests.Response:
        return self.api.post(self.stack.url(path), json=body, timeout=60, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.api.get(self.stack.url(path), timeout=60, **kwargs)


@pytest.fixture(scope="module")
def person(stack):
    return Person(stack, "walker@example.com")


@pytest.fixture(scope="module")
def api_key(person):
    response = person.post("/api/keys", {"name": "laptop", "expires_at": None})
    assert response.status_code == 201, response.text
    return response.json()["key"]


def chat_calls(fake, model: str) -> list[dict]:
    return [r.body for r in fake.received.matching("POST", "/api/v1/chat/completions") if r.body["model"] == model]


# ------------------------------------------------------------------ the walk


def test_register_and_sign_in(stack, person):
    me = person.get("/api/users/me")
    assert me.status_code == 200 and me.json()["email"] == person.email and me.json()["id"] == person.id
    again = requests.post(
        stack.url("/api/auth/register"), json={"email": person.email.upper(), "password": PASSWORD}, timeout=30
    )
    assert again.status_code == 400 and "email" in again.json()


def test_a_streamed_text_answer_arrives_in_pieces_and_is_kept(person):
    response = person.post(
        "/api/generate/text", {"model": "openai/gpt-4o-mini", "prompt": "Name a colour", "stream": True}, stream=True
    )
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    events = parse_events(response.text)
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done" and names.count("message") > 3, names
    pieces = "".join(data["text"] for name, data in events if name == "message")
    done = events[-1][1]
    assert done["status"] == "completed" and done["text"] == pieces
    assert pieces.startswith("Offline answer from openai/gpt-4o-mini. You asked: Name a colour")
    kept = person.get(f"/api/generations/{done['id']}").json()
    assert kept["status"] == "completed" and kept["text"] == pieces


def test_a_conversation_under_a_budget_stops_at_the_cap(stack):
    """Three turns with a daily budget that pays for the first answer only in part: the
    answer is cut at what the budget pays for, the next turns are refused (402), and the
    spend never passes the budget."""
    budgeted = Person(stack, "budgeted@example.com")
    admin = stack.api(*ADMIN)
    prompt = " ".join(["a"] * 100)  # the double's answer repeats it: 124 words, unless capped
    # What the first turn's prompt is reserved at, plus 80 answer tokens (of the 124).
    prompt_price, token_price = Decimal("0.0000008"), Decimal("0.000004")
    budget = (prompt_price * prompt_tokens_upper(prompt) + token_price * 80).quantize(Decimal("0.00000001"))
    limits = admin.put(
        stack.url(f"/api/users/{budgeted.id}/limits"),
        json={"daily_budget_usd": str(budget), "monthly_budget_usd": None},
        timeout=30,
    )
    assert limits.status_code == 200, limits.text
    conversation = budgeted.post("/api/conversations", {"model": PRICED, "system": ""})
    assert conversation.status_code == 201, conversation.text
    turns = f"/api/conversations/{conversation.json()['id']}/messages"

    first = budgeted.post(turns, {"content": prompt})
    assert first.status_code == 201, first.text
    [call] = chat_calls(stack.fake, PRICED)
    assert 64 <= call.get("max_tokens", 0) < 124, f"the provider is told what the budget pays for: {call}"
    answer = first.json()["answer"]
    assert answer["status"] == "completed" and answer["finish_reason"] == "length", answer
    assert len(answer["content"].split()) <= call["max_tokens"]

    for content in ("and once more", "a third time"):
        refused = budgeted.post(turns, {"content": content})
        assert refused.status_code == 402, refused.text
        assert refused.json()["period"] == "daily"
    assert len(chat_calls(stack.fake, PRICED)) == 1

    daily = budgeted.get(f"/api/users/{budgeted.id}/limits").json()["daily"]
    assert Decimal(daily["spent_usd"]) <= budget, daily
    assert Decimal(daily["reserved_usd"]) == 0, daily
    thread = budgeted.get(f"/api/conversations/{conversation.json()['id']}").json()["messages"]
    assert [m["role"] for m in thread] == ["user", "assistant"], "refused turns keep nothing"


def test_two_turns_sent_at_once_in_one_conversation_are_ordered_or_refused(person):
    conversation = person.post("/api/conversations", {"model": OVERLAPPING, "system": ""})
    assert conversation.status_code == 201, conversation.text
    conversation_id = conversation.json()["id"]
    barrier = threading.Barrier(2)
    answers: dict[str, requests.Response] = {}

    def send(content: str) -> None:
        barrier.wait()
        answers[content] = person.post(
            f"/api/conversations/{conversation_id}/messages", {"content": content, "stream": True}
        )

    tabs = [threading.Thread(target=send, args=(f"from tab {n}",)) for n in (1, 2)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join(60)

    statuses = {content: response.status_code for content, response in answers.items()}
    assert set(statuses.values()) <= {200, 409} and 200 in statuses.values(), {
        c: r.text[:500] for c, r in answers.items()
    }
    kept = []
    for content, response in answers.items():
        if response.status_code == 409:
            assert "detail" in response.json() and response.json()["detail"], response.text
            continue
        events = parse_events(response.text)
        assert events[-1][0] == "done" and events[-1][1]["status"] == "completed", events[-1]
        kept.append(content)
    thread = person.get(f"/api/conversations/{conversation_id}").json()["messages"]
    assert [m["role"] for m in thread] == ["user", "assistant"] * len(kept)
    assert sorted(m["content"] for m in thread if m["role"] == "user") == sorted(kept), "no accepted message lost"
    assert all(m["status"] == "completed" for m in thread)


def test_v1_chat_whole_and_streamed_with_the_openai_sdk(stack, api_key):
    client = openai.OpenAI(base_url=stack.url("/v1"), api_key=api_key, max_retries=0, timeout=60)
    messages = [{"role": "user", "content": "Tell me about lighthouses"}]
    whole = client.chat.completions.create(model="openai/gpt-4o-mini", messages=messages)
    text = whole.choices[0].message.content
    assert text.startswith("Offline answer from openai/gpt-4o-mini. You asked: Tell me about lighthouses")
    assert whole.choices[0].finish_reason == "stop" and whole.usage.completion_tokens > 0

    pieces = []
    for chunk in client.chat.completions.create(model="openai/gpt-4o-mini", messages=messages, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    assert len(pieces) > 3 and "".join(pieces) == text


def test_an_image_is_made_and_its_file_downloaded(person):
    response = person.post(
        "/api/generate/image",
        {"model": "google/gemini-2.5-flash-image", "prompt": "a harbour at dawn", "aspect_ratio": "16:9"},
    )
    assert response.status_code == 201, response.text
    [image] = response.json()["images"]
    assert (image["width"], image["height"]) == (1024, 576)
    stored = person.api.get(image["url"], timeout=30)
    assert stored.status_code == 200 and stored.headers["Content-Type"] == "image/png"
    assert stored.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_a_video_is_submitted_within_a_second_and_followed_to_its_file(stack, person):
    prompt = "a lighthouse in a storm, walked"
    posted = time.monotonic()
    response = person.post("/api/generate/video", {"model": "google/veo-3.1", "prompt": prompt, "duration": 4})
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    while prompt not in stack.fake.submitted_at and time.monotonic() - posted < 10:
        time.sleep(0.01)  # watching the provider, not asking the web process
    assert prompt in stack.fake.submitted_at, f"the provider never got the job\n{stack.log_tail()}"
    submit_delay = stack.fake.submitted_at[prompt] - posted
    # The beat's sweep runs every SWEEP seconds (and only for jobs older than that): only
    # the submit the web process sends reaches the provider this soon.
    assert submit_delay < 1.0, f"the submit reached the provider {submit_delay:.2f} s after the request"
    stack.wait_for_status(person.api, job_id, {"processing", "completed"}, timeout=10)

    body = stack.wait_for_status(person.api, job_id, {"completed", "failed", "cancelled"}, timeout=60)
    assert body["status"] == "completed", body
    video = person.api.get(stack.url(body["video_url"]), timeout=30)
    assert video.status_code == 200 and video.headers["Content-Type"] == "video/mp4"
    assert video.content == fake_media.sample_video_bytes()


def test_a_video_job_cancelled_stays_cancelled(stack, person):
    prompt = "a job I change my mind about"
    response = person.post("/api/generate/video", {"model": "google/veo-3.1", "prompt": prompt, "duration": 4})
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    cancelled = person.post(f"/api/generate/video/{job_id}/cancel", {})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
    time.sleep(VIDEO_SECONDS + 1.5)  # the provider has finished it; several polls would have run
    body = person.get(f"/api/generate/video/{job_id}/status").json()
    assert body["status"] == "cancelled" and body["video_url"] is None
    # Cancelled before or after the submit: its video is never fetched.
    for job in [job for job in stack.fake.jobs.values() if job.body.get("prompt") == prompt]:
        assert not [r for r in stack.fake.received if r.path.startswith(f"/api/v1/videos/{job.id}/content")]
    assert person.post(f"/api/generate/video/{job_id}/cancel", {}).status_code == 409


def hang_up(stack: Stack, key: str, after: float) -> None:
    """POST /v1/chat/completions on a raw connection and close it ``after`` seconds later,
    as a client whose timeout fires."""
    body = json.dumps({"model": SLOW, "messages": [{"role": "user", "content": f"hang up after {after}"}]}).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{stack.port}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        time.sleep(after)


def test_a_client_that_hangs_up_early_frees_its_slot_at_once(stack, person, api_key):
    # From 2 ms in, every 2 ms up to 50 ms, so that some land just after the history row
    # is written whatever the machine's speed, then a few while the provider is still
    # thinking (it answers SLOW after 20 s).
    for after in [0.002 * n for n in range(1, 26)] + [0.1, 0.2, 0.4, 0.8]:
        hang_up(stack, api_key, after)

    def hung_up_rows() -> list[dict]:
        listed = person.get("/api/generations", params={"kind": "text"}).json()["results"]
        return [g for g in listed if g["model"] == SLOW]

    deadline = time.monotonic() + 5  # "at once" next to the stale sweep's minutes
    while [g for g in hung_up_rows() if g["status"] == "pending"] and time.monotonic() < deadline:
        time.sleep(0.1)
    rows = hung_up_rows()
    assert rows, "the later requests reached the server before their hang-ups"
    assert not [g for g in rows if g["status"] == "pending"], rows

    def ask(client: httpx.Client, n: int) -> httpx.Response:
        body = {"model": "fake/echo", "messages": [{"role": "user", "content": f"right after {n}"}]}
        return client.post(stack.url("/v1/chat/completions"), json=body, headers={"Authorization": f"Bearer {api_key}"})

    # Every slot is free again: as many requests as a person may run at once all succeed.
    with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=IN_FLIGHT)) as client:
        results: list[httpx.Response] = []
        threads = [threading.Thread(target=lambda n=n: results.append(ask(client, n))) for n in range(IN_FLIGHT)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert [r.status_code for r in results] == [200] * IN_FLIGHT, [r.text[:300] for r in results]
