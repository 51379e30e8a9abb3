"""Celery tasks of the catalogue: thin wrappers around services."""

from celery import shared_task

from catalogue import services
from openrouter.errors import ProviderRateLimited, ProviderTimeout, ProviderUnavailable


@shared_task(
    acks_late=True,
    time_limit=300,
    autoretry_for=(ProviderUnavailable, ProviderTimeout, ProviderRateLimited),
    retry_backoff=60,
    max_retries=3,
)
def sync_provider_models() -> str:
    """Daily (beat): refresh the model catalogue. Idempotent."""
    return str(services.catalogue_sync())
