"""Minting OAuth tokens for tests, through the real models (no HTTP flow).

``bearer_client(user)`` gives a client that calls the API as ``user`` with a fresh access token
of the first-party mobile app, exactly as one issued by /o/token/ (hashed at rest, with its
refresh token). The full flow itself is tested in tests/security/test_tokens.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_refresh_token_model,
    set_token_value,
)
from oauthlib.common import generate_token
from rest_framework.test import APIClient

MOBILE_CLIENT_ID = "healthspace-mobile"


def mobile_app():
    app, _created = get_application_model().objects.get_or_create(
        client_id=MOBILE_CLIENT_ID,
        defaults={
            "name": "healthspace mobile",
            "client_type": "public",
            "authorization_grant_type": "authorization-code",
            "redirect_uris": "healthspace://oauth/callback http://127.0.0.1/callback",
            "client_secret": "",
        },
    )
    return app


def mint_tokens(user, *, scope: str = "api", application=None) -> tuple[str, str]:
    """Issue an access token and its refresh token for ``user``; return both raw values."""
    application = application or mobile_app()
    raw_access, raw_refresh = generate_token(), generate_token()
    access = get_access_token_model()(
        user=user,
        application=application,
        scope=scope,
        expires=timezone.now() + timedelta(seconds=settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]),
    )
    set_token_value(access, raw_access)
    access.save()
    refresh = get_refresh_token_model()(
        user=user, application=application, access_token=access, token_family=uuid.uuid4()
    )
    set_token_value(refresh, raw_refresh)
    refresh.save()
    return raw_access, raw_refresh


def bearer_client(user, *, scope: str = "api") -> APIClient:
    """An API client authenticated as ``user`` with a real OAuth access token."""
    access, _refresh = mint_tokens(user, scope=scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


__all__ = ["bearer_client", "mint_tokens", "mobile_app"]
