"""Documents: upload, the import pipeline, and the person's actions on a document.

Every step goes through the access policy and is journaled. The upload is
stored (encrypted) before the response returns; a Celery task then imports it.
Rule 4: an outage of the broker or the worker delays processing, never loses
an upload (resume_stalled_documents picks them up again).
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.access.door import entry_for, fetch, get_for, require
from apps.access.policy import Action, Decision, Resource, authorize, journal_note
from apps.access.refusals import RecordUnavailable, Refused
from apps.accounts.models import User
from apps.intake import care_dates, inspection
from apps.records import crypto
from apps.records.doctypes import category_for
from apps.records.identity import first_given_name, fold
from apps.records.models import (
    CareDateSource,
    Document,
    DocumentCategory,
    DocumentSource,
    DocumentStatus,
    InsSystem,
    Record,
)
from healthspace.handover import hand_over, stalled

if TYPE_CHECKING:
    from apps.access.actors import Actor
    from apps.clinical.parsing import ParsedDocument, PatientIdentity

logger = logging.getLogger(__name__)

# Why a document was refused, in words the person understands.
REJECTION_MESSAGES = {
    "empty": _("The file is empty."),
    "too_large": _("The file is too large. The limit is %(limit)s MB."),
    "unsupported_type": _(
        "This kind of file cannot be added. Send a PDF, a photo (JPEG or PNG), or a health document "
        "in CDA or FHIR format."
    ),
    "svg": _("SVG images are refused because they can contain programs. Send a PDF, JPEG or PNG instead."),
    "corrupt_pdf": _("This PDF is damaged and cannot be read. Try to save or export it again."),
    "encrypted_pdf": _("This PDF is protected by a password. Remove the password, then send it again."),
    "corrupt_image": _("This image is damaged and cannot be read."),
    "image_bomb": _("This image is far too large to be shown safely. Send a smaller photo."),
    "xml_entities": _("This XML file contains declarations that could be used to attack the service. It was refused."),
    "malformed_xml": _("This XML file is damaged and cannot be read."),
    "not_cda": _("This XML file is not a health document in CDA format."),
    "malformed_json": _("This JSON file is damaged and cannot be read."),
    "not_fhir": _("This JSON file is not a health document in FHIR format."),
    "invalid_fhir": _("This FHIR file does not follow the FHIR R4 standard and cannot be read."),
    "several_patients": _("This file holds data about several people. Send one file per person."),
    "no_patient": _(
        "This file describes hospitals or practitioners, not a person's health: there is nothing to add to a record."
    ),
    "other_patient": _("This document is about another person than the owner of this record. It was not added."),
    "infected": _("A virus was found in this file. It was deleted."),
    "processing_failed": _("The document could not be processed. Try again later, or contact support."),
}


def rejection_message(code: str) -> str:
    message = REJECTION_MESSAGES.get(code, REJECTION_MESSAGES["processing_failed"])
    return str(message) % {"limit": settings.UPLOAD_MAX_BYTES // (1024 * 1024)} if code == "too_large" else str(message)


class UploadRefused(Refused):
    """An upload refused for ``code``; the API names the file field and the code beside the reason."""

    def __init__(self, code: str) -> None:
        super().__init__(rejection_message(code), field="file")
        self.code = code

    def body(self) -> dict[str, Any]:
        return {**super().body(), "code": self.code}


class CareDateRefused(Refused):
    """A date of care that cannot be right: in the future, or before the person was born."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="care_date")


def care_date_check(*, record: Record, care_date: date | None) -> None:
    """Refuse a date of care a person gives that cannot be right; None (not given) is fine."""
    if care_date is None:
        return
    if care_date > timezone.localdate():
        raise CareDateRefused(str(_("The date of care cannot be in the future.")))
    if record.birth_date and care_date < record.birth_date:
        raise CareDateRefused(
            str(_("The date of care cannot be before the person's birth date (%(birth_date)s)."))
            % {"birth_date": record.birth_date.isoformat()}
        )


@dataclass(frozen=True)
class UploadOutcome:
    document: Document
    duplicate: bool


def _source_for(actor: Actor, record: Record, decision: Decision) -> str:
    if actor.is_support_agent:
        return DocumentSource.SUPPORT_AGENT
    if actor.is_professional:
        return DocumentSource.PROFESSIONAL_SOFTWARE
    if decision.basis == "delegation":
        return DocumentSource.CAREGIVER
    return DocumentSource.PATIENT


def _blob_name(document: Document) -> str:
    return f"documents/{document.record.uuid}/{document.uuid}"


