"""Breach 1 (an agent gave himself a mandate) and the mandate half of breach 16 (a scope grants exactly
what it names), through the real web pages and API."""

from __future__ import annotations

import pytest

from apps.access.models import AccessEvent
from apps.access.policy import Action, Resource, decide
from apps.assistance.models import Mandate, MandateScope, StructureManager
from tests.assistance.helpers import code_sent_to, mandate_for, structure_manager
from tests.factories import RecordFactory

PAPER = {"scopes": ["upload_documents"], "days": 30, "method": "signed_paper"}


@pytest.fixture
def josette(db):
    return RecordFactory(family_name="Dupuis", given_names="Josette")


def _start(client, record, **data):
    return client.post(
        "/api/v1/mandates/", {"record": str(record.uuid), **PAPER, **data}, content_type="application/json"
    )


def test_agent_cannot_confirm_his_own_paper_mandate_with_the_paper_number(as_user, sam, josette):
    structure_manager(sam)
    agent = as_user(sam)
    body = _start(agent, josette).json()
    api = agent.post(
        f"/api/v1/mandates/{body['id']}/confirm/", {"code": body["number"]}, content_type="application/json"
    )
    web = agent.post(f"/assistance/mandates/{body['id']}/confirm/", {"code": body["number"]})
    assert (api.status_code, web.status_code) == (400, 400)
    mandate = Mandate.objects.get()
    assert (mandate.confirmed_at, mandate.confirmed_by, mandate.tries) == (None, None, 0)
    assert not Mandate.objects.active().exists()
    assert (
        AccessEvent.objects.filter(
            actor_uuid=sam.uuid, action="mandate.confirm", outcome="denied", reason_code="needs_countersignature"
        ).count()
        == 2
    )
    assert not decide(actor=sam, record=josette, action=Action.RECORD_VIEW).allowed


def test_agent_cannot_use_paper_for_a_person_with_a_confirmed_email(as_user, sam, alice_record):
    structure_manager(sam)
    response = _start(as_user(sam), alice_record)
    assert response.status_code == 400
    assert "confirm the mandate themselves" in response.json()["detail"]
    assert not Mandate.objects.exists()


def test_the_code_goes_only_to_the_persons_email_and_never_to_the_agent(as_user, sam, alice, alice_record):
    agent = as_user(sam)
    response = _start(agent, alice_record, method="email_code")
    assert response.status_code == 201
    code = code_sent_to(alice.email)
    assert code not in response.content.decode()
    assert code not in agent.get(f"/assistance/mandates/{response.json()['id']}/confirm/").content.decode()


def test_agent_who_is_also_a_manager_cannot_countersign_his_own_mandate(as_user, sam, josette):
    StructureManager.objects.create(user=sam, structure=sam.support_structure)
    structure_manager(sam)
    agent = as_user(sam)
    body = _start(agent, josette).json()
    assert agent.post(f"/api/v1/mandates/{body['id']}/countersign/").status_code == 400
    agent.post(f"/assistance/structure/{body['id']}/countersign/")
    assert not Mandate.objects.active().exists()
    assert AccessEvent.objects.filter(actor_uuid=sam.uuid, reason_code="countersignature_refused").count() == 2
    assert body["id"] not in agent.get("/api/v1/mandates/to-countersign/").content.decode()


def test_a_paper_mandate_cannot_start_when_nobody_else_can_countersign(as_user, sam, josette):
    response = _start(as_user(sam), josette)
    assert response.status_code == 400
    assert "has none" in response.json()["detail"]
    assert not Mandate.objects.exists()


def test_a_manager_countersigns_and_the_journal_names_both(as_user, sam, josette):
    manager = structure_manager(sam)
    body = _start(as_user(sam), josette).json()
    boss = as_user(manager)
    assert [m["id"] for m in boss.get("/api/v1/mandates/to-countersign/").json()] == [body["id"]]
    response = boss.post(f"/api/v1/mandates/{body['id']}/countersign/")
    assert (response.status_code, response.json()["state"]) == (200, "active")
    event = AccessEvent.objects.get(action="mandate.confirm", outcome="allowed")
    assert event.actor_uuid == manager.uuid
    assert "Sam Leroy" in event.resource_label
    assert Mandate.objects.get().confirmed_by == manager


def test_a_stranger_cannot_countersign(as_user, sam, josette, charlie):
    structure_manager(sam)
    body = _start(as_user(sam), josette).json()
    assert as_user(charlie).post(f"/api/v1/mandates/{body['id']}/countersign/").status_code == 404
    assert as_user(charlie).post(f"/mandates/{body['id']}/accept/").status_code == 404
    assert not Mandate.objects.active().exists()


