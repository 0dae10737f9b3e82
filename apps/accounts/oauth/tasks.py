"""Thin Celery wrappers for the authorisation server's housekeeping."""

from __future__ import annotations

from celery import shared_task
from oauth2_provider.models import clear_expired


@shared_task(acks_late=True)
def clear_expired_tokens() -> None:
    """Delete expired and revoked tokens and grants (daily): nothing usable, but no reason to keep them."""
    clear_expired()
