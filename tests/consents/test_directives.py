from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.access.models import AccessEvent, CareRelationship
from apps.access.refusals import RecordUnavailable
from apps.accounts.models import Profession
from apps.consents.directives.services import directives_update
from apps.consents.models import DirectivesChange, OrganDonation, PersonalDirectives
from tests.factories import DocumentFactory, ProfessionalFactory, totp_device


def page(record) -> str:
    return f"/records/{record.uuid}/directives/"


def api(record) -> str:
    return f"/api/v1/records/{record.uuid}/directives/"


VALID = {
    "trusted_person_name": "Bob Martin",
    "trusted_person_relationship": "my brother",
    "trusted_person_phone": "06 12 34 56 78",
    "trusted_person_email": "bob@example.test",
    "advance_directives_text": "No resuscitation beyond three days of coma.",
    "advance_directives_document": "",
    "organ_donation": "refuses",
}
API_BODY = {**VALID, "advance_directives_document": None}


def test_owner_saves_and_reads_their_directives(as_user, alice, alice_record):
    client = as_user(alice)
    assert client.get(page(alice_record)).status_code == 200
    response = client.post(page(alice_record), VALID)
    assert response.status_code == 302
    directives = PersonalDirectives.objects.get(record=alice_record)
    assert directives.trusted_person_name == "Bob Martin"
    assert directives.organ_donation == OrganDonation.REFUSES
    assert directives.updated_by == alice
    html = client.get(page(alice_record), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Bob Martin" in html
    assert "does not register it" in html  # a refusal written here is not on the national register


def test_each_change_writes_a_history_row(as_user, alice, alice_record):
    client = as_user(alice)
    client.post(page(alice_record), VALID)
    client.post(page(alice_record), {**VALID, "organ_donation": "donor"})
    client.post(page(alice_record), {**VALID, "organ_donation": "donor"})  # no change: no row
    changes = list(DirectivesChange.objects.filter(record=alice_record).order_by("changed_at", "id"))
    assert len(changes) == 2
    assert changes[0].before["trusted_person_name"] == ""
    assert changes[0].after["trusted_person_name"] == "Bob Martin"
    assert (changes[1].before["organ_donation"], changes[1].after["organ_donation"]) == ("refuses", "donor")
    assert changes[1].changed_by == alice
    assert changes[1].through_basis == "owner"


def test_history_rows_are_never_rewritten(alice, alice_record):
    change = directives_update(actor=alice, record=alice_record, trusted_person_name="Bob")
    row = DirectivesChange.objects.get(record=change.record)
    with pytest.raises(RuntimeError):
        row.save()
    with pytest.raises(RuntimeError):
        DirectivesChange.objects.filter(pk=row.pk).delete()


def test_parent_manages_the_directives_of_a_child(as_user, alice, alice_child):
    response = as_user(alice).post(page(alice_child), {**VALID, "trusted_person_name": "Alice Martin"})
    assert response.status_code == 302
    assert PersonalDirectives.objects.get(record=alice_child).trusted_person_name == "Alice Martin"
    assert DirectivesChange.objects.get(record=alice_child).through_basis == "parent"


def test_stranger_gets_404_and_the_denial_is_journaled(as_user, charlie, alice_record):
    client = as_user(charlie)
    assert client.get(page(alice_record)).status_code == 404
    assert client.post(page(alice_record), VALID).status_code == 404
    assert not PersonalDirectives.objects.filter(record=alice_record).exists()
    assert AccessEvent.objects.filter(
        actor_uuid=charlie.uuid, record_uuid=alice_record.uuid, action="profile.read", outcome="denied"
    ).exists()


def test_the_service_refuses_a_stranger(charlie, alice_record):
    with pytest.raises(RecordUnavailable):
        directives_update(actor=charlie, record=alice_record, trusted_person_name="Charlie")
    assert AccessEvent.objects.filter(actor_uuid=charlie.uuid, action="profile.edit", outcome="denied").exists()
    assert not DirectivesChange.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("trusted_person_email", "not-an-address"), ("trusted_person_phone", "call me maybe")],
)
def test_an_invalid_contact_is_a_form_error_and_nothing_is_saved(as_user, alice, alice_record, field, value):
    response = as_user(alice).post(page(alice_record), {**VALID, field: value})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not PersonalDirectives.objects.filter(record=alice_record).exists()
    assert not DirectivesChange.objects.exists()


def test_the_service_validates_too(alice, alice_record):
    with pytest.raises(ValidationError) as error:
        directives_update(actor=alice, record=alice_record, trusted_person_phone="call me maybe")
    assert "trusted_person_phone" in error.value.message_dict
    assert not PersonalDirectives.objects.exists()


def test_a_document_of_the_record_can_be_attached(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record, category="report", title="Signed directives")
    response = as_user(alice).post(page(alice_record), {**VALID, "advance_directives_document": str(document.uuid)})
    assert response.status_code == 302
    assert PersonalDirectives.objects.get(record=alice_record).advance_directives_document == document
    assert DirectivesChange.objects.get().after["advance_directives_document"] == str(document.uuid)
    assert f'<option value="{document.uuid}" selected>' in as_user(alice).get(page(alice_record)).content.decode()