def test_the_person_confirms_a_waiting_mandate_on_their_own_page(as_user, sam, alice, alice_record):
    body = _start(as_user(sam), alice_record, method="email_code").json()
    person = as_user(alice)
    assert "Yes, I confirm this mandate" in person.get(f"/records/{alice_record.uuid}/mandates/").content.decode()
    person.post(f"/mandates/{body['id']}/accept/")
    assert Mandate.objects.active().get().confirmed_by == alice


def test_until_confirmed_the_agent_sees_only_name_and_account_state(as_user, sam, alice_record):
    mandate_for(sam, alice_record, MandateScope.values, confirm=False)
    for action in Action.values:
        assert not decide(actor=sam, record=alice_record, action=action).allowed, action
    agent = as_user(sam)
    assert agent.get(f"/api/v1/records/{alice_record.uuid}/account/").status_code == 404
    assert agent.get(f"/assistance/records/{alice_record.uuid}/account/").status_code == 404
    assert agent.get(f"/records/{alice_record.uuid}/").status_code == 404
    assert agent.get(f"/api/v1/records/{alice_record.uuid}/summary/").status_code == 404


# --- Breach 16: a scope grants exactly what it names ---------------------------------------------

SUMMARY_PDF = Resource("summary_pdf")
GRANTS = {
    MandateScope.ACCOUNT_HELP: {(Action.RECORD_LIST, None), (Action.RECORD_VIEW, None), (Action.ACCOUNT_HELP, None)},
    MandateScope.UPLOAD_DOCUMENTS: {
        (Action.RECORD_LIST, None),
        (Action.RECORD_VIEW, None),
        (Action.DOCUMENT_UPLOAD, None),
    },
    MandateScope.PRINT_SUMMARY: {
        (Action.RECORD_LIST, None),
        (Action.RECORD_VIEW, None),
        (Action.PROFILE_READ, "summary_pdf"),
    },
    MandateScope.READ_DOCUMENTS: {
        (Action.RECORD_LIST, None),
        (Action.RECORD_VIEW, None),
        (Action.DOCUMENT_LIST, None),
        (Action.DOCUMENT_READ, None),
    },
}


@pytest.mark.parametrize("resource", [None, "summary_pdf"])
@pytest.mark.parametrize("action", Action.values)
@pytest.mark.parametrize("scope", MandateScope.values)
def test_a_mandate_scope_grants_exactly_what_it_names(sam, alice_record, scope, action, resource):
    mandate_for(sam, alice_record, [scope])
    decision = decide(actor=sam, record=alice_record, action=action, resource=Resource(resource) if resource else None)
    expected = (action, None) in GRANTS[scope] or (action, resource) in GRANTS[scope]
    assert decision.allowed is expected


def test_print_summary_only_cannot_read_the_profile_or_documents_over_http(as_user, sam, alice_record):
    mandate_for(sam, alice_record, [MandateScope.PRINT_SUMMARY])
    agent = as_user(sam)
    assert agent.get(f"/api/v1/records/{alice_record.uuid}/summary/").status_code == 404
    assert agent.get(f"/api/v1/records/{alice_record.uuid}/profile/facts/").status_code == 404
    assert agent.get(f"/api/v1/records/{alice_record.uuid}/documents/").status_code == 404
    assert AccessEvent.objects.filter(actor_uuid=sam.uuid, action=Action.PROFILE_READ, outcome="denied").exists()
    made = agent.post(f"/api/v1/records/{alice_record.uuid}/summary/pdf/")
    assert made.status_code in (200, 201, 202), made.content


# --- Re-authentication before a mandate is started or countersigned (breach 13) ---------------

REAUTHENTICATE = "/accounts/reauthenticate/"


def _stale(user):
    from tests.conftest import logged_in_client

    return logged_in_client(user, reauthenticated=False)


def test_starting_a_mandate_through_the_api_in_a_stale_session_is_refused(sam, josette):
    structure_manager(sam)

    response = _start(_stale(sam), josette)

    assert response.status_code == 403
    assert not Mandate.objects.exists()


def test_starting_a_mandate_on_the_desk_in_a_stale_session_asks_the_password(sam, josette):
    structure_manager(sam)

    response = _stale(sam).post("/assistance/start/", {"scopes": ["upload_documents"], "days": 30})

    assert response.status_code == 302
    assert response["Location"].startswith(REAUTHENTICATE)
    assert not Mandate.objects.exists()


def test_countersigning_in_a_stale_session_is_refused_on_the_page_and_the_api(as_user, sam, josette):
    manager = structure_manager(sam)
    body = _start(as_user(sam), josette).json()
    boss = _stale(manager)

    api = boss.post(f"/api/v1/mandates/{body['id']}/countersign/")
    web = boss.post(f"/assistance/structure/{body['id']}/countersign/")

    assert api.status_code == 403
    assert web["Location"].startswith(REAUTHENTICATE)
    mandate = Mandate.objects.get()
    assert (mandate.confirmed_at, mandate.confirmed_by) == (None, None)
