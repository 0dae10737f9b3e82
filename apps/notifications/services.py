from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.notifications.models import (
    EmailMode,
    Notification,
    NotificationEvent,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
)
from healthspace.handover import hand_over, stalled

if TYPE_CHECKING:
    from apps.accounts.models import User

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def email_enqueue(*, message: EmailMessage) -> OutboxMessage:
    """Store the e-mail in the outbox; it is handed to Celery once the transaction commits.

    If the broker is down at that moment the row stays pending and the
    periodic flush sends it later: an outage delays mail, never drops it.
    """
    html = ""
    if isinstance(message, EmailMultiAlternatives):
        html = next(
            (content for content, mime in message.alternatives if mime == "text/html" and isinstance(content, str)), ""
        )
    outbox = OutboxMessage.objects.create(
        to=list(message.to),
        subject=str(message.subject),  # a lazy subject is rendered in the active language here
        body=str(message.body),
        html_body=html,
        from_email=message.from_email or "",
    )
    transaction.on_commit(lambda: outbox_dispatch(message_id=outbox.pk))
    return outbox


def outbox_dispatch(*, message_id: int) -> None:
    from apps.notifications.tasks import deliver_outbox_message

    hand_over(model=OutboxMessage, pk=message_id, stamp="dispatched_at", task=deliver_outbox_message)


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


def outbox_pending_ids(*, limit: int = 500, stalled_only: bool = False) -> list[int]:
    pending = OutboxMessage.objects.filter(status=OutboxStatus.PENDING)
    if stalled_only:
        pending = pending.filter(stalled(stamp="dispatched_at"))
    return list(pending.order_by("created_at").values_list("pk", flat=True)[:limit])


# --- Notifications ---------------------------------------------------------------

EVENT_TEXT = {
    # Subject and body of the e-mail: never any medical content, only that something happened.
    "document_ready": (
        _("A new document is in your health space"),
        _("A new document has been added to a health record you follow. Log in to see it: %(url)s"),
    ),
    "professional_first_access": (
        _("A professional opened a health record you follow"),
        _(
            "A professional opened a health record you follow for the first time. "
            "See who in the access history: %(url)s"
        ),
    ),
    "break_glass": (
        _("Emergency access to a health record you follow"),
        _(
            "A professional declared an emergency to open a health record you follow. "
            "See who and why in the access history: %(url)s"
        ),
    ),
    "access_code_used": (
        _("An access code was used"),
        _("A professional used an access code you created. See who in the access history: %(url)s"),
    ),
    "delegation_created": (
        _("A caregiver was invited to a health record you follow"),
        _("Someone was invited to act on a health record you follow. See who and what they may do: %(url)s"),
    ),
    "delegation_accepted": (
        _("A caregiver can now act on a health record you follow"),
        _("A caregiver accepted to act on a health record you follow. You can end it at any time: %(url)s"),
    ),
    "delegation_revoked": (
        _("A caregiver's access ended"),
        _("A caregiver can no longer act on a health record you follow: %(url)s"),
    ),
    "mandate_confirmed": (
        _("A support agent may now help with a health record you follow"),
        _(
            "You confirmed a support mandate: an agent of a support desk may help you, for what you chose "
            "and until the end date. You can stop it at any time: %(url)s"
        ),
    ),
    "mandate_ended": (
        _("A support mandate ended"),
        _("A support agent can no longer act on a health record you follow: %(url)s"),
    ),
    "account_letter_printed": (
        _("A support agent printed a letter to choose a new password"),
        _(
            "A support agent printed a letter to choose a new password for your account. If you did not ask "
            "for this, stop their mandate now and tell the support desk: %(url)s"
        ),
    ),
    "account_letter_used": (
        _("Your password was changed with a printed letter"),
        _(
            "A new password was chosen for your account with a letter printed at a support desk. If it was "
            "not you, contact the support desk now: %(url)s"
        ),
    ),
    "account_letter_cancelled": (
        _("A printed letter was cancelled"),
        _(
            "Someone typed wrong codes from a letter printed for your account. The letter no longer works. "
            "If it was you, ask the support desk for a new one: %(url)s"
        ),
    ),
    "second_factor_reset": (
        _("Your two-step verification was reset"),
        _(
            "A support agent removed the codes of your two-step verification. You log in with your password "
            "only, until you set it up again. If you did not ask for this, stop their mandate now: %(url)s"
        ),
    ),
    "caregiver_acted": (
        _("A caregiver acted on a health record you follow"),
        _(
            "A caregiver you chose used their access to a health record you follow today. "
            "See what they did in the access history: %(url)s"
        ),
    ),
    "mandate_acted": (
        _("A support agent acted on a health record you follow"),
        _(
            "A support agent used their mandate on a health record you follow today. "
            "See what they did in the access history: %(url)s"
        ),
    ),
    "access_code_refused": (
        _("Someone tried one of your old access codes"),
        _(
            "A professional typed an access code of a health record you follow after it ended or was "
            "cancelled. It did not open the record. See who in the access history: %(url)s"
        ),
    ),
    "apps_signed_out": (
        _("Apps and devices were signed out of your account"),
        _(
            "The apps and devices connected to your health space were signed out, because your password "
            "or your two-step verification changed. They must sign in again. If it was not you, change "
            "your password now: %(url)s"
        ),
    ),
    "import_failed": (
        _("A document could not be added to your health space"),
        _("A document could not be added to a health record you follow. Log in to see why: %(url)s"),
    ),
}


