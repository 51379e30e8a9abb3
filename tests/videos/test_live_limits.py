"""Bounds on open live status streams (videos/stream_limits.py): LIVE_STREAMS_PER_USER per
person and LIVE_STREAMS_PER_PROCESS in all, 429 with Retry-After beyond, on both the
several-jobs and the one-job stream; a stream that ends, or whose client goes away, gives
its place back."""

import asyncio

import pytest

from videos import stream_limits
from videos.models import VideoJob

from .test_live import Stream, bearer, open_stream, run

S = VideoJob.Status
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_live(settings):
    settings.VIDEO_LIVE_INTERVAL = 0.01
    settings.VIDEO_LIVE_HEARTBEAT = 15.0


def urls(job) -> list[str]:
    return [f"/api/generate/video/events?ids={job.pk}", f"/api/generate/video/{job.pk}/events"]


async def refused(url, user) -> tuple[int, str | None, dict]:
    from django.test import AsyncClient

    response = await AsyncClient().get(url, headers={**bearer(user), "Accept": "application/json"})
    import json

    return response.status_code, response.headers.get("Retry-After"), json.loads(response.content)


async def close_all(streams: list[Stream]) -> None:
    for stream in streams:
        await stream.hang_up()


@pytest.mark.parametrize("which", [0, 1], ids=["events?ids=", "{id}/events"])
def test_a_person_past_their_bound_gets_429_and_others_are_served(settings, user, other_user, make_job, which):
    settings.LIVE_STREAMS_PER_USER = 3
    mine, theirs = make_job(user, status=S.PROCESSING), make_job(other_user, status=S.PROCESSING)

    async def go():
        streams = [await open_stream(urls(mine)[n % 2], user) for n in range(3)]
        for stream in streams:
            await stream.next()
        over = await refused(urls(mine)[which], user)
        other = await open_stream(urls(theirs)[which], other_user)
        await other.next()
        counted = stream_limits.open_streams(user.pk)
        # One of the person's streams ends (the tab closed): a new one is served again.
        await streams[0].hang_up()
        again = await open_stream(urls(mine)[which], user)
        await again.next()
        await close_all([*streams[1:], other, again])
        return over, other.status_code, counted, again.status_code

    (status, retry_after, body), other_status, counted, again_status = run(go)
    assert status == 429 and int(retry_after) > 0
    assert "live status streams" in body["detail"]
    assert other_status == 200 and counted == 3
    assert again_status == 200
    assert stream_limits.open_streams() == 0, "every stream gave its place back"


def test_the_process_bound_refuses_anyone_past_it(settings, user, other_user, admin_user, make_job):
    settings.LIVE_STREAMS_PER_PROCESS = 2
    jobs = {who: make_job(who, status=S.PROCESSING) for who in (user, other_user, admin_user)}

    async def go():
        first = await open_stream(urls(jobs[user])[0], user)
        second = await open_stream(urls(jobs[other_user])[1], other_user)
        await first.next(), await second.next()
        answers = [await refused(url, admin_user) for url in urls(jobs[admin_user])]
        await close_all([first, second])
        return answers

    for status, retry_after, _ in run(go):
        assert status == 429 and retry_after
    assert stream_limits.open_streams() == 0


def test_refused_and_finished_streams_hold_no_place(settings, user, other_user, make_job):
    settings.LIVE_STREAMS_PER_USER = 1
    done = make_job(user, status=S.COMPLETED)
    theirs = make_job(other_user, status=S.PROCESSING)
    active = make_job(user, status=S.PROCESSING)

    async def go():
        # A stream of finished jobs ends at once; a 404 and a 400 never open one.
        ended = await (await open_stream(urls(done)[1], user)).rest()
        not_found = await refused(urls(theirs)[1], user)
        bad = await refused("/api/generate/video/events?ids=x", user)
        held = await open_stream(urls(active)[0], user)
        await held.next()
        await held.hang_up()
        return [name for name, _ in ended], not_found[0], bad[0], held.status_code

    ended, not_found, bad, held = run(go)
    assert ended == ["status", "end"] and not_found == 404 and bad == 400
    assert held == 200, "the one place was still free"
    assert stream_limits.open_streams() == 0


def test_a_stream_dropped_before_its_first_byte_gives_its_place_back(user):
    lease = stream_limits.take(user_id=user.pk)

    async def events():
        yield "never read"

    async def go():
        stream_limits.held(events(), lease)  # made, never iterated, dropped
        await asyncio.sleep(0)

    run(go)
    assert stream_limits.open_streams(user.pk) == 0


def test_the_schema_documents_the_429(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert "429" in paths["/api/generate/video/events"]["get"]["responses"]
    assert "429" in paths["/api/generate/video/{id}/events"]["get"]["responses"]
