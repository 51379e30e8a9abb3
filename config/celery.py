"""The Celery app: configured from Django settings (CELERY_*), tasks autodiscovered."""
import logging
import os
import threading
import time

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("studio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


@worker_ready.connect
def fill_empty_model_catalogue(**kwargs):
    """A fresh install has no model catalogue: fill it as soon as a worker is up.

    In a background thread, because in demo mode the offline provider may still be
    starting next to the worker (`make run` starts them together)."""
    threading.Thread(target=_sync_catalogue_if_empty, name="catalogue-start-sync", daemon=True).start()


def _sync_catalogue_if_empty(attempts: int = 30, pause: float = 1.0) -> None:
    from django.db import connections

    from generation import selectors, services
    from openrouter.errors import ProviderError

    for _ in range(attempts):
        try:
            if selectors.catalogue_is_empty():
                logger.info("Model catalogue is empty; syncing it: %s", services.catalogue_sync())
            return
        except ProviderError as exc:
            logger.info("Model catalogue sync waits for the provider: %s", exc)
            time.sleep(pause)
        finally:
            connections.close_all()  # give the DuckDB file back to the other processes
    logger.warning("Model catalogue is still empty: the provider did not answer; run `manage.py sync_models`.")