def test_a_document_of_another_record_cannot_be_attached(as_user, alice, alice_record, charlie):
    other = DocumentFactory(record=charlie.own_record, category="report")
    response = as_user(alice).post(page(alice_record), {**VALID, "advance_directives_document": str(other.uuid)})
    assert response.status_code == 400
    assert "advance_directives_document" in response.context["form"].errors
    with pytest.raises(ValidationError):
        directives_update(actor=alice, record=alice_record, advance_directives_document=other)
    assert not PersonalDirectives.objects.exists()


def test_deleting_the_attached_document_keeps_the_directives(alice, alice_record):
    document = DocumentFactory(record=alice_record, category="other")
    directives_update(actor=alice, record=alice_record, advance_directives_document=document, organ_donation="donor")
    document.delete()
    directives = PersonalDirectives.objects.get(record=alice_record)
    assert directives.advance_directives_document is None
    assert directives.organ_donation == "donor"


def _caring(profession: str, record):
    professional = ProfessionalFactory(profession=profession)
    totp_device(professional)
    CareRelationship.objects.create(professional=professional, record=record)
    return professional


def test_a_doctor_caring_for_the_patient_reads_but_cannot_change(as_user, alice, alice_record):
    directives_update(actor=alice, record=alice_record, trusted_person_name="Bob Martin")
    doctor = _caring(Profession.GENERAL_PRACTITIONER, alice_record)
    client = as_user(doctor)
    response = client.get(page(alice_record))
    assert response.status_code == 200
    assert response.context["can_edit"] is False
    assert "Bob Martin" in response.content.decode()
    assert client.post(page(alice_record), {**VALID, "trusted_person_name": "Someone"}).status_code == 404
    assert PersonalDirectives.objects.get(record=alice_record).trusted_person_name == "Bob Martin"
    assert client.put(api(alice_record), API_BODY, content_type="application/json").status_code == 404
    assert AccessEvent.objects.filter(actor_uuid=doctor.uuid, action="profile.edit", outcome="denied").count() == 2


def test_a_dentist_does_not_see_advance_directives(as_user, alice, alice_record):
    directives_update(actor=alice, record=alice_record, trusted_person_name="Bob Martin")
    dentist = _caring(Profession.DENTIST, alice_record)
    client = as_user(dentist)
    response = client.get(page(alice_record))
    assert response.status_code == 404
    assert "Bob Martin" not in response.content.decode()
    assert client.get(api(alice_record)).status_code in (403, 404)
    from apps.access.models import AccessEvent

    assert AccessEvent.objects.filter(actor_uuid=dentist.uuid, reason_code="profession_matrix").exists()


def test_api_round_trip(as_user, alice, alice_record):
    client = as_user(alice)
    empty = client.get(api(alice_record))
    assert empty.status_code == 200
    assert empty.json()["organ_donation"] == "not_stated"
    assert empty.json()["updated_at"] is None
    document = DocumentFactory(record=alice_record, category="report")
    body = {**VALID, "advance_directives_document": str(document.uuid)}
    response = client.put(api(alice_record), body, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["advance_directives_document"] == str(document.uuid)
    read = client.get(api(alice_record)).json()
    assert {key: read[key] for key in body} == body
    assert read["updated_at"]
    # PUT replaces the whole: what is left out goes back to empty.
    client.put(api(alice_record), {"organ_donation": "donor"}, content_type="application/json")
    read = client.get(api(alice_record)).json()
    assert (read["trusted_person_name"], read["advance_directives_document"], read["organ_donation"]) == (
        "",
        None,
        "donor",
    )
    assert DirectivesChange.objects.filter(record=alice_record).count() == 2


def test_api_refuses_bad_values_and_saves_nothing(as_user, alice, alice_record, charlie):
    client = as_user(alice)
    response = client.put(
        api(alice_record), {**API_BODY, "trusted_person_email": "nope"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "trusted_person_email" in response.json()
    other = DocumentFactory(record=charlie.own_record, category="report")
    response = client.put(
        api(alice_record), {**API_BODY, "advance_directives_document": str(other.uuid)}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "advance_directives_document" in response.json()
    assert not PersonalDirectives.objects.exists()


def test_api_stranger_gets_404(as_user, charlie, alice_record):
    client = as_user(charlie)
    assert client.get(api(alice_record)).status_code == 404
    assert client.put(api(alice_record), API_BODY, content_type="application/json").status_code == 404
    assert AccessEvent.objects.filter(actor_uuid=charlie.uuid, record_uuid=alice_record.uuid, outcome="denied").exists()


def test_openapi_schema_lists_the_directives_endpoint(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/api/v1/records/{record_uuid}/directives/" in response.content.decode()
