"""The access journal: an append-only, hash-chained list of every access decision."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, NoReturn, Self

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.access.journal_offline import HASHED_FIELDS, entry_hash


class JournalIsAppendOnly(Exception):
    pass


class Outcome(models.TextChoices):
    ALLOWED = "allowed", _("allowed")
    DENIED = "denied", _("denied")


class AccessEventQuerySet(models.QuerySet["AccessEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise JournalIsAppendOnly("access journal entries are never updated")

    def delete(self) -> NoReturn:
        raise JournalIsAppendOnly("access journal entries are never deleted")

    def for_record(self, record_uuid: uuid.UUID) -> AccessEventQuerySet:
        return self.filter(record_uuid=record_uuid)


# The fields that the hash covers are defined with the offline checker (journal_offline.py).
# The global ``seq`` is not covered (it only orders the display); an entry's place is its
# chain and chain_seq.

# The chain of entries about no record (account-level acts).
DEPLOYMENT_CHAIN = "deployment"


def chain_for(record_uuid: uuid.UUID | str | None) -> str:
    """Each record has its own chain (its uuid); entries about no record share one."""
    return str(record_uuid) if record_uuid else DEPLOYMENT_CHAIN


class AccessEvent(models.Model):
    """Who, on behalf of whom, which record and resource, what, on which basis, outcome, when, from where.

    No foreign keys on purpose: the journal outlives accounts, records and
    documents (EHDS: at least three years) and a cascade must never touch it.
    """

    # Display order across chains (keyset paging of the history); not part of any chain.
    seq = models.PositiveBigIntegerField(unique=True)
    # The entry's chain (the record's uuid, or "deployment") and its place in it, from 1.
    chain = models.CharField(max_length=40)
    chain_seq = models.PositiveBigIntegerField()
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
    # HMAC-SHA256 of ``hash`` with the journal key ``key_id`` (settings.JOURNAL_KEYS): the
    # database does not hold the key, so whoever rewrites rows cannot make new valid MACs.
    key_id = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        ordering = ["-seq"]
        constraints = [models.UniqueConstraint(fields=["chain", "chain_seq"], name="accessevent_chain_seq_unique")]
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

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise JournalIsAppendOnly("access journal entries are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
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
        return entry_hash(json.loads(self.canonical()))


class JournalChainHead(models.Model):
    """One chain's tip. Locking it serialises the writers of one record only."""

    chain = models.CharField(max_length=40, unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq}"


class JournalCheckpoint(models.Model):
    """An index of the signed checkpoints; the truth is the file in the checkpoint storage."""

    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(db_index=True)
    root = models.CharField(max_length=64)
    chains = models.PositiveBigIntegerField()

    def __str__(self) -> str:
        return self.name


class JournalVerification(models.Model):
    """The result of one run of the journal check (shown in the history PDF, never run in a request)."""

    checked_at = models.DateTimeField(default=timezone.now, db_index=True)
    full = models.BooleanField(default=False)
    intact = models.BooleanField()
    verified = models.PositiveBigIntegerField(default=0)
    checkpoint_name = models.CharField(max_length=200, blank=True)
    checkpoint_at = models.DateTimeField(null=True, blank=True)
    problems = models.JSONField(default=list)

    class Meta:
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M} {'intact' if self.intact else 'BROKEN'}"


class ActiveQuerySet(models.QuerySet):
    def active(self, at: datetime | None = None) -> Self:
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
