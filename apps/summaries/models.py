"""Summary PDF exports: produced at once for small records, in the background for large ones."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to start")
    RUNNING = "running", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


FINISHED_STATUSES = frozenset({ExportStatus.READY, ExportStatus.FAILED})


class SummaryExport(models.Model):
    """One request for a summary PDF. The PDF itself is stored encrypted (DESIGN.md rule 6)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey("records.Record", on_delete=models.PROTECT, related_name="summary_exports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0 to 100")
    blob_name = models.CharField(max_length=300, blank=True, help_text="The encrypted PDF in storage, once ready")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True, help_text="Handed to the broker; empty if it was down")
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="What went wrong, for the operators")
    language = models.CharField(max_length=10, blank=True, help_text="The requester's language, for the labels")

    class Meta:
        verbose_name = _("summary export")
        verbose_name_plural = _("summary exports")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"summary export {self.uuid} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES
