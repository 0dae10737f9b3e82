"""The operators' bulk import over the whole corpus, through the same pipeline as uploads."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.access.models import AccessEvent
from apps.clinical.models import ClinicalFact
from apps.records.models import Document, DocumentStatus, Record
from tests.clinical.test_parsers import CDA_FILES, FHIR_FILES

CORPUS = Path(settings.CORPUS_DIR)
# The same facts reach the database as the parsers find (tests/clinical), per file.
NO_PATIENT = {"fr-fhir/Bundle-bundle-example.json", "fr-fhir/Observation-ExampleMesFrObservationBP001.json"}
EXPECTED = {path: by_kind for path, *_identity, by_kind in [*FHIR_FILES, *CDA_FILES] if path not in NO_PATIENT}


@pytest.fixture
def corpus_import(db, capsys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "import_records",
            str(CORPUS / "synthea-fhir-r4"),
            str(CORPUS / "ccda"),
            str(CORPUS / "ips"),
            str(CORPUS / "fr-cda"),
            str(CORPUS / "fr-fhir"),
            "--create-records",
            "--json",
            "--operator",
            "olga",
        )
    return {str(Path(r["path"]).relative_to(CORPUS)): r for r in json.loads(capsys.readouterr().out)}


def test_every_corpus_file_is_imported_or_refused_with_a_reason(corpus_import):
    assert set(corpus_import) == set(EXPECTED) | NO_PATIENT
    for path, report in corpus_import.items():
        if path in NO_PATIENT:
            assert (report["outcome"], report["reason_code"]) == ("refused", "no_identity")
        else:
            assert report["outcome"] in ("imported", "duplicate"), (path, report["reason"])


def test_imported_facts_match_the_source_by_kind_for_every_file(corpus_import):
    found, reported = {}, {}
    for path in EXPECTED:
        document = Document.objects.get(uuid=corpus_import[path]["document"])
        assert document.status == DocumentStatus.READY, path
        stored = Counter(ClinicalFact.objects.filter(source_document=document).values_list("kind", flat=True))
        found[path] = {kind: stored[kind] for kind in EXPECTED[path]}  # procedures where the row gives them
        reported[path] = corpus_import[path]["facts"]
    assert found == EXPECTED
    assert reported == {path: {k: n for k, n in by_kind.items() if n} for path, by_kind in EXPECTED.items()}


def test_documents_of_one_patient_land_in_one_record(corpus_import):
    same_ins = [r for p, r in corpus_import.items() if p.startswith("fr-cda/") and "CS8" not in p]
    assert len({r["record"] for r in same_ins}) == 1
    assert Record.objects.get(uuid=same_ins[0]["record"]).ins == "279035121518989"


def test_a_lab_value_is_stored_with_unit_and_source(corpus_import):
    report = corpus_import["fr-cda/BIO-CR-BIO_2024.01_TSH_1.xml"]
    facts = ClinicalFact.objects.filter(source_document__uuid=report["document"], kind="observation")
    assert any(f.value_decimal is not None and f.unit for f in facts)


def test_import_is_journaled_as_the_import_service(corpus_import):
    events = AccessEvent.objects.filter(basis="import", action="document.upload")
    assert events.count() == Document.objects.count()
    assert all("olga" in event.actor_label for event in events)


def test_running_the_import_again_adds_nothing(corpus_import, capsys):
    documents, facts = Document.objects.count(), ClinicalFact.objects.count()
    call_command("import_records", str(CORPUS / "fr-cda"), "--create-records", "--json")
    outcomes = {r["outcome"] for r in json.loads(capsys.readouterr().out)}
    assert outcomes == {"duplicate"}
    assert (Document.objects.count(), ClinicalFact.objects.count()) == (documents, facts)


def test_unknown_patient_without_create_records_is_refused(db, capsys):
    with pytest.raises(CommandError, match="No file could be imported"):
        call_command("import_records", str(CORPUS / "ccda/hl7-ccd-2.xml"))
    assert "no record matches" in capsys.readouterr().out
    assert not Record.objects.exists()


def test_pdf_needs_a_target_record(db, alice_record, capsys, django_capture_on_commit_callbacks):
    with pytest.raises(CommandError):
        call_command("import_records", str(CORPUS / "pdf/hl7-ud-sample.pdf"))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_records", str(CORPUS / "pdf/hl7-ud-sample.pdf"), "--record", str(alice_record.uuid))
    assert "IMPORTED" in capsys.readouterr().out
    assert alice_record.documents.get().status == DocumentStatus.READY


def test_document_about_another_patient_is_not_merged_into_a_record(db, alice_record, capsys):
    with pytest.raises(CommandError):
        call_command("import_records", str(CORPUS / "ccda/hl7-ccd-2.xml"), "--record", str(alice_record.uuid))
    assert "another person" in capsys.readouterr().out
    assert not ClinicalFact.objects.exists()
