"""The one door, as a matrix: each actor × each action on a record."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.access.models import AccessEvent
from apps.access.policy import Action, Basis, authorize, decide
from apps.records.models import Guardianship
from tests.factories import RecordFactory

ACTORS = ["owner", "parent", "former_parent", "stranger", "professional", "support_agent", "operator", "inactive_owner"]
EXPECTED = {
    "owner": (True, Basis.OWNER, "owner"),
    "parent": (True, Basis.PARENT, "parent"),
    "former_parent": (False, Basis.NONE, "not_allowed"),
    "stranger": (False, Basis.NONE, "not_allowed"),
    "professional": (False, Basis.NONE, "professional_without_basis"),
    "support_agent": (False, Basis.NONE, "support_without_mandate"),
    "operator": (False, Basis.NONE, "operator"),
    "inactive_owner": (False, Basis.NONE, "inactive"),
}


@pytest.fixture
def world(alice, alice_record, alice_child, bob, charlie, dr_martin, sam, olga):
    """Each actor paired with the record they try to reach."""
    ended = Guardianship.objects.create(guardian=bob, record=alice_child, ended_at=timezone.now())
    inactive = RecordFactory(
        owner=charlie.__class__.objects.create_user("gone@example.test", "x" * 12, is_active=False)
    )
    return {
        "owner": (alice, alice_record),
        "parent": (alice, alice_child),
        "former_parent": (ended.guardian, alice_child),
        "stranger": (charlie, alice_record),
        "professional": (dr_martin, alice_record),
        "support_agent": (sam, alice_record),
        "operator": (olga, alice_record),
        "inactive_owner": (inactive.owner, inactive),
    }


# Acts that are not the person's nor a parent's, though they may do everything else: a professional
# keeps a minor's document from the parents; a structure's manager countersigns; only a parent invites.
NOT_FOR = {
    "owner": {Action.DOCUMENT_CONFIDENTIAL, Action.MANDATE_COUNTERSIGN, Action.RECORD_INVITE},
    "parent": {Action.DOCUMENT_CONFIDENTIAL, Action.MANDATE_COUNTERSIGN},
}


@pytest.mark.parametrize("action", Action.values)
@pytest.mark.parametrize("actor_kind", ACTORS)
def test_policy_decides_each_actor_and_action(world, actor_kind, action):
    actor, record = world[actor_kind]
    decision = decide(actor=actor, record=record, action=action)
    allowed, basis, reason_code = EXPECTED[actor_kind]
    if action in NOT_FOR.get(actor_kind, ()):
        allowed, basis, reason_code = False, Basis.NONE, "not_allowed"
    assert (decision.allowed, decision.basis, decision.reason_code) == (allowed, basis, reason_code)
    assert decision.reason  # a sentence for the person, never empty


@pytest.mark.parametrize("actor_kind", ACTORS)
def test_every_decision_is_journaled_with_its_outcome(world, actor_kind):
    actor, record = world[actor_kind]
    before = AccessEvent.objects.count()
    decision = authorize(actor=actor, record=record, action=Action.RECORD_VIEW)
    event = AccessEvent.objects.order_by("-seq").first()
    assert AccessEvent.objects.count() == before + 1
    assert event.record_uuid == record.uuid
    assert event.actor_uuid == actor.uuid
    assert event.outcome == ("allowed" if decision.allowed else "denied")
    assert event.basis == decision.basis
    assert event.reason_code == decision.reason_code


def test_anonymous_visitor_is_denied_and_journaled(alice_record):
    from django.contrib.auth.models import AnonymousUser

    decision = authorize(actor=AnonymousUser(), record=alice_record, action=Action.RECORD_VIEW)
    event = AccessEvent.objects.order_by("-seq").first()
    assert not decision.allowed
    assert decision.reason_code == "anonymous"
    assert (event.actor_role, event.outcome, event.actor_uuid) == ("anonymous", "denied", None)


def test_parent_loses_access_when_guardianship_ends(alice, alice_child):
    Guardianship.objects.filter(guardian=alice, record=alice_child).update(ended_at=timezone.now())
    assert not decide(actor=alice, record=alice_child, action=Action.RECORD_VIEW).allowed


def test_parent_has_no_access_to_the_child_of_another_family(alice, charlie):
    other_child = RecordFactory()
    Guardianship.objects.create(guardian=charlie, record=other_child)
    assert not decide(actor=alice, record=other_child, action=Action.DOCUMENT_READ).allowed


def test_denial_reason_is_translated(dr_martin, alice_record):
    from django.utils import translation

    decision = decide(actor=dr_martin, record=alice_record, action=Action.RECORD_VIEW)
    with translation.override("en"):
        english = decision.reason
    with translation.override("fr"):
        french = decision.reason
    assert "permission" in english
    assert english != french


@pytest.mark.parametrize("action", Action.values)
def test_import_service_may_only_add_documents(alice_record, action):
    from apps.access.actors import ImportService

    unowned = RecordFactory()
    for record in (alice_record, unowned):
        decision = decide(actor=ImportService(operator="olga"), record=record, action=action)
        expected = action in (Action.DOCUMENT_UPLOAD, Action.RECORD_CREATE)
        assert decision.allowed is expected
        assert decision.basis == (Basis.IMPORT if expected else Basis.NONE)


# --- Professionals: each basis they may hold × the person's settings × each action -------------

PROFESSIONAL_READS = {
    Action.RECORD_LIST,
    Action.RECORD_VIEW,
    Action.DOCUMENT_LIST,
    Action.DOCUMENT_READ,
    Action.PROFILE_READ,
    Action.DOCUMENT_CONFIDENTIAL,  # a professional's one write, on the reads' terms
}
# row: (bases held, setting) -> (basis that opens reads, or None; reason code of every refusal)
PROFESSIONAL_ROWS = {
    "break_glass": (("break_glass",), "default", Basis.BREAK_GLASS, "professional_read_only"),
    "break_glass_blocked": (("break_glass",), "blocked", None, "blocked"),
    "break_glass_emergency_off": (("break_glass",), "emergency_off", None, "emergency_access_off"),
    "designated_and_caring": (("care", "designated"), "default", Basis.DESIGNATED_DOCTOR, "professional_read_only"),
    "caring_and_break_glass": (("care", "break_glass"), "default", Basis.CARE_RELATIONSHIP, "professional_read_only"),
    "caring_blocked": (("care", "designated", "break_glass"), "blocked", None, "blocked"),
}


def _professional_world(alice, record, professional, bases, setting) -> None:
    from datetime import timedelta

    from apps.access.models import CareRelationship, EmergencyAccess
    from apps.consents.models import SettingKey
    from apps.consents.privacy.services import designated_doctor_set, professional_block, toggle_set

    if "care" in bases:
        CareRelationship.objects.create(professional=professional, record=record)
    if "designated" in bases:
        designated_doctor_set(actor=alice, record=record, professional=professional)
    if "break_glass" in bases:
        EmergencyAccess.objects.create(
            professional=professional,
            record=record,
            justification="x" * 30,
            expires_at=timezone.now() + timedelta(hours=1),
        )
    if setting == "blocked":
        professional_block(actor=alice, record=record, professional=professional)
    elif setting == "emergency_off":
        toggle_set(actor=alice, record=record, key=SettingKey.EMERGENCY_ACCESS, on=False)


@pytest.mark.parametrize("action", Action.values)
@pytest.mark.parametrize("row", PROFESSIONAL_ROWS)
def test_policy_decides_each_professional_basis_setting_and_action(alice, alice_record, dr_martin, row, action):
    bases, setting, opening_basis, refusal = PROFESSIONAL_ROWS[row]
    _professional_world(alice, alice_record, dr_martin, bases, setting)
    decision = decide(actor=dr_martin, record=alice_record, action=action)
    if opening_basis is not None and action in PROFESSIONAL_READS:
        assert (decision.allowed, decision.basis, decision.reason_code) == (True, opening_basis, opening_basis)
    else:
        assert (decision.allowed, decision.basis, decision.reason_code) == (False, Basis.NONE, refusal)
        assert "block" not in decision.reason.lower()  # the professional reads "nothing here"
        assert "emergency" not in decision.reason.lower()
