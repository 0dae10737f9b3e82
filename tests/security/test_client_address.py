"""Breach 5: one client-address rule for every reader, so a spoofed X-Forwarded-For buys no guesses.

The address is read once (apps/access/middleware.py), as allauth reads it through
TRUSTED_PROXY_COUNT, and written into REMOTE_ADDR: the journal, allauth's limits and
DRF's throttles then see the same address, whatever X-Forwarded-For says.
"""

from __future__ import annotations

import itertools

import pytest
from allauth.account.adapter import get_adapter
from django.http import HttpResponse
from django.test import Client, RequestFactory
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from apps.access.middleware import AccessContextMiddleware
from apps.access.models import AccessEvent
from tests.factories import PASSWORD

LOGIN_URL = "/accounts/login/"
ACTIVATION_URL = "/api/v1/activation/"
_spoofed = (f"203.0.113.{n}" for n in itertools.count(1))


@pytest.fixture
def proxies(settings):
    """Set TRUSTED_PROXY_COUNT as the settings do: allauth's setting and DRF's NUM_PROXIES together."""

    def set_count(count: int) -> None:
        settings.ALLAUTH_TRUSTED_PROXY_COUNT = count
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}

    return set_count


def _addresses_after_middleware(forwarded: str | None, remote: str = "192.0.2.10") -> tuple[str, str, str]:
    """(journal's, allauth's, DRF's) address for one request, as each reads it after the middleware."""
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR=remote, **extra)
    seen = {}

    def view(request):
        from apps.access.journal import current_origin

        seen["journal"] = current_origin.get().ip
        seen["allauth"] = get_adapter(request).get_client_ip(request)
        seen["drf"] = SimpleRateThrottle.get_ident(SimpleRateThrottle.__new__(SimpleRateThrottle), request)
        return HttpResponse()

    AccessContextMiddleware(view)(request)
    return seen["journal"], seen["allauth"], seen["drf"]


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "192.0.2.10"),  # nobody trusted: the header is ignored
        (0, None, "192.0.2.10"),
        (1, "203.0.113.7, 198.51.100.4", "198.51.100.4"),  # what the client wrote first is skipped
        (1, "198.51.100.4:5555", "198.51.100.4"),  # a port is not part of the address
        (1, "not-an-address", "192.0.2.10"),  # junk from the proxy: the connection's address
        (2, "198.51.100.4", "192.0.2.10"),  # fewer entries than proxies: the request bypassed one
        (2, "203.0.113.7, 198.51.100.4, 10.0.0.2", "198.51.100.4"),
    ],
)
def test_journal_allauth_and_drf_read_the_same_client_address(proxies, count, forwarded, expected):
    proxies(count)

    assert _addresses_after_middleware(forwarded) == (expected, expected, expected)
    assert count == api_settings.NUM_PROXIES


def _login(client: Client, *, email: str, password: str, forwarded: str):
    return client.post(LOGIN_URL, {"login": email, "password": password}, HTTP_X_FORWARDED_FOR=forwarded)


def _refused_by_the_limit(response) -> bool:
    return response.status_code == 429 or b"Too many failed attempts" in response.content


@pytest.mark.django_db
def test_spoofed_forwarded_for_does_not_reset_the_web_login_limit(proxies, settings, alice):
    proxies(0)
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/m/ip,5/300s/key"}
    client = Client()
    guesses = [
        _login(client, email=f"guess-{n}@example.test", password="wrong-password", forwarded=next(_spoofed))
        for n in range(3)
    ]

    # The fourth try, even with the right password and yet another "address", is refused.
    response = _login(client, email=alice.email, password=PASSWORD, forwarded=next(_spoofed))

    assert not any(_refused_by_the_limit(guess) for guess in guesses)
    assert _refused_by_the_limit(response)
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_behind_one_proxy_the_web_login_limit_is_per_real_client(proxies, settings, alice):
    proxies(1)
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/m/ip,5/300s/key"}
    attacker = Client()
    # The attacker writes his own first entry each time; the proxy appends his real address.
    for n in range(3):
        _login(
            attacker, email=f"guess-{n}@example.test", password="x-wrong", forwarded=f"{next(_spoofed)}, 198.51.100.66"
        )
    refused = _login(attacker, email=alice.email, password=PASSWORD, forwarded=f"{next(_spoofed)}, 198.51.100.66")
    neighbour = Client()

    response = _login(neighbour, email=alice.email, password=PASSWORD, forwarded="198.51.100.77")

    assert _refused_by_the_limit(refused)
    assert response.status_code == 302
    assert neighbour.session["_auth_user_id"] == str(alice.pk)


_login_ids = (f"nobody-{n}" for n in itertools.count(1000))


def _activation(client: Client, *, forwarded: str) -> int:
    # A new login identifier each time: only the per-address limits are at play, not the per-letter one.
    response = client.post(
        ACTIVATION_URL,
        {"login_id": next(_login_ids), "code": "0000-0000", "password": "a long enough password"},
        content_type="application/json",
        HTTP_X_FORWARDED_FOR=forwarded,
    )
    return response.status_code


@pytest.fixture
def activation_limit(settings) -> int:
    """Three tries per address (allauth's limiter, "activation" action), so the test stays short."""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "activation": "3/10m/ip,100/10m/key"}
    return 3


@pytest.mark.django_db
def test_spoofed_forwarded_for_does_not_reset_the_activation_api_limit(proxies, activation_limit):
    proxies(0)
    client = Client()

    statuses = [_activation(client, forwarded=next(_spoofed)) for _ in range(activation_limit + 1)]

    assert 429 not in statuses[:activation_limit]
    assert statuses[-1] == 429
    assert AccessEvent.objects.count() == 0  # nothing about any record was touched


@pytest.mark.django_db
def test_behind_one_proxy_the_activation_api_limit_is_per_real_client(proxies, activation_limit):
    proxies(1)
    client = Client()

    attacker = [_activation(client, forwarded=f"{next(_spoofed)}, 198.51.100.66") for _ in range(activation_limit + 1)]
    neighbour = _activation(client, forwarded="198.51.100.77")

    assert attacker[-1] == 429
    assert neighbour == 400  # heard, and refused for its wrong code only


@pytest.mark.django_db
def test_a_refused_read_is_journaled_with_the_real_address_not_the_spoofed_one(proxies, charlie, alice_record):
    proxies(0)
    client = Client()
    client.force_login(charlie)

    response = client.get(f"/api/v1/records/{alice_record.uuid}/", HTTP_X_FORWARDED_FOR="203.0.113.250")

    assert response.status_code == 404
    event = AccessEvent.objects.filter(actor_uuid=charlie.uuid, record_uuid=alice_record.uuid).latest("seq")
    assert event.outcome == "denied"
    assert event.ip == "127.0.0.1"
