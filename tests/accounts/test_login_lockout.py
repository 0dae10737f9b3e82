"""Password guessing: five wrong passwords pause logins for that e-mail; a password reset lifts the pause."""

from __future__ import annotations

import pytest

from tests.accounts.helpers import link_in, mails_to, password_login, text_of
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOCK_MESSAGE = (
    "Too many failed attempts. For your safety, logging in with this e-mail or identifier is paused for 5 minutes. "
    "To get back in now, reset your password."
)
WRONG_PASSWORD_MESSAGE = "The email address and/or password you specified are not correct."
NEW_PASSWORD = "a-brand-new-passphrase-42"


def _fail_five_times(client, email: str) -> None:
    for _attempt in range(5):
        response = password_login(client, email, "not-my-password")
        assert response.status_code == 200
        assert WRONG_PASSWORD_MESSAGE in text_of(response)


def _reset_password(client, email: str, capture, outbox, password: str = NEW_PASSWORD):
    """The real flow: ask for a reset, follow the link in the e-mail, choose a new password."""
    with capture(execute=True):
        asked = client.post("/accounts/password/reset/", {"email": email})
    assert asked.status_code == 302
    path = link_in(mails_to(outbox, email)[-1], r"/accounts/password/reset/key/[^/\s]+/")
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    set_password_path = form_page.redirect_chain[-1][0]
    with capture(execute=True):
        done = client.post(set_password_path, {"password1": password, "password2": password})
    assert done.status_code == 302, text_of(done)
    return done


def test_four_wrong_passwords_do_not_lock(client, alice):
    for _attempt in range(4):
        password_login(client, "alice@example.test", "not-my-password")

    response = password_login(client, "alice@example.test")

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_five_wrong_passwords_show_the_lock_message_that_mentions_resetting(client, alice):
    _fail_five_times(client, "alice@example.test")

    response = password_login(client, "alice@example.test", "still-not-my-password")

    assert response.status_code == 200
    assert LOCK_MESSAGE in text_of(response)
    assert WRONG_PASSWORD_MESSAGE not in text_of(response)


def test_right_password_is_refused_while_locked(client, alice):
    _fail_five_times(client, "alice@example.test")

    response = password_login(client, "alice@example.test", PASSWORD)

    assert response.status_code == 200
    assert LOCK_MESSAGE in text_of(response)
    assert "_auth_user_id" not in client.session


def test_lock_is_per_email_and_case_insensitive(client, alice, bob):
    _fail_five_times(client, "alice@example.test")

    assert LOCK_MESSAGE in text_of(password_login(client, "ALICE@Example.test", PASSWORD))
    assert password_login(client, "bob@example.test")["Location"] == "/"


def test_password_reset_lifts_the_lock(client, alice, django_capture_on_commit_callbacks, mailoutbox):
    _fail_five_times(client, "alice@example.test")
    assert LOCK_MESSAGE in text_of(password_login(client, "alice@example.test"))

    _reset_password(client, "alice@example.test", django_capture_on_commit_callbacks, mailoutbox)
    response = password_login(client, "alice@example.test", NEW_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_old_password_no_longer_works_after_reset(client, alice, django_capture_on_commit_callbacks, mailoutbox):
    _reset_password(client, "alice@example.test", django_capture_on_commit_callbacks, mailoutbox)

    response = password_login(client, "alice@example.test", PASSWORD)

    assert response.status_code == 200
    assert WRONG_PASSWORD_MESSAGE in text_of(response)


def test_password_reset_link_works_only_once(client, alice, django_capture_on_commit_callbacks, mailoutbox):
    _reset_password(client, "alice@example.test", django_capture_on_commit_callbacks, mailoutbox)
    path = link_in(mails_to(mailoutbox, "alice@example.test")[0], r"/accounts/password/reset/key/[^/\s]+/")

    page = client.get(path, follow=True)

    assert "The password reset link was invalid" in text_of(page)
