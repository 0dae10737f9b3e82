"""The one fetch-and-check (apps.access.door) and the one refusal family (apps.access.refusals)."""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import uuid4

import pytest
from django.utils import timezone

from apps.access.door import get_for
from apps.access.models import AccessCode, AccessEvent
from apps.access.policy import Action
from apps.access.refusals import RecordUnavailable, Refused
from apps.assistance.models import Mandate
from apps.assistance.services import MandateRefused
from apps.clinical.models import ClinicalFact, RectificationRequest
from apps.delegations.models import Delegation
from apps.delegations.services import DelegationRefused
from apps.records.models import Document, Record
from apps.summaries.models import SummaryExport
from tests.conftest import logged_in_client
from tests.factories import DocumentFactory


def _fact(record: Record) -> ClinicalFact:
    return ClinicalFact.objects.create(record=record, kind="allergy", display="Peanuts", origin="declared")


# Each registered kind of object: how to make one in a record, and an action the owner may take on it.
KINDS = {
    "record": (Record, lambda record, owner: record, Action.RECORD_VIEW),
    "document": (Document, lambda record, owner: DocumentFactory(record=record), Action.DOCUMENT_READ),
    "fact": (ClinicalFact, lambda record, owner: _fact(record), Action.PROFILE_READ),
    "rectification": (
        RectificationRequest,
        lambda record, owner: RectificationRequest.objects.create(fact=_fact(record), requested_by=owner, reason="x"),
        Action.PROFILE_EDIT,
    ),
    "delegation": (
        Delegation,
        lambda record, owner: Delegation.objects.create(
            record=record,
            invited_email="d@example.test",
            created_by=owner,
            invitation_hash=uuid4().hex,
            invitation_expires_at=timezone.now() + timedelta(days=1),
        ),
        Action.DELEGATION_MANAGE,
    ),
    "access_code": (
        AccessCode,
        lambda record, owner: AccessCode.objects.create(
            record=record, code_hash=uuid4().hex, created_by=owner, expires_at=timezone.now() + timedelta(hours=1)
        ),
        Action.SETTINGS_EDIT,
    ),
    "summary_pdf": (
        SummaryExport,
        lambda record, owner: SummaryExport.objects.create(record=record, requested_by=owner),
        Action.PROFILE_READ,
    ),
}


@pytest.fixture
def mandate_kind(sam):
    def make(record, owner):
        return Mandate.objects.create(
            number=f"M-{uuid4().hex[:8]}",
            record=record,
            agent=sam,
            structure=sam.support_structure,
            expires_at=timezone.now() + timedelta(days=30),
            confirmation_method="email_code",
        )

    return (Mandate, make, Action.DELEGATION_MANAGE)


@pytest.fixture(params=[*KINDS, "mandate"])
def kind(request):
    return request.getfixturevalue("mandate_kind") if request.param == "mandate" else KINDS[request.param]


def _last_event() -> AccessEvent:
    return AccessEvent.objects.order_by("-seq").first()


def test_the_owner_gets_the_object_and_the_allowing_decision(kind, alice, alice_record):
    model, make, action = kind
    obj = make(alice_record, alice)
    found, decision = get_for(alice, model, obj.uuid, action)
    assert (found.pk, decision.allowed, decision.basis) == (obj.pk, True, "owner")


def test_a_stranger_is_refused_and_the_refusal_is_journaled_with_its_reason(kind, alice, alice_record, charlie):
    model, make, action = kind
    obj = make(alice_record, alice)
    with pytest.raises(RecordUnavailable) as refused:
        get_for(charlie, model, obj.uuid, action)
    event = _last_event()
    assert (event.actor_uuid, event.record_uuid, event.outcome, event.reason_code) == (
        charlie.uuid,
        alice_record.uuid,
        "denied",
        refused.value.decision.reason_code,
    )


def test_a_missing_object_is_journaled_and_raises_the_same_error(kind, charlie):
    model, _make, action = kind
    missing = uuid4()
    with pytest.raises(RecordUnavailable):
        get_for(charlie, model, missing, action)
    event = _last_event()
    assert (event.actor_uuid, event.outcome, event.reason_code) == (charlie.uuid, "denied", "no_such_record")
    assert missing in (event.record_uuid, event.resource_uuid)


def test_a_malformed_identifier_reads_as_missing(kind, charlie):
    model, _make, action = kind
    with pytest.raises(RecordUnavailable):
        get_for(charlie, model, "not-a-uuid", action)
    assert _last_event().reason_code == "no_such_record"


def test_every_app_refusal_belongs_to_the_one_family():
    from apps.access.professional.services import AccessRefused
    from apps.assistance.letters.services import LetterRefused
    from apps.clinical.measurements import FactRefused
    from apps.records.dependents import FamilyRefused
    from apps.records.documents import UploadRefused

    family = (
        AccessRefused,
        DelegationRefused,
        FactRefused,
        FamilyRefused,
        LetterRefused,
        MandateRefused,
        UploadRefused,
    )
    assert all(issubclass(refusal, Refused) for refusal in family)


# --- Through HTTP: refused and missing give the same bytes ------------------------------------------

WEB_PAGES = {
    "record": "/records/{}/",
    "document": "/documents/{}/",
    "fact": "/profile/facts/{}/edit/",
}
API_ENDPOINTS = {
    "record": "/api/v1/records/{}/",
    "document": "/api/v1/documents/{}/",
    "fact": "/api/v1/profile/facts/{}/",
}


@pytest.mark.parametrize("name", WEB_PAGES)
def test_a_web_page_refuses_and_misses_with_the_same_bytes(name, alice, alice_record, charlie):
    _model, make, _action = KINDS[name]
    obj = make(alice_record, alice)
    client = logged_in_client(charlie)
    other = uuid4()
    refused = client.get(WEB_PAGES[name].format(obj.uuid))
    missing = client.get(WEB_PAGES[name].format(other))
    assert (refused.status_code, missing.status_code) == (404, 404)
    # Only the page's own address (the language switch's "next"), its fresh CSRF token and script
    # nonce may differ.
    assert _unique_parts_out(refused.content, obj.uuid) == _unique_parts_out(missing.content, other)


def _unique_parts_out(content: bytes, asked: object) -> bytes:
    content = content.replace(str(asked).encode(), b"ID")
    return re.sub(rb'(name="csrfmiddlewaretoken" value|nonce)="[^"]+"', b"", content)


@pytest.mark.parametrize("name", API_ENDPOINTS)
def test_an_api_endpoint_refuses_and_misses_with_the_same_bytes(name, alice, alice_record, charlie):
    _model, make, _action = KINDS[name]
    obj = make(alice_record, alice)
    client = logged_in_client(charlie)
    refused = client.get(API_ENDPOINTS[name].format(obj.uuid))
    missing = client.get(API_ENDPOINTS[name].format(uuid4()))
    assert (refused.status_code, missing.status_code) == (404, 404)
    assert refused.content == missing.content


def test_an_api_refusal_the_person_can_act_on_is_a_400_with_its_reason(alice, alice_record):
    # Inviting oneself as a caregiver: refused by the service, answered by the one handler.
    client = logged_in_client(alice)
    answer = client.post(
        f"/api/v1/records/{alice_record.uuid}/delegations/",
        {"email": alice.email, "scopes": ["read_documents"]},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json() == {"detail": "You cannot invite yourself."}
