"""Caregivers on the web and in the API: invite, accept, stop, the home page, and the demo."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.access.models import AccessEvent
from apps.delegations import services
from apps.delegations.models import Delegation, Scope
from apps.notifications.models import OutboxMessage

TOKEN_IN_LINK = re.compile(r"/delegations/accept/([^/\s]+)/")


def caregivers_url(record) -> str:
    return f"/records/{record.uuid}/caregivers/"


def invite(alice, record, email, scopes=(Scope.READ_DOCUMENTS,), **fields):
    delegation, token = services.delegation_invite(actor=alice, record=record, email=email, scopes=list(scopes))
    if fields:
        Delegation.objects.filter(pk=delegation.pk).update(**fields)
        delegation.refresh_from_db()
    return delegation, token


def active(alice, record, bob, scopes=(Scope.READ_DOCUMENTS,)) -> Delegation:
    _delegation, token = invite(alice, record, bob.email, scopes)
    return services.delegation_accept(user=bob, token=token)


# --- the caregivers page -------------------------------------------------------------------------


def test_the_page_explains_and_lists_every_state(as_user, alice, alice_record, bob, charlie):
    active(alice, alice_record, bob, [Scope.READ_DOCUMENTS, Scope.READ_PROFILE])
    invite(alice, alice_record, "someone@example.test")
    stopped, _token = invite(alice, alice_record, charlie.email, revoked_at=timezone.now())
    response = as_user(alice).get(caregivers_url(alice_record))
    assert response.status_code == 200
    html = response.content.decode()
    assert "A caregiver acts for you within what you allow, until the date you choose." in html
    assert "Bob Martin" in html
    assert "read documents, read the medical profile" in html
    assert "Until you end it" in html
    for state in ("active", "waiting for acceptance", "stopped"):
        assert state in html
    # A "Stop" button for the active and the waiting ones only.
    assert html.count("/stop/") == 2
    assert f"/delegations/{stopped.uuid}/stop/" not in html


def test_the_record_page_links_to_it_for_the_person_only(as_user, alice, alice_record, bob):
    active(alice, alice_record, bob, [Scope.READ_DOCUMENTS, Scope.MANAGE_SETTINGS])
    assert caregivers_url(alice_record) in as_user(alice).get(f"/records/{alice_record.uuid}/").content.decode()
    page = as_user(bob).get(f"/records/{alice_record.uuid}/").content.decode()
    assert f"/records/{alice_record.uuid}/privacy/" in page  # bob may manage the settings…
    assert caregivers_url(alice_record) not in page  # …never the caregivers


def test_inviting_from_the_page_creates_it_and_sends_the_mail(as_user, alice, alice_record):
    day = timezone.localdate() + timedelta(days=30)
    response = as_user(alice).post(
        caregivers_url(alice_record),
        {"email": "Bob@Example.test", "scopes": [Scope.READ_DOCUMENTS, Scope.READ_PROFILE], "ends_on": day.isoformat()},
    )
    assert response.status_code == 302
    assert response.url == caregivers_url(alice_record)
    delegation = Delegation.objects.get()
    assert delegation.invited_email == "bob@example.test"
    assert delegation.scopes == [Scope.READ_DOCUMENTS, Scope.READ_PROFILE]
    assert timezone.localtime(delegation.expires_at).date() == day + timedelta(days=1)  # to the end of that day
    mail = OutboxMessage.objects.get(to=["bob@example.test"])
    assert TOKEN_IN_LINK.search(mail.body)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "alice@example.test", "scopes": [Scope.READ_DOCUMENTS]}, "You cannot invite yourself."),
        ({"email": "bob@example.test"}, "Choose at least one thing the caregiver may do."),
        ({"email": "bob@example.test", "scopes": ["delete_everything"]}, "is not one of the available choices"),
        (
            {"email": "bob@example.test", "scopes": [Scope.READ_DOCUMENTS], "ends_on": "2000-01-01"},
            "The end date cannot be in the past.",
        ),
        ({"email": "not an address", "scopes": [Scope.READ_DOCUMENTS]}, "Enter a valid email address."),
    ],
)
def test_each_refusal_is_said_on_the_page(as_user, alice, alice_record, data, message):
    response = as_user(alice).post(caregivers_url(alice_record), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Delegation.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_refusal_of_the_service_is_said_on_the_page(as_user, alice, alice_record, monkeypatch):
    def refuse(**kwargs):
        raise services.DelegationRefused("The end date must be in the future.")

    monkeypatch.setattr(services, "delegation_invite", refuse)
    response = as_user(alice).post(
        caregivers_url(alice_record), {"email": "bob@example.test", "scopes": [Scope.READ_DOCUMENTS]}
    )
    assert response.status_code == 400
    assert "The end date must be in the future." in response.content.decode()


def test_a_stranger_gets_a_404(as_user, alice_record, charlie):
    assert as_user(charlie).get(caregivers_url(alice_record)).status_code == 404
    response = as_user(charlie).post(
        caregivers_url(alice_record), {"email": "x@example.test", "scopes": [Scope.READ_DOCUMENTS]}
    )
    assert response.status_code == 404
    assert not Delegation.objects.exists()


def test_a_delegate_cannot_open_the_caregivers_page_and_it_is_journaled(as_user, alice, alice_record, bob):
    active(alice, alice_record, bob, Scope.values)
    assert as_user(bob).get(caregivers_url(alice_record)).status_code == 404
    assert AccessEvent.objects.filter(
        actor_uuid=bob.uuid, record_uuid=alice_record.uuid, action="delegation.manage", outcome="denied"
    ).exists()


def test_a_parent_manages_the_caregivers_of_a_child(as_user, alice, alice_child):
    response = as_user(alice).post(
        caregivers_url(alice_child), {"email": "bob@example.test", "scopes": [Scope.READ_PROFILE]}
    )
    assert response.status_code == 302
    assert Delegation.objects.get().record == alice_child


def test_stop_ends_it_at_once(as_user, alice, alice_record, bob):
    delegation = active(alice, alice_record, bob)
    response = as_user(alice).post(f"/delegations/{delegation.uuid}/stop/")
    assert response.status_code == 302
    assert response.url == caregivers_url(alice_record)
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None
    assert delegation.revoked_by == alice
    assert as_user(bob).get(f"/records/{alice_record.uuid}/").status_code == 404


def test_nobody_else_may_stop_it(as_user, alice, alice_record, bob, charlie):
    delegation = active(alice, alice_record, bob)
    assert as_user(charlie).post(f"/delegations/{delegation.uuid}/stop/").status_code == 404
    assert as_user(charlie).get(f"/delegations/{delegation.uuid}/stop/").status_code == 405
    delegation.refresh_from_db()
    assert delegation.revoked_at is None


# --- the invitation --------------------------------------------------------------------------------


def test_accept_page_says_who_for_whom_what_and_until_when(as_user, alice, alice_record, bob):
    _delegation, token = invite(alice, alice_record, bob.email, [Scope.READ_DOCUMENTS, Scope.READ_PROFILE])
    response = as_user(bob).get(f"/delegations/accept/{token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alice Martin invites you to act for them on the health record of Alice MARTIN." in html
    assert "Read documents" in html
    assert "Read the medical profile" in html
    assert "Until they end it." in html


def test_accept_page_needs_a_login_and_comes_back(client, alice, alice_record, bob):
    _delegation, token = invite(alice, alice_record, bob.email)
    response = client.get(f"/delegations/accept/{token}/")
    assert response.status_code == 302
    assert f"next=/delegations/accept/{token}/" in response.url


def test_accepting_opens_the_record(as_user, alice, alice_record, bob):
    delegation, token = invite(alice, alice_record, bob.email)
    client = as_user(bob)
    response = client.post(f"/delegations/accept/{token}/")
    assert response.status_code == 302
    assert response.url == f"/records/{alice_record.uuid}/"
    delegation.refresh_from_db()
    assert (delegation.delegate, delegation.accepted_at is not None) == (bob, True)
    assert client.get(response.url).status_code == 200
    # The link used again by the same person leads to the record.
    assert client.get(f"/delegations/accept/{token}/").status_code == 302


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("wrong_account", "This invitation was sent to another e-mail address."),
        ("expired", "This invitation has expired. Ask for a new one."),
        ("already_accepted", "This invitation was already accepted."),
        ("cancelled", "This invitation is not valid, or it was cancelled."),
        ("unknown", "This invitation is not valid, or it was cancelled."),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_refused_invitations_say_why_with_a_400(as_user, alice, alice_record, bob, charlie, case, method, message):
    email = bob.email if case == "already_accepted" else charlie.email
    delegation, token = invite(alice, alice_record, email)
    if case == "wrong_account":
        Delegation.objects.filter(pk=delegation.pk).update(invited_email=bob.email)
    elif case == "expired":
        Delegation.objects.filter(pk=delegation.pk).update(invitation_expires_at=timezone.now() - timedelta(minutes=1))
    elif case == "already_accepted":
        services.delegation_accept(user=bob, token=token)
    elif case == "cancelled":
        services.delegation_revoke(actor=alice, delegation_uuid=delegation.uuid)
    elif case == "unknown":
        token = "not-a-token"
    response = getattr(as_user(charlie), method)(f"/delegations/accept/{token}/")
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "Alice" not in html.split("<main", 1)[-1]  # a wrong account learns nothing of the record
    assert not Delegation.objects.active().filter(delegate=charlie).exists()


# --- the home page --------------------------------------------------------------------------------


def test_home_lists_the_record_helped_with_its_scopes_and_a_way_to_stop(as_user, alice, alice_record, bob):
    delegation = active(alice, alice_record, bob, [Scope.READ_DOCUMENTS, Scope.READ_PROFILE])
    client = as_user(bob)
    html = client.get("/").content.decode()
    assert f'href="/records/{alice_record.uuid}/"' in html
    assert "you help Alice" in html
    assert "You may: read documents, read the medical profile" in html
    assert "People you help" in html
    assert f"/delegations/{delegation.uuid}/stop/" in html

    response = client.post(f"/delegations/{delegation.uuid}/stop/")
    assert response.status_code == 302
    assert response.url == "/"
    delegation.refresh_from_db()
    assert delegation.revoked_by == bob
    html = client.get("/").content.decode()
    assert f"/records/{alice_record.uuid}/" not in html
    assert "People you help" not in html


def test_home_of_the_person_shows_no_helping_section(as_user, alice, alice_record, bob):
    active(alice, alice_record, bob)
    html = as_user(alice).get("/").content.decode()
    assert "your own record" in html
    assert "People you help" not in html
    assert "you help" not in html


# --- the API ------------------------------------------------------------------------------------


def test_api_round_trip(as_user, alice, alice_record, bob):
    alice_api, bob_api = as_user(alice), as_user(bob)
    url = f"/api/v1/records/{alice_record.uuid}/delegations/"
    response = alice_api.post(
        url, {"email": bob.email, "scopes": [Scope.READ_DOCUMENTS, Scope.READ_PROFILE]}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert "token" not in created
    assert created["state"] == "waiting"
    assert created["scopes"] == [Scope.READ_DOCUMENTS, Scope.READ_PROFILE]

    token = TOKEN_IN_LINK.search(OutboxMessage.objects.get(to=[bob.email]).body).group(1)
    response = bob_api.post("/api/v1/delegations/accept/", {"token": token}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["record"]["id"] == str(alice_record.uuid)

    mine = bob_api.get("/api/v1/delegations/mine/").json()
    assert [(m["record"]["given_names"], m["scopes"]) for m in mine] == [
        ("Alice", [Scope.READ_DOCUMENTS, Scope.READ_PROFILE])
    ]
    records = {r["id"]: r for r in bob_api.get("/api/v1/records/").json()}
    assert records[str(alice_record.uuid)]["access"] == {
        "basis": "delegation",
        "scopes": [Scope.READ_DOCUMENTS, Scope.READ_PROFILE],
    }
    assert records[str(bob.own_record.uuid)]["access"] is None

    listed = alice_api.get(url).json()
    assert [(d["id"], d["delegate"], d["state"]) for d in listed] == [(created["id"], "Bob Martin", "active")]
    assert bob_api.get(url).status_code == 404  # a caregiver never manages caregivers

    response = alice_api.post(f"/api/v1/delegations/{created['id']}/revoke/")
    assert response.status_code == 200
    assert response.json()["state"] == "revoked"
    assert str(alice_record.uuid) not in {r["id"] for r in bob_api.get("/api/v1/records/").json()}
    assert bob_api.get("/api/v1/delegations/mine/").json() == []


def test_api_records_list_costs_one_query_for_the_delegations(as_user, alice, alice_record, alice_child, bob):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    active(alice, alice_record, bob)
    active(alice, alice_child, bob)
    with CaptureQueriesContext(connection) as queries:
        response = as_user(bob).get("/api/v1/records/")
    assert len([r for r in response.json() if r["access"]]) == 2
    assert len([q for q in queries if 'FROM "delegations_delegation"' in q["sql"]]) <= 2  # the policy's, and ours


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"email": "alice@example.test", "scopes": ["read_documents"]}, "You cannot invite yourself."),
        ({"email": "bob@example.test", "scopes": []}, "Choose at least one thing the caregiver may do."),
        ({"email": "bob@example.test", "scopes": ["delete_everything"]}, "Choose at least one thing"),
        (
            {"email": "bob@example.test", "scopes": ["read_documents"], "expires_at": "2000-01-01T00:00:00Z"},
            "The end date must be in the future.",
        ),
    ],
)
def test_api_refusals_are_400_with_the_message(as_user, alice, alice_record, payload, message):
    response = as_user(alice).post(
        f"/api/v1/records/{alice_record.uuid}/delegations/", payload, content_type="application/json"
    )
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_api_accept_refusal_and_no_access(as_user, alice, alice_record, bob, charlie):
    _delegation, token = invite(alice, alice_record, bob.email)
    response = as_user(charlie).post("/api/v1/delegations/accept/", {"token": token}, content_type="application/json")
    assert response.status_code == 400
    assert "another e-mail address" in response.json()["detail"]
    delegation = active(alice, alice_record, bob)
    assert as_user(charlie).post(f"/api/v1/delegations/{delegation.uuid}/revoke/").status_code == 404
    assert as_user(charlie).get(f"/api/v1/records/{alice_record.uuid}/delegations/").status_code == 404


# --- the demo -------------------------------------------------------------------------------------


def test_seed_demo_restores_bobs_delegation_after_a_revocation(db, settings, tmp_path):
    settings.DEBUG = True
    settings.CORPUS_DIR = tmp_path / "no-corpus"  # the documents are not the point here
    call_command("seed_demo")
    bob_delegations = Delegation.objects.filter(
        delegate__email="bob@example.org", record__owner__email="alice@example.org"
    )
    first = bob_delegations.active().get()
    assert first.scopes == [Scope.READ_DOCUMENTS, Scope.READ_PROFILE]
    assert first.expires_at is None

    call_command("seed_demo")  # idempotent
    assert bob_delegations.get() == first

    services.delegation_revoke(actor=first.record.owner, delegation_uuid=first.uuid)
    call_command("seed_demo")
    restored = bob_delegations.active().get()
    assert restored != first
    first.refresh_from_db()
    assert first.revoked_at is not None  # the history stays
    assert bob_delegations.count() == 2