# Events that may come several days in a row: a daily e-mail unless the person chooses otherwise.
DEFAULT_EMAIL_MODES = {"caregiver_acted": EmailMode.DAILY, "mandate_acted": EmailMode.DAILY}


def _default_preference(user: User, event: str) -> NotificationPreference:
    return NotificationPreference(user=user, event=event, email=DEFAULT_EMAIL_MODES.get(event, EmailMode.IMMEDIATE))


def preference_for(*, user: User, event: str) -> NotificationPreference:
    pref = NotificationPreference.objects.filter(user=user, event=event).first()
    return pref or _default_preference(user, event)


def notify(
    *,
    recipient: User,
    event: str,
    dedup_key: str,
    record_uuid: UUID | None = None,
    document_uuid: UUID | None = None,
    params: dict | None = None,
) -> Notification | None:
    """Record a notification with its e-mail in the outbox, in the caller's transaction.

    Returns None when this event was already notified (a retried delivery) or
    the person turned it off.
    """
    pref = preference_for(user=recipient, event=event)
    if not pref.in_app and pref.email == EmailMode.OFF:
        return None
    notification, created = Notification.objects.get_or_create(
        dedup_key=f"{dedup_key}:{recipient.pk}",
        defaults={
            "recipient": recipient,
            "event": event,
            "record_uuid": record_uuid,
            "document_uuid": document_uuid,
            "params": params or {},
            "read_at": None if pref.in_app else timezone.now(),
            "digested_at": None if pref.email == EmailMode.DAILY else timezone.now(),
        },
    )
    if not created:
        return None
    # People without an e-mail (an account opened at a desk) read it in the notification centre.
    if pref.email == EmailMode.IMMEDIATE and recipient.email:
        with translation.override(recipient_language(recipient)):
            subject, body = EVENT_TEXT[event]
            email_enqueue(
                message=EmailMessage(
                    subject=str(subject), body=str(body) % {"url": settings.SITE_URL}, to=[recipient.email]
                )
            )
    if pref.in_app:
        transaction.on_commit(lambda: push_live(notification=notification))
    return notification


def notify_followers(
    *,
    record,
    event: str,
    dedup_key: str,
    document_uuid: UUID | None = None,
    params: dict | None = None,
) -> None:
    """Tell everyone who follows a record (its owner, the parents managing it), in one transaction."""
    from apps.records.selectors import record_followers

    with transaction.atomic():
        for user in record_followers(record=record):
            notify(
                recipient=user,
                event=event,
                dedup_key=dedup_key,
                record_uuid=record.uuid,
                document_uuid=document_uuid,
                params=params,
            )


