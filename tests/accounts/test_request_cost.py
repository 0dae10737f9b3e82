"""What every logged-in request pays before its own work: the user, one second-factor lookup, and
(with sessions only in the database) the session; the session is written at most once a minute."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.middleware import SESSION_REFRESH_SECONDS, SESSION_REFRESHED_AT_KEY
from tests.conftest import logged_in_client
from tests.factories import totp_device

pytestmark = pytest.mark.django_db

TINY_PAGE = "/api/v1/notifications/unread-count/"  # its own work: one COUNT
DB_SESSIONS = "django.contrib.sessions.backends.db"
CACHED_SESSIONS = "django.contrib.sessions.backends.cached_db"


def _queries(client, path: str = TINY_PAGE) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def _settled(settings, engine: str, user):
    settings.SESSION_ENGINE = engine
    client = logged_in_client(user)
    client.get(TINY_PAGE)  # the first request after login writes the session once
    return client


@pytest.mark.parametrize(("engine", "session_reads"), [(DB_SESSIONS, 1), (CACHED_SESSIONS, 0)])
def test_a_verified_professional_pays_the_user_and_one_device_lookup(settings, dr_martin, engine, session_reads):
    client = _settled(settings, engine, dr_martin)

    queries = _queries(client)

    assert len(queries) == session_reads + 3  # (session), user, device by its persistent id, the COUNT
    assert sum('FROM "otp_' in sql for sql in queries) == 1


@pytest.mark.parametrize(("engine", "session_reads"), [(DB_SESSIONS, 1), (CACHED_SESSIONS, 0)])
def test_a_patient_without_second_factor_pays_one_device_lookup(settings, alice, engine, session_reads):
    client = _settled(settings, engine, alice)

    queries = _queries(client)

    assert len(queries) == session_reads + 3  # (session), user, "any confirmed device?" for all kinds, the COUNT
    assert sum('FROM "otp_' in sql for sql in queries) == 1


def test_a_patient_who_adds_a_second_factor_elsewhere_is_asked_for_the_code(settings, alice):
    # The one lookup is still made on every request: a device set up in another session counts at once.
    client = _settled(settings, DB_SESSIONS, alice)
    totp_device(alice)

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/account/security/two-factor/verify/")


@pytest.mark.parametrize("engine", [DB_SESSIONS, CACHED_SESSIONS])
def test_activity_within_a_minute_does_not_write_the_session(settings, alice, engine):
    client = _settled(settings, engine, alice)

    queries = _queries(client) + _queries(client)

    assert not [sql for sql in queries if sql.startswith(("UPDATE", "INSERT")) and "django_session" in sql]


def _session_row(client) -> Session:
    return Session.objects.get(session_key=client.cookies[django_settings.SESSION_COOKIE_NAME].value)


def _last_refresh_long_ago(client, seconds: float) -> None:
    session = client.session
    session[SESSION_REFRESHED_AT_KEY] = time.time() - seconds
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + timedelta(seconds=django_settings.SESSION_COOKIE_AGE - seconds)
    )


@pytest.mark.parametrize("engine", [DB_SESSIONS, CACHED_SESSIONS])
def test_activity_a_minute_after_the_last_refresh_pushes_the_idle_timeout_back(settings, alice, engine):
    client = _settled(settings, engine, alice)
    _last_refresh_long_ago(client, SESSION_REFRESH_SECONDS + 1)
    before = _session_row(client).expire_date

    response = client.get(TINY_PAGE)

    after = _session_row(client).expire_date
    assert after - before >= timedelta(seconds=SESSION_REFRESH_SECONDS)
    assert abs(after - timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)) < timedelta(seconds=5)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.SESSION_COOKIE_AGE


def test_a_session_left_idle_past_the_timeout_ends(settings, alice):
    client = _settled(settings, DB_SESSIONS, alice)
    _last_refresh_long_ago(client, settings.SESSION_COOKIE_AGE + 1)

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
