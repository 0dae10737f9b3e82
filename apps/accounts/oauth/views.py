"""The authorisation server's endpoints, and the person's "signed-in apps and devices" page."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from oauth2_provider import views as dot_views
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import get_application_model
from oauthlib.oauth2.rfc6749.errors import InvalidRequestError

from apps.accounts.credentials import credentials_revoke_all
from apps.accounts.http import AuthenticatedHttpRequest
from apps.accounts.oauth import services


def _too_many_requests() -> HttpResponse:
    body = {
        "error": "slow_down",
        "error_description": _("Too many requests from your address. Wait a minute, then try again."),
    }
    return HttpResponse(json.dumps(body), status=429, content_type="application/json")


if TYPE_CHECKING:
    # What the mixin is mixed into: an endpoint view with post() (untyped in django-oauth-toolkit).
    from oauth2_provider.views import TokenView as _EndpointView
else:
    _EndpointView = object


class _RateLimited(_EndpointView):
    """The token, revocation and introspection endpoints share one limit per client address
    (allauth's limiter: the shared cache, the TRUSTED_PROXY_COUNT rule for X-Forwarded-For)."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not ratelimit.consume(request, action="oauth_token"):
            return _too_many_requests()
        return super().post(request, *args, **kwargs)


class TokenView(_RateLimited, dot_views.TokenView):
    pass


class RevokeTokenView(_RateLimited, dot_views.RevokeTokenView):
    pass


class IntrospectTokenView(_RateLimited, dot_views.IntrospectTokenView):
    pass


class AuthorizationView(dot_views.AuthorizationView):
    """Behind login and the second factor (TwoFactorMiddleware), like every page."""

    template_name = "accounts/oauth/authorize.html"

    def validate_authorization_request(self, request):
        # PKCE with S256 only: refuse "plain" before the person is asked anything.
        scopes, credentials = super().validate_authorization_request(request)
        if credentials.get("code_challenge_method") != "S256":
            raise OAuthToolkitError(
                error=InvalidRequestError(
                    description='PKCE with code_challenge_method "S256" is required.', state=credentials.get("state")
                ),
                redirect_uri=credentials["redirect_uri"],
            )
        return scopes, credentials

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        # The consent form posts, then redirects to the app; browsers apply the page's
        # form-action to that redirect, so the app's (already validated) origin is allowed.
        if response.status_code == 200 and (origin := _csp_origin(request.GET.get("redirect_uri", ""))):
            response._csp_update = {"form-action": [origin]}
        return response

    def redirect(self, redirect_to, application):
        # DOT falls back to the global https-only schemes when an error comes before it loaded
        # the application; an error for a native app (loopback http, own scheme) must still
        # reach it. oauthlib only asks for an error redirect once the redirect URI is validated.
        if application is None:
            client_id = self.request.GET.get("client_id") or self.request.POST.get("client_id")
            application = get_application_model().objects.filter(client_id=client_id).first() if client_id else None
        return super().redirect(redirect_to, application)


def _csp_origin(redirect_uri: str) -> str:
    """A CSP source for a redirect URI: scheme://host[:port] for the web, "scheme:" for an app's own scheme."""
    parts = urlsplit(redirect_uri)
    if not parts.scheme:
        return ""
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    return f"{parts.scheme}:"


@login_required
@require_http_methods(["GET"])
def sign_ins(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "accounts/oauth/sign_ins.html", {"sign_ins": services.sign_ins_for(user=request.user)})


@login_required
@require_POST
def sign_in_end(request: AuthenticatedHttpRequest, sign_in_id) -> HttpResponse:
    if services.sign_in_end(user=request.user, sign_in_id=sign_in_id):
        messages.success(request, _("This app or device is signed out. It must sign in again to use your account."))
    else:
        messages.info(request, _("This app or device was already signed out."))
    return redirect("oauth_sign_ins")


@login_required
@require_POST
def sign_ins_end_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    credentials_revoke_all(user=request.user, reason="on_request")
    messages.success(request, _("Every app and device is signed out. Each must sign in again to use your account."))
    return redirect("oauth_sign_ins")
