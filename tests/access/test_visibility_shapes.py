"""One rule, two shapes: each restriction answers for one document and, as a filter, for lists;
``documents_visible_to`` and ``facts_visible_to`` are the lists. They must agree on every actor
kind and every document flag; and the pages that listed documents by hand (privacy page,
directives) show only what the reader may list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.access.door import document_resource
from apps.access.models import AccessEvent, CareRelationship, EmergencyAccess
from apps.access.policy import Action, _restrictions, authorize, decide
from apps.accounts.models import Profession
from apps.clinical.models import ClinicalFact
from apps.clinical.selectors import facts_visible_to
from apps.consents.directives.services import directives_update
from apps.consents.privacy.services import designated_doctor_set
from apps.delegations import services as delegations
from apps.delegations.models import Delegation, Scope
from apps.records.models import Document, Record
from apps.records.selectors import documents_visible_to
from tests.factories import DocumentFactory, ProfessionalFactory, UserFactory, totp_device

pytestmark = pytest.mark.django_db

# Each document flag the rules look at; "imaging" is outside a nurse's categories.
FLAGS = {
    "plain": {},
    "masked": {"masked": True},
    "confidential": {"confidential_from_parents": True},
    "masked_and_confidential": {"masked": True, "confidential_from_parents": True},
    "imaging": {"category": "imaging"},
}
ACTOR_KINDS = ["owner", "parent", "caregiver", "nurse_caring", "nurse_caring_for_child", "designated", "emergency"]


@dataclass
class Seen:
    actor: object
    record: Record
    documents: dict[str, Document]


def _documents(record: Record) -> dict[str, Document]:
    return {
        flag: DocumentFactory(record=record, title=f"{flag} of {record.given_names}", **{"category": "report", **extra})
        for flag, extra in FLAGS.items()
    }


def _caregiver(owner, record: Record, scopes: list[str]):
    helper = UserFactory()
    delegation, _token = delegations.delegation_invite(actor=owner, record=record, email=helper.email, scopes=scopes)
    Delegation.objects.filter(pk=delegation.pk).update(delegate=helper, accepted_at=timezone.now())
    return helper


def _nurse():
    nurse = ProfessionalFactory(profession=Profession.NURSE)
    totp_device(nurse)
    return nurse


@pytest.fixture
def world(alice, alice_record, alice_child):
    """Every actor kind, each with the record it reaches and that record's documents (one per flag)."""
    own, child = _documents(alice_record), _documents(alice_child)
    caring, caring_for_child, designated, emergency = _nurse(), _nurse(), _nurse(), ProfessionalFactory()
    CareRelationship.objects.create(professional=caring, record=alice_record)
    CareRelationship.objects.create(professional=caring_for_child, record=alice_child)
    designated_doctor_set(actor=alice, record=alice_record, professional=designated)
    EmergencyAccess.objects.create(
        professional=emergency, record=alice_record, justification="x", expires_at=timezone.now() + timedelta(hours=1)
    )
    return {
        "owner": Seen(alice, alice_record, own),
        "parent": Seen(alice, alice_child, child),
        "caregiver": Seen(_caregiver(alice, alice_record, [Scope.READ_DOCUMENTS]), alice_record, own),
        "nurse_caring": Seen(caring, alice_record, own),
        "nurse_caring_for_child": Seen(caring_for_child, alice_child, child),
        "designated": Seen(designated, alice_record, own),
        "emergency": Seen(emergency, alice_record, own),
    }


# What the rules say, written out: who may see which flag (not a copy of the code).
EXPECTED_HIDDEN = {
    "owner": set(),
    "parent": {"confidential", "masked_and_confidential"},
    "caregiver": set(),
    "nurse_caring": {"masked", "masked_and_confidential", "imaging"},
    "nurse_caring_for_child": {"masked", "masked_and_confidential", "imaging"},
    "designated": {"imaging"},  # a designated doctor sees hidden documents, within their profession
    "emergency": {"masked", "masked_and_confidential"},
}


@pytest.mark.parametrize("kind", ACTOR_KINDS)
@pytest.mark.parametrize("rule", range(4), ids=lambda i: f"rule{i}")
def test_each_rule_answers_alike_for_one_document_and_for_the_list(world, kind, rule):
    restriction = _restrictions()[rule]
    seen = world[kind]
    decision = decide(actor=seen.actor, record=seen.record, action=Action.DOCUMENT_LIST)
    assert decision.allowed
    scope = restriction.scope(seen.actor, decision)
    for flag, document in seen.documents.items():
        one = restriction.restrict(
            seen.actor, seen.record, Action.DOCUMENT_READ, document_resource(document), decision, {}
        )
        listed = Document.objects.filter(pk=document.pk).filter(scope).exists()
        assert (one is None) == listed, (type(restriction).__name__, kind, flag)


