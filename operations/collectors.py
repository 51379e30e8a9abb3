"""Figures that are a state of the database or the broker, read when /metrics is scraped
(so every process's scrape agrees, and a restarted process loses nothing): video jobs by
state and the age of the oldest in each waiting state, generations by kind, model and
outcome, and the broker's queue depth."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from generation.models import Generation
from videos.models import VideoJob

log = logging.getLogger(__name__)


class StateCollector:
    def collect(self):
        database_ok = GaugeMetricFamily(
            "studio_metrics_database_ok", "1 when the scrape could read the database figures below, else 0."
        )
        try:
            families = list(self._database())
        except Exception:  # noqa: BLE001 - the scrape still answers the process metrics
            log.warning("metrics: the database figures could not be read", exc_info=True)
            families = []
        database_ok.add_metric([], 1 if families else 0)
        yield database_ok
        yield from families
        yield from self._broker()

    def _database(self):
        now = timezone.now()
        jobs = GaugeMetricFamily("studio_video_jobs", "Video jobs by state.", labels=["state"])
        counts = {row["status"]: row["n"] for row in VideoJob.objects.values("status").annotate(n=Count("id"))}
        for state in VideoJob.Status.values:
            jobs.add_metric([state], counts.get(state, 0))
        age = GaugeMetricFamily(
            "studio_video_queue_age_seconds",
            "Age of the oldest video job in each waiting state (0 when none waits).",
            labels=["state"],
        )
        oldest = {
            row["status"]: row["oldest"]
            for row in VideoJob.objects.filter(status__in=VideoJob.ACTIVE)
            .values("status")
            .annotate(oldest=Min("created_at"))
        }
        for state in VideoJob.ACTIVE:
            since = oldest.get(state)
            age.add_metric([state], (now - since).total_seconds() if since else 0.0)
        generations = GaugeMetricFamily(
            "studio_generations",
            "Generations in the history by kind, model and outcome (pending: in flight). "
            "Rows deleted by their owners leave it, so use delta() rather than rate().",
            labels=["kind", "model", "status"],
        )
        for row in Generation.objects.values("kind", "model_id", "status").annotate(n=Count("id")).order_by():
            generations.add_metric([row["kind"], row["model_id"], row["status"]], row["n"])
        yield jobs
        yield age
        yield generations

    def _broker(self):
        depth = GaugeMetricFamily(
            "studio_broker_queue_depth", "Tasks waiting in the broker's queue for a worker.", labels=["queue"]
        )
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        try:
            depth.add_metric([queue], broker_queue_depth(queue))
        except Exception:  # noqa: BLE001 - a broker that is down has no depth to report
            log.warning("metrics: the broker's queue depth could not be read", exc_info=True)
            return
        yield depth


def broker_queue_depth(queue: str) -> int:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem:"):
        folder = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
        return sum(1 for _ in folder.glob(f"*.{queue}.msg"))
    if url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            # Kombu keeps a queue as a list, with priority levels in lists of their own
            # (queue + separator + level).
            keys = [queue, *client.scan_iter(match=f"{queue}\x06\x16*", count=100)]
            return sum(client.llen(key) for key in keys)
        finally:
            client.close()
    raise ValueError(f"no queue depth for broker {url.split(':', 1)[0]}")
