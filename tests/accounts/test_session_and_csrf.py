"""A session that ran out says so; a form without its CSRF token is refused with a clear page."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.middleware import SESSION_SEEN_COOKIE
from apps.records.models import Guardianship, Record
from tests.accounts.helpers import BrowserClient, password_login, text_of
from tests.conftest import logged_in_client

pytestmark = pytest.mark.django_db

EXPIRED_MESSAGE = "Your session expired after a period of inactivity. Please log in again."


@pytest.fixture
def alice_session(alice) -> Client:
    """Alice logged in and used the site: the browser holds the ``hs_seen`` cookie."""
    client = BrowserClient()
    password_login(client, "alice@example.test")
    assert client.get("/").status_code == 200
    assert client.cookies[SESSION_SEEN_COOKIE].value == "1"
    return client


def _expire(client: Client) -> None:
    """What the inactivity timeout does: the server forgets the session, the browser keeps its cookies."""
    client.session.flush()


def test_expired_session_shows_the_session_expired_message_on_the_login_page(alice_session):
    _expire(alice_session)

    response = alice_session.get("/accounts/login/")

    assert response.status_code == 200
    assert EXPIRED_MESSAGE in text_of(response)


def test_expired_session_on_a_private_page_leads_to_login_with_the_message(alice_session):
    _expire(alice_session)

    response = alice_session.get("/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert EXPIRED_MESSAGE in text_of(response)


def test_session_expired_message_is_shown_once(alice_session):
    _expire(alice_session)
    alice_session.get("/accounts/login/")

    response = alice_session.get("/accounts/login/")

    assert EXPIRED_MESSAGE not in text_of(response)
    assert SESSION_SEEN_COOKIE not in alice_session.cookies


def test_explicit_logout_does_not_say_the_session_expired(alice_session):
    response = alice_session.post("/accounts/logout/", follow=True)

    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "You have signed out." in text_of(response)
    assert EXPIRED_MESSAGE not in text_of(response)
    assert SESSION_SEEN_COOKIE not in alice_session.cookies
    assert EXPIRED_MESSAGE not in text_of(alice_session.get("/accounts/login/"))


def test_first_visit_does_not_say_the_session_expired(client, db):
    assert EXPIRED_MESSAGE not in text_of(client.get("/accounts/login/"))


# --- CSRF ----------------------------------------------------------------------------


CHILD = {"given_names": "Léo", "family_name": "Martin", "birth_date": "2016-09-04", "sex": "M", "ins": ""}


def test_post_without_csrf_token_gets_our_clear_403_page_and_creates_nothing(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    records_before = Record.objects.count()

    response = client.post("/records/new-child/", CHILD)

    assert response.status_code == 403
    assert "errors/csrf.html" in [template.name for template in response.templates]
    page = text_of(response)
    assert "This form could not be sent" in page
    assert "Nothing was changed." in page
    assert "Go back, reload the page, and try again." in page
    assert Record.objects.count() == records_before
    assert not Guardianship.objects.exists()


def test_post_with_csrf_token_adds_the_child(alice):
    # The control: the same form, sent from the page with its token, works.
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get("/records/new-child/")

    response = client.post("/records/new-child/", {**CHILD, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})

    assert response.status_code == 302
    assert Guardianship.objects.filter(guardian=alice, record__given_names="Léo").exists()


def test_csrf_page_is_also_used_for_the_login_form(alice):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"login": "alice@example.test", "password": "x"})

    assert response.status_code == 403
    assert "This form could not be sent" in text_of(response)


def test_csrf_check_is_not_weakened_for_logged_in_verified_users(dr_martin):
    client = logged_in_client(dr_martin)
    client.handler.enforce_csrf_checks = True

    response = client.post("/account/security/two-factor/backup-codes/")

    assert response.status_code == 403
    assert "This form could not be sent" in text_of(response)
