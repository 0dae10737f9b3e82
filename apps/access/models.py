"""The access journal: an append-only, hash-chained list of every access decision."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JournalIsAppendOnly(Exception):
    pass


class Outcome(models.TextChoices):
    ALLOWED = "allowed", _("allowed")
    DENIED = "denied", _("denied")


class AccessEventQuerySet(models.QuerySet["AccessEvent"]):
    def update(self, **kwargs):
        raise JournalIsAppendOnly("access journal entries are never updated")

    def delete(self):
        raise JournalIsAppendOnly("access journal entries are never deleted")

    def for_record(self, record_uuid: uuid.UUID) -> AccessEventQuerySet:
        return self.filter(record_uuid=record_uuid)


# The fields that the hash covers, in order. Changing this list breaks every
# existing chain: add a new field at the end and only for new rows.
HASHED_FIELDS = (
    "seq",
    "uuid",
    "occurred_at",
    "actor_uuid",
    "actor_label",
    "actor_role",
    "on_behalf_of_uuid",
    "on_behalf_of_label",
    "record_uuid",
    "action",
    "resource_type",
    "resource_uuid",
    "resource_label",
    "basis",
    "purpose",
    "outcome",
    "reason_code",
    "ip",
    "user_agent",
    "prev_hash",
)


class AccessEvent(models.Model):
    """Who, on behalf of whom, which record and resource, what, on which basis, outcome, when, from where.

    No foreign keys on purpose: the journal outlives accounts, records and
    documents (EHDS: at least three years) and a cascade must never touch it.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_uuid = models.UUIDField(null=True, blank=True, db_index=True)
    actor_label = models.CharField(max_length=200, blank=True)
    actor_role = models.CharField(max_length=20)
    on_behalf_of_uuid = models.UUIDField(null=True, blank=True)
    on_behalf_of_label = models.CharField(max_length=200, blank=True)
    record_uuid = models.UUIDField(null=True, blank=True)
    action = models.CharField(max_length=40)
    resource_type = models.CharField(max_length=40, blank=True)
    resource_uuid = models.UUIDField(null=True, blank=True)
    resource_label = models.CharField(max_length=300, blank=True)
    basis = models.CharField(max_length=30)
    purpose = models.CharField(max_length=60, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason_code = models.CharField(max_length=60)
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["record_uuid", "-seq"]),
            # "New since your last visit": someone's previous summary reads of a record, found
            # directly; only those rows are indexed (a small part of the journal).
            models.Index(
                fields=["record_uuid", "actor_uuid", "-seq"],
                condition=models.Q(action="profile.read", outcome=Outcome.ALLOWED),  # policy.Action.PROFILE_READ
                name="accessevent_profile_read_idx",
            ),
            # The access history: "was this person here before?" (first-access badge) in one lookup,
            # and "refused only" without reading the record's allowed entries.
            models.Index(fields=["record_uuid", "actor_uuid", "seq"], name="accessevent_record_actor_idx"),
            models.Index(
                fields=["record_uuid", "-seq"],
                condition=models.Q(outcome=Outcome.DENIED),
                name="accessevent_denied_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_label} {self.action} {self.outcome}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise JournalIsAppendOnly("access journal entries are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise JournalIsAppendOnly("access journal entries are never deleted")

    def canonical(self) -> bytes:
        values = {}
        for name in HASHED_FIELDS:
            value = getattr(self, name)
            if name == "occurred_at":
                value = value.astimezone(UTC).isoformat(timespec="microseconds")
            elif isinstance(value, uuid.UUID):
                value = str(value)
            values[name] = "" if value is None else value
        return json.dumps(values, sort_keys=True, separators=(",", ":")).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


class JournalHead(models.Model):
    """The chain's tip. Locking this single row serialises writers, so the chain stays linear."""

    seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"journal tip #{self.seq}"


class ActiveQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=at)
        )


class CareRelationship(models.Model):
    """A professional attests that they take care of the person (found by exact identity)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    professional = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="care_relationships")
    record = models.ForeignKey("records.Record", on_delete=models.PROTECT, related_name="care_relationships")
    attested_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ActiveQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["professional", "record"], condition=models.Q(revoked_at__isnull=True), name="one_active_care"
            )
        ]

    def __str__(self) -> str:
        return f"{self.professional_id} cares for {self.record_id}"


class AccessCode(models.Model):
    """A short code the person gives a professional for one consultation. Only its hash is kept."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey("records.Record", on_delete=models.PROTECT, related_name="access_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=4, help_text="The last characters, so the person recognises it")
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ActiveQuerySet.as_manager()

    def __str__(self) -> str:
        return f"code …{self.hint}"


class AccessCodeUse(models.Model):
    """A professional who entered a valid code may read until the code expires."""

    code = models.ForeignKey(AccessCode, on_delete=models.PROTECT, related_name="uses")
    professional = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code", "professional"], name="one_use_per_professional")]

    def __str__(self) -> str:
        return f"{self.professional_id} used {self.code_id}"


class EmergencyAccess(models.Model):
    """Break-glass: a professional declares an emergency, with a written justification."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    professional = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    record = models.ForeignKey("records.Record", on_delete=models.PROTECT, related_name="emergency_accesses")
    justification = models.TextField()
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ActiveQuerySet.as_manager()

    def __str__(self) -> str:
        return f"emergency {self.professional_id} → {self.record_id}"
