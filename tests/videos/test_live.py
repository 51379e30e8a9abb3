"""Live video status over server-sent events: who may watch what, what the stream says,
and the one shared watcher behind every stream of a process (videos.live)."""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from videos import live, selectors
from videos.models import VideoJob
from videos.transitions import transition, update_if

S = VideoJob.Status
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_live(settings):
    settings.VIDEO_LIVE_INTERVAL = 0.01
    settings.VIDEO_LIVE_HEARTBEAT = 15.0


def bearer(user) -> dict:
    from rest_framework_simplejwt.tokens import AccessToken

    return {"Authorization": f"Bearer {AccessToken.for_user(user)}"} if user is not None else {}


def parse(text: str) -> list:
    """SSE text -> [(event, data)], comments as ("comment", text)."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        if block.startswith(":"):
            events.append(("comment", block[1:].strip()))
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events


class Stream:
    """An open SSE answer read event by event on the test's event loop."""

    def __init__(self, response):
        self.response = response
        self.status_code = response.status_code
        self._chunks = response.streaming_content.__aiter__() if response.streaming else None
        self._buffer = ""

    async def next(self):
        while "\n\n" not in self._buffer:
            self._buffer += (await self._chunks.__anext__()).decode()
        block, self._buffer = self._buffer.split("\n\n", 1)
        return parse(block + "\n\n")[0]

    async def rest(self) -> list:
        text = self._buffer + "".join([chunk.decode() async for chunk in self._chunks])
        return parse(text)

    async def hang_up(self):
        """What a client going away does under ASGI: the server's pending read of the
        stream is cancelled (the stream then unsubscribes)."""
        if self._chunks is None:
            return
        pending = asyncio.ensure_future(self.next())
        await asyncio.sleep(0)  # the read starts and waits for a change
        pending.cancel()
        await asyncio.gather(pending, return_exceptions=True)
        await self._chunks.aclose()


async def open_stream(url, user, **extra) -> Stream:
    response = await AsyncClient().get(url, headers={**bearer(user), "Accept": "text/event-stream"}, **extra)
    return Stream(response)


def run(coroutine_function):
    """Run an async test body on a loop of its own, its sync_to_async calls in this thread
    (so they see the test's transaction)."""
    return async_to_sync(coroutine_function)()


def complete(job):
    """What the worker does when the provider finished: one conditional UPDATE."""
    return transition(
        job_id=job.pk, from_states=(S.PROCESSING,), to=S.COMPLETED, video_file="videos/x.mp4", progress=100
    )


# ------------------------------------------------------------------ who may watch what


@pytest.mark.parametrize("who", ["anonymous", "owner", "other", "admin"])
def test_authorization_matrix(user, other_user, admin_user, make_job, who):
    caller = {"anonymous": None, "owner": user, "other": other_user, "admin": admin_user}[who]
    job = make_job(user, status=S.COMPLETED)

    async def go():
        many = await open_stream(f"/api/generate/video/events?ids={job.pk}", caller)
        one = await open_stream(f"/api/generate/video/{job.pk}/events", caller)
        answers = []
        for stream in (many, one):
            events = await stream.rest() if stream.status_code == 200 else []
            answers.append((stream.status_code, events))
        return answers

    (many_status, many_events), (one_status, one_events) = run(go)
    if who == "anonymous":
        assert (many_status, one_status) == (401, 401)
    elif who == "other":
        # Several ids: someone else's are left out silently; one id: 404, as the status API.
        assert many_status == 200
        assert many_events == [("end", {})], "nothing about the job, not even that it exists"
        assert one_status == 404
    else:  # the owner, and an admin (who may watch any job)
        for status_code, events in ((many_status, many_events), (one_status, one_events)):
            assert status_code == 200
            assert [name for name, _ in events] == ["status", "end"]
            assert events[0][1]["id"] == job.pk and events[0][1]["status"] == "completed"


def test_session_cookie_is_enough(client, user, make_job):
    job = make_job(user, status=S.FAILED, error="no luck")
    client.force_login(user)
    session = client.cookies

    async def go():
        async_client = AsyncClient()
        async_client.cookies = session
        response = await async_client.get(f"/api/generate/video/events?ids={job.pk}")
        return response.status_code, await Stream(response).rest()

    status_code, events = run(go)
    assert status_code == 200
    assert events[0] == ("status", {**events[0][1], "status": "failed", "error": "no luck"})


