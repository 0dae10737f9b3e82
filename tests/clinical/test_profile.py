"""The medical profile (issue 6): declared facts, measurement checks, rectifications, pages and API."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.access.models import AccessEvent, CareRelationship
from apps.access.refusals import RecordUnavailable
from apps.clinical import profile
from apps.clinical.models import ClinicalFact, FactKind, FactOrigin, RectificationRequest
from apps.records.models import Document
from tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db


def imported_fact(record, **fields) -> ClinicalFact:
    document = fields.pop("document", None) or DocumentFactory(record=record, title="Allergy letter")
    values = {"kind": FactKind.ALLERGY, "display": "Penicillin", "code_system": "http://snomed.info/sct"}
    values.update(fields)
    return ClinicalFact.objects.create(
        record=record, source_document=document, source_label=document.title, origin=FactOrigin.IMPORTED, **values
    )


def declared(record, actor, **fields) -> ClinicalFact:
    values = {"kind": FactKind.CONDITION, "display": "Asthma"}
    values.update(fields)
    return profile.fact_declare(actor=actor, record=record, **values)


def profile_url(record) -> str:
    return reverse("medical_profile", args=[record.uuid])


def declare_url(record, kind) -> str:
    return reverse("profile_declare", args=[record.uuid, kind])


# --- Declaring ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        (FactKind.ALLERGY, {"display": "Peanuts", "detail": "Swollen lips"}),
        (FactKind.CONDITION, {"display": "Appendicitis", "status": "resolved", "effective_date": date(2001, 5, 2)}),
        (FactKind.MEDICATION, {"display": "Ventolin", "detail": "2 puffs when needed", "status": "active"}),
        (FactKind.IMMUNIZATION, {"display": "Tetanus", "effective_date": date(2020, 1, 15)}),
    ],
)
def test_person_declares_each_kind(alice, alice_record, kind, fields):
    fact = profile.fact_declare(actor=alice, record=alice_record, kind=kind, **fields)
    fact.refresh_from_db()
    assert fact.kind == kind
    assert fact.origin == FactOrigin.DECLARED
    assert fact.declared_by == alice
    assert fact.declared_by_label == "Alice Martin"
    assert fact.source_document is None
    assert fact.display == fields["display"]


def test_person_declares_a_measurement_with_its_loinc_code(alice, alice_record):
    fact = profile.fact_declare(
        actor=alice, record=alice_record, kind=FactKind.OBSERVATION, display="", code="29463-7", value="72,5", unit="kg"
    )
    assert (fact.code_system, fact.code, fact.display) == ("http://loinc.org", "29463-7", "Weight")
    assert (fact.value_decimal, fact.unit) == (Decimal("72.5"), "kg")


def test_declaring_is_journaled(alice, alice_record):
    fact = declared(alice_record, alice)
    assert AccessEvent.objects.filter(
        actor_uuid=alice.uuid, record_uuid=alice_record.uuid, action="profile.edit", outcome="allowed"
    ).exists()
    assert fact.declared_by == alice


def test_declare_form_on_the_page_adds_a_treatment(as_user, alice, alice_record):
    response = as_user(alice).post(
        declare_url(alice_record, "medication"),
        {"medication-display": "Metformin", "medication-detail": "500 mg twice a day", "medication-status": "active"},
    )
    assert response.status_code == 302
    fact = ClinicalFact.objects.get(record=alice_record)
    assert (fact.kind, fact.display, fact.detail, fact.origin) == (
        "medication",
        "Metformin",
        "500 mg twice a day",
        "declared",
    )


def test_measurement_form_on_the_page_adds_a_weight(as_user, alice, alice_record):
    response = as_user(alice).post(
        declare_url(alice_record, "observation"),
        {
            "observation-code": "29463-7",
            "observation-value": "80",
            "observation-unit": "kg",
            "observation-effective_date": "2024-03-01",
        },
    )
    assert response.status_code == 302
    assert ClinicalFact.objects.get(record=alice_record).value_decimal == Decimal("80")


def test_parent_declares_on_a_childs_record(alice, alice_child):
    fact = declared(alice_child, alice, kind=FactKind.IMMUNIZATION, display="Measles")
    assert fact.record == alice_child
    assert fact.declared_by_label == "Alice Martin"
    assert AccessEvent.objects.filter(record_uuid=alice_child.uuid, action="profile.edit", basis="parent").exists()


# --- Refusals: nothing is written ----------------------------------------------------------


def test_impossible_weight_is_refused_with_the_accepted_range(alice, alice_record):
    with pytest.raises(profile.FactRefused) as refusal:
        declared(alice_record, alice, kind=FactKind.OBSERVATION, display="", code="29463-7", value="700", unit="kg")
    assert refusal.value.message == ("Weight: 700 kg is not possible. Enter a value between 0.3 and 500 kg.")
    assert refusal.value.field == "value"
    assert not ClinicalFact.objects.exists()


def test_unknown_unit_is_refused_naming_the_accepted_units(alice, alice_record):
    with pytest.raises(profile.FactRefused) as refusal:
        declared(alice_record, alice, kind=FactKind.OBSERVATION, code="8310-5", value="98.6", unit="[degF]")
    assert refusal.value.message == "Body temperature is given in °C, not in “[degF]”."
    assert not ClinicalFact.objects.exists()


def test_unknown_measurement_is_refused(alice, alice_record):
    with pytest.raises(profile.FactRefused) as refusal:
        declared(alice_record, alice, kind=FactKind.OBSERVATION, code="1234-5", value="1", unit="kg")
    assert "This measurement cannot be declared here" in refusal.value.message
    assert not ClinicalFact.objects.exists()


def test_future_date_is_refused_for_any_declared_fact(alice, alice_record):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(profile.FactRefused) as refusal:
        declared(alice_record, alice, kind=FactKind.IMMUNIZATION, display="Tetanus", effective_date=tomorrow)
    assert refusal.value.message == "The date cannot be in the future."
    assert not ClinicalFact.objects.exists()


def test_impossible_value_on_the_page_shows_the_message_and_writes_nothing(as_user, alice, alice_record):
    response = as_user(alice).post(
        declare_url(alice_record, "observation"),
        {"observation-code": "8480-6", "observation-value": "400", "observation-unit": "mm[Hg]"},
    )
    assert response.status_code == 400
    assert "Systolic blood pressure: 400 mmHg is not possible. Enter a value between 30 and 300 mmHg." in (
        response.content.decode()
    )
    assert not ClinicalFact.objects.exists()


def test_professional_cannot_declare(dr_martin, alice_record):
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    with pytest.raises(RecordUnavailable):
        declared(alice_record, dr_martin)
    assert not ClinicalFact.objects.exists()
    assert AccessEvent.objects.filter(actor_uuid=dr_martin.uuid, action="profile.edit", outcome="denied").exists()


def test_professional_declaring_on_the_page_gets_404(as_user, dr_martin, alice_record):
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    response = as_user(dr_martin).post(declare_url(alice_record, "allergy"), {"allergy-display": "Latex"})
    assert response.status_code == 404
    assert not ClinicalFact.objects.exists()


# --- Changing and deleting ------------------------------------------------------------------


def test_person_changes_a_declared_fact(alice, alice_record):
    fact = declared(alice_record, alice, display="Asthma", status="active")
    profile.fact_update(actor=alice, fact_uuid=fact.uuid, status="resolved", detail="Since childhood")
    fact.refresh_from_db()
    assert (fact.display, fact.status, fact.detail) == ("Asthma", "resolved", "Since childhood")


def test_changing_a_measurement_checks_the_range_again(alice, alice_record):
    fact = declared(alice_record, alice, kind=FactKind.OBSERVATION, code="8867-4", value="70", unit="/min")
    with pytest.raises(profile.FactRefused, match="between 20 and 300"):
        profile.fact_update(actor=alice, fact_uuid=fact.uuid, value="900")
    fact.refresh_from_db()
    assert fact.value_decimal == Decimal("70")


def test_person_deletes_a_declared_fact(alice, alice_record):
    fact = declared(alice_record, alice)
    assert profile.fact_delete(actor=alice, fact_uuid=fact.uuid) == alice_record.uuid
    assert not ClinicalFact.objects.filter(pk=fact.pk).exists()


def test_edit_page_saves_a_change(as_user, alice, alice_record):
    fact = declared(alice_record, alice, kind=FactKind.ALLERGY, display="Pollen")
    client = as_user(alice)
    assert client.get(reverse("profile_fact_edit", args=[fact.uuid])).status_code == 200
    response = client.post(
        reverse("profile_fact_edit", args=[fact.uuid]),
        {"allergy-display": "Birch pollen", "allergy-detail": "Sneezing"},
    )
    assert response.status_code == 302
    fact.refresh_from_db()
    assert (fact.display, fact.detail) == ("Birch pollen", "Sneezing")


def test_delete_button_removes_a_declared_fact(as_user, alice, alice_record):
    fact = declared(alice_record, alice)
    response = as_user(alice).post(reverse("profile_fact_delete", args=[fact.uuid]))
    assert response.status_code == 302
    assert not ClinicalFact.objects.filter(pk=fact.pk).exists()


def test_imported_fact_cannot_be_changed(alice, alice_record):
    fact = imported_fact(alice_record)
    with pytest.raises(profile.ImportedFactLocked, match="comes from a document"):
        profile.fact_update(actor=alice, fact_uuid=fact.uuid, display="Nothing")
    fact.refresh_from_db()
    assert fact.display == "Penicillin"


def test_imported_fact_cannot_be_deleted_on_the_page(as_user, alice, alice_record):
    fact = imported_fact(alice_record)
    response = as_user(alice).post(reverse("profile_fact_delete", args=[fact.uuid]), follow=True)
    assert "This information comes from a document: it cannot be changed or deleted." in response.content.decode()
    assert ClinicalFact.objects.filter(pk=fact.pk).exists()


def test_imported_fact_cannot_be_edited_on_the_page(as_user, alice, alice_record):
    fact = imported_fact(alice_record)
    response = as_user(alice).post(reverse("profile_fact_edit", args=[fact.uuid]), {"allergy-display": "Nothing"})
    assert response.status_code == 302
    fact.refresh_from_db()
    assert fact.display == "Penicillin"


def test_imported_fact_cannot_be_changed_or_deleted_through_the_api(as_user, alice, alice_record):
    fact = imported_fact(alice_record)
    client = as_user(alice)
    url = reverse("api_profile_fact", args=[fact.uuid])
    patched = client.patch(url, {"display": "Nothing"}, content_type="application/json")
    deleted = client.delete(url)
    assert (patched.status_code, deleted.status_code) == (400, 400)
    assert "comes from a document" in patched.json()["detail"]
    assert "comes from a document" in deleted.json()["detail"]
    fact.refresh_from_db()
    assert fact.display == "Penicillin"


# --- Rectifications and deleted sources -----------------------------------------------------


def test_rectification_is_kept_with_the_imported_fact(alice, alice_record):
    fact = imported_fact(alice_record)
    profile.rectification_request(actor=alice, fact_uuid=fact.uuid, reason="I was tested: not allergic.")
    assert fact.rectifications.get().reason == "I was tested: not allergic."
    fact.refresh_from_db()
    assert fact.display == "Penicillin"


def test_rectification_is_shown_to_a_professional_caring_for_the_person(as_user, alice, alice_record, dr_martin):
    fact = imported_fact(alice_record)
    profile.rectification_request(actor=alice, fact_uuid=fact.uuid, reason="I was tested: not allergic.")
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    response = as_user(dr_martin).get(profile_url(alice_record))
    assert response.status_code == 200
    assert response.context["can_edit"] is False
    body = response.content.decode()
    assert "Reported as wrong by the person:" in body
    assert "I was tested: not allergic." in body
    assert "This is wrong" not in body
    assert "Add to the profile" not in body


def test_rectification_needs_a_reason(alice, alice_record):
    fact = imported_fact(alice_record)
    with pytest.raises(profile.FactRefused, match="Say what is wrong"):
        profile.rectification_request(actor=alice, fact_uuid=fact.uuid, reason="  ")
    assert not RectificationRequest.objects.exists()


def test_declared_fact_is_not_rectified_but_changed(alice, alice_record):
    fact = declared(alice_record, alice)
    with pytest.raises(profile.FactRefused, match="change it or delete it"):
        profile.rectification_request(actor=alice, fact_uuid=fact.uuid, reason="wrong")


def test_this_is_wrong_form_saves_the_note(as_user, alice, alice_record):
    fact = imported_fact(alice_record)
    response = as_user(alice).post(reverse("profile_fact_wrong", args=[fact.uuid]), {"reason": "Never had it"})
    assert response.status_code == 302
    assert fact.rectifications.get().reason == "Never had it"


def test_withdrawn_rectification_is_no_longer_shown(as_user, alice, alice_record):
    fact = imported_fact(alice_record)
    note = profile.rectification_request(actor=alice, fact_uuid=fact.uuid, reason="Never had it")
    client = as_user(alice)
    client.post(reverse("profile_rectification_withdraw", args=[note.uuid]))
    note.refresh_from_db()
    assert note.withdrawn_at is not None
    assert "Never had it" not in client.get(profile_url(alice_record)).content.decode()


def test_fact_whose_document_was_deleted_is_kept_as_source_deleted(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record, title="Letter from Dr House")
    fact = imported_fact(alice_record, document=document)
    Document.objects.filter(pk=document.pk).delete()
    response = as_user(alice).get(profile_url(alice_record))
    item = response.context["profile"].facts[0]
    assert item.fact == fact
    assert item.source_deleted
    assert "source deleted: Letter from Dr House" in response.content.decode()


# --- The page -------------------------------------------------------------------------------


def test_profile_page_groups_facts_by_kind_with_their_source(as_user, alice, alice_record):
    fact = imported_fact(alice_record)
    declared(alice_record, alice, kind=FactKind.OBSERVATION, display="", code="8302-2", value="172", unit="cm")
    response = as_user(alice).get(profile_url(alice_record))
    sections = {section.kind: [item.fact for item in section.facts] for section in response.context["profile"].sections}
    assert sections["allergy"] == [fact]
    assert [f.display for f in sections["observation"]] == ["Height"]
    body = response.content.decode()
    assert reverse("document_detail", args=[fact.source_document.uuid]) in body
    assert "declared by Alice Martin" in body
    assert response.context["can_edit"] is True


def test_profile_read_is_journaled(as_user, alice, alice_record):
    as_user(alice).get(profile_url(alice_record))
    assert (
        AccessEvent.objects.filter(
            actor_uuid=alice.uuid, record_uuid=alice_record.uuid, action="profile.read", outcome="allowed"
        ).count()
        == 1
    )


@pytest.mark.parametrize("persona", ["charlie", "sam", "olga"])
def test_outsiders_get_404_and_the_denial_is_journaled(request, as_user, alice_record, persona):
    outsider = request.getfixturevalue(persona)
    response = as_user(outsider).get(profile_url(alice_record))
    assert response.status_code == 404
    assert AccessEvent.objects.filter(
        actor_uuid=outsider.uuid, record_uuid=alice_record.uuid, action="profile.read", outcome="denied"
    ).exists()


def test_stranger_cannot_change_a_declared_fact(alice, alice_record, charlie):
    fact = declared(alice_record, alice)
    with pytest.raises(RecordUnavailable):
        profile.fact_delete(actor=charlie, fact_uuid=fact.uuid)
    assert ClinicalFact.objects.filter(pk=fact.pk).exists()
    assert AccessEvent.objects.filter(actor_uuid=charlie.uuid, action="profile.edit", outcome="denied").exists()


def test_professional_does_not_see_facts_of_a_masked_document(as_user, alice_record, dr_martin):
    hidden = DocumentFactory(record=alice_record, title="Private", masked=True)
    imported_fact(alice_record, document=hidden, display="Hidden thing")
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    response = as_user(dr_martin).get(profile_url(alice_record))
    assert "Hidden thing" not in response.content.decode()


def _page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len([q for q in ctx.captured_queries if not q["sql"].startswith('INSERT INTO "access_accessevent"')])


def _add_facts(record, alice, count: int) -> None:
    document = DocumentFactory(record=record)
    facts = []
    for n in range(count):
        if n % 2:
            facts.append(
                ClinicalFact(record=record, source_document=document, kind=FactKind.OBSERVATION, display=f"Result {n}")
            )
        else:
            facts.append(
                ClinicalFact(
                    record=record,
                    kind=FactKind.ALLERGY,
                    display=f"Declared {n}",
                    origin=FactOrigin.DECLARED,
                    declared_by=alice,
                    declared_by_label="Alice Martin",
                )
            )
    created = ClinicalFact.objects.bulk_create(facts)
    RectificationRequest.objects.bulk_create(
        RectificationRequest(fact=fact, requested_by=alice, reason="wrong") for fact in created[1::10]
    )


def test_profile_page_runs_the_same_queries_for_10_and_500_facts(as_user, alice, alice_record):
    client = as_user(alice)
    url = profile_url(alice_record)
    _add_facts(alice_record, alice, 10)
    client.get(url)  # settle the session
    few = _page_queries(client, url)
    _add_facts(alice_record, alice, 490)
    assert _page_queries(client, url) == few


# --- API ------------------------------------------------------------------------------------


def test_api_round_trip(as_user, alice, alice_record):
    client = as_user(alice)
    imported = imported_fact(alice_record)
    facts_url = reverse("api_profile_facts", args=[alice_record.uuid])
    created = client.post(
        facts_url,
        {"kind": "observation", "code": "2339-0", "value": "5.4", "unit": "mmol/L", "effective_date": "2024-02-02"},
        content_type="application/json",
    )
    assert created.status_code == 201
    fact_id = created.json()["id"]
    assert created.json()["declared_by"] == "Alice Martin"
    fact_url = reverse("api_profile_fact", args=[fact_id])
    changed = client.patch(fact_url, {"value": "6.1"}, content_type="application/json")
    assert changed.status_code == 200
    assert Decimal(changed.json()["value"]) == Decimal("6.1")
    rectified = client.post(
        reverse("api_rectify", args=[imported.uuid]), {"reason": "Not me"}, content_type="application/json"
    )
    assert rectified.status_code == 201
    listed = {fact["id"]: fact for fact in client.get(facts_url).json()}
    assert listed[str(imported.uuid)]["source_document"] == str(imported.source_document.uuid)
    assert listed[str(imported.uuid)]["source_deleted"] is False
    assert [r["reason"] for r in listed[str(imported.uuid)]["rectifications"]] == ["Not me"]
    assert listed[fact_id]["source_document"] is None
    assert listed[fact_id]["origin"] == "declared"
    assert client.delete(fact_url).status_code == 204
    assert client.get(fact_url).status_code == 404


def test_api_refuses_an_impossible_value_with_the_same_message(as_user, alice, alice_record):
    response = as_user(alice).post(
        reverse("api_profile_facts", args=[alice_record.uuid]),
        {"kind": "observation", "code": "8310-5", "value": "50", "unit": "Cel"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["value"] == ["Body temperature: 50 °C is not possible. Enter a value between 25 and 45 °C."]
    assert not ClinicalFact.objects.exists()


def test_api_lists_a_deleted_source_as_such(as_user, alice, alice_record):
    fact = imported_fact(alice_record)
    Document.objects.filter(pk=fact.source_document_id).delete()
    listed = as_user(alice).get(reverse("api_profile_facts", args=[alice_record.uuid])).json()
    assert listed[0]["source_document"] is None
    assert listed[0]["source_deleted"] is True
    assert listed[0]["source_label"] == "Allergy letter"


def test_api_stranger_gets_404(as_user, alice_record, charlie):
    response = as_user(charlie).get(reverse("api_profile_facts", args=[alice_record.uuid]))
    assert response.status_code == 404
    assert AccessEvent.objects.filter(actor_uuid=charlie.uuid, outcome="denied", action="profile.read").exists()
