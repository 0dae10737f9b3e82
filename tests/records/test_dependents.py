"""Children's records: a second parent, the hand-over at majority, a minor's confidential care."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.access.models import AccessEvent, CareRelationship
from apps.access.policy import Action, decide
from apps.access.refusals import RecordUnavailable
from apps.records import dependents
from apps.records.documents import document_get_for
from apps.records.models import Guardianship, Record, RecordInvitation
from apps.records.selectors import records_for
from tests.factories import DocumentFactory, GuardianshipFactory, RecordFactory, UserFactory


def test_second_parent_co_manages_after_accepting(alice, alice_child, bob):
    _invitation, token = dependents.second_parent_invite(actor=alice, record=alice_child, email=bob.email)
    dependents.invitation_accept(user=bob, token=token)
    assert decide(actor=bob, record=alice_child, action=Action.DOCUMENT_UPLOAD).basis == "parent"
    assert alice_child in records_for(actor=bob)


def test_invitation_for_another_address_is_refused(alice, alice_child, bob, charlie):
    _invitation, token = dependents.second_parent_invite(actor=alice, record=alice_child, email=bob.email)
    with pytest.raises(dependents.FamilyRefused, match="another e-mail address"):
        dependents.invitation_accept(user=charlie, token=token)
    assert not Guardianship.objects.filter(guardian=charlie).exists()


def test_expired_invitation_is_refused(alice, alice_child, bob):
    invitation, token = dependents.second_parent_invite(actor=alice, record=alice_child, email=bob.email)
    RecordInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(dependents.FamilyRefused, match="expired"):
        dependents.invitation_accept(user=bob, token=token)


def test_stranger_cannot_invite_a_parent(charlie, alice_child):
    with pytest.raises(RecordUnavailable):
        dependents.second_parent_invite(actor=charlie, record=alice_child, email=charlie.email)


def test_hand_over_is_refused_before_majority(alice, alice_child):
    with pytest.raises(dependents.FamilyRefused, match="comes of age on"):
        dependents.handover_invite(actor=alice, record=alice_child, email="leo@example.test")
    assert not RecordInvitation.objects.exists()


def test_hand_over_at_majority_gives_the_record_to_the_young_adult_and_ends_the_parents_access(alice, bob):
    adult = RecordFactory(birth_date=date(2000, 1, 1))
    GuardianshipFactory(guardian=alice, record=adult)
    GuardianshipFactory(guardian=bob, record=adult)
    young = UserFactory(email="young@example.test")
    _invitation, token = dependents.handover_invite(actor=alice, record=adult, email=young.email)
    dependents.invitation_accept(user=young, token=token)
    adult.refresh_from_db()
    assert adult.owner == young
    for parent in (alice, bob):
        assert not decide(actor=parent, record=adult, action=Action.RECORD_VIEW).allowed
    assert decide(actor=young, record=adult, action=Action.DOCUMENT_READ).basis == "owner"
    assert AccessEvent.objects.filter(record_uuid=adult.uuid, action="record.handover", actor_uuid=young.uuid).exists()


def test_young_adult_who_already_owns_a_record_cannot_take_another(alice, charlie):
    adult = RecordFactory(birth_date=date(2000, 1, 1))
    GuardianshipFactory(guardian=alice, record=adult)
    _invitation, token = dependents.handover_invite(actor=alice, record=adult, email=charlie.email)
    with pytest.raises(dependents.FamilyRefused, match="already holds"):
        dependents.invitation_accept(user=charlie, token=token)
    adult.refresh_from_db()
    assert adult.owner is None
    assert Guardianship.objects.active().filter(record=adult).exists()  # nothing half-done


@pytest.fixture
def confidential_doc(alice_child, dr_martin):
    CareRelationship.objects.create(professional=dr_martin, record=alice_child)
    document = DocumentFactory(record=alice_child, title="Consultation confidentielle", category="report")
    return dependents.document_confidential_set(actor=dr_martin, document_uuid=document.uuid)


def test_parent_cannot_read_a_document_confidential_from_parents(alice, confidential_doc):
    with pytest.raises(RecordUnavailable):
        document_get_for(actor=alice, document_uuid=confidential_doc.uuid)
    assert AccessEvent.objects.filter(actor_uuid=alice.uuid, reason_code="confidential_from_parents").exists()


def test_confidential_document_is_left_out_of_the_parents_timeline(as_user, alice, alice_child, confidential_doc):
    DocumentFactory(record=alice_child, title="Carnet de vaccination")
    page = as_user(alice).get(reverse("record_detail", args=[alice_child.uuid])).content.decode()
    assert "Carnet de vaccination" in page
    assert "Consultation confidentielle" not in page


def test_the_professional_still_reads_it(dr_martin, confidential_doc):
    assert document_get_for(actor=dr_martin, document_uuid=confidential_doc.uuid) == confidential_doc


def test_a_parent_cannot_mark_or_unmark_confidential(alice, confidential_doc):
    with pytest.raises(RecordUnavailable):
        dependents.document_confidential_set(actor=alice, document_uuid=confidential_doc.uuid, confidential=False)
    confidential_doc.refresh_from_db()
    assert confidential_doc.confidential_from_parents


def test_who_can_see_panel_says_the_parents_cannot(as_user, alice, alice_child, confidential_doc):
    from apps.access.visibility import who_can_see

    lines = who_can_see(document=confidential_doc, reader=alice)
    parent = next(line for line in lines if "parent" in line.who)
    assert not parent.allowed
    assert "confidential" in parent.why


def test_handed_over_record_is_no_longer_listed_for_the_parent(alice):
    adult = RecordFactory(birth_date=date(2000, 1, 1))
    GuardianshipFactory(guardian=alice, record=adult)
    young = UserFactory(email="young@example.test")
    _invitation, token = dependents.handover_invite(actor=alice, record=adult, email=young.email)
    dependents.invitation_accept(user=young, token=token)
    assert adult not in records_for(actor=alice)
    assert Record.objects.get(pk=adult.pk) in records_for(actor=young)


# --- Pages ----------------------------------------------------------------------------


def test_parent_invites_the_other_parent_from_the_family_page(as_user, alice, alice_child):
    from apps.notifications.models import OutboxMessage

    response = as_user(alice).post(
        reverse("record_family", args=[alice_child.uuid]), {"kind": "second_parent", "parent-email": "dad@example.test"}
    )
    assert response.status_code == 302
    assert "/records/invitations/" in OutboxMessage.objects.get(to=["dad@example.test"]).body


def test_family_page_says_when_the_hand_over_becomes_possible(as_user, alice, alice_child):
    response = as_user(alice).post(
        reverse("record_family", args=[alice_child.uuid]), {"kind": "handover", "handover-email": "leo@example.test"}
    )
    assert response.status_code == 400
    assert "comes of age on" in response.content.decode()


@pytest.mark.parametrize("persona", ["charlie", "dr_martin", "sam"])
def test_family_page_is_only_for_the_parents(request, as_user, alice_child, persona):
    actor = request.getfixturevalue(persona)
    assert as_user(actor).get(reverse("record_family", args=[alice_child.uuid])).status_code == 404


def test_owner_of_an_adult_record_has_no_family_page(as_user, alice, alice_record):
    assert as_user(alice).get(reverse("record_family", args=[alice_record.uuid])).status_code == 404


def test_accepting_on_the_invitation_page(as_user, alice, alice_child, bob):
    _invitation, token = dependents.second_parent_invite(actor=alice, record=alice_child, email=bob.email)
    client = as_user(bob)
    assert client.get(reverse("record_invitation", args=[token])).status_code == 200
    response = client.post(reverse("record_invitation", args=[token]))
    assert response["Location"] == reverse("record_detail", args=[alice_child.uuid])
    refused = client.post(reverse("record_invitation", args=[token]))
    assert refused.status_code == 400


def test_professional_marks_a_document_confidential_on_its_page(as_user, dr_martin, alice, alice_child):
    CareRelationship.objects.create(professional=dr_martin, record=alice_child)
    document = DocumentFactory(record=alice_child, category="report")
    as_user(dr_martin).post(reverse("document_confidential", args=[document.uuid]), {"confidential": "1"})
    document.refresh_from_db()
    assert document.confidential_from_parents
    assert as_user(alice).get(reverse("document_detail", args=[document.uuid])).status_code == 404
