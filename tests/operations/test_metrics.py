"""GET /metrics: who may read it, and counters that move by exactly what happened."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from billing.models import UserBudget
from operations import metrics
from tests.conftest import ROOT
from tests.factories import GenerationFactory, VideoJobFactory
from tests.support.accounts import bearer_client
from tests.support.provider import fault_copies

pytestmark = pytest.mark.django_db


def scrape(client=None, **extra) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of one scrape from the loopback address."""
    response = (client or Client()).get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# ------------------------------------------------------------------ who may read it


def test_loopback_reads_and_other_addresses_get_404(settings):
    assert Client().get("/metrics").status_code == 200
    assert Client().get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert Client().get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    settings.METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/8"]
    assert Client().get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert Client().get("/metrics").status_code == 404


def test_behind_a_proxy_the_client_address_decides_not_the_proxys(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    forwarded = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.4"}
    assert Client().get("/metrics", **forwarded).status_code == 404
    assert Client().get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 200


def test_a_bearer_token_opens_it_from_anywhere_and_a_wrong_one_is_403(settings):
    settings.METRICS_TOKEN = "scrape-secret-123"
    far = {"REMOTE_ADDR": "203.0.113.9"}
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-123", **far).status_code == 200
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **far).status_code == 403
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403  # even from loopback
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ", **far).status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer anything", **far).status_code == 403


def test_only_get(settings):
    assert Client().post("/metrics").status_code == 405


def test_a_signed_in_user_or_admin_from_elsewhere_gets_nothing(admin_user, user):
    for who in (user, admin_user):
        client = Client()
        client.force_login(who)
        assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
        assert bearer_client(who).get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403


# ------------------------------------------------------------------ counters


def test_requests_are_counted_by_route_and_status_exactly(user):
    before = scrape()
    client = Client()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    for n in range(2):
        assert client.get(f"/api/no-such-thing/{n}").status_code == 404
    api = bearer_client(user)
    assert api.get("/api/users/me").status_code == 200
    after = scrape()

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("studio_http_requests_total", route="healthz", method="GET", status="200") == 3
    assert moved("studio_http_requests_total", route="api-not-found", method="GET", status="404") == 2
    assert moved("studio_http_requests_total", route="accounts-api:me", method="GET", status="200") == 1
    assert moved("studio_http_request_duration_seconds_count", route="healthz", method="GET") == 3
    # The first scrape is counted once it has answered, so the second sees it.
    assert moved("studio_http_requests_total", route="metrics", method="GET", status="200") == 1
    # Raw paths never become labels.
    assert not [k for k in after if any("no-such-thing" in v for _, v in k[1])]


def test_every_response_carries_a_request_id_and_a_sane_incoming_one_is_kept():
    response = Client().get("/healthz")
    assert len(response["X-Request-ID"]) == 32
    assert Client().get("/healthz", HTTP_X_REQUEST_ID="edge-1234-abcd").headers["X-Request-ID"] == "edge-1234-abcd"
    forged = Client().get("/healthz", HTTP_X_REQUEST_ID='x" injected\nline')
    assert forged["X-Request-ID"] != 'x" injected\nline' and len(forged["X-Request-ID"]) == 32


def test_generations_by_kind_model_and_outcome(user, catalogue):
    before = scrape()
    GenerationFactory.create_batch(2, owner=user, kind="text", model_id="openai/gpt-4o-mini", status="completed")
    GenerationFactory(owner=user, kind="text", model_id="openai/gpt-4o-mini", status="failed")
    after = scrape()
    labels = {"kind": "text", "model": "openai/gpt-4o-mini"}
    assert (
        value(after, "studio_generations", status="completed", **labels)
        - value(before, "studio_generations", status="completed", **labels)
        == 2
    )
    assert (
        value(after, "studio_generations", status="failed", **labels)
        - value(before, "studio_generations", status="failed", **labels)
        == 1
    )
    assert value(after, "studio_metrics_database_ok") == 1


def test_provider_calls_by_endpoint_and_outcome_and_budget_refusals(user, user_api, catalogue):
    make_fault = fault_copies("openai/gpt-4o-mini")
    broken = make_fault("server_error")
    before = scrape()
    assert (
        user_api.post("/api/generate/text", {"prompt": "hi", "model": "openai/gpt-4o-mini"}, format="json").status_code
        == 200
    )
    assert user_api.post("/api/generate/text", {"prompt": "hi", "model": broken}, format="json").status_code >= 500
    UserBudget.objects.update_or_create(user=user, defaults={"daily_budget_usd": Decimal("0")})
    refused = user_api.post("/api/generate/text", {"prompt": "hi", "model": "openai/gpt-4o-mini"}, format="json")
    assert refused.status_code == 402
    after = scrape()

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("studio_provider_calls_total", endpoint="chat", outcome="ok") == 1
    assert moved("studio_provider_calls_total", endpoint="chat", outcome="unavailable") == 1
    assert moved("studio_provider_call_duration_seconds_count", endpoint="chat") == 2
    assert moved("studio_budget_refusals_total", kind="text", reason="budget") == 1
    # Each request's database steps went through core.db.in_db, and were timed.
    assert moved("studio_db_step_wait_seconds_count") >= 3


