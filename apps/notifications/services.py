from __future__ import annotations

import logging

from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from apps.notifications.models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def email_enqueue(*, message: EmailMessage) -> OutboxMessage:
    """Store the e-mail in the outbox; it is handed to Celery once the transaction commits.

    If the broker is down at that moment the row stays pending and the
    periodic flush sends it later: an outage delays mail, never drops it.
    """
    html = ""
    if isinstance(message, EmailMultiAlternatives):
        html = next((content for content, mimetype in message.alternatives if mimetype == "text/html"), "")
    outbox = OutboxMessage.objects.create(
        to=list(message.to),
        subject=message.subject,
        body=message.body,
        html_body=html,
        from_email=message.from_email or "",
    )
    transaction.on_commit(lambda: outbox_dispatch(message_id=outbox.pk))
    return outbox


def outbox_dispatch(*, message_id: int) -> None:
    from apps.notifications.tasks import deliver_outbox_message

    try:
        deliver_outbox_message.delay(message_id)
    except Exception:  # broker unreachable: the periodic flush will send it
        logger.warning("outbox message %s left pending: broker unavailable", message_id, exc_info=True)


def outbox_deliver(*, message_id: int) -> bool:
    """Send one pending message; True when sent now, False when already done.

    The row is locked while sending so two workers never send it twice.
    """
    failure: Exception | None = None
    with transaction.atomic():
        outbox = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if outbox is None or outbox.status != OutboxStatus.PENDING:
            return False
        email = EmailMultiAlternatives(
            subject=outbox.subject,
            body=outbox.body,
            from_email=outbox.from_email or None,
            to=outbox.to,
            connection=get_connection(),
        )
        if outbox.html_body:
            email.attach_alternative(outbox.html_body, "text/html")
        outbox.attempts += 1
        try:
            email.send()
        except Exception as error:  # noqa: BLE001 - recorded, then raised for Celery's retry
            failure = error
            outbox.last_error = repr(error)[:2000]
            if outbox.attempts >= MAX_ATTEMPTS:
                outbox.status = OutboxStatus.FAILED
        else:
            outbox.status = OutboxStatus.SENT
            outbox.sent_at = timezone.now()
        outbox.save(update_fields=["attempts", "last_error", "status", "sent_at"])
    if failure is not None:
        raise failure
    return True


def outbox_pending_ids(*, limit: int = 500) -> list[int]:
    return list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