def recipient_language(user: User) -> str:
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def push_live(*, notification: Notification) -> None:
    """Tell open pages at once; without a channel layer they fall back to polling."""
    from channels.layers import get_channel_layer

    from apps.notifications.consumers import user_group

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        _group_send(
            layer,
            user_group(notification.recipient.uuid),
            {
                "type": "notify",
                "data": {
                    "id": str(notification.uuid),
                    "event": notification.event,
                    "record": str(notification.record_uuid or ""),
                    "document": str(notification.document_uuid or ""),
                    "unread": unread_count(user=notification.recipient),
                },
            },
        )
    except Exception:  # Redis down: the page polls, nothing is lost
        logger.warning("live push of notification %s failed", notification.pk, exc_info=True)


# Live pushes from synchronous code (the import worker sends two per document). async_to_sync
# runs each send on a new event loop, and channels_redis keeps its connections per loop: every
# push paid a new Redis connection (~6 ms). One long-lived loop per process keeps them open
# (~1 ms). Only for the Redis layer: other layers (in memory, in tests) keep async_to_sync.
_PUSH_TIMEOUT_SECONDS = 5.0
_push_loop_lock = threading.Lock()
_push_loop: tuple[int, asyncio.AbstractEventLoop] | None = None


def _push_event_loop() -> asyncio.AbstractEventLoop:
    global _push_loop
    with _push_loop_lock:
        # A forked child (Celery's prefork pool) does not inherit the parent's thread: its own loop.
        if _push_loop is None or _push_loop[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="live-push", daemon=True).start()
            _push_loop = (os.getpid(), loop)
        return _push_loop[1]


def _group_send(layer, group: str, message: dict) -> None:
    from asgiref.sync import async_to_sync
    from channels_redis.core import RedisChannelLayer

    if not isinstance(layer, RedisChannelLayer):
        async_to_sync(layer.group_send)(group, message)
        return
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _push_event_loop())
    try:
        future.result(timeout=_PUSH_TIMEOUT_SECONDS)
    except BaseException:
        future.cancel()  # Redis unreachable: the page polls; nothing waits for this send any more
        raise


def push_document_status(*, record_uuid: UUID, document_uuid: UUID, status: str) -> None:
    """Tell pages open on the record that a document changed (no content, only its state)."""
    from channels.layers import get_channel_layer

    from apps.notifications.consumers import record_group

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        _group_send(
            layer,
            record_group(record_uuid),
            {"type": "document.status", "data": {"document": str(document_uuid), "status": status}},
        )
    except Exception:  # Redis down: the page polls
        logger.warning("live push for document %s failed", document_uuid, exc_info=True)


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_mark_read(*, user: User, uuids: list[UUID] | None = None) -> int:
    """Mark some (or all) of the person's own notifications read."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if uuids is not None:
        unread = unread.filter(uuid__in=uuids)
    return unread.update(read_at=timezone.now())


def daily_digest_send(*, user: User) -> int:
    """One e-mail listing how many events happened since the last summary."""
    pending = Notification.objects.filter(recipient=user, digested_at__isnull=True)
    if not user.email:  # nowhere to send it; the notification centre still shows each event
        pending.update(digested_at=timezone.now())
        return 0
    count = pending.count()
    if not count:
        return 0
    with transaction.atomic():
        with translation.override(recipient_language(user)):
            email_enqueue(
                message=EmailMessage(
                    subject=str(_("Your daily healthspace summary")),
                    body=str(
                        ngettext(
                            "%(count)d thing happened in your health space today. Log in to see it: %(url)s",
                            "%(count)d things happened in your health space today. Log in to see them: %(url)s",
                            count,
                        )
                    )
                    % {"count": count, "url": settings.SITE_URL},
                    to=[user.email],
                )
            )
        pending.update(digested_at=timezone.now())
    return count


def preferences_for(*, user: User) -> list[NotificationPreference]:
    """One preference per event, defaults filled in for events never changed."""
    stored = {pref.event: pref for pref in NotificationPreference.objects.filter(user=user)}
    return [stored.get(event) or _default_preference(user, event) for event in NotificationEvent.values]


@transaction.atomic
def preference_set(*, user: User, event: str, in_app: bool, email: str) -> NotificationPreference:
    if event not in NotificationEvent.values:
        raise ValueError(f"unknown event {event!r}")
    if email not in EmailMode.values:
        raise ValueError(f"unknown e-mail mode {email!r}")
    pref, _created = NotificationPreference.objects.update_or_create(
        user=user, event=event, defaults={"in_app": in_app, "email": email}
    )
    return pref
