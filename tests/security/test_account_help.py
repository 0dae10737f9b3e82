"""Breach 2: "help with the account" let the agent take the account over. A code that changes an
existing account now reaches the person through a channel the agent does not control; the person
sees every such act at their next login and can say "this wasn't me"."""

from __future__ import annotations

import io
import re

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.test import Client

from apps.access.models import AccessEvent
from apps.assistance.letters import services as letters
from apps.assistance.models import AccountLetter, Mandate, PasswordChangeRequired, PostalAddress
from apps.notifications.models import OutboxMessage
from tests.assistance.helpers import mandate_for
from tests.factories import PASSWORD, RecordFactory, UserFactory, totp_device

CODE = re.compile(r"\b([A-Z0-9]{5}-[A-Z0-9]{5})\b")


@pytest.fixture
def revoked(monkeypatch):
    """Every credentials_revoke_all call, by reason (apps.accounts.credentials, owned by the OAuth work)."""
    from apps.accounts import credentials

    calls: list[tuple[int, str]] = []
    real = credentials.credentials_revoke_all

    def spy(*, user, reason):
        calls.append((user.pk, reason))
        return real(user=user, reason=reason)

    monkeypatch.setattr(credentials, "credentials_revoke_all", spy)
    return calls


def _code_mailed_to(email: str) -> str:
    for message in OutboxMessage.objects.filter(to=[email]).order_by("-pk"):
        if found := CODE.search(message.body):
            return found.group(1)
    raise AssertionError("no code")


def test_agent_cannot_read_a_new_password_code_for_an_existing_account(as_user, sam, alice, alice_record):
    mandate_for(sam, alice_record, ["account_help"])
    agent = as_user(sam)
    web = agent.post(f"/assistance/records/{alice_record.uuid}/account/letter.pdf")
    api = agent.post(f"/api/v1/records/{alice_record.uuid}/account/letter/")
    assert web.status_code == 302
    assert web["Content-Type"].startswith("text/html")
    assert api.status_code == 202
    assert api["Content-Type"] == "application/json"
    code = _code_mailed_to(alice.email)
    for response in (web, api, agent.get(f"/assistance/records/{alice_record.uuid}/account/")):
        assert code not in response.content.decode()
        assert code.replace("-", "") not in response.content.decode()
    assert {letter.channel for letter in AccountLetter.objects.all()} == {"email"}


def test_without_email_the_letter_is_posted_and_its_code_made_only_at_print_time(as_user, sam, tmp_path):
    owner = UserFactory(email="", verified_email=False, login_id="rene.petit")
    record = RecordFactory(owner=owner, family_name="Petit", given_names="René")
    PostalAddress.objects.create(record=record, lines="René Petit\n3 rue des Lilas\n75011 Paris")
    mandate_for(sam, record, ["account_help"])
    response = as_user(sam).post(f"/api/v1/records/{record.uuid}/account/letter/")
    assert response.status_code == 202
    letter = AccountLetter.objects.get()
    assert (letter.channel, letter.code_hash, letter.state()) == ("post", "", "queued")
    with pytest.raises(letters.LetterRefused):
        letters.letter_check(login_id="rene.petit", code="")
    call_command("print_postal_letters", "--out", str(tmp_path), stdout=io.StringIO())
    (pdf,) = tmp_path.iterdir()
    assert oct(pdf.stat().st_mode & 0o777) == "0o600"
    letter.refresh_from_db()
    assert letter.code_hash
    assert letter.printed_at
    assert AccessEvent.objects.filter(action="account.letter_posted", resource_uuid=letter.uuid).exists()


def test_no_confirmed_email_and_no_address_means_no_letter_for_an_existing_account(as_user, sam):
    owner = UserFactory(email="", verified_email=False, login_id="jean.roux")
    record = RecordFactory(owner=owner)
    mandate_for(sam, record, ["account_help"])
    response = as_user(sam).post(f"/api/v1/records/{record.uuid}/account/letter/")
    assert response.status_code == 400
    assert not AccountLetter.objects.exists()


