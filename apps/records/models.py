"""The record: whom health data is about. Distinct from the account that logs in."""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    OTHER = "U", _("Other or unknown")


class InsSystem(models.TextChoices):
    # The OIDs under which an INS matricule is issued (see GLOSSARY.md).
    NIR = "1.2.250.1.213.1.4.8", _("INS-NIR")
    NIR_TEST = "1.2.250.1.213.1.4.10", _("INS-NIR (test)")
    NIA = "1.2.250.1.213.1.4.9", _("INS-NIA")


# 13 characters (digits; 2A/2B for Corsica in the department) plus a 2-digit
# key. The key is not checked: published test identities do not all satisfy it.
ins_validator = RegexValidator(
    r"^[12378]\d{4}(\d{2}|2A|2B)\d{6}\d{2}$",
    _("A national health identifier (INS) has 15 characters, for example 279035121518989."),
)


def validate_birth_date(value: date) -> None:
    if value > timezone.localdate():
        raise ValidationError(_("The date of birth cannot be in the future."))
    if value.year < 1900:
        raise ValidationError(_("Please check the year of birth."))


class Record(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    family_name = models.CharField(_("family name"), max_length=150)
    given_names = models.CharField(_("given names"), max_length=150)
    birth_date = models.DateField(_("date of birth"), validators=[validate_birth_date])
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    ins = models.CharField(_("INS"), max_length=15, blank=True, validators=[ins_validator])
    ins_system = models.CharField(_("INS system"), max_length=40, choices=InsSystem.choices, blank=True)
    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="own_record",
        help_text=_("The account of the person the record is about, once they have one."),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("record")
        verbose_name_plural = _("records")
        constraints = [
            models.UniqueConstraint(fields=["ins"], condition=~models.Q(ins=""), name="record_unique_ins"),
        ]
        indexes = [models.Index(fields=["family_name", "given_names", "birth_date"])]

    def __str__(self) -> str:
        return f"{self.given_names} {self.family_name}"

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.family_name.upper()}"


class GuardianshipQuerySet(models.QuerySet["Guardianship"]):
    def active(self) -> GuardianshipQuerySet:
        return self.filter(ended_at__isnull=True)


class Guardianship(models.Model):
    """A parent managing the record of their child (a dependent)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    guardian = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="guardianships")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="guardianships")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = GuardianshipQuerySet.as_manager()

    class Meta:
        verbose_name = _("guardianship")
        verbose_name_plural = _("guardianships")
        constraints = [
            models.UniqueConstraint(
                fields=["guardian", "record"],
                condition=models.Q(ended_at__isnull=True),
                name="one_active_guardianship_per_pair",
            )
        ]

    def __str__(self) -> str:
        return f"{self.guardian} → {self.record}"
