"""Housekeeping tasks of the foundation."""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def heartbeat() -> str:
    """Proves the beat → broker → worker path works; its timestamp lands in the worker log."""
    return timezone.now().isoformat()
