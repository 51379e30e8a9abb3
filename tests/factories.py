"""The test suite's factories: one place that knows how to write each kind of row.

Passwords are set through ``set_password`` with whatever PASSWORD_HASHERS says; the test
settings (tests/settings.py) choose a fast hasher, and tests about hashing itself put
Argon2 back with the ``production_hashers`` fixture (tests/conftest.py).
"""

import io
from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import User
from catalogue.models import ProviderModel
from generation.models import GeneratedImage, Generation
from videos.models import VideoJob

DEFAULT_PASSWORD = "correct-horse-battery-staple"

__all__ = [
    "AdminFactory",
    "DEFAULT_PASSWORD",
    "GeneratedImageFactory",
    "GenerationFactory",
    "ProviderModelFactory",
    "UserFactory",
    "VideoJobFactory",
    "png_bytes",
]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    role = User.Role.USER
    password = DEFAULT_PASSWORD

    @classmethod
    def _build(cls, model_class, *args, password=DEFAULT_PASSWORD, **kwargs):
        user = model_class(*args, **kwargs)
        user.set_password(password)
        return user

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Set before the first save: a new user's password, not a change that ends sessions.
        user = cls._build(model_class, *args, **kwargs)
        user.save()
        return user


class AdminFactory(UserFactory):
    role = User.Role.ADMIN


class ProviderModelFactory(factory.django.DjangoModelFactory):
    """A catalogue entry of one kind (``kind="text"`` by default; the is_* flags follow)."""

    class Meta:
        model = ProviderModel

    class Params:
        kind = ProviderModel.Kind.TEXT

    id = factory.Sequence(lambda n: f"test/model-{n}")
    name = factory.LazyAttribute(lambda o: o.id)
    kinds = factory.LazyAttribute(lambda o: [o.kind])
    is_text = factory.LazyAttribute(lambda o: ProviderModel.Kind.TEXT in o.kinds)
    is_image = factory.LazyAttribute(lambda o: ProviderModel.Kind.IMAGE in o.kinds)
    is_video = factory.LazyAttribute(lambda o: ProviderModel.Kind.VIDEO in o.kinds)


class GenerationFactory(factory.django.DjangoModelFactory):
    """A finished text generation unless told otherwise (a row, not a call to the provider)."""

    class Meta:
        model = Generation

    owner = factory.SubFactory(UserFactory)
    kind = Generation.Kind.TEXT
    model_id = "fake/echo"
    prompt = factory.Sequence(lambda n: f"prompt {n}")
    status = Generation.Status.COMPLETED


def png_bytes(width: int = 16, height: int = 9, color=(10, 120, 200)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


class GeneratedImageFactory(factory.django.DjangoModelFactory):
    """A stored image (a real PNG saved through the storage) of a completed image generation.
    ``GeneratedImageFactory(generation__owner=user)`` gives it an owner."""

    class Meta:
        model = GeneratedImage

    generation = factory.SubFactory(
        GenerationFactory, kind=Generation.Kind.IMAGE, model_id="google/gemini-2.5-flash-image", prompt="a lighthouse"
    )
    index = 0
    width = 16
    height = 9
    media_type = "image/png"
    file = factory.LazyAttribute(lambda o: ContentFile(png_bytes(o.width, o.height), name=f"image-{o.index}.png"))
    size_bytes = factory.LazyAttribute(lambda o: o.file.size)


def _free_slot(owner) -> int:
    taken = set(
        VideoJob.objects.filter(owner=owner, in_flight_slot__isnull=False).values_list("in_flight_slot", flat=True)
    )
    return next(n for n in range(1, 1000) if n not in taken)


class VideoJobFactory(factory.django.DjangoModelFactory):
    """A job row in any state, written directly (the state under test, not how it got there):
    an active job holds the owner's lowest free in-flight slot, a terminal one is finished,
    a processing or completed one has a provider job id. Every time is ``now`` unless given."""

    class Meta:
        model = VideoJob

    class Params:
        now = factory.LazyFunction(timezone.now)

    owner = factory.SubFactory(UserFactory)
    model = "google/veo-3.1"
    prompt = factory.Sequence(lambda n: f"a test video {n}")
    status = VideoJob.Status.QUEUED
    next_action_at = factory.SelfAttribute("now")
    deadline_at = factory.LazyAttribute(lambda o: o.now + timedelta(minutes=30))
    created_at = factory.SelfAttribute("now")
    updated_at = factory.SelfAttribute("now")
    in_flight_slot = factory.LazyAttribute(lambda o: _free_slot(o.owner) if o.status in VideoJob.ACTIVE else None)
    finished_at = factory.LazyAttribute(lambda o: None if o.status in VideoJob.ACTIVE else o.now)
    provider_job_id = factory.LazyAttributeSequence(
        lambda o, n: (
            f"test-{o.owner.pk}-{n}-{o.now.timestamp()}"
            if o.status in (VideoJob.Status.PROCESSING, VideoJob.Status.COMPLETED)
            else None
        )
    )
