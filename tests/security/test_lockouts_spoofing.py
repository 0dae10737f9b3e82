"""Breach 5, every door at once: a rotating, spoofed X-Forwarded-For buys no extra guesses.

With TRUSTED_PROXY_COUNT=0 the header is never believed, so each limiter counts the real
connection. Each door is checked only where its limiter exists (the others land with their
owners' work); a door found without one is skipped with a message that names it.
"""

from __future__ import annotations

import itertools

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

LIMIT = 3
_spoofed = (f"203.0.113.{n}" for n in itertools.count(1))
_keys = (f"guess-{n}" for n in itertools.count(1))


@pytest.fixture(autouse=True)
def _small_limits_and_no_trusted_proxy(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    per_address = f"{LIMIT}/10m/ip,100/10m/key"
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        **{action: per_address for action in ("activation", "access_code", "mandate_code", "otp")},
        "oauth_token": f"{LIMIT}/m/ip",
    }


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        pytest.skip(f"{name} does not exist yet")


def _statuses(send) -> list[int]:
    return [send(forwarded=next(_spoofed)) for _ in range(LIMIT + 1)]


@pytest.mark.django_db
def test_spoofed_addresses_do_not_reset_the_oauth_token_endpoint_limit():
    url, client = _url("oauth2_provider:token"), Client()

    def send(*, forwarded):
        data = {"grant_type": "authorization_code", "code": next(_keys), "client_id": "nobody"}
        return client.post(url, data, HTTP_X_FORWARDED_FOR=forwarded).status_code

    statuses = _statuses(send)

    assert 429 not in statuses[:LIMIT]
    assert statuses[LIMIT] == 429


@pytest.mark.django_db
def test_spoofed_addresses_do_not_reset_the_activation_page_limit():
    url, client = _url("activate"), Client()

    def send(*, forwarded):
        response = client.post(url, {"login_id": next(_keys), "code": "0000-0000"}, HTTP_X_FORWARDED_FOR=forwarded)
        return 429 if b"Too many tries" in response.content else response.status_code

    statuses = _statuses(send)

    assert 429 not in statuses[:LIMIT]
    assert statuses[LIMIT] == 429


@pytest.mark.django_db
def test_spoofed_addresses_do_not_reset_the_activation_api_limit():
    url, client = _url("api_activation"), Client()

    def send(*, forwarded):
        body = {"login_id": next(_keys), "code": "0000-0000", "password": "a long enough password"}
        return client.post(url, body, content_type="application/json", HTTP_X_FORWARDED_FOR=forwarded).status_code

    statuses = _statuses(send)

    assert 429 not in statuses[:LIMIT]
    assert statuses[LIMIT] == 429


def test_spoofed_addresses_do_not_reset_the_second_factor_limit(dr_martin):
    from tests.conftest import logged_in_client

    client, url = logged_in_client(dr_martin, verified=False), _url("two_factor_verify")

    def send(*, forwarded):
        return client.post(url, {"token": "000000"}, HTTP_X_FORWARDED_FOR=forwarded).status_code

    statuses = _statuses(send)

    assert 429 not in statuses[:LIMIT]
    assert statuses[LIMIT] == 429


def test_spoofed_addresses_do_not_reset_the_access_code_limit(dr_martin):
    from tests.conftest import logged_in_client

    client, url = logged_in_client(dr_martin), _url("pro_code")

    def send(*, forwarded):
        response = client.post(url, {"code": "ZZZZ-ZZZZ"}, HTTP_X_FORWARDED_FOR=forwarded)
        return 429 if b"from your connection" in response.content else response.status_code

    statuses = _statuses(send)

    assert 429 not in statuses[:LIMIT]
    assert statuses[LIMIT] == 429
