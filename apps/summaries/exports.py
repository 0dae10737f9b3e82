"""Summary PDF exports: requested through the access policy, built at once or in the background,
stored encrypted, downloaded through the policy again.

Small records are rendered during the request (status ``ready`` at once). Records
with more than ``SUMMARY_PDF_SYNC_MAX_FACTS`` facts get a pending export and a
Celery task, enqueued on commit; if the broker is down the export stays pending
and ``resume_stalled_summary_exports`` (beat) hands it over again. Building is
idempotent: a finished export is never built twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from apps.access.door import fetch, require
from apps.access.policy import Action, Decision, Resource, decide, journal_note
from apps.access.refusals import RecordUnavailable
from apps.clinical.selectors import facts_visible_to
from apps.records import crypto
from apps.records.models import Record
from apps.records.selectors import documents_kept_from
from apps.summaries import pdf
from apps.summaries.builder import record_summary
from apps.summaries.models import FINISHED_STATUSES, ExportStatus, SummaryExport
from healthspace.handover import hand_over, stalled

if TYPE_CHECKING:
    from apps.accounts.models import User

logger = logging.getLogger(__name__)

SYNC_MAX_FACTS_DEFAULT = 500
RESOURCE_TYPE = "summary_pdf"
RESOURCE_LABEL = _("patient summary (PDF)")
ERROR_MAX_LENGTH = 2000


class ExportNotReady(Exception):
    """The PDF is not there yet (pending, running) or will never be (failed)."""

    def __init__(self, export: SummaryExport) -> None:
        super().__init__(export.status)
        self.export = export


def _resource(export: SummaryExport | None = None) -> Resource:
    return Resource(type=RESOURCE_TYPE, uuid=export.uuid if export else None, label=str(RESOURCE_LABEL))


def sync_max_facts() -> int:
    return int(getattr(settings, "SUMMARY_PDF_SYNC_MAX_FACTS", SYNC_MAX_FACTS_DEFAULT))


def _blob_name(export: SummaryExport) -> str:
    return f"summaries/{export.record.uuid}/{export.uuid}.pdf"


# --- Requesting ----------------------------------------------------------------------


def summary_export_request(*, actor: User, record: Record, language: str = "") -> SummaryExport:
    """Start a summary PDF for ``record``: ready at once for a small record, else built in the background.

    Raises RecordUnavailable (a 404) when the policy refuses; the decision is journaled either way.
    """
    decision = require(actor=actor, record=record, action=Action.PROFILE_READ, resource=_resource())
    export = SummaryExport.objects.create(
        record=record, requested_by=actor, language=language or translation.get_language() or ""
    )
    # What the PDF will hold: the facts the requester sees.
    if facts_visible_to(actor=actor, record=record, decision=decision).count() <= sync_max_facts():
        summary_export_build(export_id=export.pk)
        export.refresh_from_db()
    else:
        transaction.on_commit(lambda: summary_export_enqueue(export_id=export.pk))
    return export


def summary_export_request_for(*, actor: User, record_uuid: UUID | str, language: str = "") -> SummaryExport:
    """The same, from a record's identifier (a missing record is journaled as a denial)."""
    record = fetch(actor, Record, record_uuid, Action.PROFILE_READ)  # decided by summary_export_request
    return summary_export_request(actor=actor, record=record, language=language)


def summary_export_enqueue(*, export_id: int) -> None:
    from apps.summaries.tasks import build_summary_pdf

    hand_over(model=SummaryExport, pk=export_id, stamp="queued_at", task=build_summary_pdf)


def summary_exports_stalled() -> list[int]:
    """Exports to hand to the broker again: never handed over (the broker was down) and older
    than a minute, or handed over long ago and still not finished (a lost worker)."""
    return list(
        SummaryExport.objects.filter(status__in=[ExportStatus.PENDING, ExportStatus.RUNNING])
        .filter(stalled(stamp="queued_at"))
        .values_list("pk", flat=True)[:200]
    )


