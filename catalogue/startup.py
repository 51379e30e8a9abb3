"""A fresh install has no model catalogue: a worker that starts fills it."""

import logging
import threading
import time

from celery.signals import worker_ready
from django.db import connections

from catalogue import selectors, services
from openrouter.errors import ProviderError

logger = logging.getLogger(__name__)


@worker_ready.connect(dispatch_uid="catalogue-fill-when-empty")
def fill_empty_model_catalogue(**kwargs):
    """In a background thread, because in demo mode the offline provider may still be
    starting next to the worker (`make run` starts them together)."""
    threading.Thread(target=sync_catalogue_if_empty, name="catalogue-start-sync", daemon=True).start()


def sync_catalogue_if_empty(attempts: int = 30, pause: float = 1.0) -> None:
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
