"""Breach 9: an API refusal of record data must not tell forbidden from missing, or hidden from deleted.

Each test asks the same endpoint twice — once for someone else's object, once for an id that
does not exist — and compares the two answers byte for byte.
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from apps.access.models import AccessEvent, CareRelationship
from apps.clinical.models import ClinicalFact
from tests.conftest import logged_in_client
from tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db

ONE_BODY = b'{"detail":"Not found."}'

RECORD_ENDPOINTS = [
    ("get", "api_record_detail"),
    ("get", "api_record_documents"),
    ("get", "api_record_facts"),
    ("get", "api_record_summary"),
    ("get", "api_record_directives"),
    ("get", "api_access_history"),
    ("get", "api_privacy"),
    ("get", "api_privacy_history"),
    ("get", "api_blocked"),
    ("get", "api_designated_doctor"),
    ("get", "api_access_codes"),
    ("get", "api_record_delegations"),
    ("get", "api_profile_facts"),
    ("post", "api_summary_pdf"),
]


def _answer(client, method: str, url: str):
    # A valid body, so that only the refusal can answer.
    body = {"reason": "This is not my allergy.", "title": "Renamed"} if method in ("post", "patch") else None
    return getattr(client, method)(url, body, content_type="application/json")


@pytest.mark.parametrize(("method", "name"), RECORD_ENDPOINTS)
def test_a_stranger_cannot_tell_someone_elses_record_from_a_missing_one(method, name, alice_record, charlie):
    client = logged_in_client(charlie)
    forbidden = _answer(client, method, reverse(name, args=[alice_record.uuid]))
    missing = _answer(client, method, reverse(name, args=[uuid.uuid4()]))

    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.content == missing.content == ONE_BODY
    assert AccessEvent.objects.filter(record_uuid=alice_record.uuid, actor_uuid=charlie.uuid, outcome="denied").exists()


@pytest.mark.parametrize(
    ("method", "name"),
    [("get", "api_document"), ("get", "api_document_content"), ("patch", "api_document"), ("delete", "api_document")],
)
def test_a_stranger_cannot_tell_someone_elses_document_from_a_missing_one(method, name, alice_record, charlie):
    document = DocumentFactory(record=alice_record)
    client = logged_in_client(charlie)
    forbidden = _answer(client, method, reverse(name, args=[document.uuid]))
    missing = _answer(client, method, reverse(name, args=[uuid.uuid4()]))

    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.content == missing.content == ONE_BODY
    document.refresh_from_db()  # nothing deleted or changed


def test_a_professional_cannot_tell_a_hidden_document_from_a_deleted_one(alice, alice_record, dr_martin):
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    hidden = DocumentFactory(record=alice_record, masked=True)
    deleted = DocumentFactory(record=alice_record)
    logged_in_client(alice).delete(reverse("api_document", args=[deleted.uuid]))
    client = logged_in_client(dr_martin)

    hidden_answer = client.get(reverse("api_document", args=[hidden.uuid]))
    deleted_answer = client.get(reverse("api_document", args=[deleted.uuid]))

    assert hidden_answer.status_code == deleted_answer.status_code == 404
    assert hidden_answer.content == deleted_answer.content == ONE_BODY


def test_a_stranger_cannot_tell_someone_elses_fact_from_a_missing_one(alice_record, charlie):
    fact = ClinicalFact.objects.create(record=alice_record, kind="allergy", display="Penicillin", origin="declared")
    client = logged_in_client(charlie)
    for method, name in [("get", "api_profile_fact"), ("delete", "api_profile_fact"), ("post", "api_rectify")]:
        forbidden = _answer(client, method, reverse(name, args=[fact.uuid]))
        missing = _answer(client, method, reverse(name, args=[uuid.uuid4()]))
        assert forbidden.status_code == missing.status_code == 404, name
        assert forbidden.content == missing.content == ONE_BODY, name
    assert ClinicalFact.objects.filter(pk=fact.pk).exists()


def test_a_stranger_cannot_tell_someone_elses_access_code_or_delegation_from_a_missing_one(alice, charlie):
    owner = logged_in_client(alice)
    code = owner.post(
        reverse("api_access_codes", args=[alice.own_record.uuid]), {"hours": 2}, content_type="application/json"
    ).json()
    delegation = owner.post(
        reverse("api_record_delegations", args=[alice.own_record.uuid]),
        {"email": "helper@example.test", "scopes": ["read_documents"]},
        content_type="application/json",
    ).json()
    client = logged_in_client(charlie)
    for name, object_uuid in [("api_access_code_revoke", code["id"]), ("api_delegation_revoke", delegation["id"])]:
        forbidden = client.post(reverse(name, args=[object_uuid]))
        missing = client.post(reverse(name, args=[uuid.uuid4()]))
        assert forbidden.status_code == missing.status_code == 404, name
        assert forbidden.content == missing.content == ONE_BODY, name


def test_the_one_body_is_translated_for_a_french_requester(alice_record, charlie):
    client = logged_in_client(charlie)
    forbidden = client.get(reverse("api_record_detail", args=[alice_record.uuid]), HTTP_ACCEPT_LANGUAGE="fr")
    missing = client.get(reverse("api_record_detail", args=[uuid.uuid4()]), HTTP_ACCEPT_LANGUAGE="fr")

    assert forbidden.content == missing.content
    assert forbidden.json()["detail"] != "Not found."  # DRF's own French catalogue


def test_the_owner_still_reads_why_a_professional_was_refused_in_their_history(alice, alice_record, charlie):
    logged_in_client(charlie).get(reverse("api_record_detail", args=[alice_record.uuid]))

    history = logged_in_client(alice).get(reverse("api_access_history", args=[alice_record.uuid])).json()

    refused = [entry for entry in history["results"] if entry["outcome"] == "denied"]
    assert refused
    assert refused[0]["reason"]


def test_an_api_path_with_an_id_that_is_not_a_uuid_gets_the_one_json_404(alice, charlie):
    from healthspace.api_errors import not_found_body
    from tests.conftest import logged_in_client

    response = logged_in_client(charlie).get("/api/v1/records/not-a-uuid/documents/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == not_found_body()
