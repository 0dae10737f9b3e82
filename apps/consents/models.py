"""Consent is data with history (rule 3): every change of a setting is a new row; the
current state is derived from the latest row per setting."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SettingKey(models.TextChoices):
    PROFESSIONAL_ACCESS = "professional_access", _("Access by professionals caring for you")
    EMERGENCY_ACCESS = "emergency_access", _("Access in an emergency")
    RESEARCH_USE = "research_use", _("Use of your data for research and public health")
    DESIGNATED_DOCTOR = "designated_doctor", _("Your designated doctor")
    BLOCKED_PROFESSIONAL = "blocked_professional", _("Blocked professional")
    MASKED_DOCUMENT = "masked_document", _("Document hidden from professionals")


class SettingChangeQuerySet(models.QuerySet["SettingChange"]):
    def update(self, **kwargs):
        raise RuntimeError("setting history is never rewritten")

    def delete(self):
        raise RuntimeError("setting history is never deleted")


class SettingChange(models.Model):
    """One change of one privacy setting of a record: who, when, before → after, through whom.

    ``subject`` names what a per-item setting is about (a professional's or a
    document's UUID); it is empty for record-wide settings.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey("records.Record", on_delete=models.PROTECT, related_name="setting_changes")
    key = models.CharField(max_length=40, choices=SettingKey.choices)
    subject = models.CharField(max_length=64, blank=True)
    subject_label = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    through_basis = models.CharField(max_length=30, help_text="owner, parent, delegation...")
    changed_at = models.DateTimeField(default=timezone.now)

    objects = SettingChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["record", "key", "subject", "-changed_at", "-id"])]

    def __str__(self) -> str:
        return f"{self.key}[{self.subject}] {self.before} → {self.after}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise RuntimeError("setting history is never rewritten")
        super().save(*args, **kwargs)


# Personal directives: the trusted person ("personne de confiance"), advance directives
# ("directives anticipées") and the organ donation position. One row per record holds the
# current state; each change also writes a DirectivesChange row (append-only history).

phone_validator = RegexValidator(
    r"^\+?[0-9](?:[ .\-]?[0-9]){5,18}$",
    _("Write a phone number with digits only, for example 06 12 34 56 78 or +33 6 12 34 56 78."),
)


class OrganDonation(models.TextChoices):
    NOT_STATED = "not_stated", _("I have not said")
    DONOR = "donor", _("I agree to give my organs")
    REFUSES = "refuses", _("I refuse to give my organs")


class PersonalDirectives(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.OneToOneField(
        "records.Record", on_delete=models.PROTECT, related_name="personal_directives", verbose_name=_("record")
    )
    trusted_person_name = models.CharField(_("name of your trusted person"), max_length=200, blank=True)
    trusted_person_relationship = models.CharField(_("who they are to you"), max_length=100, blank=True)
    trusted_person_phone = models.CharField(
        _("their phone number"), max_length=30, blank=True, validators=[phone_validator]
    )
    trusted_person_email = models.EmailField(_("their e-mail address"), blank=True)
    advance_directives_text = models.TextField(_("your advance directives"), blank=True)
    advance_directives_document = models.ForeignKey(
        "records.Document",
        verbose_name=_("document with your advance directives"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    organ_donation = models.CharField(
        _("organ donation"), max_length=20, choices=OrganDonation.choices, default=OrganDonation.NOT_STATED
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("personal directives")
        verbose_name_plural = _("personal directives")

    def __str__(self) -> str:
        return f"directives of record {self.record_id}"


class DirectivesChangeQuerySet(models.QuerySet["DirectivesChange"]):
    def update(self, **kwargs):
        raise RuntimeError("directives history is never rewritten")

    def delete(self):
        raise RuntimeError("directives history is never deleted")


class DirectivesChange(models.Model):
    """One change of a record's personal directives: who, when, before → after, through whom."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey("records.Record", on_delete=models.PROTECT, related_name="directives_changes")
    before = models.JSONField()
    after = models.JSONField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    through_basis = models.CharField(max_length=30, help_text="owner, parent, delegation...")
    changed_at = models.DateTimeField(default=timezone.now)

    objects = DirectivesChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["record", "-changed_at", "-id"])]

    def __str__(self) -> str:
        return f"directives of record {self.record_id} changed at {self.changed_at}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise RuntimeError("directives history is never rewritten")
        super().save(*args, **kwargs)
