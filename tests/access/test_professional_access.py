"""How professionals get in, as a matrix: every basis × every setting × masked/unmasked documents."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.access.models import AccessCode, AccessCodeUse, CareRelationship, EmergencyAccess
from apps.access.policy import Action, Resource, decide
from apps.consents.models import SettingKey
from apps.consents.privacy.services import designated_doctor_set, professional_block, toggle_set
from tests.factories import ProfessionalFactory

BASES = ["care_relationship", "designated_doctor", "access_code", "break_glass", "none"]
SETTINGS = ["default", "professional_access_off", "emergency_access_off", "blocked"]
RESOURCES = ["record", "document", "masked_document"]


def expected(basis: str, setting: str, resource: str) -> bool:
    """The rules of issue 4, spelled out."""
    if basis == "none":
        return False
    if setting == "blocked":  # emergencies included: the person chose that this one never opens it
        return False
    if setting == "professional_access_off" and basis in ("care_relationship", "designated_doctor"):
        return False
    if setting == "emergency_access_off" and basis == "break_glass":
        return False
    return not (resource == "masked_document" and basis != "designated_doctor")


def _give(basis: str, professional, record, owner) -> None:
    if basis == "care_relationship":
        CareRelationship.objects.create(professional=professional, record=record)
    elif basis == "designated_doctor":
        designated_doctor_set(actor=owner, record=record, professional=professional)
    elif basis == "access_code":
        code = AccessCode.objects.create(
            record=record,
            code_hash="x" * 64,
            hint="XX",
            created_by=owner,
            expires_at=timezone.now() + timedelta(hours=1),
        )
        AccessCodeUse.objects.create(code=code, professional=professional)
    elif basis == "break_glass":
        EmergencyAccess.objects.create(
            professional=professional,
            record=record,
            justification="unconscious",
            expires_at=timezone.now() + timedelta(hours=1),
        )


def _set(setting: str, professional, record, owner) -> None:
    if setting == "professional_access_off":
        toggle_set(actor=owner, record=record, key=SettingKey.PROFESSIONAL_ACCESS, on=False)
    elif setting == "emergency_access_off":
        toggle_set(actor=owner, record=record, key=SettingKey.EMERGENCY_ACCESS, on=False)
    elif setting == "blocked":
        professional_block(actor=owner, record=record, professional=professional)


def _resource(kind: str) -> Resource | None:
    if kind == "record":
        return None
    return Resource("document", None, "Bilan", category="lab_result", masked=kind == "masked_document")


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("basis", BASES)
def test_professional_access_follows_the_persons_choices(alice, alice_record, dr_martin, basis, setting, resource):
    _give(basis, dr_martin, alice_record, alice)
    _set(setting, dr_martin, alice_record, alice)
    action = Action.RECORD_VIEW if resource == "record" else Action.DOCUMENT_READ
    decision = decide(actor=dr_martin, record=alice_record, action=action, resource=_resource(resource))
    assert decision.allowed is expected(basis, setting, resource)
    if decision.allowed:
        assert decision.basis == basis


@pytest.mark.parametrize("basis", ["care_relationship", "designated_doctor", "access_code", "break_glass"])
@pytest.mark.parametrize(
    "action", [Action.DOCUMENT_UPLOAD, Action.SETTINGS_EDIT, Action.JOURNAL_READ, Action.DOCUMENT_DELETE]
)
def test_professionals_only_read(alice, alice_record, dr_martin, basis, action):
    _give(basis, dr_martin, alice_record, alice)
    assert not decide(actor=dr_martin, record=alice_record, action=action).allowed


def test_restriction_looks_like_nothing_to_the_professional(alice, alice_record, dr_martin):
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    professional_block(actor=alice, record=alice_record, professional=dr_martin)
    blocked = decide(actor=dr_martin, record=alice_record, action=Action.RECORD_VIEW)
    missing = decide(actor=dr_martin, record=alice_record.__class__(), action=Action.RECORD_VIEW)
    assert blocked.reason_code == "blocked"  # the journal knows, for the person
    assert "blocked" not in blocked.reason.lower()  # the professional reads "nothing here"
    assert not missing.allowed


@pytest.mark.parametrize(
    ("profession", "category", "allowed"),
    [
        ("general_practitioner", "lab_result", True),
        ("dentist", "imaging", True),
        ("dentist", "lab_result", False),
        ("dentist", "directives", False),
        ("physiotherapist", "report", False),
        ("pharmacist", "prescription", True),
    ],
)
def test_profession_matrix_applies_on_top_of_the_basis(alice, alice_record, profession, category, allowed):
    professional = ProfessionalFactory(profession=profession)
    CareRelationship.objects.create(professional=professional, record=alice_record)
    resource = Resource("document", None, "x", category=category)
    assert (
        decide(actor=professional, record=alice_record, action=Action.DOCUMENT_READ, resource=resource).allowed
        is allowed
    )


def test_matrix_never_limits_the_person_themself(alice, alice_record):
    resource = Resource("document", None, "x", category="directives", masked=True)
    assert decide(actor=alice, record=alice_record, action=Action.DOCUMENT_READ, resource=resource).allowed


def test_expired_or_revoked_bases_no_longer_open(alice, alice_record, dr_martin):
    relation = CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    CareRelationship.objects.filter(pk=relation.pk).update(revoked_at=timezone.now())
    EmergencyAccess.objects.create(
        professional=dr_martin,
        record=alice_record,
        justification="x" * 30,
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    assert not decide(actor=dr_martin, record=alice_record, action=Action.RECORD_VIEW).allowed


def test_another_professional_is_not_let_in_by_someone_elses_basis(alice, alice_record, dr_martin):
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    other = ProfessionalFactory()
    assert not decide(actor=other, record=alice_record, action=Action.RECORD_VIEW).allowed
