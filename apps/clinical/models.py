"""Structured facts (allergies, conditions, medications, immunisations, observations),
each pointing back to the document it came from."""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from typing import Protocol, runtime_checkable

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FactKind(models.TextChoices):
    ALLERGY = "allergy", _("Allergies and intolerances")
    CONDITION = "condition", _("Conditions")
    MEDICATION = "medication", _("Medications")
    IMMUNIZATION = "immunization", _("Vaccinations")
    OBSERVATION = "observation", _("Results and measurements")
    PROCEDURE = "procedure", _("Procedures")


class FactAssertion(models.TextChoices):
    """What the source asserts: the thing is there, is explicitly not there ("no diabetes",
    a refuted allergy), or that none of its kind is known ("no known allergies"). A negative
    statement is information too: it is kept and shown as such, never as the thing itself."""

    PRESENT = "present", _("present")
    ABSENT = "absent", _("ruled out")
    NONE_KNOWN = "none_known", _("none known")


class FactOrigin(models.TextChoices):
    IMPORTED = "imported", _("from a document")
    DECLARED = "declared", _("declared")


THING_KEY_LENGTH = 255


def fold(text: str) -> str:
    """Text compared as a reader would: no accents, no case, single spaces."""
    text = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


def thing_key_for(code_system: str, code: str, display: str, series_unit: str = "") -> str:
    """What makes two facts the same thing: the same code in the same system, else the same words.

    A result whose unit cannot be converted to its test's unit (``series_unit``) is another
    series: never compared with the others, never on their trend."""
    key = f"{code_system}|{code}" if code else f"text|{fold(display)}"
    if series_unit:
        key = f"{key}|unit:{series_unit}"
    if len(key) > THING_KEY_LENGTH:
        # Folding can lengthen a text (NFKD); a digest keeps long keys distinct within the column.
        digest = hashlib.sha256(key.encode()).hexdigest()
        key = f"{key[: THING_KEY_LENGTH - len(digest) - 1]}#{digest}"
    return key


@runtime_checkable
class _Coded(Protocol):
    code_system: str
    code: str
    display: str


class ThingKeyField(models.CharField):
    """thing_key_for() of the row, recomputed whenever the row is written: save(), create() and
    bulk_create() all call pre_save, so no writer can store a stale or missing key."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("max_length", THING_KEY_LENGTH)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        # Checked by attribute, not class: migrations save facts through historical models.
        if not isinstance(model_instance, _Coded):
            raise TypeError(f"{type(model_instance).__name__} has no code_system, code and display for a thing key")
        value = thing_key_for(
            model_instance.code_system,
            model_instance.code,
            model_instance.display,
            getattr(model_instance, "series_unit", ""),
        )
        setattr(model_instance, self.attname, value)
        return value


class ClinicalFact(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey("records.Record", on_delete=models.PROTECT, related_name="facts")
    # SET_NULL, not CASCADE: a fact whose document was deleted is kept and shown
    # as "source deleted" (issue 6); deletion of the document removes its content.
    source_document = models.ForeignKey(
        "records.Document", on_delete=models.SET_NULL, null=True, blank=True, related_name="facts"
    )
    kind = models.CharField(max_length=20, choices=FactKind.choices, db_index=True)
    code_system = models.CharField(max_length=200, blank=True, help_text="URI or OID of the code system")
    code = models.CharField(max_length=100, blank=True)
    display = models.CharField(max_length=500, help_text="The text as written in the source, never dropped")
    status = models.CharField(max_length=50, blank=True)
    effective_date = models.DateField(null=True, blank=True)
    effective_end = models.DateField(null=True, blank=True)
    value_decimal = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    value_text = models.CharField(max_length=500, blank=True)
    unit = models.CharField(max_length=50, blank=True)
    reference_low = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    reference_high = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    reference_text = models.CharField(max_length=200, blank=True)
    interpretation = models.CharField(max_length=50, blank=True)
    detail = models.CharField(max_length=500, blank=True, help_text="Reaction, severity, dosage, route...")
    assertion = models.CharField(max_length=12, choices=FactAssertion.choices, default=FactAssertion.PRESENT)
    criticality = models.CharField(max_length=20, blank=True, help_text="Allergies: low, high, unable-to-assess")
    category = models.CharField(max_length=100, blank=True, help_text="As the source classes it (problem list...)")
    group_label = models.CharField(max_length=300, blank=True, help_text="The report or panel the result belongs to")
    # Results: the value in its test's canonical unit (apps/clinical/units.py), for trends and charts;
    # value_decimal and unit stay as the source wrote them.
    value_normalized = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    unit_normalized = models.CharField(max_length=50, blank=True)
    # The unit when it cannot be converted to the test's canonical unit: the result starts its own series.
    series_unit = models.CharField(max_length=50, blank=True)
    unit_flag = models.CharField(max_length=30, blank=True, help_text="unconvertible, implausible, unknown_unit")
    # Groups facts into one "thing" for the summary's latest line and trend (see thing_key_for()).
    thing_key = ThingKeyField()
    code_known = models.BooleanField(default=True, help_text="False when only the original text was available")
    origin = models.CharField(max_length=10, choices=FactOrigin.choices, default=FactOrigin.IMPORTED)
    # Kept when the document is deleted, so the fact can say which source it had.
    source_label = models.CharField(max_length=300, blank=True)
    # Its deleted document was kept from someone (masked, confidential from the parents): with the
    # document gone its rules cannot be checked, so the strictest holds: only the person sees it.
    deleted_source_restricted = models.BooleanField(default=False, editable=False)
    declared_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    declared_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("structured fact")
        verbose_name_plural = _("structured facts")
        indexes = [
            models.Index(fields=["record", "kind", "-effective_date"]),
            models.Index(fields=["record", "code"]),
            # The summary ranks each thing's facts by date (window functions) within the record.
            models.Index(fields=["record", "kind", "thing_key", "-effective_date"], name="clinicalfact_thing_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.display}"

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"code_system", "code", "display", "series_unit"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "thing_key"}
        super().save(*args, **kwargs)


class RectificationRequest(models.Model):
    """The person says an imported fact is wrong. Kept with the fact and shown to professionals;
    the fact itself is never silently changed."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    fact = models.ForeignKey(ClinicalFact, on_delete=models.CASCADE, related_name="rectifications")
    requested_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rectification of {self.fact_id}"
