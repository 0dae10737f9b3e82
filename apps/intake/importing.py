"""Operators' bulk import: match each file to a record by identity, then run the upload pipeline."""

from __future__ import annotations

import getpass
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from apps.access.actors import ImportService
from apps.access.policy import Action, authorize
from apps.intake import inspection
from apps.records import documents
from apps.records.documents import rejection_message
from apps.records.identity import record_matching
from apps.records.models import Document, DocumentSource, DocumentStatus, InsSystem, Record, Sex

STRUCTURED = ("cda", "fhir")


@dataclass
class FileReport:
    path: str
    outcome: str  # "imported", "duplicate", "refused"
    record: str = ""
    record_name: str = ""
    document: str = ""
    type: str = ""
    format: str = ""  # what the file is: pdf, jpeg, png, cda, fhir (inspection.Kind)
    facts: dict[str, int] = field(default_factory=dict)
    codes_as_text_only: int = 0
    reason: str = ""
    reason_code: str = ""


def import_service(operator: str = "") -> ImportService:
    return ImportService(operator=operator or getpass.getuser())


def files_under(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")))
        else:
            found.append(path)
    return found


def _record_for(parsed, *, create: bool, actor: ImportService) -> Record | None:
    patient = parsed.patient
    if patient.ins and (record := record_matching(ins=patient.ins)) is not None:
        return record
    # Unknown INS: the traits may find the person's record made without one (a different INS never matches).
    record = record_matching(
        family_name=patient.family_name, given_name=patient.given_names, birth_date=patient.birth_date
    )
    if record is not None and (not patient.ins or not record.ins):
        return record
    if not create or not (patient.family_name and patient.birth_date):
        return None
    with transaction.atomic():
        record = Record.objects.create(
            family_name=patient.family_name.title(),
            given_names=(patient.given_names or "?").title(),
            birth_date=patient.birth_date,
            sex=patient.sex if patient.sex in Sex.values else Sex.OTHER,
            ins=patient.ins,
            ins_system=InsSystem.NIR_TEST if patient.ins else "",
        )
        authorize(actor=actor, record=record, action=Action.RECORD_CREATE)
    return record


def import_file(
    path: Path, *, actor: ImportService, create_records: bool = False, record: Record | None = None
) -> FileReport:
    report = FileReport(path=str(path), outcome="refused")
    data = path.read_bytes()
    try:
        found = inspection.inspect_content(data=data, declared_name=path.name, max_bytes=settings.UPLOAD_MAX_BYTES)
    except inspection.Rejected as refusal:
        return _refused(report, refusal.code)
    report.format = found.kind
    if record is None:
        if found.kind not in STRUCTURED:
            return _refused(report, "no_identity")
        from apps.clinical.parsers import parse_structured
        from apps.clinical.parsing import ParseError

        try:
            parsed = parse_structured(data, found.kind)
        except ParseError as error:
            return _refused(report, error.code)
        patient = parsed.patient
        if not (patient.ins or patient.family_name or patient.birth_date):
            # A measurement or device that only points at a patient resource names nobody.
            return _refused(report, "no_identity")
        record = _record_for(parsed, create=create_records, actor=actor)
        if record is None:
            return _refused(report, "no_matching_record")
    try:
        outcome = documents.document_upload(
            actor=actor, record=record, filename=path.name, data=data, source=DocumentSource.IMPORT
        )
    except documents.UploadRefused as refusal:
        return _refused(report, refusal.code)
    documents.document_process(document_id=outcome.document.pk)  # "skipped" if the worker was faster
    document = Document.objects.get(pk=outcome.document.pk)
    report.record, report.record_name, report.document = str(record.uuid), record.full_name, str(document.uuid)
    report.type = document.type_display or document.kind
    if document.status == DocumentStatus.REJECTED:
        return _refused(report, document.rejection_code)
    report.outcome = "duplicate" if outcome.duplicate else "imported"
    report.facts = dict(Counter(document.facts.values_list("kind", flat=True)))
    report.codes_as_text_only = document.facts.filter(code_known=False).count()
    return report


IMPORT_REASONS = {
    "no_identity": "this file names no patient: give --record to say whose it is",
    "no_matching_record": "no record matches this patient's identity (use --create-records to create one)",
}


def _refused(report: FileReport, code: str) -> FileReport:
    report.outcome = "refused"
    report.reason_code = code
    report.reason = IMPORT_REASONS.get(code) or rejection_message(code)
    return report


@dataclass(frozen=True)
class ImportTotals:
    """What a run brought in: facts by kind (every kind, 0 included) and documents by format,
    over the files imported or already there (a second run describes the same documents)."""

    facts: dict[str, int]
    formats: dict[str, int]
    documents: int


def import_totals(reports: list[FileReport]) -> ImportTotals:
    from apps.clinical.models import FactKind

    kept = [report for report in reports if report.outcome != "refused"]
    facts = Counter({kind: 0 for kind in FactKind.values})
    for report in kept:
        facts.update(report.facts)
    formats = Counter(report.format for report in kept)
    return ImportTotals(facts=dict(facts), formats=dict(sorted(formats.items())), documents=len(kept))


def report_as_dict(report: FileReport) -> dict:
    return asdict(report)
