"""Mandate pages and API: the desk flow, the person's and manager's lists, refusals (charlie: 404)."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.management import call_command

from apps.access.models import AccessEvent
from apps.assistance.models import Mandate, StructureManager
from apps.records.models import Record
from tests.assistance.helpers import code_sent_to, mandate_for, structure_manager
from tests.conftest import logged_in_client
from tests.factories import RecordFactory, UserFactory


def confirmed(sam, record, scopes=("upload_documents",)) -> Mandate:
    return mandate_for(sam, record, scopes, days=7)


def test_desk_flow_find_start_confirm_with_the_code_sent_to_the_person(as_user, sam, alice, alice_record):
    client = as_user(sam)
    assert client.get("/assistance/").status_code == 200
    response = client.post("/assistance/", {"family_name": "martin", "given_name": "Alice", "birth_date": "1979-03-12"})
    page = response.content.decode()
    assert "Alice" in page
    assert "The account is open." in page
    assert "documents" not in page.split("Start a mandate")[0].lower()
    assert AccessEvent.objects.filter(actor_uuid=sam.uuid, action="record.find", reason_code="found").exists()
    response = client.post("/assistance/start/", {"scopes": ["upload_documents"], "days": "30", "method": "email_code"})
    mandate = Mandate.objects.get()
    assert response.status_code == 302
    assert response.url == f"/assistance/mandates/{mandate.uuid}/confirm/"
    confirm_page = client.get(response.url)
    assert "add documents" in confirm_page.content.decode()
    wrong = client.post(response.url, {"code": "000000"})
    assert wrong.status_code == 400
    assert "Tries left: 4" in wrong.content.decode()
    ok = client.post(response.url, {"code": code_sent_to(alice.email)})
    assert ok.status_code == 302
    assert ok.url == "/assistance/mandates/"
    assert mandate.number in client.get("/assistance/mandates/").content.decode()
    assert client.get(f"/records/{alice_record.uuid}/upload/").status_code == 200


def test_desk_flow_on_paper_waits_for_the_managers_countersignature(as_user, sam):
    record = RecordFactory(family_name="Dupuis", given_names="Josette")
    manager = structure_manager(sam)
    client = as_user(sam)
    client.post(
        "/assistance/", {"family_name": "Dupuis", "given_name": "Josette", "birth_date": record.birth_date.isoformat()}
    )
    response = client.post(
        "/assistance/start/", {"scopes": ["upload_documents"], "days": "30", "method": "signed_paper"}
    )
    mandate = Mandate.objects.get()
    page = client.get(response.url).content.decode()
    assert "countersign" in page
    assert str(manager) in page
    assert client.get(f"/assistance/mandates/{mandate.uuid}/mandate.pdf")["Content-Type"] == "application/pdf"
    typed = client.post(response.url, {"code": mandate.number})
    assert typed.status_code == 400
    assert "You cannot confirm it yourself" in typed.content.decode()
    assert Mandate.objects.active().count() == 0
    boss = as_user(manager)
    assert mandate.number in boss.get("/assistance/structure/").content.decode()
    assert boss.post(f"/assistance/structure/{mandate.uuid}/countersign/").status_code == 302
    assert Mandate.objects.active().get().confirmed_by == manager
    assert client.get(f"/records/{record.uuid}/upload/").status_code == 200


def test_desk_finds_nobody_on_a_partial_identity(as_user, sam, alice_record):
    client = as_user(sam)
    response = client.post("/assistance/", {"family_name": "Martin", "given_name": "Al", "birth_date": "1979-03-12"})
    assert "Nobody matches" in response.content.decode()
    assert client.post("/assistance/start/", {"scopes": ["account_help"], "days": "1"}).status_code == 302
    assert not Mandate.objects.exists()


def test_start_refuses_an_unknown_duration(as_user, sam, alice_record):
    client = as_user(sam)
    client.post("/assistance/", {"family_name": "Martin", "given_name": "Alice", "birth_date": "1979-03-12"})
    response = client.post("/assistance/start/", {"scopes": ["account_help"], "days": "999", "method": "signed_paper"})
    assert response.status_code == 400
    assert not Mandate.objects.exists()


@pytest.mark.parametrize(
    "path", ["/assistance/", "/assistance/mandates/", "/assistance/structure/", "/assistance/start/"]
)
def test_charlie_gets_404_at_the_desk(as_user, charlie, path):
    client = as_user(charlie)
    response = client.post(path) if path.endswith("start/") else client.get(path)
    assert response.status_code == 404


def test_agent_without_verified_second_factor_is_sent_to_verify(sam):
    response = logged_in_client(sam, verified=False).get("/assistance/")
    assert response.status_code == 302
    assert "two-factor" in response.url


def test_charlie_cannot_see_confirm_print_or_revoke(as_user, sam, alice_record, charlie):
    mandate = confirmed(sam, alice_record)
    client = as_user(charlie)
    assert client.get(f"/records/{alice_record.uuid}/mandates/").status_code == 404
    assert client.get(f"/assistance/mandates/{mandate.uuid}/confirm/").status_code == 404
    assert client.get(f"/assistance/mandates/{mandate.uuid}/mandate.pdf").status_code == 404
    assert client.post(f"/mandates/{mandate.uuid}/revoke/").status_code == 404
    assert Mandate.objects.active().count() == 1


def test_the_agent_sees_no_mandate_page_of_the_record(as_user, sam, alice_record):
    confirmed(sam, alice_record)
    assert as_user(sam).get(f"/records/{alice_record.uuid}/mandates/").status_code == 404


def test_person_lists_and_stops_a_mandate(as_user, alice, alice_record, sam):
    mandate = confirmed(sam, alice_record)
    client = as_user(alice)
    page = client.get(f"/records/{alice_record.uuid}/mandates/").content.decode()
    assert "Sam Leroy" in page
    assert mandate.number in page
    assert "add documents" in page
    assert f"/records/{alice_record.uuid}/mandates/" in client.get(f"/records/{alice_record.uuid}/").content.decode()
    response = client.post(f"/mandates/{mandate.uuid}/revoke/")
    assert response.status_code == 302
    assert response.url == f"/records/{alice_record.uuid}/mandates/"
    assert Mandate.objects.active().count() == 0


def test_manager_lists_and_stops_the_structures_mandates(as_user, alice_record, sam):
    manager = UserFactory()
    StructureManager.objects.create(user=manager, structure=sam.support_structure)
    mandate = confirmed(sam, alice_record)
    client = as_user(manager)
    page = client.get("/assistance/structure/").content.decode()
    assert "Sam Leroy" in page
    assert "Alice" in page
    response = client.post(f"/mandates/{mandate.uuid}/revoke/")
    assert response.status_code == 302
    assert response.url == "/assistance/structure/"
    assert Mandate.objects.active().count() == 0


def test_api_round_trip(as_user, alice, alice_record, sam, charlie):
    agent = as_user(sam)
    created = agent.post(
        "/api/v1/mandates/",
        {"record": str(alice_record.uuid), "scopes": ["print_summary"], "days": 7, "method": "email_code"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == "waiting"
    assert body["scopes"] == ["print_summary"]
    confirm_url = f"/api/v1/mandates/{body['id']}/confirm/"
    assert agent.post(confirm_url, {"code": "nope"}, content_type="application/json").status_code == 400
    assert agent.post(confirm_url, {"code": body["number"]}, content_type="application/json").status_code == 400
    code = code_sent_to(alice.email)
    confirmed_body = agent.post(confirm_url, {"code": code}, content_type="application/json").json()
    assert confirmed_body["state"] == "active"
    assert [m["id"] for m in agent.get("/api/v1/mandates/mine/").json()] == [body["id"]]

    person = as_user(alice)
    listed = person.get(f"/api/v1/records/{alice_record.uuid}/mandates/").json()
    assert [m["id"] for m in listed] == [body["id"]]
    assert as_user(charlie).post(f"/api/v1/mandates/{body['id']}/revoke/").status_code == 404
    assert as_user(charlie).get(f"/api/v1/records/{alice_record.uuid}/mandates/").status_code == 404
    assert as_user(charlie).get("/api/v1/mandates/mine/").status_code == 404
    assert (
        as_user(charlie)
        .post(
            "/api/v1/mandates/",
            {"record": str(alice_record.uuid), "scopes": ["account_help"], "days": 1, "method": "signed_paper"},
            content_type="application/json",
        )
        .status_code
        == 404
    )
    revoked = person.post(f"/api/v1/mandates/{body['id']}/revoke/").json()
    assert revoked["state"] == "revoked"


def test_api_start_for_a_missing_record_is_404(as_user, sam):
    response = as_user(sam).post(
        "/api/v1/mandates/",
        {"record": str(uuid.uuid4()), "scopes": ["account_help"], "days": 1, "method": "signed_paper"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_seed_demo_restores_josettes_mandate(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    josette = Record.objects.get(family_name="Dupuis", given_names="Josette")
    first = Mandate.objects.active().get(record=josette)
    assert first.agent.email == "sam@example.org"
    assert josette.owner is None
    Mandate.objects.filter(pk=first.pk).update(revoked_at=first.created_at)  # revoked: stays as history
    call_command("seed_demo", stdout=io.StringIO())
    assert Mandate.objects.filter(record=josette).count() == 2
    assert Mandate.objects.active().filter(record=josette).count() == 1
    call_command("seed_demo", stdout=io.StringIO())
    assert Mandate.objects.filter(record=josette).count() == 2


def test_record_factory_without_owner_has_no_account(as_user, sam):
    record = RecordFactory(family_name="Dupuis", given_names="Josette")
    client = as_user(sam)
    page = client.post(
        "/assistance/", {"family_name": "Dupuis", "given_name": "Josette", "birth_date": record.birth_date.isoformat()}
    ).content.decode()
    assert "has no account" in page
