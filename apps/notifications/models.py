"""The outbox: what must leave the service, written in the same transaction as its cause."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    SENT = "sent", _("sent")
    FAILED = "failed", _("could not be sent")


class OutboxMessage(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(max_length=20, default="email")
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    html_body = models.TextField(blank=True)
    from_email = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="Last handed to the broker")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)} ({self.status})"


class NotificationEvent(models.TextChoices):
    DOCUMENT_READY = "document_ready", _("A new document is ready")
    IMPORT_FAILED = "import_failed", _("A document could not be added")
    PROFESSIONAL_FIRST_ACCESS = "professional_first_access", _("A professional opened a record for the first time")
    BREAK_GLASS = "break_glass", _("A professional used emergency access")
    ACCESS_CODE_USED = "access_code_used", _("An access code was used")
    ACCESS_CODE_REFUSED = "access_code_refused", _("Someone tried an access code that no longer works")
    DELEGATION_CREATED = "delegation_created", _("A caregiver was invited")
    DELEGATION_ACCEPTED = "delegation_accepted", _("A caregiver accepted to help")
    DELEGATION_REVOKED = "delegation_revoked", _("A caregiver's access ended")
    MANDATE_CONFIRMED = "mandate_confirmed", _("A support agent may now help you")
    MANDATE_ENDED = "mandate_ended", _("A support mandate ended")
    ACCOUNT_LETTER_PRINTED = "account_letter_printed", _("A letter to choose a new password was printed")
    ACCOUNT_LETTER_USED = "account_letter_used", _("A new password was chosen with a printed letter")
    ACCOUNT_LETTER_CANCELLED = "account_letter_cancelled", _("A printed letter was cancelled after wrong codes")
    SECOND_FACTOR_RESET = "second_factor_reset", _("Your two-step verification was reset")
    CAREGIVER_ACTED = "caregiver_acted", _("A caregiver acted on a record you follow")
    MANDATE_ACTED = "mandate_acted", _("A support agent acted on a record you follow")
    APPS_SIGNED_OUT = "apps_signed_out", _("Apps and devices were signed out of your account")


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", _("at once")
    DAILY = "daily", _("in a daily summary")
    OFF = "off", _("never")


class Notification(models.Model):
    """What the person sees in their notification centre. No medical content in ``params``."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=40, choices=NotificationEvent.choices)
    record_uuid = models.UUIDField(null=True, blank=True)
    document_uuid = models.UUIDField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # One event is shown once, however often its delivery is retried.
    dedup_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    digested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "-created_at", "-id"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.recipient_id}"


class NotificationPreference(models.Model):
    """Per person and event: in the notification centre or not, and when by e-mail."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="notification_preferences")
    event = models.CharField(max_length=40, choices=NotificationEvent.choices)
    in_app = models.BooleanField(_("in my notification centre"), default=True)
    email = models.CharField(_("by e-mail"), max_length=10, choices=EmailMode.choices, default=EmailMode.IMMEDIATE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "event"], name="one_preference_per_event")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.event}"