def test_second_factor_reset_does_not_take_effect_on_the_agents_word(as_user, sam, alice, alice_record, revoked):
    totp_device(alice)
    mandate_for(sam, alice_record, ["account_help"])
    assert as_user(sam).post(f"/api/v1/records/{alice_record.uuid}/account/second-factor-reset/").status_code == 202
    assert alice.totpdevice_set.exists()
    person = Client()
    code = _code_mailed_to(alice.email)
    login_id = AccountLetter.objects.get().login_id
    person.post("/activate/", {"login_id": login_id, "code": code})
    wrong = person.post("/activate/password/", {"password1": "not her password"})
    assert wrong.status_code == 400
    assert alice.totpdevice_set.exists()
    assert AccountLetter.objects.get().tries == 1
    person.post("/activate/password/", {"password1": PASSWORD})
    assert not alice.totpdevice_set.exists()
    assert (alice.pk, "second_factor_changed") in revoked


def test_a_letter_reset_revokes_the_credentials(as_user, sam, alice, alice_record, revoked):
    mandate_for(sam, alice_record, ["account_help"])
    as_user(sam).post(f"/api/v1/records/{alice_record.uuid}/account/letter/")
    person = Client()
    person.post("/activate/", {"login_id": AccountLetter.objects.get().login_id, "code": _code_mailed_to(alice.email)})
    person.post(
        "/activate/password/", {"password1": "a quiet garden in spring", "password2": "a quiet garden in spring"}
    )
    assert (alice.pk, "letter_reset") in revoked


def test_the_person_sees_the_acts_at_next_login_and_this_wasnt_me_ends_everything(
    as_user, sam, alice, alice_record, revoked
):
    mandate = mandate_for(sam, alice_record, ["account_help"])
    letters.letter_print(agent=sam, record=alice_record)
    person = Client()
    login = person.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    assert login.status_code == 302
    assert person.get("/").url == "/account/support-acts/"
    page = person.get("/account/support-acts/").content.decode()
    assert "Sam Leroy" in page
    assert "a new password" in page
    disputed = person.post("/account/support-acts/", {"answer": "not_me"})
    assert disputed.url == "/accounts/password/change/"
    mandate.refresh_from_db()
    assert (mandate.state(), mandate.end_reason, mandate.revoked_by) == ("revoked", "disputed", alice)
    assert AccountLetter.objects.get().cancelled_at is not None
    assert (alice.pk, "disputed") in revoked
    assert AccessEvent.objects.filter(
        actor_uuid=alice.uuid, reason_code="disputed", resource_uuid=mandate.uuid
    ).exists()
    # Nothing else before a new password, even after logging in again.
    assert person.get(f"/records/{alice_record.uuid}/").url == "/accounts/password/change/"
    again = Client()
    again.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    assert again.get("/").url == "/accounts/password/change/"
    again.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "a brand new sentence", "password2": "a brand new sentence"},
    )
    assert not PasswordChangeRequired.objects.filter(user=alice).exists()
    assert again.get(f"/records/{alice_record.uuid}/").status_code == 200


def test_it_was_me_lets_the_person_go_on(sam, alice, alice_record):
    mandate_for(sam, alice_record, ["account_help"])
    letters.letter_print(agent=sam, record=alice_record)
    person = Client()
    person.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    person.post("/account/support-acts/", {"answer": "ok"})
    assert person.get(f"/records/{alice_record.uuid}/").status_code == 200
    assert Mandate.objects.active().count() == 1


def test_activation_is_rate_limited_by_allauths_limiter(db):
    responses = [
        Client().post(
            "/api/v1/activation/",
            {"login_id": "someone", "code": "AAAAA-AAAAA", "password": "whatever it is"},
            content_type="application/json",
        )
        for _ in range(6)
    ]
    assert [r.status_code for r in responses] == [400] * 5 + [429]


def test_a_first_activation_stays_printed_at_the_desk(as_user, sam):
    record = RecordFactory(family_name="Dupuis", given_names="Josette")
    mandate_for(sam, record, ["account_help"])
    response = as_user(sam).post(f"/assistance/records/{record.uuid}/account/letter.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert AccountLetter.objects.get().channel == "desk"
    assert not EmailAddress.objects.filter(user__own_record=record).exists()
