from celery import shared_task

from accounts import tokens


@shared_task(ignore_result=True)
def purge_expired_refresh_tokens() -> int:
    """Hourly (CELERY_BEAT_SCHEDULE): drop the store's rows of expired refresh tokens.
    Idempotent: a second run finds nothing left to delete."""
    return tokens.refresh_tokens_purge_expired()
