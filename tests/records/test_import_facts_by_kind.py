"""`import_records` ends with what it brought in: facts by kind (procedures included) and
documents by format."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date

import pytest
from django.core.management import call_command

from apps.clinical.models import ClinicalFact, FactKind
from apps.intake.importing import FileReport, import_totals
from apps.records.models import Document
from tests.records.conftest import corpus, pdf_bytes

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "name": [{"family": "Martin", "given": ["Alice"]}],
    "birthDate": "1979-03-12",
}
PROCEDURE = {
    "resourceType": "Procedure",
    "id": "pr1",
    "status": "completed",
    "subject": {"reference": "urn:uuid:p1"},
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "80146002", "display": "Appendectomy"}]},
    "performedDateTime": "2020-05-01",
}
ALLERGY = {
    "resourceType": "AllergyIntolerance",
    "id": "al1",
    "patient": {"reference": "urn:uuid:p1"},
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91936005", "display": "Penicillin allergy"}]},
    "recordedDate": "2020-05-01",
}


def bundle(*resources: dict) -> bytes:
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


def run_import(capsys, django_capture_on_commit_callbacks, *args: str) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_records", *args)
    return capsys.readouterr().out


def kind_counts(out: str) -> dict[str, int]:
    return {kind: int(n) for kind, n in re.findall(r"^  (\w+) +(\d+)$", out, flags=re.MULTILINE)}


def test_import_prints_facts_by_kind_including_procedures_and_documents_by_format(
    db, alice_record, tmp_path, capsys, django_capture_on_commit_callbacks
):
    (tmp_path / "summary.json").write_bytes(bundle(PATIENT, PROCEDURE, ALLERGY))
    (tmp_path / "scan.pdf").write_bytes(pdf_bytes())
    out = run_import(capsys, django_capture_on_commit_callbacks, str(tmp_path), "--record", str(alice_record.uuid))
    assert "Documents by format: fhir 1, pdf 1." in out
    assert "Facts by kind, in 2 document(s):" in out
    assert kind_counts(out) == {
        "allergy": 1,
        "condition": 0,
        "medication": 0,
        "immunization": 0,
        "observation": 0,
        "procedure": 1,
    }


def test_import_of_corpus_files_reports_the_facts_stored_by_kind(db, capsys, django_capture_on_commit_callbacks):
    files = [
        corpus("ips", "ips-bundle-minimal.json"),
        corpus("synthea-fhir-r4", "Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json"),
        corpus("fr-cda", "BIO-CR-BIO_2024.01_TSH_1.xml"),
    ]
    out = run_import(capsys, django_capture_on_commit_callbacks, *map(str, files), "--create-records")
    stored = Counter(ClinicalFact.objects.values_list("kind", flat=True))
    assert kind_counts(out) == {kind: stored[kind] for kind in FactKind.values}
    assert "Documents by format: cda 1, fhir 2." in out
    assert Document.objects.count() == 3


def test_totals_count_what_is_already_there_and_leave_out_refused_files():
    reports = [
        FileReport(path="a.json", outcome="imported", format="fhir", facts={"procedure": 2, "allergy": 1}),
        FileReport(path="b.xml", outcome="duplicate", format="cda", facts={"procedure": 1}),
        FileReport(path="c.pdf", outcome="refused", format="pdf", facts={}),
    ]
    totals = import_totals(reports)
    assert totals.facts["procedure"] == 3
    assert totals.facts["immunization"] == 0
    assert totals.formats == {"cda": 1, "fhir": 1}
    assert totals.documents == 2


@pytest.mark.parametrize("deceased", [{"deceasedDateTime": "2024-02-01"}, {"deceasedBoolean": True}])
def test_an_imported_bundle_saying_the_person_died_flags_the_summary(
    db, alice, alice_record, tmp_path, capsys, django_capture_on_commit_callbacks, deceased
):
    from apps.summaries.builder import record_summary

    (tmp_path / "summary.json").write_bytes(bundle({**PATIENT, **deceased}, ALLERGY))
    run_import(capsys, django_capture_on_commit_callbacks, str(tmp_path), "--record", str(alice_record.uuid))
    document = Document.objects.get(record=alice_record)
    assert document.patient_deceased is True
    assert document.patient_deceased_on == (date(2024, 2, 1) if "deceasedDateTime" in deceased else None)
    assert [f.kind for f in record_summary(actor=alice, record=alice_record).flags] == ["deceased"]
