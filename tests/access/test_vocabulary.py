"""A closed vocabulary: every journaled act is an Action, with its sentence for the person."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apps.access.models import AccessEvent
from apps.access.policy import ACTION_BASES, Action, UnknownAction, authorize, decide, journal_note
from apps.access.refusals import RecordUnavailable
from apps.access.sentences import ACTION_PHRASES, entry_sentence
from apps.records import dependents
from tests.factories import DocumentFactory

APPS = Path(__file__).resolve().parents[2] / "apps"


@pytest.fixture
def josette(db):
    from tests.factories import RecordFactory

    return RecordFactory(owner=None, given_names="Josette", family_name="Dupuis")


@pytest.mark.parametrize("action", Action.values)
def test_every_action_has_a_sentence_done_and_tried(action):
    done, tried = ACTION_PHRASES[action]
    assert "%(object)s" in str(done)
    assert "%(object)s" in str(tried)


@pytest.mark.parametrize("action", Action.values)
def test_every_action_reads_as_a_sentence_without_its_code(alice, alice_record, action):
    event = AccessEvent(actor_uuid=alice.uuid, actor_label=str(alice), action=action, outcome="allowed", basis="owner")
    sentence = entry_sentence(event=event, reader=alice, record=alice_record)
    assert action not in sentence


def test_journaling_a_free_string_fails(alice, alice_record):
    with pytest.raises(UnknownAction):
        journal_note(actor=alice, record_uuid=alice_record.uuid, action="record.peek", allowed=True, reason_code="x")
    assert not AccessEvent.objects.filter(action="record.peek").exists()


def test_deciding_a_free_string_fails(alice, alice_record):
    with pytest.raises(UnknownAction):
        authorize(actor=alice, record=alice_record, action="document.peek")


def test_no_app_journals_an_action_by_its_string():
    pattern = re.compile(r"""\baction=f?["'][a-z_]+\.[a-z_{}.]+["']""")
    found = [
        f"{path.relative_to(APPS)}:{number}"
        for path in APPS.rglob("*.py")
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line) and "models.Q(" not in line
    ]
    assert found == []


@pytest.mark.parametrize(
    "value",
    [
        "record.find",
        "access_code.use",
        "document.confidential",
        "mandate.start",
        "mandate.confirm",
        "account.letter_posted",
        "account.letter_code",
        "account.second_factor",
        "record.handover",
    ],
)
def test_the_journals_former_free_strings_keep_their_stored_value(value):
    assert Action(value).value == value


# --- Acts that belong to some bases (policy.ACTION_BASES) ------------------------------------


def test_only_some_bases_may_do_the_restricted_acts():
    assert set(ACTION_BASES) == {Action.DOCUMENT_CONFIDENTIAL, Action.RECORD_INVITE, Action.MANDATE_COUNTERSIGN}


def test_keeping_a_document_from_the_parents_is_journaled_as_that_act_not_a_read(dr_martin, alice_child):
    from apps.access.models import CareRelationship

    CareRelationship.objects.create(professional=dr_martin, record=alice_child)
    document = DocumentFactory(record=alice_child, category="report")
    dependents.document_confidential_set(actor=dr_martin, document_uuid=document.uuid)
    decision = AccessEvent.objects.filter(actor_uuid=dr_martin.uuid, resource_uuid=document.uuid).order_by("seq")[0]
    assert (decision.action, decision.basis) == ("document.confidential", "care_relationship")
    assert not AccessEvent.objects.filter(actor_uuid=dr_martin.uuid, action="document.read").exists()


def test_a_professional_may_not_keep_a_masked_document_from_the_parents(dr_martin, alice_child):
    from apps.access.models import CareRelationship

    CareRelationship.objects.create(professional=dr_martin, record=alice_child)
    document = DocumentFactory(record=alice_child, category="report", masked=True)
    with pytest.raises(RecordUnavailable):
        dependents.document_confidential_set(actor=dr_martin, document_uuid=document.uuid)


def test_the_owner_of_an_adult_record_may_not_mark_documents_confidential(alice, alice_record):
    document = DocumentFactory(record=alice_record)
    assert decide(actor=alice, record=alice_record, action=Action.DOCUMENT_CONFIDENTIAL).allowed is False
    with pytest.raises(RecordUnavailable):
        dependents.document_confidential_set(actor=alice, document_uuid=document.uuid)


def test_only_a_parent_may_invite(alice, alice_child, alice_record):
    assert decide(actor=alice, record=alice_child, action=Action.RECORD_INVITE).allowed
    assert not decide(actor=alice, record=alice_record, action=Action.RECORD_INVITE).allowed


def test_a_structure_manager_countersigns_on_their_own_basis(sam, josette):
    from apps.assistance import services
    from tests.assistance.helpers import structure_manager

    manager = structure_manager(sam)
    mandate = services.mandate_start(agent=sam, record=josette, scopes=["account_help"], days=30, method="signed_paper")
    services.mandate_countersign(manager=manager, mandate_uuid=mandate.uuid)
    event = AccessEvent.objects.get(action=Action.MANDATE_COUNTERSIGN)
    assert (event.actor_uuid, event.basis, event.outcome) == (manager.uuid, "structure_manager", "allowed")


def test_a_structure_manager_opens_no_record(sam, josette):
    from tests.assistance.helpers import structure_manager

    manager = structure_manager(sam)
    assert not decide(actor=manager, record=josette, action=Action.RECORD_VIEW).allowed