def test_the_rules_are_listed_once_in_settings(settings):
    names = [type(rule).__name__ for rule in _restrictions()]
    assert names == [
        "PersonsRestrictions",
        "ConfidentialFromParents",
        "MaskedFromProfessionals",
        "ProfessionMatrix",
    ]
    assert len(settings.ACCESS_POLICY_RESTRICTIONS) == len(names)


@pytest.mark.parametrize("kind", ACTOR_KINDS)
def test_the_list_holds_exactly_the_documents_the_policy_lets_the_actor_open(world, kind):
    seen = world[kind]
    listed = set(documents_visible_to(actor=seen.actor, record=seen.record).values_list("pk", flat=True))
    for flag, document in seen.documents.items():
        opened = decide(
            actor=seen.actor, record=seen.record, action=Action.DOCUMENT_READ, resource=document_resource(document)
        ).allowed
        assert opened == (document.pk in listed), (kind, flag)
        assert opened == (flag not in EXPECTED_HIDDEN[kind]), (kind, flag)


@pytest.mark.parametrize("kind", ["owner", "parent", "nurse_caring", "designated", "emergency"])
def test_facts_are_those_of_the_visible_documents_and_those_the_person_declared(world, kind):
    seen = world[kind]
    for document in seen.documents.values():
        ClinicalFact.objects.create(record=seen.record, source_document=document, kind="allergy", display="Latex")
    declared = ClinicalFact.objects.create(record=seen.record, kind="allergy", display="Pollen")
    refused = DocumentFactory(record=seen.record, category="report", status="rejected")
    ClinicalFact.objects.create(record=seen.record, source_document=refused, kind="allergy", display="Arachide")

    facts = facts_visible_to(actor=seen.actor, record=seen.record)

    expected = {flag for flag in seen.documents if flag not in EXPECTED_HIDDEN[kind]}
    assert {fact.source_document.title.split(" of ")[0] for fact in facts if fact.source_document} == expected
    assert declared in facts


def test_a_list_is_never_drawn_under_a_decision_taken_for_something_else(alice, alice_record):
    settings_decision = authorize(actor=alice, record=alice_record, action=Action.SETTINGS_READ)
    with pytest.raises(ValueError, match=r"document\.list"):
        documents_visible_to(actor=alice, record=alice_record, decision=settings_decision)
    with pytest.raises(ValueError, match=r"profile\.read"):
        facts_visible_to(actor=alice, record=alice_record, decision=settings_decision)


def test_a_caregiver_without_document_rights_lists_nothing_and_the_refusal_is_journaled(alice, alice_record):
    DocumentFactory(record=alice_record)
    helper = _caregiver(alice, alice_record, [Scope.MANAGE_SETTINGS])

    assert not documents_visible_to(actor=helper, record=alice_record).exists()
    assert AccessEvent.objects.filter(actor_uuid=helper.uuid, action=Action.DOCUMENT_LIST, outcome="denied").exists()


# --- The review's probes, through HTTP -----------------------------------------------------------


def test_privacy_page_hides_hidden_documents_titles_from_a_settings_only_caregiver(as_user, alice, alice_record):
    DocumentFactory(record=alice_record, title="Sérologie secrète", masked=True)
    helper = _caregiver(alice, alice_record, [Scope.MANAGE_SETTINGS])
    client = as_user(helper)

    page = client.get(f"/records/{alice_record.uuid}/privacy/")
    api = client.get(f"/api/v1/records/{alice_record.uuid}/privacy/")

    assert page.status_code == api.status_code == 200
    assert "Sérologie secrète" not in page.content.decode()
    assert api.json()["masked_documents"] == []


def test_privacy_page_still_lists_the_owners_hidden_documents(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record, title="Sérologie secrète", masked=True)
    client = as_user(alice)

    assert "Sérologie secrète" in client.get(f"/records/{alice_record.uuid}/privacy/").content.decode()
    api = client.get(f"/api/v1/records/{alice_record.uuid}/privacy/").json()
    assert api["masked_documents"] == [str(document.uuid)]


