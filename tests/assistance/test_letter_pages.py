"""Account help pages and API: the agent's account page, the activation pages at home, refusals."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from apps.access.models import AccessEvent
from apps.accounts.models import User
from apps.assistance.models import AccountLetter, MandateScope
from tests.accounts.helpers import text_of
from tests.assistance.test_letters import PASSWORD, code_in, mandate_for
from tests.factories import RecordFactory, SupportAgentFactory, totp_device
from tests.security.oauth_helpers import bearer_client


@pytest.fixture
def josette(db):
    return RecordFactory(owner=None, given_names="Josette", family_name="Dupuis", sex="F")


def print_letter(client: Client, record) -> tuple[str, str]:
    response = client.post(f"/assistance/records/{record.uuid}/account/letter.pdf")
    assert response["Content-Type"] == "application/pdf"
    letter = AccountLetter.objects.get(record=record, used_at__isnull=True, cancelled_at__isnull=True)
    return letter.login_id, code_in(response.content)


# --- The agent -----------------------------------------------------------------------------------


def test_agent_sees_the_account_state_and_prints_the_activation_letter(as_user, sam, josette):
    mandate_for(sam, josette)
    client = as_user(sam)
    page = text_of(client.get(f"/assistance/records/{josette.uuid}/account/"))
    assert "This person has no account yet." in page
    assert "Print the activation letter (PDF)" in page
    login_id, _code = print_letter(client, josette)
    assert login_id == "josette.dupuis"
    assert "Activation of a new account" in text_of(client.get(f"/assistance/records/{josette.uuid}/account/"))


def test_my_mandates_links_to_account_help_only_with_that_scope(as_user, sam, josette, alice_record):
    mandate_for(sam, josette)
    mandate_for(sam, alice_record, [MandateScope.UPLOAD_DOCUMENTS])
    page = as_user(sam).get("/assistance/mandates/").content.decode()
    assert f"/assistance/records/{josette.uuid}/account/" in page
    assert f"/assistance/records/{alice_record.uuid}/account/" not in page


def test_a_mandate_without_account_help_shows_the_state_but_no_action(as_user, sam, alice_record):
    mandate_for(sam, alice_record, [MandateScope.UPLOAD_DOCUMENTS])
    client = as_user(sam)
    page = text_of(client.get(f"/assistance/records/{alice_record.uuid}/account/"))
    assert "does not include help with the account" in page
    assert "Print" not in page
    assert client.post(f"/assistance/records/{alice_record.uuid}/account/letter.pdf").status_code == 404
    assert not AccountLetter.objects.exists()


@pytest.mark.parametrize("who", ["patient", "other_agent"])
def test_others_get_a_404_and_the_attempt_is_journaled(as_user, charlie, josette, sam, who):
    mandate_for(sam, josette)
    actor = charlie
    if who == "other_agent":
        actor = SupportAgentFactory(support_structure=sam.support_structure)
        totp_device(actor)
    client = as_user(actor)
    assert client.get(f"/assistance/records/{josette.uuid}/account/").status_code == 404
    assert client.post(f"/assistance/records/{josette.uuid}/account/letter.pdf").status_code == 404
    assert client.post(f"/assistance/records/{josette.uuid}/account/second-factor/").status_code == 404
    assert not AccountLetter.objects.exists()
    if who == "other_agent":
        assert AccessEvent.objects.filter(actor_uuid=actor.uuid, action="account.help", outcome="denied").exists()


def test_agent_resets_the_second_factor_from_the_page(as_user, sam, alice, alice_record):
    totp_device(alice)
    mandate_for(sam, alice_record)
    client = as_user(sam)
    assert "Reset two-step verification" in text_of(client.get(f"/assistance/records/{alice_record.uuid}/account/"))
    response = client.post(f"/assistance/records/{alice_record.uuid}/account/second-factor/", follow=True)
    assert "The code was sent to the person's confirmed e-mail." in text_of(response)
    assert alice.totpdevice_set.exists()  # the person completes it themselves


def test_a_professional_account_reset_is_refused_with_a_message(as_user, sam, dr_martin):
    record = RecordFactory(owner=dr_martin)
    mandate_for(sam, record)
    response = as_user(sam).post(f"/assistance/records/{record.uuid}/account/second-factor/", follow=True)
    assert "This account must keep two-step verification." in text_of(response)
    assert dr_martin.totpdevice_set.exists()


# --- The person, at home -------------------------------------------------------------------------


def test_person_opens_the_account_with_the_letter_then_logs_in(as_user, sam, josette):
    mandate_for(sam, josette)
    login_id, code = print_letter(as_user(sam), josette)
    person = Client()
    assert "A support desk gave you a letter" in text_of(person.get("/accounts/login/"))
    assert person.get("/activate/").status_code == 200
    step1 = person.post("/activate/", {"login_id": login_id, "code": code})
    assert step1.status_code == 302
    assert step1.url == "/activate/password/"
    step2 = person.post("/activate/password/", {"password1": PASSWORD, "password2": PASSWORD, "email": ""})
    assert step2.status_code == 302
    assert step2.url == "/accounts/login/"
    login_page = text_of(person.get("/accounts/login/"))
    assert "Your account is ready. Log in with your identifier josette.dupuis and your new password." in login_page
    login = person.post("/accounts/login/", {"login": login_id, "password": PASSWORD})
    assert login.status_code == 302
    assert "Josette" in text_of(person.get("/"))


def test_a_wrong_code_shows_the_error_and_keeps_the_letter(as_user, sam, josette):
    mandate_for(sam, josette)
    login_id, _code = print_letter(as_user(sam), josette)
    response = Client().post("/activate/", {"login_id": login_id, "code": "AAAAA-AAAAA"})
    assert response.status_code == 400
    assert "This identifier and this code do not match a letter in force." in text_of(response)
    letter = AccountLetter.objects.get()
    assert (letter.tries, letter.state()) == (1, "open")


def test_empty_fields_are_named(db):
    response = Client().post("/activate/", {"login_id": "", "code": ""})
    assert response.status_code == 400
    assert text_of(response).count("This field is required.") == 2


def test_the_password_step_needs_the_code_first(db):
    response = Client().get("/activate/password/", follow=True)
    assert response.redirect_chain[-1][0] == "/activate/"
    assert "Type the identifier and the code of your letter first." in text_of(response)


def test_two_different_passwords_are_refused_and_nothing_is_written(as_user, sam, josette):
    mandate_for(sam, josette)
    login_id, code = print_letter(as_user(sam), josette)
    person = Client()
    person.post("/activate/", {"login_id": login_id, "code": code})
    response = person.post("/activate/password/", {"password1": PASSWORD, "password2": PASSWORD + "!"})
    assert response.status_code == 400
    assert "The two passwords are not the same." in text_of(response)
    josette.refresh_from_db()
    assert josette.owner is None
    assert not User.objects.filter(login_id=login_id).exists()


def test_a_weak_password_is_explained_on_the_page(as_user, sam, josette):
    mandate_for(sam, josette)
    login_id, code = print_letter(as_user(sam), josette)
    person = Client()
    person.post("/activate/", {"login_id": login_id, "code": code})
    response = person.post("/activate/password/", {"password1": "short", "password2": "short"})
    assert response.status_code == 400
    assert "This password is too short." in text_of(response)
    assert AccountLetter.objects.get().state() == "open"


def test_guessing_from_one_address_is_slowed_down(db):
    person = Client()
    for _ in range(5):
        person.post("/activate/", {"login_id": "someone", "code": "AAAAA-AAAAA"})
    response = person.post("/activate/", {"login_id": "someone", "code": "AAAAA-AAAAA"})
    assert "Too many tries." in text_of(response)


# --- API -------------------------------------------------------------------------------------------


def api_client(user):
    return bearer_client(user)


def test_api_agent_reads_the_state_prints_a_letter_and_the_person_activates(sam, josette):
    mandate_for(sam, josette)
    agent = api_client(sam)
    state = agent.get(f"/api/v1/records/{josette.uuid}/account/").json()
    assert (state["has_account"], state["letters"]) == (False, [])
    pdf = agent.post(f"/api/v1/records/{josette.uuid}/account/letter/")
    assert pdf["Content-Type"] == "application/pdf"
    code = code_in(pdf.content)
    assert agent.get(f"/api/v1/records/{josette.uuid}/account/").json()["letters"][0]["state"] == "open"
    wrong = Client().post(
        "/api/v1/activation/",
        {"login_id": "josette.dupuis", "code": "AAAAA-AAAAA", "password": PASSWORD},
        content_type="application/json",
    )
    assert wrong.status_code == 400
    assert "do not match" in wrong.json()["detail"]
    done = Client().post(
        "/api/v1/activation/",
        {"login_id": "josette.dupuis", "code": code, "password": PASSWORD},
        content_type="application/json",
    )
    assert (done.status_code, done.json()) == (201, {"login_id": "josette.dupuis"})
    # Apps then sign in through the OAuth authorisation page (tests/security/test_tokens.py).
    assert User.objects.get(login_id="josette.dupuis").check_password(PASSWORD)


def test_api_second_factor_reset(sam, alice, alice_record):
    totp_device(alice)
    mandate_for(sam, alice_record)
    response = api_client(sam).post(f"/api/v1/records/{alice_record.uuid}/account/second-factor-reset/")
    assert response.status_code == 202
    assert "code" not in response.json()
    assert alice.totpdevice_set.exists()  # only the person completes it, with the code sent to them


def test_api_refuses_a_patient_and_a_scope_missing(sam, charlie, alice_record):
    mandate_for(sam, alice_record, [MandateScope.UPLOAD_DOCUMENTS])
    assert api_client(charlie).post(f"/api/v1/records/{alice_record.uuid}/account/letter/").status_code == 404
    assert api_client(sam).post(f"/api/v1/records/{alice_record.uuid}/account/letter/").status_code == 404
    assert not AccountLetter.objects.exists()


def test_schema_describes_account_help_and_activation(client, db):
    schema = client.get("/api/schema/").content.decode()
    for path in ("/api/v1/records/{record_uuid}/account/letter/", "/api/v1/activation/"):
        assert path in schema


def test_an_account_without_email_uses_every_page_and_can_add_an_email_later(as_user, sam, josette):
    from apps.assistance.letters import services as letters

    mandate_for(sam, josette)
    letter, pdf = letters.letter_print(agent=sam, record=josette)
    person = Client()
    person.post("/activate/", {"login_id": letter.login_id, "code": code_in(pdf)})
    person.post("/activate/password/", {"password1": PASSWORD, "password2": PASSWORD})
    person.post("/accounts/login/", {"login": letter.login_id, "password": PASSWORD})
    for path in (
        "/",
        f"/records/{josette.uuid}/",
        f"/records/{josette.uuid}/history/",
        f"/records/{josette.uuid}/mandates/",
        "/notifications/",
        "/account/security/",
        "/accounts/email/",
    ):
        assert person.get(path).status_code == 200, path
    from tests.conftest import password_confirmed

    password_confirmed(person, User.objects.get(login_id=letter.login_id))  # changing the e-mail asks for it
    added = person.post("/accounts/email/", {"action_add": "", "email": "josette@example.test"})
    assert added.status_code in (200, 302)
    assert EmailAddress.objects.filter(user__login_id=letter.login_id, email="josette@example.test").exists()


def test_the_desk_offers_account_help_only_under_that_scope(as_user, sam, josette, alice_record):
    mandate_for(sam, josette)
    mandate_for(sam, alice_record, [MandateScope.UPLOAD_DOCUMENTS])
    client = as_user(sam)
    found = client.post("/assistance/", {"family_name": "Dupuis", "given_name": "Josette", "birth_date": "1980-01-01"})
    assert f"/assistance/records/{josette.uuid}/account/" in found.content.decode()
    other = client.post("/assistance/", {"family_name": "Martin", "given_name": "Alice", "birth_date": "1979-03-12"})
    assert f"/assistance/records/{alice_record.uuid}/account/" not in other.content.decode()


def test_api_activation_with_an_email_sends_the_confirmation_link(sam, josette):
    from apps.notifications.models import OutboxMessage

    mandate_for(sam, josette)
    code = code_in(api_client(sam).post(f"/api/v1/records/{josette.uuid}/account/letter/").content)
    done = Client().post(
        "/api/v1/activation/",
        {"login_id": "josette.dupuis", "code": code, "password": PASSWORD, "email": "josette@example.test"},
        content_type="application/json",
    )
    assert done.status_code == 201
    assert EmailAddress.objects.filter(email="josette@example.test", verified=False).exists()
    assert any("josette@example.test" in message.to for message in OutboxMessage.objects.all())
