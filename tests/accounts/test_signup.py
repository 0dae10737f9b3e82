"""Sign-up, e-mail verification and e-mail change, as a person goes through them."""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.core import signing
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.notifications.models import OutboxMessage
from apps.records.models import Record
from tests.accounts.helpers import SIGNUP_DATA, confirmation_path, mails_to, password_login, text_of
from tests.conftest import logged_in_client
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

VERIFY_PAGE = "/accounts/confirm-email/"


def _sign_up(client, capture, **changes):
    with capture(execute=True):
        return client.post("/accounts/signup/", {**SIGNUP_DATA, **changes})


@pytest.fixture
def signed_up(client, django_capture_on_commit_callbacks, mailoutbox):
    """Nina has just signed up: the confirmation mail is in her inbox."""
    response = _sign_up(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302, text_of(response)
    return User.objects.get(email=SIGNUP_DATA["email"])


# --- Sign-up -------------------------------------------------------------------


def test_signup_creates_a_patient_with_their_own_record(client, django_capture_on_commit_callbacks):
    response = _sign_up(client, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response["Location"] == VERIFY_PAGE
    user = User.objects.get(email="nina@example.test")
    assert user.role == Role.PATIENT
    assert user.display_name == "Nina Lefebvre"
    record = Record.objects.get(owner=user)
    assert (record.given_names, record.family_name, str(record.birth_date), record.sex) == (
        "Nina",
        "Lefebvre",
        "1990-05-17",
        "F",
    )
    assert EmailAddress.objects.filter(user=user, email="nina@example.test", verified=False).exists()


def test_signup_sends_a_confirmation_email_through_the_outbox(client, django_capture_on_commit_callbacks, mailoutbox):
    _sign_up(client, django_capture_on_commit_callbacks)

    [message] = mails_to(mailoutbox, "nina@example.test")
    assert confirmation_path(message).startswith("/accounts/confirm-email/")
    assert OutboxMessage.objects.filter(to=["nina@example.test"]).count() == 1


def test_signup_shows_the_verification_sent_page(client, django_capture_on_commit_callbacks):
    response = _sign_up(client, django_capture_on_commit_callbacks)

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "We have sent an email to you for verification" in text_of(page)


def test_login_before_verifying_is_refused_with_the_verify_your_email_page(signed_up, client):
    client.logout()

    response = password_login(client, SIGNUP_DATA["email"], SIGNUP_DATA["password1"])

    assert response.status_code == 302
    assert response["Location"] == VERIFY_PAGE
    page = client.get(VERIFY_PAGE)
    assert "Verify Your Email Address" in text_of(page)
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # still not in


def test_weak_password_is_refused_and_creates_nothing(client, django_capture_on_commit_callbacks, mailoutbox):
    response = _sign_up(client, django_capture_on_commit_callbacks, password1="password", password2="password")

    assert response.status_code == 200
    assert "This password is too common" in text_of(response)
    assert not User.objects.filter(email=SIGNUP_DATA["email"]).exists()
    assert not Record.objects.exists()
    assert not EmailAddress.objects.exists()
    assert mailoutbox == []
    assert not OutboxMessage.objects.exists()


def test_future_birth_date_is_refused_and_creates_nothing(client, django_capture_on_commit_callbacks, mailoutbox):
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = _sign_up(client, django_capture_on_commit_callbacks, birth_date=tomorrow.isoformat())

    assert response.status_code == 200
    assert "The date of birth cannot be in the future." in text_of(response)
    assert not User.objects.filter(email=SIGNUP_DATA["email"]).exists()
    assert not Record.objects.exists()
    assert mailoutbox == []


def test_duplicate_email_signup_looks_like_success_to_the_visitor(client, alice, django_capture_on_commit_callbacks):
    response = _sign_up(client, django_capture_on_commit_callbacks, email="alice@example.test")

    # No form error: that would tell a stranger that Alice has an account here.
    assert response.status_code == 302
    assert response["Location"] == VERIFY_PAGE
    assert "We have sent an email to you for verification" in text_of(client.get(VERIFY_PAGE))


def test_duplicate_email_signup_warns_the_existing_owner_by_email(
    client, alice, django_capture_on_commit_callbacks, mailoutbox
):
    _sign_up(client, django_capture_on_commit_callbacks, email="alice@example.test")

    [message] = mails_to(mailoutbox, "alice@example.test")
    assert "Account Already Exists" in message.subject
    assert "/accounts/confirm-email/" not in message.body


def test_duplicate_email_signup_creates_no_second_account(client, alice, django_capture_on_commit_callbacks):
    users_before, records_before = User.objects.count(), Record.objects.count()

    _sign_up(client, django_capture_on_commit_callbacks, email="ALICE@example.test", family_name="Intruder")

    assert User.objects.count() == users_before
    assert Record.objects.count() == records_before
    assert not Record.objects.filter(family_name="Intruder").exists()
    assert EmailAddress.objects.filter(email__iexact="alice@example.test").count() == 1


# --- E-mail verification ----------------------------------------------------------


def test_verification_link_asks_for_a_click_and_does_not_confirm_on_get(signed_up, client, mailoutbox):
    path = confirmation_path(mails_to(mailoutbox, "nina@example.test")[0])

    page = client.get(path)

    assert page.status_code == 200
    assert "Please confirm that nina@example.test is an email address" in text_of(page)
    assert not EmailAddress.objects.get(email="nina@example.test").verified


def test_verification_link_confirms_by_post_and_then_login_works(signed_up, client, mailoutbox):
    path = confirmation_path(mails_to(mailoutbox, "nina@example.test")[0])

    response = client.post(path)

    assert response.status_code == 302
    assert EmailAddress.objects.get(email="nina@example.test").verified
    login = password_login(client, SIGNUP_DATA["email"], SIGNUP_DATA["password1"])
    assert login.status_code == 302
    assert login["Location"] == "/"
    assert client.get("/").status_code == 200


def test_expired_verification_link_says_so(client, django_capture_on_commit_callbacks, mailoutbox, settings):
    settings.ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
    # The link was issued four days ago (the HMAC key carries its own timestamp).
    four_days_ago = signing.b62_encode(int(time.time()) - 4 * 24 * 3600)
    with mock.patch.object(signing.TimestampSigner, "timestamp", return_value=four_days_ago):
        _sign_up(client, django_capture_on_commit_callbacks)
    path = confirmation_path(mails_to(mailoutbox, "nina@example.test")[0])

    page = client.get(path)

    assert page.status_code == 200
    assert "This email confirmation link expired or is invalid" in text_of(page)
    assert "issue a new email confirmation request" in text_of(page)
    assert not EmailAddress.objects.get(email="nina@example.test").verified


def test_verification_link_within_its_validity_still_works(
    client, django_capture_on_commit_callbacks, mailoutbox, settings
):
    settings.ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
    two_days_ago = signing.b62_encode(int(time.time()) - 2 * 24 * 3600)
    with mock.patch.object(signing.TimestampSigner, "timestamp", return_value=two_days_ago):
        _sign_up(client, django_capture_on_commit_callbacks)
    path = confirmation_path(mails_to(mailoutbox, "nina@example.test")[0])

    client.post(path)

    assert EmailAddress.objects.get(email="nina@example.test").verified


def test_reused_verification_link_says_it_is_no_longer_valid(signed_up, client, mailoutbox):
    path = confirmation_path(mails_to(mailoutbox, "nina@example.test")[0])
    client.post(path)

    page = client.get(path)

    assert page.status_code == 200
    assert "This email confirmation link expired or is invalid" in text_of(page)
    assert EmailAddress.objects.filter(email="nina@example.test").count() == 1


def test_confirming_a_used_link_again_by_post_says_it_is_no_longer_valid(signed_up, client, mailoutbox):
    path = confirmation_path(mails_to(mailoutbox, "nina@example.test")[0])
    client.post(path)

    page = client.post(path)

    assert page.status_code == 400
    assert "This email confirmation link expired or is invalid" in text_of(page)


def test_tampered_verification_link_says_it_is_invalid(signed_up, client):
    page = client.get("/accounts/confirm-email/not-a-real-key/")

    assert page.status_code == 200
    assert "This email confirmation link expired or is invalid" in text_of(page)
    assert not EmailAddress.objects.get(email="nina@example.test").verified


# --- E-mail change ----------------------------------------------------------------


def test_email_change_sends_a_verification_to_the_new_address(alice, django_capture_on_commit_callbacks, mailoutbox):
    client = logged_in_client(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/email/", {"action_add": "", "email": "alice.new@example.test"})

    assert response.status_code == 302
    [message] = mails_to(mailoutbox, "alice.new@example.test")
    assert confirmation_path(message).startswith("/accounts/confirm-email/")
    assert mails_to(mailoutbox, "alice@example.test") == []
    new = EmailAddress.objects.get(user=alice, email="alice.new@example.test")
    assert not new.verified
    alice.refresh_from_db()
    assert alice.email == "alice@example.test"  # unchanged until the new address is confirmed


def test_email_change_takes_effect_once_the_new_address_is_confirmed(
    alice, django_capture_on_commit_callbacks, mailoutbox
):
    client = logged_in_client(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/email/", {"action_add": "", "email": "alice.new@example.test"})
    path = confirmation_path(mails_to(mailoutbox, "alice.new@example.test")[0])

    client.post(path)

    alice.refresh_from_db()
    assert alice.email == "alice.new@example.test"
    assert list(EmailAddress.objects.filter(user=alice).values_list("email", flat=True)) == ["alice.new@example.test"]
    assert password_login(logged_out(client), "alice.new@example.test", PASSWORD)["Location"] == "/"


def logged_out(client):
    client.logout()
    return client
