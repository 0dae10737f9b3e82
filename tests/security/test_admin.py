"""Breach 3: operators read every API token, TOTP secret and backup code in the admin, then act
as the patient. The admin now shows no secret, needs the operator's second factor, and offers no
way to take over someone's account (password, e-mail)."""

from __future__ import annotations

from base64 import b32encode
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model

from apps.accounts import two_factor
from apps.accounts.models import User
from tests.accounts.helpers import password_login
from tests.conftest import current_code, logged_in_client
from tests.factories import PASSWORD, OperatorFactory, totp_device

pytestmark = pytest.mark.django_db

VERIFY = "/account/security/two-factor/verify/"
SETUP = "/account/security/two-factor/setup/"


@pytest.fixture
def superuser_olga(olga):
    olga.is_superuser = True
    olga.save()
    return olga


def _admin_pages() -> list[str]:
    return ["/admin/"] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]


# --- The second factor ---------------------------------------------------------------------


def test_operator_with_only_her_password_is_sent_to_the_code_page_from_every_admin_page(superuser_olga):
    client = logged_in_client(superuser_olga, verified=False)

    for path in _admin_pages():
        response = client.get(path)
        assert response.status_code == 302, path
        assert urlsplit(response["Location"]).path == VERIFY, path


def test_operator_without_a_second_factor_must_set_one_up_before_the_admin(db):
    operator = OperatorFactory(email="otto@example.test", is_superuser=True)
    assert operator.requires_two_factor

    response = logged_in_client(operator).get("/admin/accounts/user/")

    assert response.status_code == 302
    assert response["Location"] == SETUP


def test_operator_cannot_turn_her_second_factor_off(olga):
    client = logged_in_client(olga)

    client.post("/account/security/two-factor/disable/", {"token": current_code(olga)})

    assert two_factor.has_two_factor(olga)


def test_admin_site_itself_refuses_a_staff_session_without_a_verified_device(superuser_olga, rf):
    # The rule held by the site, not only by the middleware in front of it.
    request = rf.get("/admin/")
    request.user = superuser_olga
    request.user.is_verified = lambda: False

    assert not admin.site.has_permission(request)


def test_admin_login_form_is_not_a_way_around_the_login_lockout(db):
    response = Client().get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("account_login")


def test_operator_reaches_the_admin_after_her_password_and_her_code(superuser_olga):
    client = Client()
    password_login(client, "olga@example.test", PASSWORD)
    assert urlsplit(client.get("/admin/")["Location"]).path == VERIFY

    client.post(VERIFY, {"token": current_code(superuser_olga), "next": "/admin/"})

    assert client.get("/admin/").status_code == 200


# --- No secret on any page -----------------------------------------------------------------


@pytest.fixture
def secrets(alice, dr_martin, sam) -> list[str]:
    """Every secret a person holds that an operator could use to act as them."""
    found: list[str] = []
    device = totp_device(alice)
    for user in (alice, dr_martin, sam):
        for totp in user.totpdevice_set.all():
            found += [totp.key, b32encode(totp.bin_key).decode()]
        found += two_factor.backup_codes_regenerate(user=user)
    assert device.key in found
    plain_client_secret = "a-client-secret-that-is-never-shown-0123456789"
    application = get_application_model().objects.create(
        name="Alice's phone",
        user=alice,
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="https://app.example.test/callback",
        client_secret=plain_client_secret,
    )
    access = get_access_token_model().objects.create(
        user=alice,
        application=application,
        token="access-token-of-alice-0123456789abcdef",
        expires=timezone.now() + timedelta(hours=1),
        scope="api",
    )
    get_refresh_token_model().objects.create(
        user=alice, application=application, token="refresh-token-of-alice-0123456789abcdef", access_token=access
    )
    found += [plain_client_secret, "access-token-of-alice-0123456789abcdef", "refresh-token-of-alice-0123456789abcdef"]
    found.append(User.objects.get(pk=alice.pk).password)  # the full hash: shown only masked
    return found


def test_no_admin_page_of_any_registered_model_shows_a_secret(superuser_olga, secrets):
    client = logged_in_client(superuser_olga)
    pages: dict[str, str] = {}
    for model, model_admin in admin.site._registry.items():
        base = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = client.get(reverse(f"{base}_changelist"))
        assert changelist.status_code == 200, model
        pages[model._meta.label] = changelist.content.decode()
        for obj in model_admin.get_queryset(changelist.wsgi_request)[:20]:
            change = client.get(reverse(f"{base}_change", args=[obj.pk]))
            assert change.status_code == 200, (model, obj.pk)
            pages[f"{model._meta.label} {obj.pk}"] = change.content.decode()
    assert any(label.startswith("accounts.User ") for label in pages)  # the people were looked at

    for label, html in pages.items():
        for secret in secrets:
            assert secret not in html, f"{label} shows a secret"


@pytest.mark.parametrize(
    "path",
    [
        "/admin/otp_totp/totpdevice/",
        "/admin/otp_static/staticdevice/",
        "/admin/oauth2_provider/accesstoken/",
        "/admin/oauth2_provider/refreshtoken/",
        "/admin/oauth2_provider/grant/",
    ],
)
def test_second_factor_devices_and_tokens_have_no_admin_page(superuser_olga, path):
    assert logged_in_client(superuser_olga).get(path).status_code == 404


def test_user_page_says_only_whether_two_step_verification_is_on(superuser_olga, dr_martin, alice):
    client = logged_in_client(superuser_olga)

    with_device = client.get(reverse("admin:accounts_user_change", args=[dr_martin.pk])).content.decode()
    without = client.get(reverse("admin:accounts_user_change", args=[alice.pk])).content.decode()

    assert "On, never used yet" in with_device
    assert "Off" in without


# --- No way to become the person ----------------------------------------------------------


def test_operator_cannot_set_a_persons_password(superuser_olga, alice):
    client = logged_in_client(superuser_olga)
    path = reverse("admin:auth_user_password_change", args=[alice.pk])

    assert client.get(path).status_code == 403
    response = client.post(path, {"password1": "operator-chosen-pass", "password2": "operator-chosen-pass"})

    assert response.status_code == 403
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_operator_cannot_change_a_persons_email_in_the_admin(superuser_olga, alice):
    client = logged_in_client(superuser_olga)
    path = reverse("admin:accounts_user_change", args=[alice.pk])
    page = client.get(path).content.decode()
    assert 'name="email"' not in page

    client.post(
        path,
        {
            "email": "olga@evil.test",
            "display_name": "Alice Martin",
            "role": "patient",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    alice.refresh_from_db()
    assert alice.email == "alice@example.test"


def test_operator_cannot_add_or_change_an_email_address(superuser_olga, alice):
    client = logged_in_client(superuser_olga)
    address = EmailAddress.objects.get(user=alice)

    added = client.post(
        reverse("admin:account_emailaddress_add"),
        {"user": alice.pk, "email": "olga@evil.test", "verified": "on", "primary": "on"},
    )
    changed = client.post(
        reverse("admin:account_emailaddress_change", args=[address.pk]),
        {"user": alice.pk, "email": "olga@evil.test", "verified": "on", "primary": "on"},
    )

    assert added.status_code == 403
    assert changed.status_code == 403
    assert list(EmailAddress.objects.filter(user=alice).values_list("email", flat=True)) == ["alice@example.test"]
