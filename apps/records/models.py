"""The record: whom health data is about. Distinct from the account that logs in."""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
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


class RecordInvitation(models.Model):
    """An invitation sent by a parent: a second parent to co-manage a child's record, or the
    young adult to take their record over at majority."""

    class Kind(models.TextChoices):
        SECOND_PARENT = "second_parent", _("second parent")
        HANDOVER = "handover", _("hand-over to the young adult")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="invitations")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.kind} → {self.email}"


class DocumentCategory(models.TextChoices):
    """Groups a patient recognises; each LOINC document type falls in one (doctypes.py)."""

    PRESCRIPTION = "prescription", _("Prescriptions")
    LAB_RESULT = "lab_result", _("Lab results")
    IMAGING = "imaging", _("Imaging")
    REPORT = "report", _("Hospital and consultation reports")
    VACCINATION = "vaccination", _("Vaccinations")
    CERTIFICATE = "certificate", _("Certificates")
    SUMMARY = "summary", _("Health summaries")
    OTHER = "other", _("Other documents")


class DocumentSource(models.TextChoices):
    PATIENT = "patient", _("added by the person")
    CAREGIVER = "caregiver", _("added by a caregiver")
    SUPPORT_AGENT = "support_agent", _("added by a support agent")
    PROFESSIONAL_SOFTWARE = "professional_software", _("sent by professional software")
    IMPORT = "import", _("imported from another system")


class DocumentStatus(models.TextChoices):
    RECEIVED = "received", _("received, waiting to be processed")
    PROCESSING = "processing", _("being processed")
    READY = "ready", _("ready")
    REJECTED = "rejected", _("refused")


class CareDateSource(models.TextChoices):
    """Where a document's date of care comes from (Document.care_date_source; a plain field, so
    a new source needs no migration)."""

    DOCUMENT = "document", _("stated in the structured document")
    PDF_METADATA = "pdf_metadata", _("stated in the PDF's properties")
    TEXT = "text", _("read on the document's first page")
    PERSON = "person", _("set by a person")


class Document(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="documents")
    title = models.CharField(_("title"), max_length=300)
    type_code = models.CharField(_("type (LOINC)"), max_length=40, blank=True)
    type_display = models.CharField(_("type"), max_length=300, blank=True)
    category = models.CharField(
        _("category"), max_length=20, choices=DocumentCategory.choices, default=DocumentCategory.OTHER
    )
    care_date = models.DateField(_("date of care"), null=True, blank=True)
    # Where the date of care comes from: the structured document, the PDF's own metadata or
    # first-page text, or the person (who may always set or correct it).
    care_date_source = models.CharField(max_length=20, blank=True, help_text="document, pdf_metadata, text, person")
    # What the source says of the person's identity, shown on the summary with its source.
    patient_deceased = models.BooleanField(default=False)
    patient_deceased_on = models.DateField(null=True, blank=True)
    identity_flags = models.JSONField(default=list, blank=True, help_text="e.g. ins_test_identifier")
    author_name = models.CharField(_("author"), max_length=200, blank=True)
    author_profession = models.CharField(_("author's profession"), max_length=200, blank=True)
    organisation = models.CharField(_("organisation"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=30, choices=DocumentSource.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.RECEIVED
    )
    rejection_code = models.CharField(max_length=40, blank=True)
    content_hash = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    mime_type = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=20, blank=True, help_text="pdf, jpeg, png, cda, fhir")
    original_filename = models.CharField(max_length=255, blank=True)
    blob_name = models.CharField(max_length=255, blank=True)
    preview_blob_name = models.CharField(max_length=255, blank=True)
    extracted_text = models.TextField(blank=True)
    has_active_content = models.BooleanField(
        default=False, help_text="A PDF with JavaScript or launch actions: never rendered inline."
    )
    masked = models.BooleanField(_("hidden from professionals"), default=False)
    confidential_from_parents = models.BooleanField(
        _("confidential from the parents"),
        default=False,
        help_text=_("A minor's confidential care: the parents managing the record do not see it."),
    )
    attempts = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True, help_text="Last handed to the broker")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Full-text search (French): title weight A; text, type, author, organisation weight B.
    # On PostgreSQL a trigger keeps it in step with those columns for every writer (ORM,
    # bulk inserts, raw SQL) and a GIN index serves it (migration 0006); on SQLite it stays
    # NULL and search falls back to icontains.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            # Idempotent imports: the same content twice in a record is one document.
            models.UniqueConstraint(fields=["record", "content_hash"], name="document_unique_content_per_record"),
        ]
        indexes = [
            models.Index(fields=["record", "-care_date", "-id"]),
            models.Index(fields=["record", "category"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def sort_date(self) -> date:
        return self.care_date or timezone.localdate(self.created_at)
