import threading

import pytest

from tests.support.provider import catalogue, fake_openrouter  # noqa: F401


@pytest.fixture(autouse=True)
def _media_in_tmp(media_root):
    """Every video test stores its files in its own temporary MEDIA_ROOT."""
    return media_root


@pytest.fixture(autouse=True)
def _video_settings(settings):
    settings.VIDEO_MAX_JOBS_IN_FLIGHT = 3
    settings.VIDEO_POLL_INTERVAL = 15.0
    settings.VIDEO_SWEEP_GRACE = 15.0
    settings.VIDEO_TASK_LEASE = 300
    settings.VIDEO_JOB_DEADLINE = 1800
    settings.VIDEO_SUBMIT_MAX_ATTEMPTS = 3
    settings.VIDEO_POLL_MAX_ERRORS = 3
    settings.VIDEO_RETRY_BACKOFF = 5.0
    settings.VIDEO_SUBMIT_ON_COMMIT = True
    return settings



class SentTasks(list):
    """Video tasks sent during a test, as (task, args, countdown). Nothing reaches a broker:
    with ``run_inline`` set, each task runs at once in the sending thread (like Celery's
    eager mode), else it is only recorded."""

    run_inline = False


@pytest.fixture(autouse=True)
def sent_tasks():
    import videos.tasks  # noqa: F401 - registers the tasks with the app
    from config.celery import app

    sent = SentTasks()
    lock = threading.Lock()
    originals = {}
    for name in ("videos.tasks.submit_video_job", "videos.tasks.poll_video_job", "videos.tasks.sweep_video_jobs"):
        task = app.tasks[name]
        originals[name] = task.apply_async

        def send(args=None, kwargs=None, *, _task=task, countdown=None, **options):
            with lock:
                sent.append((_task.name.rsplit(".", 1)[-1], tuple(args or ()), countdown))
            if sent.run_inline:
                _task.apply(args=args, kwargs=kwargs)
        task.apply_async = send
    yield sent
    for name, original in originals.items():
        app.tasks[name].apply_async = original


@pytest.fixture
def eager_tasks(sent_tasks):
    """Tasks sent run at once in the sending thread."""
    sent_tasks.run_inline = True
    return sent_tasks



@pytest.fixture
def fake(fake_openrouter):
    """The double with a clock the test moves: video jobs finish when told to."""
    now = [1000.0]
    fake_openrouter.clock = lambda: now[0]
    fake_openrouter.video_duration = 10.0

    def advance(seconds: float) -> None:
        now[0] += seconds
    fake_openrouter.advance = advance
    return fake_openrouter


@pytest.fixture
def fault_video_model(catalogue):
    """A catalogue entry the double answers with a fault: a copy of google/veo-3.1 named
    ``google/veo-3.1:fault=<fault>``."""
    from catalogue.models import ProviderModel

    def make(fault: str, *, base: str = "google/veo-3.1") -> str:
        entry = ProviderModel.objects.get(pk=base)
        entry.pk = f"{base}:fault={fault}"
        entry.save(force_insert=True)
        return entry.pk
    return make



@pytest.fixture
def make_job(db):
    """A job row in any state, written directly (the state under test, not how it got there)."""
    from datetime import timedelta

    from django.utils import timezone

    from videos.models import VideoJob

    counter = [0]

    def make(owner, *, status=VideoJob.Status.QUEUED, **fields):
        counter[0] += 1
        now = timezone.now()
        values = dict(
            owner=owner, model="google/veo-3.1", prompt=f"a test video {counter[0]}", status=status,
            next_action_at=now, deadline_at=now + timedelta(minutes=30), created_at=now, updated_at=now,
        )
        if status in VideoJob.ACTIVE:
            taken = set(VideoJob.objects.filter(owner=owner, in_flight_slot__isnull=False)
                        .values_list("in_flight_slot", flat=True))
            values["in_flight_slot"] = next(n for n in range(1, 1000) if n not in taken)
        else:
            values["finished_at"] = now
        if status in (VideoJob.Status.PROCESSING, VideoJob.Status.COMPLETED) and "provider_job_id" not in fields:
            values["provider_job_id"] = f"test-{owner.pk}-{counter[0]}-{now.timestamp()}"
        values.update(fields)
        return VideoJob.objects.create(**values)
    return make


@pytest.fixture
def generated_image(db):
    """A stored generated image owned by the given user (a real PNG in storage)."""
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    from generation.models import GeneratedImage, Generation

    def make(owner):
        generation = Generation.objects.create(owner=owner, kind="image", model_id="google/gemini-2.5-flash-image",
                                               prompt="a lighthouse", status="completed")
        buffer = io.BytesIO()
        Image.new("RGB", (16, 9), (10, 120, 200)).save(buffer, format="PNG")
        image = GeneratedImage(generation=generation, width=16, height=9, media_type="image/png",
                               size_bytes=len(buffer.getvalue()))
        image.file.save("image-0.png", ContentFile(buffer.getvalue()), save=False)
        image.save()
        return image
    return make
