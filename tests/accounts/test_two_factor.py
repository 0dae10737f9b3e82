"""Two-step verification: set up, verify at login, lock-out, backup codes, turning off, API."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import formats, timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import two_factor
from tests.accounts.helpers import password_login, text_of
from tests.conftest import current_code, logged_in_client
from tests.factories import ProfessionalFactory, SupportAgentFactory, totp_device
from tests.security.oauth_helpers import bearer_client

pytestmark = pytest.mark.django_db

SETUP = "/account/security/two-factor/setup/"
VERIFY = "/account/security/two-factor/verify/"
DISABLE = "/account/security/two-factor/disable/"
SECURITY = "/account/security/"
WRONG_CODE = "This code is not valid. Check your app and try again."
REQUIRED_MESSAGE = (
    "Two-step verification is required for your account before you can use healthspace. "
    "Set it up now: it takes a minute."
)


def code_for(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    return f"{(int(code_for(device)) + 1) % 10**device.digits:0{device.digits}d}"


def sent_to_verify(response) -> str:
    """Asserts ``response`` redirects to the verify page; returns where it will go back to."""
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert url.path == VERIFY
    [next_url] = parse_qs(url.query)["next"]
    return next_url


def locked_until_text(user) -> str:
    user.refresh_from_db()
    return formats.time_format(timezone.localtime(user.otp_locked_until), "H:i")


def _in_the_future(minutes: int):
    """Time travel for the lock-out only; TOTP codes still follow the real clock."""
    later = timezone.now() + timedelta(minutes=minutes)
    return mock.patch("apps.accounts.two_factor.timezone", now=lambda: later)


@pytest.fixture
def unverified_doctor(dr_martin) -> Client:
    """Dr Martin typed the right password; the code is still to be given."""
    return logged_in_client(dr_martin, verified=False)


def _lock(client: Client, user) -> None:
    device = user.totpdevice_set.get(confirmed=True)
    for _attempt in range(settings.OTP_MAX_FAILURES):
        response = client.post(VERIFY, {"token": wrong_code_for(device)})
        assert response.status_code == 400


# --- Setting it up -----------------------------------------------------------------


def test_setup_page_shows_a_qr_svg_and_the_secret(alice):
    client = logged_in_client(alice)

    response = client.get(SETUP)

    assert response.status_code == 200
    content = response.content.decode()
    assert '<div class="qr" role="img"' in content
    assert "<svg" in content
    device = TOTPDevice.objects.get(user=alice)
    assert not device.confirmed
    secret = response.context["enrolment"].secret_base32
    assert f'<code class="secret" id="totp-secret">{secret}</code>' in content
    assert "otpauth://totp/" in response.context["enrolment"].otpauth_url


def test_setup_page_reuses_the_same_pending_secret_on_reload(alice):
    client = logged_in_client(alice)

    first = client.get(SETUP).context["enrolment"].secret_base32
    second = client.get(SETUP).context["enrolment"].secret_base32

    assert first == second
    assert TOTPDevice.objects.filter(user=alice).count() == 1


def test_wrong_first_code_is_refused_and_the_device_stays_unconfirmed(alice):
    client = logged_in_client(alice)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=alice)

    response = client.post(SETUP, {"token": wrong_code_for(device)})

    assert response.status_code == 200
    assert "This code is not the one your app shows now." in text_of(response)
    device.refresh_from_db()
    assert not device.confirmed
    assert not two_factor.has_two_factor(alice)
    assert not StaticToken.objects.filter(device__user=alice).exists()


def test_right_first_code_turns_it_on_and_shows_ten_backup_codes(alice):
    client = logged_in_client(alice)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=alice)

    response = client.post(SETUP, {"token": code_for(device)})

    assert response.status_code == 200
    assert "Your backup codes" in text_of(response)
    assert "Two-step verification is on." in text_of(response)
    codes = response.context["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert f"<li>{code}</li>" in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=alice).count() == 10
    # The session that set it up is verified: no code asked straight away.
    assert client.get("/").status_code == 200


# --- Verifying at login -------------------------------------------------------------


def test_password_login_of_a_user_with_a_device_leads_to_the_verify_page(dr_martin):
    client = Client()

    response = password_login(client, "dr.martin@example.test")
    assert response["Location"] == "/"
    home = client.get("/")

    assert home.status_code == 302
    assert sent_to_verify(home) == "/"
    page = client.get(home["Location"])
    assert page.status_code == 200
    assert "Enter your code" in text_of(page)


@pytest.mark.parametrize("path", ["/", SECURITY, "/accounts/email/", "/records/new-child/?from=home&step=2"])
def test_every_page_redirects_to_verify_until_the_code_is_given(unverified_doctor, path):
    response = unverified_doctor.get(path)

    assert response.status_code == 302
    assert sent_to_verify(response) == path


def test_record_page_redirects_to_verify_until_the_code_is_given(unverified_doctor, alice_record):
    path = f"/records/{alice_record.uuid}/"

    response = unverified_doctor.get(path)

    assert sent_to_verify(response) == path


def test_right_code_lets_the_person_in_and_back_to_where_they_were(unverified_doctor, dr_martin):
    response = unverified_doctor.post(VERIFY, {"token": current_code(dr_martin), "next": SECURITY})

    assert response.status_code == 302
    assert response["Location"] == SECURITY
    assert unverified_doctor.get(SECURITY).status_code == 200


def test_verify_ignores_a_next_pointing_to_another_site(unverified_doctor, dr_martin):
    response = unverified_doctor.post(VERIFY, {"token": current_code(dr_martin), "next": "https://evil.example/"})

    assert response["Location"] == "/"


def test_wrong_code_shows_an_error_with_status_400(unverified_doctor, dr_martin):
    device = dr_martin.totpdevice_set.get()

    response = unverified_doctor.post(VERIFY, {"token": wrong_code_for(device)})

    assert response.status_code == 400
    assert WRONG_CODE in text_of(response)
    assert unverified_doctor.get("/").status_code == 302


def test_too_many_wrong_codes_lock_code_entry_until_a_stated_time(unverified_doctor, dr_martin, settings):
    device = dr_martin.totpdevice_set.get()
    for _attempt in range(settings.OTP_MAX_FAILURES - 1):
        assert WRONG_CODE in text_of(unverified_doctor.post(VERIFY, {"token": wrong_code_for(device)}))

    response = unverified_doctor.post(VERIFY, {"token": wrong_code_for(device)})

    assert response.status_code == 400
    until = locked_until_text(dr_martin)
    assert f"Too many wrong codes. For your safety, code entry is locked until {until}." in text_of(response)
    assert dr_martin.otp_locked_until > timezone.now() + timedelta(minutes=settings.OTP_LOCKOUT_MINUTES - 1)


def test_right_code_is_refused_while_locked(unverified_doctor, dr_martin):
    _lock(unverified_doctor, dr_martin)

    response = unverified_doctor.post(VERIFY, {"token": current_code(dr_martin)})

    assert response.status_code == 400
    assert f"code entry is locked until {locked_until_text(dr_martin)}" in text_of(response)
    assert unverified_doctor.get("/").status_code == 302


def test_lock_covers_backup_codes_too(unverified_doctor, dr_martin):
    [code, *_rest] = two_factor.backup_codes_regenerate(user=dr_martin)
    _lock(unverified_doctor, dr_martin)

    response = unverified_doctor.post(VERIFY, {"token": code})

    assert response.status_code == 400
    assert "code entry is locked until" in text_of(response)
    assert StaticToken.objects.filter(token=code).exists()  # not spent


def test_right_code_works_after_the_lock_time_has_passed(unverified_doctor, dr_martin, settings):
    _lock(unverified_doctor, dr_martin)

    with _in_the_future(settings.OTP_LOCKOUT_MINUTES + 1):
        response = unverified_doctor.post(VERIFY, {"token": current_code(dr_martin)})

    assert response.status_code == 302
    assert response["Location"] == "/"
    dr_martin.refresh_from_db()
    assert dr_martin.otp_failures == 0
    assert dr_martin.otp_locked_until is None


def test_right_code_is_still_refused_just_before_the_lock_ends(unverified_doctor, dr_martin, settings):
    _lock(unverified_doctor, dr_martin)

    with _in_the_future(settings.OTP_LOCKOUT_MINUTES - 1):
        response = unverified_doctor.post(VERIFY, {"token": current_code(dr_martin)})

    assert response.status_code == 400


def test_a_right_code_resets_the_failure_count(unverified_doctor, dr_martin, settings):
    device = dr_martin.totpdevice_set.get()
    for _attempt in range(settings.OTP_MAX_FAILURES - 1):
        unverified_doctor.post(VERIFY, {"token": wrong_code_for(device)})

    unverified_doctor.post(VERIFY, {"token": current_code(dr_martin)})

    dr_martin.refresh_from_db()
    assert dr_martin.otp_failures == 0


def test_backup_code_works_once_only(dr_martin):
    codes = two_factor.backup_codes_regenerate(user=dr_martin)
    first_session = logged_in_client(dr_martin, verified=False)

    accepted = first_session.post(VERIFY, {"token": codes[0]})
    assert accepted.status_code == 302
    assert first_session.get("/").status_code == 200

    second_session = logged_in_client(dr_martin, verified=False)
    refused = second_session.post(VERIFY, {"token": codes[0]})

    assert refused.status_code == 400
    assert WRONG_CODE in text_of(refused)
    assert two_factor.backup_codes_remaining(user=dr_martin) == 9


def test_backup_code_is_accepted_with_spaces_and_capitals(dr_martin):
    [code, *_rest] = two_factor.backup_codes_regenerate(user=dr_martin)
    client = logged_in_client(dr_martin, verified=False)

    response = client.post(VERIFY, {"token": f" {code[:4].upper()} {code[4:].upper()} "})

    assert response.status_code == 302


# --- Turning it off -----------------------------------------------------------------


@pytest.fixture
def alice_with_2fa(alice):
    totp_device(alice)
    two_factor.backup_codes_regenerate(user=alice)
    return alice


def test_patient_cannot_turn_two_factor_off_with_a_wrong_code(alice_with_2fa):
    client = logged_in_client(alice_with_2fa)
    device = alice_with_2fa.totpdevice_set.get()

    response = client.post(DISABLE, {"token": wrong_code_for(device)})

    assert WRONG_CODE in text_of(response)
    assert two_factor.has_two_factor(alice_with_2fa)
    assert StaticDevice.objects.filter(user=alice_with_2fa).exists()


def test_patient_cannot_turn_two_factor_off_without_a_code(alice_with_2fa):
    client = logged_in_client(alice_with_2fa)

    response = client.post(DISABLE, {"token": ""})

    assert "This field is required." in text_of(response)
    assert two_factor.has_two_factor(alice_with_2fa)


def test_patient_turns_two_factor_off_with_a_current_code(alice_with_2fa):
    client = logged_in_client(alice_with_2fa)

    response = client.post(DISABLE, {"token": current_code(alice_with_2fa)}, follow=True)

    assert response.redirect_chain[-1][0] == SECURITY
    assert "Two-step verification is off." in text_of(response)
    assert not TOTPDevice.objects.filter(user=alice_with_2fa).exists()
    assert not StaticDevice.objects.filter(user=alice_with_2fa).exists()


@pytest.mark.parametrize("persona", ["dr_martin", "sam"])
def test_professionals_and_support_agents_cannot_turn_two_factor_off(persona, request):
    user = request.getfixturevalue(persona)
    client = logged_in_client(user)

    response = client.post(DISABLE, {"token": current_code(user)}, follow=True)

    assert response.redirect_chain[-1][0] == SECURITY
    assert "Two-step verification cannot be turned off for your account." in text_of(response)
    assert two_factor.has_two_factor(user)
    assert "Turn two-step verification off" not in text_of(client.get(SECURITY))


# --- Mandatory for professionals and support agents -----------------------------------


@pytest.fixture(params=["professional", "support_agent"])
def worker_without_device(request, db):
    factory = ProfessionalFactory if request.param == "professional" else SupportAgentFactory
    return factory(email=f"{request.param}@example.test")


def test_worker_without_device_is_sent_to_setup_from_home_with_an_explanation(worker_without_device):
    client = logged_in_client(worker_without_device)

    response = client.get("/", follow=True)

    assert response.redirect_chain == [(SETUP, 302)]
    assert REQUIRED_MESSAGE in text_of(response)
    assert "Set up two-step verification" in text_of(response)


def test_worker_without_device_is_sent_to_setup_from_a_record_url(worker_without_device, alice_record):
    client = logged_in_client(worker_without_device)

    response = client.get(f"/records/{alice_record.uuid}/", follow=True)

    assert response.redirect_chain == [(SETUP, 302)]
    assert REQUIRED_MESSAGE in text_of(response)


def test_patient_without_device_is_not_sent_to_setup(alice):
    assert logged_in_client(alice).get("/").status_code == 200


def test_api_refuses_a_worker_session_without_two_factor(worker_without_device):
    client = logged_in_client(worker_without_device)

    response = client.get("/api/v1/records/")

    assert response.status_code == 403
    assert response.json()["detail"] == "Authentication with two-step verification is required."


def test_api_refuses_a_session_that_has_not_given_its_code(unverified_doctor):
    assert unverified_doctor.get("/api/v1/records/").status_code == 403
    assert unverified_doctor.get("/api/v1/me/").status_code == 403


def test_api_accepts_a_verified_session(dr_martin):
    assert logged_in_client(dr_martin).get("/api/v1/me/").status_code == 200


# --- API tokens (OAuth 2.0: the full flow is in tests/security/test_tokens.py) ------------


def test_the_authorisation_page_sends_a_worker_without_two_factor_to_set_it_up(worker_without_device):
    client = logged_in_client(worker_without_device)

    response = client.get("/o/authorize/?response_type=code&client_id=healthspace-mobile")

    assert response.status_code == 302
    assert response["Location"] == SETUP


def test_a_bearer_token_works_on_the_me_endpoint(dr_martin):
    response = bearer_client(dr_martin).get("/api/v1/me/")

    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "dr.martin@example.test"
    assert body["role"] == "professional"
    assert body["two_factor"] is True
    assert body["id"] == str(dr_martin.uuid)


def test_me_endpoint_refuses_anonymous_and_bad_tokens(client, db):
    # Session authentication comes first, so DRF answers 403 (no WWW-Authenticate challenge).
    assert client.get("/api/v1/me/").status_code == 403
    bad = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad.status_code == 403
