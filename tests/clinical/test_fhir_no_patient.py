"""A FHIR file that describes hospitals or practitioners, not a person (Synthea's
hospitalInformation / practitionerInformation bundles), is refused for what it is: not as
"another person" nor as "no record matches this patient's identity"."""

from __future__ import annotations

import json

from apps.clinical.models import ClinicalFact
from apps.intake.importing import import_file, import_service
from apps.records import documents
from apps.records.models import Document, DocumentStatus
from tests.clinical.test_fhir_facts import synthea_hospitals, synthea_practitioners

NO_PATIENT_MESSAGE = (
    "This file describes hospitals or practitioners, not a person's health: there is nothing to add to a record."
)


def test_uploaded_hospital_bundle_is_refused_with_its_own_message_and_writes_no_fact(run_tasks, alice, alice_record):
    data = json.dumps(synthea_hospitals()).encode()
    outcome = run_tasks(
        documents.document_upload, actor=alice, record=alice_record, filename="hospitalInformation1.json", data=data
    )
    document = Document.objects.get(pk=outcome.document.pk)
    assert (document.status, document.rejection_code) == (DocumentStatus.REJECTED, "no_patient")
    assert documents.rejection_message(document.rejection_code) == NO_PATIENT_MESSAGE
    assert not ClinicalFact.objects.exists()


def test_bulk_import_of_a_practitioner_bundle_gives_the_same_reason(db, tmp_path):
    path = tmp_path / "practitionerInformation1.json"
    path.write_text(json.dumps(synthea_practitioners()))
    report = import_file(path, actor=import_service("olga"), create_records=True)
    assert (report.outcome, report.reason_code, report.reason) == ("refused", "no_patient", NO_PATIENT_MESSAGE)
    assert not Document.objects.exists()