def _fsync(name: str) -> None:
    # Rule 4: on local disk, the bytes are on the platter before we answer.
    if isinstance(default_storage, FileSystemStorage):
        with open(default_storage.path(name), "rb") as handle:
            os.fsync(handle.fileno())


def document_upload(
    *,
    actor: Actor,
    record: Record,
    filename: str,
    data: bytes,
    source: str | None = None,
    care_date: date | None = None,
) -> UploadOutcome:
    """Check, encrypt and store an upload, then queue its import. The one door for every uploader.

    ``care_date``: the date of care the uploader gives; it wins over any the document states. A
    duplicate keeps the date it has (changing it is an edit of that document)."""
    safe_name = inspection.sanitize_filename(filename)
    decision = require(
        actor=actor, record=record, action=Action.DOCUMENT_UPLOAD, resource=Resource("document", None, safe_name)
    )
    care_date_check(record=record, care_date=care_date)  # before anything is stored
    try:
        found = inspection.inspect_content(data=data, declared_name=safe_name, max_bytes=settings.UPLOAD_MAX_BYTES)
    except inspection.Rejected as refusal:
        raise UploadRefused(refusal.code) from None
    content_hash = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        existing = Document.objects.select_for_update().filter(record=record, content_hash=content_hash).first()
        if existing is not None and existing.status != DocumentStatus.REJECTED:
            return UploadOutcome(document=existing, duplicate=True)
        if existing is not None:
            existing.delete()  # a refused earlier attempt holds no content; try afresh
        document = Document(
            record=record,
            title=_title_from_filename(safe_name),
            source=source or _source_for(actor, record, decision),
            uploaded_by=actor if isinstance(actor, User) else None,  # a service actor has no account
            content_hash=content_hash,
            size=len(data),
            mime_type=found.mime_type,
            kind=found.kind,
            has_active_content=found.has_active_content,
            original_filename=safe_name,
            care_date=care_date,
            care_date_source=CareDateSource.PERSON if care_date else "",
        )
        document.blob_name = _blob_name(document)
        stored = crypto.store_encrypted(
            storage=default_storage, name=document.blob_name, plaintext=data, associated_id=str(document.uuid)
        )
        try:
            document.blob_name = stored
            _fsync(stored)
            document.save()
            transaction.on_commit(lambda: document_enqueue(document_id=document.pk))
        except BaseException:
            default_storage.delete(stored)
            raise
    return UploadOutcome(document=document, duplicate=False)


def _title_from_filename(name: str) -> str:
    stem = os.path.splitext(name)[0].replace("_", " ").replace("-", " ").strip()
    return stem[:300] or str(_("Document"))


def document_enqueue(*, document_id: int) -> None:
    from apps.intake.tasks import process_document

    hand_over(model=Document, pk=document_id, stamp="queued_at", task=process_document)


def documents_stalled() -> list[int]:
    """Waiting documents to hand to the broker again: never handed over (the broker was down),
    or handed over longer ago than a task's whole retry backoff."""
    return list(
        Document.objects.filter(status__in=[DocumentStatus.RECEIVED, DocumentStatus.PROCESSING])
        .filter(stalled(stamp="queued_at"))
        .values_list("pk", flat=True)[:500]
    )


# --- The import pipeline ------------------------------------------------------------


class TransientFailure(Exception):
    """Worth retrying later (a scanner or storage briefly unavailable)."""


def _claim(document_id: int) -> Document | None:
    # One conditional UPDATE (committed at once: a crash mid-import leaves it PROCESSING, its
    # attempts counted), then one read; no lock is held while the document is processed.
    claimed = Document.objects.filter(
        pk=document_id, status__in=(DocumentStatus.RECEIVED, DocumentStatus.PROCESSING)
    ).update(status=DocumentStatus.PROCESSING, attempts=F("attempts") + 1)
    if not claimed:
        return None  # already done: a duplicate delivery changes nothing
    return Document.objects.select_related("record").filter(pk=document_id).first()


@dataclass(frozen=True)
class _Content:
    text: str
    preview: bytes | None
    care_date: care_dates.StatedCareDate | None = None  # what a PDF states of itself


