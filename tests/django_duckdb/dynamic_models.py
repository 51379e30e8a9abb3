"""
Models used by the in-process tests, registered in an isolated app registry
so the project's settings needn't install a test app. Their tables are created
per test by the `duck_tables` fixture.
"""

import uuid
from typing import Any

from django.db import models
from django.test.utils import isolate_apps

with isolate_apps("django_duckdb", attr_name="apps") as test_apps:

    class Owner(models.Model):
        name = models.CharField(max_length=30, unique=True)

        class Meta:
            app_label = "django_duckdb"
            db_table = "duck_owner"

    class Thing(models.Model):
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
        owner = models.ForeignKey(Owner, null=True, on_delete=models.CASCADE)

        class Meta:
            app_label = "django_duckdb"
            db_table = "duck_thing"
            constraints = [
                models.CheckConstraint(condition=models.Q(small__gte=-100), name="duck_thing_small_floor"),
                models.UniqueConstraint(fields=["name", "day"], name="duck_thing_name_day"),
            ]

    class Job(models.Model):
        owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="jobs")
        status = models.CharField(max_length=12, default="queued", db_index=True)
        # Typed by hand: mypy checks with config.settings, which do not install these isolated models.
        tags: "models.ManyToManyField[Tag, Any]" = models.ManyToManyField("Tag", blank=True)

        class Meta:
            app_label = "django_duckdb"
            db_table = "duck_job"

    class Tag(models.Model):
        name = models.CharField(max_length=20, unique=True)

        class Meta:
            app_label = "django_duckdb"
            db_table = "duck_tag"


ALL_MODELS = [Owner, Thing, Tag, Job]
