"""A person lets a caregiver act on their record, within scopes and until a date they choose."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    READ_DOCUMENTS = "read_documents", _("read documents")
    READ_PROFILE = "read_profile", _("read the medical profile")
    UPLOAD_DOCUMENTS = "upload_documents", _("add documents")
    MANAGE_SETTINGS = "manage_settings", _("manage privacy settings")
    READ_HISTORY = "read_history", _("read the access history")


class DelegationQuerySet(models.QuerySet["Delegation"]):
    def active(self, at=None) -> DelegationQuerySet:
        at = at or timezone.now()
        return self.filter(accepted_at__isnull=False, revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=at)
        )


class Delegation(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey("records.Record", on_delete=models.PROTECT, related_name="delegations")
    invited_email = models.EmailField()
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="delegations"
    )
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="None: until revoked")
    invitation_hash = models.CharField(max_length=64, unique=True)
    invitation_expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = DelegationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.invited_email} for {self.record_id}"

    def scope_labels(self) -> list[str]:
        return [str(Scope(s).label) for s in self.scopes if s in Scope.values]