def document_process(*, document_id: int) -> str:
    """Import one stored upload: check, scan, read, extract structure, preview. Returns the final status."""
    document = _claim(document_id)
    if document is None:
        return "skipped"
    data = crypto.read_decrypted(storage=default_storage, name=document.blob_name, associated_id=str(document.uuid))
    try:
        found = _inspection(document, data)
        _scan(data)
        parsed = _parse(data, found.kind)
        if parsed is not None and not identity_matches(parsed.patient, document.record):
            raise UploadRefused("other_patient")
        content = _read(data, found.kind, parsed)
    except (inspection.Rejected, UploadRefused) as refusal:
        document_reject(document_id=document.pk, code=refusal.code)
        return DocumentStatus.REJECTED
    preview_name = _store_preview(document, content.preview)
    try:
        _complete(document, parsed, content.text, preview_name, stated_care_date=content.care_date)
    except BaseException:
        if preview_name:
            default_storage.delete(preview_name)
        raise
    return DocumentStatus.READY


def _inspection(document: Document, data: bytes) -> inspection.Inspection:
    """What the upload's inspection found in these bytes, without inspecting them again.

    The blob is the upload itself (AES-GCM sealed for this document: any other bytes fail to
    decrypt), and the request ran ``inspect_content`` on it before storing it: kind, type and
    active-content flag are immutable facts about it. An image's pixel data, which the request
    does not decode, is decoded by ``_read``. A row without a known kind is inspected afresh.
    """
    if inspection.is_kind(document.kind) and document.mime_type:
        return inspection.Inspection(
            kind=document.kind, mime_type=document.mime_type, has_active_content=document.has_active_content
        )
    return inspection.inspect_content(
        data=data, declared_name=document.original_filename, max_bytes=settings.UPLOAD_MAX_BYTES, decode=True
    )


def _read(data: bytes, kind: inspection.Kind, parsed: ParsedDocument | None) -> _Content:
    """Searchable text and preview, each source decoded once. Damaged image data raises Rejected."""
    if kind in ("jpeg", "png"):
        # The worker decodes (the request only read headers): damaged pixel data is found here.
        return _Content(text="", preview=inspection.decode_image(data=data, kind=kind))
    if kind == "pdf":
        pdf = inspection.read_pdf(data=data, metadata_keys=care_dates.METADATA_KEYS)
        return _Content(text=pdf.text, preview=pdf.preview, care_date=_stated_care_date(data, pdf))
    text = parsed.text if parsed is not None else ""
    if parsed is not None and parsed.embedded_pdf:
        pdf = inspection.read_pdf(data=parsed.embedded_pdf, metadata_keys=care_dates.METADATA_KEYS)
        stated = _stated_care_date(parsed.embedded_pdf, pdf)
        return _Content(text=f"{text}\n{pdf.text}".strip(), preview=pdf.preview, care_date=stated)
    return _Content(text=text, preview=None)


def _stated_care_date(data: bytes, pdf: inspection.PdfContent) -> care_dates.StatedCareDate | None:
    return care_dates.care_date_of_pdf(
        first_page_text=pdf.first_page_text, info=pdf.metadata, xmp=care_dates.xmp_packet(data)
    )


def _scan(data: bytes) -> None:
    if not settings.CLAMAV_ADDRESS:
        return
    try:
        virus = inspection.clamav_scan(data=data, address=settings.CLAMAV_ADDRESS)
    except inspection.ScanUnavailable as error:
        raise TransientFailure("virus scanner unavailable") from error
    if virus:
        logger.warning("infected upload refused: %s", virus)
        raise UploadRefused("infected")


def _parse(data: bytes, kind: str) -> ParsedDocument | None:
    if kind not in ("cda", "fhir"):
        return None
    from apps.clinical.parsers import parse_structured
    from apps.clinical.parsing import ParseError

    try:
        return parse_structured(data, kind)
    except ParseError as error:
        raise UploadRefused(error.code) from None


def identity_matches(patient: PatientIdentity, record: Record) -> bool:
    """Is this document about the record's person? Refuse when the identity contradicts.

    The INS is the national identifier: equal INS match even when traits are
    written differently between systems; different INS never match. Without
    an INS on both sides, family name, first given name and birth date must agree.
    A source that names nobody (a lone measurement) contradicts nothing.
    """
    if patient.ins and record.ins:
        return patient.ins == record.ins
    if not (patient.family_name or patient.birth_date):
        return True
    if patient.birth_date and patient.birth_date != record.birth_date:
        return False
    if patient.family_name and fold(patient.family_name) != fold(record.family_name):
        return False
    first_given = first_given_name(patient.given_names)
    return not first_given or first_given == first_given_name(record.given_names)


