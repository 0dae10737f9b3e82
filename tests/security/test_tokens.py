"""Breach 4 (and the token half of 5): API credentials are OAuth 2.0 tokens that expire, rotate,
are hashed at rest and end when what vouched for them changes.

Everything goes through HTTP: the authorisation page (a logged-in, second-factor-verified web
session), /o/token/, /o/revoke_token/, the API with a bearer token, the security pages.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_refresh_token_model,
)

from apps.accounts import two_factor
from apps.notifications.models import Notification
from tests.conftest import current_code, logged_in_client
from tests.factories import PASSWORD
from tests.security.oauth_helpers import MOBILE_CLIENT_ID, bearer_client, mint_tokens

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
REDIRECT_URI = "http://127.0.0.1/callback"


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize_query(challenge: str | None, method: str = "S256", **extra) -> str:
    params = {
        "response_type": "code",
        "client_id": MOBILE_CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "api",
        "state": "st4te",
        **extra,
    }
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method=method)
    return "/o/authorize/?" + urlencode(params)


def _allow(web: Client, challenge: str) -> str:
    """The person allows the app on the authorisation page; return the code sent to the app."""
    page = web.get(_authorize_query(challenge))
    assert page.status_code == 200
    response = web.post(
        "/o/authorize/",
        {
            "client_id": MOBILE_CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "api",
            "state": "st4te",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "allow": "Authorize",
        },
    )
    assert response.status_code == 302
    query = parse_qs(urlparse(response["Location"]).query)
    assert query["state"] == ["st4te"]
    return query["code"][0]


def _exchange(code: str, verifier: str) -> dict:
    response = Client().post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": MOBILE_CLIENT_ID,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.content
    return response.json()


def _sign_in(user) -> dict:
    """The whole flow as a mobile app would run it, with ``user`` verified on the web."""
    verifier, challenge = _pkce()
    return _exchange(_allow(logged_in_client(user), challenge), verifier)


def _refresh(refresh_token: str):
    return Client().post(
        "/o/token/", {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": MOBILE_CLIENT_ID}
    )


def _me(access_token: str):
    return Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {access_token}")


def _assert_refused(response) -> None:
    assert response.status_code in (401, 403)
    assert "email" not in response.json()


# --- The flow --------------------------------------------------------------------------------


def test_alice_signs_in_an_app_with_authorisation_code_and_pkce_and_uses_the_api(alice):
    tokens = _sign_in(alice)

    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 600
    assert tokens["scope"] == "api"
    me = _me(tokens["access_token"])
    assert me.status_code == 200
    assert me.json()["email"] == "alice@example.test"
    records = Client().get("/api/v1/records/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert records.status_code == 200


def test_a_professional_must_give_his_second_factor_before_the_authorisation_page(dr_martin):
    web = logged_in_client(dr_martin, verified=False)
    _verifier, challenge = _pkce()

    page = web.get(_authorize_query(challenge))

    assert page.status_code == 302
    assert page["Location"].startswith("/account/security/two-factor/verify/")
    assert not get_grant_model().objects.filter(user=dr_martin).exists()


def test_a_professional_with_his_second_factor_gets_a_working_token(dr_martin):
    web = Client()
    web.post("/accounts/login/", {"login": dr_martin.email, "password": PASSWORD})
    web.post("/account/security/two-factor/verify/", {"token": current_code(dr_martin)})
    verifier, challenge = _pkce()

    tokens = _exchange(_allow(web, challenge), verifier)

    assert _me(tokens["access_token"]).json()["two_factor"] is True


def test_the_token_endpoint_answers_apps_even_from_a_half_logged_in_browser(dr_martin):
    # The token endpoint is authenticated by the code and its verifier, never by a session:
    # the second-factor redirect of web pages must not stand in the way (nor help).
    web = logged_in_client(dr_martin, verified=False)

    response = web.post(
        "/o/token/", {"grant_type": "authorization_code", "code": "guess", "client_id": MOBILE_CLIENT_ID}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_the_authorisation_page_needs_a_login(db):
    _verifier, challenge = _pkce()

    response = Client().get(_authorize_query(challenge))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_authorisation_without_pkce_is_refused(alice):
    response = logged_in_client(alice).get(_authorize_query(None))

    assert response.status_code == 302
    assert parse_qs(urlparse(response["Location"]).query)["error"] == ["invalid_request"]
    assert not get_grant_model().objects.exists()


def test_plain_pkce_is_refused(alice):
    verifier = secrets.token_urlsafe(48)

    response = logged_in_client(alice).get(_authorize_query(verifier, method="plain"))

    assert response.status_code == 302
    assert parse_qs(urlparse(response["Location"]).query)["error"] == ["invalid_request"]
    assert not get_grant_model().objects.exists()


def test_plain_pkce_posted_straight_to_the_allow_form_gets_no_code(alice):
    verifier = secrets.token_urlsafe(48)

    response = logged_in_client(alice).post(
        "/o/authorize/",
        {
            "client_id": MOBILE_CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "api",
            "code_challenge": verifier,
            "code_challenge_method": "plain",
            "allow": "Authorize",
        },
    )

    assert "code=" not in response.get("Location", "")
    assert not get_grant_model().objects.exists()


def test_a_stolen_code_without_the_verifier_gets_no_token(alice):
    _verifier, challenge = _pkce()
    code = _allow(logged_in_client(alice), challenge)

    response = Client().post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": MOBILE_CLIENT_ID,
            "code_verifier": secrets.token_urlsafe(48),
        },
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_a_redirect_uri_that_is_not_registered_gets_no_code(alice):
    _verifier, challenge = _pkce()

    response = logged_in_client(alice).get(_authorize_query(challenge, redirect_uri="https://evil.example/cb"))

    assert response.status_code == 400
    assert "evil.example" not in response.get("Location", "")
    assert not get_grant_model().objects.exists()


def test_the_password_grant_is_refused(alice):
    response = Client().post(
        "/o/token/",
        {"grant_type": "password", "username": alice.email, "password": PASSWORD, "client_id": MOBILE_CLIENT_ID},
    )

    assert response.status_code in (400, 401)
    assert "access_token" not in response.json()
    assert not AccessToken.objects.exists()


def test_the_old_token_endpoint_is_gone(alice):
    response = Client().post(
        "/api/v1/auth/token/", {"email": alice.email, "password": PASSWORD}, content_type="application/json"
    )

    assert response.status_code == 404
    assert not AccessToken.objects.exists()


# --- Hashed at rest --------------------------------------------------------------------------


def _all_cells(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return [str(cell) for row in cursor.fetchall() for cell in row]


def test_the_database_holds_no_usable_access_or_refresh_token(alice):
    tokens = _sign_in(alice)

    cells = _all_cells(AccessToken._meta.db_table) + _all_cells(RefreshToken._meta.db_table)

    assert tokens["access_token"] not in cells
    assert tokens["refresh_token"] not in cells
    assert hashlib.sha256(tokens["access_token"].encode()).hexdigest() in cells


def test_what_a_database_thief_reads_cannot_be_replayed(alice):
    _sign_in(alice)
    access = AccessToken.objects.get(user=alice)
    refresh = RefreshToken.objects.get(user=alice)

    for stolen in {access.token, access.token_checksum} - {""}:
        _assert_refused(_me(stolen))
    for stolen in {refresh.token, refresh.token_checksum} - {""}:
        assert _refresh(stolen).status_code == 400
    assert AccessToken.objects.filter(user=alice).count() == 1


def test_client_secrets_are_hashed_at_rest(db):
    secret = secrets.token_urlsafe(32)
    app = get_application_model().objects.create(
        name="Logiciel du Dr Martin",
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="https://logiciel.example/callback",
        client_secret=secret,
    )

    assert secret not in _all_cells(get_application_model()._meta.db_table)
    app.refresh_from_db()
    assert app.client_secret.startswith("md5$") or app.client_secret.startswith("pbkdf2")


# --- Lifetime and refresh --------------------------------------------------------------------


def test_an_expired_access_token_is_refused(alice):
    tokens = _sign_in(alice)
    AccessToken.objects.filter(user=alice).update(expires=timezone.now() - timedelta(seconds=1))

    _assert_refused(_me(tokens["access_token"]))


def test_refresh_gives_a_new_pair_and_the_old_refresh_token_is_refused(alice):
    first = _sign_in(alice)

    second = _refresh(first["refresh_token"]).json()

    assert second["refresh_token"] != first["refresh_token"]
    assert _me(second["access_token"]).status_code == 200
    _assert_refused(_me(first["access_token"]))
    replay = _refresh(first["refresh_token"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"


def test_replaying_a_used_refresh_token_ends_the_whole_sign_in(alice):
    first = _sign_in(alice)
    second = _refresh(first["refresh_token"]).json()

    _refresh(first["refresh_token"])  # a thief replays the stolen one

    _assert_refused(_me(second["access_token"]))
    assert _refresh(second["refresh_token"]).status_code == 400
    assert not RefreshToken.objects.filter(user=alice, revoked__isnull=True).exists()


def test_a_token_without_the_api_scope_cannot_use_the_api(alice):
    access, _refresh_token = mint_tokens(alice, scope="patient/DocumentReference.rs")

    _assert_refused(_me(access))


def test_a_deactivated_persons_token_is_refused(alice):
    client = bearer_client(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    _assert_refused(client.get("/api/v1/me/"))


# --- Revocation ------------------------------------------------------------------------------


def test_changing_the_password_ends_every_app(alice):
    tokens = _sign_in(alice)
    web = logged_in_client(alice)

    response = web.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "a-new-long-passphrase-42", "password2": "a-new-long-passphrase-42"},
    )

    assert response.status_code == 302
    _assert_refused(_me(tokens["access_token"]))
    assert _refresh(tokens["refresh_token"]).status_code == 400
    assert Notification.objects.filter(recipient=alice, event="apps_signed_out").count() == 1


def test_resetting_the_password_ends_every_app(alice):
    tokens = _sign_in(alice)
    key = default_token_generator.make_token(alice)
    web = Client()
    form = web.get(f"/accounts/password/reset/key/{user_pk_to_url_str(alice)}-{key}/", follow=True)
    assert form.status_code == 200

    response = web.post(
        form.redirect_chain[-1][0] if form.redirect_chain else form.request["PATH_INFO"],
        {"password1": "a-new-long-passphrase-42", "password2": "a-new-long-passphrase-42"},
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-new-long-passphrase-42")
    _assert_refused(_me(tokens["access_token"]))
    assert _refresh(tokens["refresh_token"]).status_code == 400


def test_a_silent_password_rehash_at_login_keeps_the_apps(alice, settings):
    client = bearer_client(alice)
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]

    assert alice.check_password(PASSWORD)  # upgrades the stored hash and saves it

    assert client.get("/api/v1/me/").status_code == 200


def test_turning_on_two_step_verification_ends_every_app(alice):
    tokens = _sign_in(alice)
    web = logged_in_client(alice)
    web.get("/account/security/two-factor/setup/")  # shows the QR code of a new, unconfirmed device
    code = current_code_of(alice.totpdevice_set.get(confirmed=False))

    web.post("/account/security/two-factor/setup/", {"token": code})

    assert two_factor.has_two_factor(alice)
    _assert_refused(_me(tokens["access_token"]))


def current_code_of(device) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_turning_off_two_step_verification_ends_every_app(dr_martin):
    client = bearer_client(dr_martin)

    two_factor.two_factor_disable(user=dr_martin)

    _assert_refused(client.get("/api/v1/me/"))


def test_the_person_ends_one_app_on_the_security_page(alice):
    ended = _sign_in(alice)
    kept = _sign_in(alice)
    web = logged_in_client(alice)
    page = web.get("/account/security/apps/")
    assert page.status_code == 200
    assert "healthspace mobile" in page.content.decode()
    family = RefreshToken.objects.get(user=alice, access_token__isnull=False, token_checksum=_sha(ended)).token_family

    response = web.post(f"/account/security/apps/{family}/end/")

    assert response.status_code == 302
    _assert_refused(_me(ended["access_token"]))
    assert _refresh(ended["refresh_token"]).status_code == 400
    assert _me(kept["access_token"]).status_code == 200


def _sha(tokens: dict) -> str:
    return hashlib.sha256(tokens["refresh_token"].encode()).hexdigest()


def test_the_person_ends_every_app_on_the_security_page(alice):
    one, two = _sign_in(alice), _sign_in(alice)

    response = logged_in_client(alice).post("/account/security/apps/end-all/")

    assert response.status_code == 302
    for tokens in (one, two):
        _assert_refused(_me(tokens["access_token"]))
        assert _refresh(tokens["refresh_token"]).status_code == 400


def test_the_api_lists_and_ends_sign_ins(alice):
    tokens = _sign_in(alice)
    api = bearer_client(alice)

    listed = api.get("/api/v1/auth/sign-ins/").json()
    assert len(listed) == 2
    assert {item["application"] for item in listed} == {"healthspace mobile"}
    target = RefreshToken.objects.get(token_checksum=_sha(tokens)).token_family

    response = api.delete(f"/api/v1/auth/sign-ins/{target}/")

    assert response.status_code == 204
    _assert_refused(_me(tokens["access_token"]))
    assert len(api.get("/api/v1/auth/sign-ins/").json()) == 1


def test_a_stranger_cannot_end_someone_elses_sign_in(alice, charlie):
    tokens = _sign_in(alice)
    target = RefreshToken.objects.get(token_checksum=_sha(tokens)).token_family

    response = bearer_client(charlie).delete(f"/api/v1/auth/sign-ins/{target}/")

    assert response.status_code == 404
    assert _me(tokens["access_token"]).status_code == 200


def test_the_api_ends_every_sign_in(alice):
    tokens = _sign_in(alice)
    api = bearer_client(alice)

    response = api.delete("/api/v1/auth/sign-ins/")

    assert response.json() == {"ended": 4}
    _assert_refused(_me(tokens["access_token"]))
    _assert_refused(api.get("/api/v1/me/"))


def test_an_app_revokes_its_own_token(alice):
    tokens = _sign_in(alice)

    response = Client().post("/o/revoke_token/", {"token": tokens["refresh_token"], "client_id": MOBILE_CLIENT_ID})

    assert response.status_code == 200
    _assert_refused(_me(tokens["access_token"]))
    assert _refresh(tokens["refresh_token"]).status_code == 400


def test_operators_do_not_see_tokens_in_the_admin():
    for model in (AccessToken, RefreshToken, get_grant_model()):
        assert not admin.site.is_registered(model)


# --- Rate limit (breach 5) -------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["/o/token/", "/o/revoke_token/"])
def test_a_spoofed_x_forwarded_for_does_not_bypass_the_token_endpoint_limit(db, settings, endpoint):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "oauth_token": "3/m/ip"}
    client = Client()
    body = {"grant_type": "refresh_token", "refresh_token": "guess", "client_id": MOBILE_CLIENT_ID}
    for attempt in range(3):
        assert client.post(endpoint, body, HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}").status_code != 429

    response = client.post(endpoint, body, HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert response.status_code == 429
    assert response.json()["error_description"] == "Too many requests from your address. Wait a minute, then try again."


def test_the_openapi_schema_describes_the_oauth2_authorisation_code_flow(db):
    import yaml

    schema = yaml.safe_load(Client().get("/api/schema/").content)

    flow = schema["components"]["securitySchemes"]["oauth2"]["flows"]
    assert set(flow) == {"authorizationCode"}
    assert flow["authorizationCode"]["tokenUrl"] == "/o/token/"
    assert {"oauth2": ["api"]} in schema["paths"]["/api/v1/me/"]["get"]["security"]


def test_the_consent_page_lets_its_form_reach_the_apps_own_redirect_origin(alice):
    # Browsers apply form-action to the redirect after the consent form: without the app's
    # origin there, the code would never reach the app.
    _verifier, challenge = _pkce()
    page = logged_in_client(alice).get(_authorize_query(challenge))
    policy = page["Content-Security-Policy"]
    form_action = next(part for part in policy.split(";") if part.strip().startswith("form-action"))
    assert "'self'" in form_action
    assert "http://127.0.0.1" in form_action
    assert "https://evil" not in form_action


def test_the_daily_housekeeping_deletes_tokens_of_a_sign_in_left_idle(alice, settings):
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model

    from apps.accounts.oauth.tasks import clear_expired_tokens
    from tests.security.oauth_helpers import mint_tokens

    mint_tokens(alice)
    idle = timedelta(seconds=settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"]) + timedelta(days=1)
    get_access_token_model().objects.filter(user=alice).update(expires=timezone.now() - idle)

    clear_expired_tokens.delay()

    assert not get_access_token_model().objects.filter(user=alice).exists()
    assert not get_refresh_token_model().objects.filter(user=alice).exists()
