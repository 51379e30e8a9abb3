import uuid
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models


class Person(AbstractUser):
    """A custom user model, as projects have."""

    email = models.EmailField(unique=True)
    role = models.CharField(max_length=10, default="user", db_index=True)


class Kitchen(models.Model):
    """One field of every type the backend maps."""

    name = models.CharField(max_length=50, db_index=True)
    slug = models.SlugField(unique=True, null=True)
    text = models.TextField(blank=True, default="")
    flag = models.BooleanField(default=False)
    small = models.SmallIntegerField(null=True)
    big = models.BigIntegerField(null=True)
    positive = models.PositiveIntegerField(null=True)
    positive_small = models.PositiveSmallIntegerField(null=True)
    positive_big = models.PositiveBigIntegerField(null=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    ratio = models.FloatField(null=True)
    day = models.DateField(null=True)
    moment = models.DateTimeField(null=True)
    clock = models.TimeField(null=True)
    duration = models.DurationField(null=True)
    token = models.UUIDField(default=uuid.uuid4)
    data = models.JSONField(null=True)
    blob = models.BinaryField(null=True)
    ip = models.GenericIPAddressField(null=True)
    owner = models.ForeignKey(Person, null=True, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(small__gte=-100), name="kitchen_small_floor"),
            models.UniqueConstraint(fields=["name", "day"], name="kitchen_name_day"),
        ]


class Job(models.Model):
    """Shaped like the studio's jobs: a status moved by conditional updates."""

    owner = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="jobs")
    status = models.CharField(max_length=12, default="queued", db_index=True)
    worker = models.CharField(max_length=30, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    # Typed by hand: mypy checks with config.settings, where this test app is not installed.
    tags: "models.ManyToManyField[Tag, Any]" = models.ManyToManyField("Tag", blank=True)


class Tag(models.Model):
    name = models.CharField(max_length=20, unique=True)