@pytest.mark.parametrize("ids", ["", "a,b", "1;2", ",".join(str(n) for n in range(1, 202))])
def test_bad_ids_are_400(user, ids):
    async def go():
        response = await AsyncClient().get(
            f"/api/generate/video/events?ids={ids}", headers={**bearer(user), "Accept": "application/json"}
        )
        return response.status_code, json.loads(response.content)

    status_code, body = run(go)
    assert status_code == 400 and "ids" in body


def test_others_ids_are_left_out_of_a_mixed_stream(user, other_user, make_job):
    mine = make_job(user, status=S.CANCELLED)
    theirs = make_job(other_user, status=S.COMPLETED)

    async def go():
        stream = await open_stream(f"/api/generate/video/events?ids={mine.pk},{theirs.pk},999999", user)
        return await stream.rest()

    events = run(go)
    assert [(name, data.get("id")) for name, data in events] == [("status", mine.pk), ("end", None)]


# ------------------------------------------------------------------ what the stream says


def test_first_event_is_the_state_now_with_the_status_apis_body(user, make_job, client_for):
    job = make_job(user, status=S.PROCESSING, progress=40)
    status_body = client_for(user).get(f"/api/generate/video/{job.pk}/status").json()

    async def go():
        stream = await open_stream(f"/api/generate/video/{job.pk}/events", user)
        try:
            return stream.response["Content-Type"], await stream.next()
        finally:
            await stream.hang_up()

    content_type, first = run(go)
    assert content_type.startswith("text/event-stream")
    assert first == ("status", status_body)


def test_a_workers_change_arrives_and_a_terminal_status_ends_the_stream(user, make_job):
    job = make_job(user, status=S.PROCESSING, progress=10)

    async def go():
        stream = await open_stream(f"/api/generate/video/{job.pk}/events", user)
        first = await stream.next()
        # The worker saw the provider's progress: the same UPDATE it makes.
        await sync_to_async(update_if)(job_id=job.pk, statuses=(S.PROCESSING,), progress=55)
        progressed = await stream.next()
        await sync_to_async(complete)(job)
        return first, progressed, await stream.rest()

    first, progressed, rest = run(go)
    assert first[1]["progress"] == 10
    assert progressed[0] == "status" and progressed[1]["status"] == "processing" and progressed[1]["progress"] == 55
    assert [name for name, _ in rest] == ["status", "end"], "the stream ends after the terminal status"
    done = rest[0][1]
    assert done["status"] == "completed" and done["progress"] == 100
    assert done["video_url"] == f"/generate/video/{job.pk}/file"


def test_a_change_of_nothing_shown_sends_no_event(user, make_job):
    job = make_job(user, status=S.PROCESSING, progress=10)

    async def go():
        stream = await open_stream(f"/api/generate/video/{job.pk}/events", user)
        await stream.next()
        # A retry's bookkeeping touches updated_at only; then the job fails.
        await sync_to_async(update_if)(job_id=job.pk, statuses=(S.PROCESSING,), consecutive_failures=1)
        for _ in range(3):
            await live.watcher().tick()
        await sync_to_async(transition)(job_id=job.pk, from_states=(S.PROCESSING,), to=S.FAILED, error="gone")
        return await stream.rest()

    events = run(go)
    assert [(name, data.get("status")) for name, data in events] == [("status", "failed"), ("end", None)]


def test_the_gallery_stream_ends_when_every_job_is_terminal(user, make_job):
    first, second = make_job(user, status=S.PROCESSING), make_job(user, status=S.QUEUED)

    async def go():
        stream = await open_stream(f"/api/generate/video/events?ids={first.pk},{second.pk}", user)
        initial = [await stream.next(), await stream.next()]
        await sync_to_async(complete)(first)
        await sync_to_async(transition)(
            job_id=second.pk, from_states=(S.QUEUED,), to=S.CANCELLED, cancelled_at=timezone.now()
        )
        return initial, await stream.rest()

    initial, rest = run(go)
    assert {data["id"]: data["status"] for _, data in initial} == {first.pk: "processing", second.pk: "queued"}
    assert sorted((data.get("id") or 0, data.get("status")) for name, data in rest) == sorted(
        [(first.pk, "completed"), (second.pk, "cancelled"), (0, None)]
    )
    assert rest[-1] == ("end", {})


def test_a_quiet_stream_sends_a_ping_comment(settings, user, make_job):
    settings.VIDEO_LIVE_HEARTBEAT = 0.05
    job = make_job(user, status=S.PROCESSING)

    async def go():
        stream = await open_stream(f"/api/generate/video/{job.pk}/events", user)
        try:
            await stream.next()
            return await stream.next()
        finally:
            await stream.hang_up()

    assert run(go) == ("comment", "ping")