def test_video_jobs_by_state_and_the_age_of_the_oldest_waiting(user):
    before = scrape()
    VideoJobFactory(owner=user, status="queued", created_at=timezone.now() - timedelta(seconds=90))
    VideoJobFactory(owner=user, status="queued")
    VideoJobFactory(owner=user, status="completed")
    after = scrape()
    assert value(after, "studio_video_jobs", state="queued") - value(before, "studio_video_jobs", state="queued") == 2
    assert (
        value(after, "studio_video_jobs", state="completed") - value(before, "studio_video_jobs", state="completed")
        == 1
    )
    assert 90 <= value(after, "studio_video_queue_age_seconds", state="queued") < 600
    assert value(after, "studio_video_queue_age_seconds", state="processing") == 0


def test_broker_queue_depth_counts_tasks_waiting(settings):
    from celery import current_app

    queue = settings.CELERY_TASK_DEFAULT_QUEUE = f"metrics-test-{os.getpid()}-{time.monotonic_ns()}"
    assert value(scrape(), "studio_broker_queue_depth", queue=queue) == 0
    try:
        # Published with kombu, not send_task: the test run takes each task it sends back off
        # the broker at once (tests/support/tasks.py), and these must stay there, waiting.
        from kombu import Queue

        with current_app.producer_or_acquire() as producer:
            for job_id in (999998, 999999):
                producer.publish({"job_id": job_id}, routing_key=queue, declare=[Queue(queue)], serializer="json")
        assert value(scrape(), "studio_broker_queue_depth", queue=queue) == 2
    finally:
        if settings.CELERY_BROKER_URL.startswith("filesystem:"):
            for path in (settings.BROKER_DIR / "queue").glob(f"*.{queue}.msg"):
                path.unlink()
        else:
            import redis

            redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue, f"_kombu.binding.{queue}")


def served_scrape(server) -> dict[tuple, float]:
    response = requests.get(f"{server.url}/metrics", timeout=30)
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


@pytest.mark.django_db(transaction=True)
def test_streams_in_flight_while_an_event_stream_is_open(asgi_server, user):
    from accounts.tokens import access_token_for

    job = VideoJobFactory(owner=user, status="queued")
    route = "videos-api:job-events"
    headers = {"Authorization": f"Bearer {access_token_for(user=user)}"}
    before = value(served_scrape(asgi_server), "studio_streams_in_flight", route=route)
    stream = requests.get(
        f"{asgi_server.url}/api/generate/video/{job.pk}/events", headers=headers, stream=True, timeout=10
    )
    assert stream.status_code == 200
    lines = stream.iter_lines()  # kept: a dropped iterator closes the connection
    assert next(lines) == b"event: status"  # the stream has started
    assert value(served_scrape(asgi_server), "studio_streams_in_flight", route=route) == before + 1
    stream.close()
    deadline = time.monotonic() + 10
    while value(served_scrape(asgi_server), "studio_streams_in_flight", route=route) != before:
        assert time.monotonic() < deadline
        time.sleep(0.1)


# ------------------------------------------------------------------ several processes


CHILD = """
from config import startup
startup.prepare()
from operations import metrics
for _ in range(5):
    metrics.budget_refused(kind="child-process", reason="budget")
"""


def test_counts_of_other_processes_add_up_and_survive_their_exit():
    before = value(scrape(), "studio_budget_refusals_total", kind="child-process", reason="budget")
    metrics.budget_refused(kind="child-process", reason="budget")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, check=True, timeout=120)
    assert value(scrape(), "studio_budget_refusals_total", kind="child-process", reason="budget") == before + 6
    # The child is gone: its file is folded into the archive, and the total stays.
    assert metrics.compact_dead_processes() >= 1
    assert value(scrape(), "studio_budget_refusals_total", kind="child-process", reason="budget") == before + 6
    assert not [
        name
        for name in os.listdir(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        if name.endswith(".db") and "archive" not in name and not _alive_pid(name)
    ]


def _alive_pid(name: str) -> bool:
    pid = int(name.rsplit("_", 1)[1].removesuffix(".db"))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_concurrent_hooks_from_threads_lose_nothing():
    before = value(scrape(), "studio_budget_refusals_total", kind="threads", reason="budget")

    def hit():
        for _ in range(200):
            metrics.budget_refused(kind="threads", reason="budget")

    threads = [threading.Thread(target=hit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert value(scrape(), "studio_budget_refusals_total", kind="threads", reason="budget") == before + 800