def _linked(alice, record, **flags) -> Document:
    document = DocumentFactory(record=record, title="Mes directives signées", category="report", **flags)
    directives_update(actor=alice, record=record, trusted_person_name="Bob", advance_directives_document=document)
    if flags:
        Document.objects.filter(pk=document.pk).update(**flags)
    return document


def test_directives_page_hides_the_linked_title_from_a_caregiver_without_document_rights(as_user, alice, alice_record):
    document = _linked(alice, alice_record)
    helper = _caregiver(alice, alice_record, [Scope.READ_PROFILE])
    client = as_user(helper)

    page = client.get(f"/records/{alice_record.uuid}/directives/")
    api = client.get(f"/api/v1/records/{alice_record.uuid}/directives/")

    assert page.status_code == api.status_code == 200
    assert "Bob" in page.content.decode()  # the directives themselves are theirs to read
    assert "Mes directives signées" not in page.content.decode()
    assert str(document.uuid) not in page.content.decode()
    assert api.json()["advance_directives_document"] is None


def test_directives_page_hides_the_linked_title_from_a_professional_it_is_hidden_from(
    as_user, alice, alice_record, dr_martin
):
    document = _linked(alice, alice_record)
    Document.objects.filter(pk=document.pk).update(masked=True)
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    client = as_user(dr_martin)

    page = client.get(f"/records/{alice_record.uuid}/directives/")
    api = client.get(f"/api/v1/records/{alice_record.uuid}/directives/")

    assert page.status_code == api.status_code == 200
    assert "Bob" in page.content.decode()
    assert "Mes directives signées" not in page.content.decode()
    assert api.json()["advance_directives_document"] is None


def test_directives_page_shows_the_linked_title_to_a_professional_who_may_see_it(
    as_user, alice, alice_record, dr_martin
):
    _linked(alice, alice_record)
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)

    page = as_user(dr_martin).get(f"/records/{alice_record.uuid}/directives/")

    assert "Mes directives signées" in page.content.decode()


def test_directives_drop_down_hides_from_parents_the_documents_confidential_from_them(as_user, alice, alice_child):
    DocumentFactory(
        record=alice_child, title="Consultation confidentielle", category="report", confidential_from_parents=True
    )
    DocumentFactory(record=alice_child, title="Compte rendu ordinaire", category="report")

    page = as_user(alice).get(f"/records/{alice_child.uuid}/directives/").content.decode()

    assert "Compte rendu ordinaire" in page
    assert "Consultation confidentielle" not in page


def test_a_parent_saving_the_directives_keeps_a_link_they_cannot_see(as_user, alice, alice_child):
    hidden = DocumentFactory(record=alice_child, category="report", confidential_from_parents=True)
    from apps.consents.models import PersonalDirectives

    PersonalDirectives.objects.create(record=alice_child, advance_directives_document=hidden)

    response = as_user(alice).post(
        f"/records/{alice_child.uuid}/directives/", {"trusted_person_name": "Bob", "organ_donation": "not_stated"}
    )

    assert response.status_code == 302
    directives = PersonalDirectives.objects.get(record=alice_child)
    assert (directives.trusted_person_name, directives.advance_directives_document_id) == ("Bob", hidden.pk)


def test_a_fact_of_a_document_confidential_from_the_parents_is_refused_to_them_one_by_one(alice, alice_child):
    from apps.access.refusals import RecordUnavailable
    from apps.clinical.profile import fact_get_for

    hidden = DocumentFactory(record=alice_child, category="report", confidential_from_parents=True)
    fact = ClinicalFact.objects.create(record=alice_child, source_document=hidden, kind="allergy", display="Latex")

    with pytest.raises(RecordUnavailable):
        fact_get_for(actor=alice, fact_uuid=fact.uuid)


def test_a_summary_pdf_made_by_the_owner_is_refused_to_a_professional_a_document_is_hidden_from(
    as_user, alice, alice_record, dr_martin
):
    from apps.summaries import exports

    DocumentFactory(record=alice_record, category="report", masked=True)
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    export = exports.summary_export_request(actor=alice, record=alice_record)

    assert as_user(dr_martin).get(f"/summary-exports/{export.uuid}/download/").status_code == 404


def test_a_summary_pdf_made_by_the_owner_reaches_a_professional_who_sees_every_document(
    as_user, alice, alice_record, dr_martin
):
    from apps.summaries import exports

    DocumentFactory(record=alice_record, category="report")
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    export = exports.summary_export_request(actor=alice, record=alice_record)

    assert as_user(dr_martin).get(f"/summary-exports/{export.uuid}/download/").status_code == 200