def test_a_deleted_job_ends_its_stream(user, make_job):
    job = make_job(user, status=S.PROCESSING)

    async def go():
        stream = await open_stream(f"/api/generate/video/{job.pk}/events", user)
        await stream.next()
        await sync_to_async(VideoJob.objects.filter(pk=job.pk).delete)()
        return await stream.rest()

    assert run(go) == [("end", {})]


def test_a_client_going_away_unsubscribes_and_the_watcher_stops(user, make_job):
    job = make_job(user, status=S.PROCESSING)

    async def go():
        stream = await open_stream(f"/api/generate/video/{job.pk}/events", user)
        await stream.next()
        watcher = live.watcher()
        reading = asyncio.ensure_future(stream.next())  # the server waits for the next change
        while not watcher.running:
            await asyncio.sleep(0.01)
        watched_while_open = watcher.watched_ids()
        # A disconnect: Django's ASGI handler cancels the task that sends the answer.
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        while watcher.running:
            await asyncio.sleep(0.01)
        return watched_while_open, watcher.watched_ids()

    watched_while_open, watched_after = run(go)
    assert watched_while_open == {job.pk}
    assert watched_after == set(), "the stream unsubscribed, and the watcher stopped with its last subscriber"


# ------------------------------------------------------------------ one watcher for every stream


def test_fifty_streams_cost_one_query_per_interval(user, other_user, make_job, monkeypatch, settings):
    settings.LIVE_STREAMS_PER_USER = 50  # 25 streams each here; the bound has tests of its own
    jobs = [make_job(owner, status=S.PROCESSING, progress=0) for owner in (user, other_user) for _ in range(3)]
    reads = []  # (job ids read, SQL statements run) per read
    real_rows = selectors.video_status_rows

    def counted_rows(*, job_ids):
        with CaptureQueriesContext(connection) as queries:
            rows = real_rows(job_ids=job_ids)
        reads.append((sorted(job_ids), len(queries)))
        return rows

    monkeypatch.setattr(selectors, "video_status_rows", counted_rows)

    async def go():
        # 50 streams on one or two jobs each; many streams share a job.
        streams = []
        for n in range(50):
            job = jobs[n % len(jobs)]
            ids = [job.pk, jobs[(n + 1) % 3].pk] if n % 5 == 0 and job.owner_id == user.pk else [job.pk]
            url = "/api/generate/video/events?ids=" + ",".join(str(pk) for pk in ids)
            streams.append((ids, await open_stream(url, job.owner)))
        for ids, stream in streams:
            for _ in ids:
                await stream.next()
        # Each server-side stream now waits for changes, as under uvicorn.
        reading = [(ids, asyncio.ensure_future(stream.next())) for ids, stream in streams]
        watcher = live.watcher()
        while len(watcher._subscriptions) < 50:
            await asyncio.sleep(0.01)
        all_open = watcher.reads + 1
        while watcher.reads < all_open + 3:  # a few intervals with all 50 streams open
            await asyncio.sleep(0.01)
        await sync_to_async(update_if)(job_id=jobs[0].pk, statuses=(S.PROCESSING,), progress=70)
        seen = [await next_event for ids, next_event in reading if jobs[0].pk in ids]
        for _, next_event in reading:
            next_event.cancel()
        await asyncio.gather(*(next_event for _, next_event in reading), return_exceptions=True)
        for _, stream in streams:
            await stream.hang_up()
        while watcher.running:
            await asyncio.sleep(0.01)
        return watcher.reads, all_open, seen

    intervals, all_open, seen = run(go)
    assert intervals >= 3
    assert len(reads) == intervals, "one read per interval, for all 50 streams together"
    assert all(statements == 1 for _, statements in reads), "each read is one SQL query"
    assert all(ids == sorted(job.pk for job in jobs) for ids, _ in reads[all_open : all_open + 3]), (
        "each read covers every watched job"
    )
    assert len(seen) >= 9 and all(event == ("status", {**event[1], "progress": 70}) for event in seen), (
        "every stream on the changed job got the change"
    )


def test_the_schema_documents_the_event_streams(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    many = paths["/api/generate/video/events"]["get"]
    one = paths["/api/generate/video/{id}/events"]["get"]
    assert "text/event-stream" in many["responses"]["200"]["content"]
    assert set(many["responses"]) >= {"200", "400", "401"} and set(one["responses"]) >= {"200", "401", "404"}
    assert [p["name"] for p in many["parameters"] if p["in"] == "query" and p.get("required")] == ["ids"]