def identity_flags(patient: PatientIdentity, record: Record) -> list[str]:
    """What a reader should know about the identity a matching document gives (shown on the summary).

    "ins_test_identifier": the INS is under the test OID (a test patient's document, never a
    real person's). "name_differs" / "birth_date_differs": the INS matched, so the document was
    taken, but its names or birth date are not the record's (a typing error on one side, or
    an identity to check)."""
    flags = []
    if patient.ins and any(
        value == patient.ins and system.removeprefix("urn:oid:") == InsSystem.NIR_TEST
        for system, value in patient.identifiers
    ):
        flags.append("ins_test_identifier")
    if patient.ins and record.ins and patient.ins == record.ins:
        family_differs = bool(patient.family_name) and fold(patient.family_name) != fold(record.family_name)
        first_given = first_given_name(patient.given_names)
        if family_differs or (first_given and first_given != first_given_name(record.given_names)):
            flags.append("name_differs")
        if patient.birth_date and record.birth_date and patient.birth_date != record.birth_date:
            flags.append("birth_date_differs")
    return flags


def _care_date(
    current: Document, parsed: ParsedDocument | None, stated: care_dates.StatedCareDate | None
) -> tuple[date | None, str]:
    """The date of care to keep: the person's, else the structured document's, else what a PDF states."""
    if current.care_date_source == CareDateSource.PERSON:
        return current.care_date, current.care_date_source
    if parsed is not None and parsed.care_date is not None:
        return parsed.care_date, CareDateSource.DOCUMENT
    if stated is not None:
        return stated.day, stated.source
    return None, ""


def _store_preview(document: Document, png: bytes | None) -> str:
    if png is None:
        return ""
    return crypto.store_encrypted(
        storage=default_storage,
        name=f"{document.blob_name}.preview",
        plaintext=png,
        associated_id=f"{document.uuid}:preview",
    )


def _complete(
    document: Document,
    parsed: ParsedDocument | None,
    text: str,
    preview_name: str,
    *,
    stated_care_date: care_dates.StatedCareDate | None = None,
) -> None:
    from apps.clinical.services import facts_from_parsed

    with transaction.atomic():
        current = Document.objects.select_for_update().get(pk=document.pk)
        if current.status != DocumentStatus.PROCESSING:
            raise TransientFailure("document changed while processing")
        current.record = document.record  # loaded by the claim; the record row is not locked
        if parsed is not None:
            current.title = (parsed.title or current.title)[:300]
            current.type_code = parsed.type_code[:40]
            current.type_display = parsed.type_display[:300]
            current.category = category_for(parsed.type_code) if parsed.type_code else DocumentCategory.OTHER
            current.patient_deceased = parsed.patient.deceased
            current.patient_deceased_on = parsed.patient.deceased_on
            current.identity_flags = identity_flags(parsed.patient, current.record)
            current.author_name = parsed.author_name[:200]
            current.author_profession = parsed.author_profession[:200]
            current.organisation = parsed.organisation[:300]
            facts_from_parsed(document=current, parsed=parsed)
        current.care_date, current.care_date_source = _care_date(current, parsed, stated_care_date)
        current.extracted_text = text[:200_000]
        current.preview_blob_name = preview_name
        current.status = DocumentStatus.READY
        current.processed_at = timezone.now()
        current.save()
        _notify_followers(current, "document_ready")


def document_reject(*, document_id: int, code: str) -> None:
    """Refuse a document: its content is deleted, its facts never written; the person is told why."""
    with transaction.atomic():
        document = Document.objects.select_for_update().select_related("record").get(pk=document_id)
        blobs = [name for name in (document.blob_name, document.preview_blob_name) if name]
        document.status = DocumentStatus.REJECTED
        document.rejection_code = code
        document.blob_name = ""
        document.preview_blob_name = ""
        document.processed_at = timezone.now()
        document.save()
        document.facts.all().delete()
        _notify_followers(document, "import_failed", {"reason": code})
        transaction.on_commit(lambda: _delete_blobs(blobs))


