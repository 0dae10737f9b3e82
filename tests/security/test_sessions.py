"""Breach 13: session fixation at the second step, idle and absolute timeouts, re-authentication
before sensitive acts (turning two-step verification off, changing e-mail, inviting a caregiver)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import two_factor
from apps.accounts.middleware import SESSION_LOGIN_AT_KEY
from apps.delegations.models import Delegation
from apps.records.models import Guardianship
from tests.accounts.helpers import password_login, text_of
from tests.conftest import current_code, logged_in_client, password_confirmed
from tests.factories import PASSWORD, totp_device

pytestmark = pytest.mark.django_db

VERIFY = "/account/security/two-factor/verify/"
SETUP = "/account/security/two-factor/setup/"
DISABLE = "/account/security/two-factor/disable/"
REAUTHENTICATE = "/accounts/reauthenticate/"
REAUTH_TEXT = "For your safety, type your password again. Nothing has been changed yet."
CHILD = {"given_names": "Léo", "family_name": "Martin", "birth_date": "2016-09-04", "sex": "M", "ins": ""}
OUTLIVED_TEXT = "For your safety, a session lasts 12 hours at most. Please log in again."


def sent_to_reauthenticate(response, path: str) -> None:
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == REAUTHENTICATE
    assert parse_qs(location.query)["next"] == [path]


def session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


# --- Session fixation at the second step ------------------------------------------------------


def test_session_key_changes_when_the_code_is_given(dr_martin):
    client = Client()
    password_login(client, "dr.martin@example.test")
    after_password = session_key(client)

    client.post(VERIFY, {"token": current_code(dr_martin)})

    assert session_key(client) != after_password
    assert client.get("/").status_code == 200


def test_a_session_id_planted_before_the_code_is_worthless_after_it(dr_martin):
    victim = Client()
    password_login(victim, "dr.martin@example.test")
    attacker = Client()
    attacker.cookies[settings.SESSION_COOKIE_NAME] = session_key(victim)  # fixed, or seen before step two

    victim.post(VERIFY, {"token": current_code(dr_martin)})

    response = attacker.get("/")
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/accounts/login/"


def test_session_key_changes_when_two_step_verification_is_first_set_up(alice):
    client = Client()
    password_login(client, "alice@example.test")
    client.get(SETUP)
    before = session_key(client)

    client.post(SETUP, {"token": current_code_of_pending(alice)})

    assert two_factor.has_two_factor(alice)
    assert session_key(client) != before


def current_code_of_pending(user) -> str:
    from django_otp.oath import TOTP

    device = TOTPDevice.objects.get(user=user, confirmed=False)
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


# --- Idle and absolute timeouts ------------------------------------------------------------------


def test_idle_timeout_is_renewed_by_activity_and_short():
    # Renewed at most once a minute by SessionExpiryMiddleware (tests/accounts/test_request_cost.py),
    # not by a write on every request.
    assert "apps.accounts.middleware.SessionExpiryMiddleware" in settings.MIDDLEWARE
    assert settings.SESSION_COOKIE_AGE <= 30 * 60


def test_login_starts_the_absolute_clock(alice):
    client = Client()
    password_login(client, "alice@example.test")

    assert isinstance(client.session.get(SESSION_LOGIN_AT_KEY), float)


def test_activity_does_not_move_the_absolute_clock(alice):
    client = Client()
    password_login(client, "alice@example.test")
    started = client.session[SESSION_LOGIN_AT_KEY]

    for _ in range(3):
        assert client.get("/").status_code == 200

    assert client.session[SESSION_LOGIN_AT_KEY] == started


def _logged_in_long_ago(client: Client, seconds: int) -> None:
    session = client.session
    session[SESSION_LOGIN_AT_KEY] = session[SESSION_LOGIN_AT_KEY] - seconds
    session.save()


def test_absolute_timeout_logs_out_an_active_session(alice):
    client = Client()
    password_login(client, "alice@example.test")
    assert client.get("/").status_code == 200  # active a moment ago: the idle timeout is far
    _logged_in_long_ago(client, settings.SESSION_ABSOLUTE_SECONDS + 60)

    response = client.get("/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert OUTLIVED_TEXT in text_of(response)
    assert not response.wsgi_request.user.is_authenticated
    assert client.get("/").status_code == 302  # and it stays ended


def test_absolute_timeout_refuses_a_write_and_changes_nothing(alice):
    client = logged_in_client(alice)
    client.get("/")
    _logged_in_long_ago(client, settings.SESSION_ABSOLUTE_SECONDS + 60)

    response = client.post("/records/new-child/", CHILD)

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/accounts/login/"
    assert not Guardianship.objects.filter(guardian=alice).exists()


def test_the_same_write_goes_through_in_a_young_session(alice):
    client = logged_in_client(alice)
    client.get("/")

    client.post("/records/new-child/", CHILD)

    assert Guardianship.objects.filter(guardian=alice, record__given_names="Léo").exists()


def test_a_session_younger_than_the_limit_stays(alice):
    client = Client()
    password_login(client, "alice@example.test")
    _logged_in_long_ago(client, settings.SESSION_ABSOLUTE_SECONDS - 60)

    assert client.get("/").status_code == 200


# --- Re-authentication before sensitive acts --------------------------------------------------


@pytest.fixture
def alice_with_2fa(alice):
    totp_device(alice)
    two_factor.backup_codes_regenerate(user=alice)
    return alice


def test_turning_two_factor_off_in_a_stale_session_asks_the_password_and_changes_nothing(alice_with_2fa):
    client = logged_in_client(alice_with_2fa, reauthenticated=False)

    response = client.post(DISABLE, {"token": current_code(alice_with_2fa)})

    sent_to_reauthenticate(response, DISABLE)
    assert TOTPDevice.objects.filter(user=alice_with_2fa, confirmed=True).exists()
    assert StaticDevice.objects.filter(user=alice_with_2fa).exists()
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert REAUTH_TEXT in text_of(page)


def test_a_password_confirmed_too_long_ago_is_stale(alice_with_2fa):
    client = logged_in_client(alice_with_2fa, reauthenticated=False)
    password_confirmed(client, alice_with_2fa, seconds_ago=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1)

    response = client.post(DISABLE, {"token": current_code(alice_with_2fa)})

    sent_to_reauthenticate(response, DISABLE)
    assert two_factor.has_two_factor(alice_with_2fa)


def test_a_wrong_password_at_reauthentication_changes_nothing(alice_with_2fa):
    client = logged_in_client(alice_with_2fa, reauthenticated=False)
    client.post(DISABLE, {"token": current_code(alice_with_2fa)})

    response = client.post(REAUTHENTICATE, {"password": "not-her-password", "next": DISABLE})

    assert response.status_code == 200
    assert two_factor.has_two_factor(alice_with_2fa)


def test_after_typing_her_password_again_alice_turns_two_factor_off(alice_with_2fa):
    client = logged_in_client(alice_with_2fa, reauthenticated=False)
    sent_to_reauthenticate(client.get(DISABLE), DISABLE)

    client.post(REAUTHENTICATE, {"password": PASSWORD, "next": DISABLE})
    response = client.post(DISABLE, {"token": current_code(alice_with_2fa)})

    assert response.status_code == 302
    assert not two_factor.has_two_factor(alice_with_2fa)


def test_adding_an_email_in_a_stale_session_asks_the_password_and_adds_nothing(alice, mailoutbox):
    client = logged_in_client(alice, reauthenticated=False)

    response = client.post("/accounts/email/", {"action_add": "", "email": "thief@example.test"})

    sent_to_reauthenticate(response, "/accounts/email/")
    assert not EmailAddress.objects.filter(email="thief@example.test").exists()
    assert mailoutbox == []


INVITE = {"email": "bob@example.test", "scopes": ["read_documents"]}


def test_inviting_a_caregiver_in_a_stale_session_asks_the_password_and_invites_nobody(alice, alice_record, mailoutbox):
    client = logged_in_client(alice, reauthenticated=False)
    path = f"/records/{alice_record.uuid}/caregivers/"
    assert client.get(path).status_code == 200  # reading the page needs nothing more

    response = client.post(path, INVITE)

    sent_to_reauthenticate(response, path)
    assert not Delegation.objects.filter(record=alice_record).exists()
    assert mailoutbox == []


def test_the_invitation_is_sent_once_alice_typed_her_password_again(
    alice, alice_record, django_capture_on_commit_callbacks
):
    client = logged_in_client(alice, reauthenticated=False)
    path = f"/records/{alice_record.uuid}/caregivers/"
    client.post(path, INVITE)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(REAUTHENTICATE, {"password": PASSWORD, "next": path})

    assert Delegation.objects.filter(record=alice_record, invited_email="bob@example.test").exists()


def test_a_password_typed_at_login_counts_as_recent_for_a_sensitive_act(alice, alice_record):
    client = Client()
    password_login(client, alice.email)
    path = f"/records/{alice_record.uuid}/caregivers/"

    response = client.post(path, INVITE)

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path != REAUTHENTICATE
    assert Delegation.objects.filter(record=alice_record, invited_email="bob@example.test").exists()


def test_a_password_typed_at_login_is_stale_after_the_timeout(alice, alice_record, settings):
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    client = Client()
    password_login(client, alice.email)
    path = f"/records/{alice_record.uuid}/caregivers/"

    response = client.post(path, INVITE)

    sent_to_reauthenticate(response, path)
    assert not Delegation.objects.filter(record=alice_record).exists()