def summary_exports_purge(*, now=None) -> int:
    """Delete finished exports older than SUMMARY_EXPORT_KEEP_DAYS, their encrypted PDF first.

    A summary PDF is a copy made for one download: kept longer, it is one more copy of health
    data to protect. The journal keeps who asked for it and who downloaded it. A PDF that cannot
    be deleted keeps its row, and is tried again next time.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.SUMMARY_EXPORT_KEEP_DAYS)
    old = SummaryExport.objects.filter(status__in=FINISHED_STATUSES, created_at__lt=cutoff).only("pk", "blob_name")
    purged = 0
    for export in old.iterator():
        if export.blob_name:
            try:
                default_storage.delete(export.blob_name)
            except Exception:
                logger.exception("summary export %s: its PDF could not be deleted", export.pk)
                continue
        SummaryExport.objects.filter(pk=export.pk).delete()
        purged += 1
    return purged


# --- Building ------------------------------------------------------------------------


def _progress(export: SummaryExport, value: int) -> None:
    SummaryExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(progress=value)


def summary_export_build(*, export_id: int) -> str:
    """Build, render and store one export; returns its final status. A finished export is left alone."""
    export = SummaryExport.objects.select_related("record", "requested_by").filter(pk=export_id).first()
    if export is None:
        return "missing"
    if export.finished:
        return export.status
    claimed = SummaryExport.objects.filter(
        pk=export.pk, status__in=[ExportStatus.PENDING, ExportStatus.RUNNING]
    ).update(status=ExportStatus.RUNNING, progress=0)
    if not claimed:
        return SummaryExport.objects.values_list("status", flat=True).get(pk=export.pk)
    stored = ""
    try:
        with translation.override(export.language or settings.LANGUAGE_CODE):
            # Built as the requester sees the record, checked (and journaled) again now:
            # an access withdrawn since the request stops the export.
            _progress(export, 10)
            summary = record_summary(actor=export.requested_by, record=export.record, resource=_resource(export))
            _progress(export, 60)
            data = pdf.summary_pdf(summary=summary)
            _progress(export, 90)
            stored = crypto.store_encrypted(
                storage=default_storage, name=_blob_name(export), plaintext=data, associated_id=str(export.uuid)
            )
    except Exception as error:
        logger.exception("summary export %s failed", export.uuid)
        if stored:
            default_storage.delete(stored)
        SummaryExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
            status=ExportStatus.FAILED,
            blob_name="",
            finished_at=timezone.now(),
            error=f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH],
        )
        return ExportStatus.FAILED
    done = SummaryExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
        status=ExportStatus.READY, progress=100, blob_name=stored, finished_at=timezone.now(), error=""
    )
    if not done:  # another run finished first: keep its PDF, drop ours
        default_storage.delete(stored)
    return ExportStatus.READY


# --- Reading -------------------------------------------------------------------------


def _export_or_404(*, actor: User, export_uuid: UUID | str) -> SummaryExport:
    # Only fetched: who may read it is decided by _authorize_export (the requester, or the policy).
    return fetch(actor, SummaryExport, export_uuid, Action.PROFILE_READ)


def _authorize_export(*, actor: User, export: SummaryExport) -> Decision:
    """The requester, while the policy still lets them read the record; anyone else the policy lets
    read the whole medical profile (the PDF holds what the requester could see, no less)."""
    resource = _resource(export)
    is_requester = actor.is_authenticated and actor.pk == export.requested_by_id
    if not is_requester:
        preview = decide(actor=actor, record=export.record, action=Action.PROFILE_READ, resource=resource)
        # The PDF names the requester's source documents: a reader who may not list them (a
        # caregiver with "read profile" only) would read their titles there.
        listing = decide(actor=actor, record=export.record, action=Action.DOCUMENT_LIST)
        if preview.allowed and (
            documents_kept_from(actor=actor, record=export.record, decision=preview)
            or documents_kept_from(actor=actor, record=export.record, decision=listing)
        ):
            # Someone who sees only part of the record: not a PDF someone else made of all of it.
            decision = journal_note(
                actor=actor,
                record_uuid=export.record.uuid,
                action=Action.PROFILE_READ,
                allowed=False,
                reason_code="not_allowed",
                resource=resource,
            )
            raise RecordUnavailable(decision)
    return require(actor=actor, record=export.record, action=Action.PROFILE_READ, resource=resource)


def summary_export_get_for(*, actor: User, export_uuid: UUID | str) -> SummaryExport:
    """An export's status, for its requester (not journaled: no medical content, polled every few
    seconds) or, through the policy and journaled, for someone allowed on the record."""
    export = _export_or_404(actor=actor, export_uuid=export_uuid)
    if not (actor.is_authenticated and actor.pk == export.requested_by_id):
        _authorize_export(actor=actor, export=export)
    return export


def summary_export_download(*, actor: User, export_uuid: UUID | str) -> bytes:
    """The PDF, decrypted, after a fresh (journaled) decision. Raises ExportNotReady when not ready."""
    return summary_export_content(actor=actor, export_uuid=export_uuid)[1]


def summary_export_content(*, actor: User, export_uuid: UUID | str) -> tuple[SummaryExport, bytes]:
    export = _export_or_404(actor=actor, export_uuid=export_uuid)
    _authorize_export(actor=actor, export=export)
    if export.status != ExportStatus.READY or not export.blob_name:
        raise ExportNotReady(export)
    data = crypto.read_decrypted(storage=default_storage, name=export.blob_name, associated_id=str(export.uuid))
    return export, data


def export_filename(export: SummaryExport) -> str:
    return f"patient-summary-{export.record.uuid}-{timezone.localdate(export.created_at).isoformat()}.pdf"
