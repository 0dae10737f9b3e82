"""Breach 16 (policy half): the widest basis a professional holds wins, in lists as on single pages;
the patient is told of a professional's first access in the real find-then-attest flow."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.access.models import CareRelationship
from apps.access.policy import Action, Basis, decide
from apps.access.professional import services
from apps.consents.privacy.services import designated_doctor_set
from apps.notifications.models import Notification
from tests.conftest import logged_in_client
from tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db

ALICE_INS = "279035121518989"


@pytest.fixture
def hidden(alice_record):
    DocumentFactory(record=alice_record, title="Visible report", category="report")
    return DocumentFactory(record=alice_record, title="Hidden report", category="report", masked=True)


@pytest.fixture
def designated_and_caring(alice, alice_record, dr_martin):
    """dr_martin is alice's designated doctor and also attested that he takes care of her."""
    designated_doctor_set(actor=alice, record=alice_record, professional=dr_martin)
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    return logged_in_client(dr_martin)


def test_designated_doctor_who_also_cares_sees_hidden_documents_in_the_record_page(
    designated_and_caring, alice_record, hidden
):
    page = designated_and_caring.get(reverse("record_detail", args=[alice_record.uuid]))
    assert page.status_code == 200
    assert "Hidden report" in page.content.decode()


def test_designated_doctor_who_also_cares_sees_hidden_documents_in_the_api_list(
    designated_and_caring, alice_record, hidden
):
    response = designated_and_caring.get(reverse("api_record_documents", args=[alice_record.uuid]))
    assert response.status_code == 200
    assert str(hidden.uuid) in response.content.decode()


def test_designated_doctor_who_also_cares_opens_a_hidden_document(designated_and_caring, hidden):
    assert designated_and_caring.get(reverse("document_detail", args=[hidden.uuid])).status_code == 200
    assert designated_and_caring.get(reverse("api_document", args=[hidden.uuid])).status_code == 200


def test_the_decision_names_the_widest_basis_whatever_the_order(alice, alice_record, dr_martin, designated_and_caring):
    decision = decide(actor=dr_martin, record=alice_record, action=Action.DOCUMENT_LIST)
    assert (decision.allowed, decision.basis) == (True, Basis.DESIGNATED_DOCTOR)


def test_a_caring_professional_still_does_not_see_hidden_documents(alice_record, dr_martin, hidden):
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    client = logged_in_client(dr_martin)
    assert "Hidden report" not in client.get(reverse("record_detail", args=[alice_record.uuid])).content.decode()
    assert (
        str(hidden.uuid) not in client.get(reverse("api_record_documents", args=[alice_record.uuid])).content.decode()
    )
    assert client.get(reverse("api_document", args=[hidden.uuid])).status_code == 404


def test_patient_is_told_of_the_first_access_after_find_then_attest(alice, alice_record, dr_martin):
    alice_record.ins = ALICE_INS
    alice_record.save()
    client = logged_in_client(dr_martin)

    found = client.post(reverse("pro_find"), {"ins": ALICE_INS})
    assert "Alice" in found.content.decode()
    opened = client.post(reverse("pro_attest", args=[alice_record.uuid]))
    assert opened.status_code == 302
    assert client.get(opened["Location"]).status_code == 200
    client.post(reverse("pro_attest", args=[alice_record.uuid]))  # a second time is not a first access

    assert Notification.objects.filter(recipient=alice, event="professional_first_access").count() == 1


def test_no_first_access_notice_when_the_professional_only_searched(alice, alice_record, dr_martin):
    alice_record.ins = ALICE_INS
    alice_record.save()
    services.patient_find(professional=dr_martin, ins=ALICE_INS)
    assert not Notification.objects.filter(recipient=alice, event="professional_first_access").exists()
