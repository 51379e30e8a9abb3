"""The Celery app: configured from Django settings (CELERY_*), tasks autodiscovered."""

import os

from celery import Celery

from config import startup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
startup.prepare()

app = Celery("studio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
