"""Thin Celery wrappers around the outbox services."""

from __future__ import annotations

import smtplib

from celery import shared_task

from apps.notifications import services


@shared_task(
    bind=True,
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=services.MAX_ATTEMPTS,
    acks_late=True,
)
def deliver_outbox_message(self, message_id: int) -> bool:
    return services.outbox_deliver(message_id=message_id)


@shared_task
def flush_outbox() -> int:
    """Re-dispatch what is still pending (after a broker or SMTP outage)."""
    ids = services.outbox_pending_ids(stalled_only=True)
    for message_id in ids:
        services.outbox_dispatch(message_id=message_id)
    return len(ids)


@shared_task
def send_daily_digests() -> int:
    from apps.notifications.models import Notification

    users = Notification.objects.filter(digested_at__isnull=True).values_list("recipient", flat=True).distinct()
    from apps.accounts.models import User

    return sum(services.daily_digest_send(user=user) for user in User.objects.filter(pk__in=list(users)))