def _delete_blobs(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _notify_followers(document: Document, event: str, params: dict | None = None) -> None:
    from apps.notifications.services import notify_followers, push_document_status

    record_uuid, document_uuid, status = document.record.uuid, document.uuid, document.status
    transaction.on_commit(
        lambda: push_document_status(record_uuid=record_uuid, document_uuid=document_uuid, status=status)
    )
    notify_followers(
        record=document.record,
        event=event,
        dedup_key=f"{event}:{document.uuid}",
        document_uuid=document.uuid,
        params=params,
    )


# --- The person's actions on a document -----------------------------------------------


def _resource(document: Document) -> Resource | None:
    return entry_for(Document).resource(document, Action.DOCUMENT_READ)  # the door's one description


def document_get_for(*, actor: User, document_uuid, action: str = Action.DOCUMENT_READ) -> Document:
    """Fetch and check in one step: missing and forbidden both raise RecordUnavailable (404)."""
    document, _decision = get_for(actor, Document, document_uuid, action)
    return document


def document_content(*, actor: User, document_uuid, preview: bool = False) -> tuple[Document, bytes]:
    """Decrypt a document (or its preview) for someone the policy lets read it; journaled."""
    document = document_get_for(actor=actor, document_uuid=document_uuid, action=Action.DOCUMENT_READ)
    name = document.preview_blob_name if preview else document.blob_name
    if not name:
        raise RecordUnavailable(Decision(allowed=False, basis="none", reason_code="no_such_record"))
    associated = f"{document.uuid}:preview" if preview else str(document.uuid)
    return document, crypto.read_decrypted(storage=default_storage, name=name, associated_id=associated)


@transaction.atomic
def document_update(
    *,
    actor: User,
    document_uuid,
    title: str | None = None,
    category: str | None = None,
    care_date: date | None = None,
) -> Document:
    """Rename, recategorise, or set the date of care (the person's date wins over any the document
    states, and an import never overwrites it). Decided and journaled as an edit of the document."""
    document = document_get_for(actor=actor, document_uuid=document_uuid, action=Action.DOCUMENT_EDIT)
    if title is not None:
        cleaned = " ".join(title.split())[:300]
        if not cleaned:
            raise ValueError(str(_("A document needs a title.")))
        document.title = cleaned
    if category is not None:
        if category not in DocumentCategory.values:
            raise ValueError(str(_("Unknown category.")))
        document.category = category
    if care_date is not None and care_date != document.care_date:
        care_date_check(record=document.record, care_date=care_date)
        document.care_date = care_date
        document.care_date_source = CareDateSource.PERSON
    document.save(update_fields=["title", "category", "care_date", "care_date_source"])
    return document


def document_set_masked(*, actor: User, document_uuid, masked: bool) -> Document:
    """Hide a document from professionals (or show it again): a privacy setting, with its history."""
    from apps.consents.models import SettingKey
    from apps.consents.services import setting_change

    # The setting's change decides and journals (SETTINGS_EDIT); the door only fetches.
    document = fetch(actor, Document, document_uuid, Action.SETTINGS_EDIT)
    setting_change(
        actor=actor,
        record=document.record,
        key=SettingKey.MASKED_DOCUMENT,
        after=masked,
        subject=str(document.uuid),
        subject_label=document.title,
        then=lambda: Document.objects.filter(pk=document.pk).update(masked=masked),
    )
    document.masked = masked
    return document


def document_delete(*, actor: User, document_uuid) -> UUID:
    """Delete a document and its content. Its facts stay, marked "source deleted"; the journal keeps its entries."""
    from apps.clinical.services import facts_withhold_source

    document = document_get_for(actor=actor, document_uuid=document_uuid, action=Action.DOCUMENT_DELETE)
    blobs = [name for name in (document.blob_name, document.preview_blob_name) if name]
    with transaction.atomic():
        if document.masked or document.confidential_from_parents:
            # Its facts must not become visible to whom the document was kept from.
            facts_withhold_source(document=document)
        Document.objects.filter(pk=document.pk).delete()
        transaction.on_commit(lambda: _delete_blobs(blobs))
    return document.record.uuid


def document_confidential_set(*, actor: User, document_uuid, confidential: bool = True) -> Document:
    """A professional caring for a minor marks a document confidential from the parents (at the
    minor's request, or as its author). Parents cannot undo it."""
    document = fetch(actor, Document.objects.select_related("record"), document_uuid, Action.DOCUMENT_CONFIDENTIAL)

    # A professional's write, decided as such: only the professional bases may (policy.ACTION_BASES),
    # on a document they may see (masked, profession matrix).
    decision = authorize(
        actor=actor, record=document.record, action=Action.DOCUMENT_CONFIDENTIAL, resource=_resource(document)
    )
    if not decision.allowed:
        raise RecordUnavailable(decision)
    Document.objects.filter(pk=document.pk).update(confidential_from_parents=confidential)
    journal_note(
        actor=actor,
        record_uuid=document.record.uuid,
        action=Action.DOCUMENT_CONFIDENTIAL,
        allowed=True,
        reason_code="confidential_set" if confidential else "confidential_unset",
        resource=Resource("document", document.uuid, document.title),
    )
    document.confidential_from_parents = confidential
    return document
