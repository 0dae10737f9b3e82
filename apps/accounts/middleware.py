"""Two-factor enforcement and a clear word when a session expires."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.accounts.two_factor import has_two_factor

SESSION_SEEN_COOKIE = "hs_seen"

# Paths reachable before the second factor: what is needed to provide it or leave.
_OPEN_PREFIXES = ("/static/", "/healthz", "/manifest.webmanifest", "/i18n/", "/api/", "/favicon")


class TwoFactorMiddleware:
    """A logged-in person with a second factor must give a code before anything else;
    professionals and support agents without one must set it up first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not user.is_verified() and not self._is_open(request):
            if has_two_factor(user):
                return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': request.get_full_path()})}")
            if user.requires_two_factor:
                messages.warning(
                    request,
                    _(
                        "Two-step verification is required for your account before you can "
                        "use healthspace. Set it up now: it takes a minute."
                    ),
                )
                return redirect("two_factor_setup")
        return self.get_response(request)

    @staticmethod
    def _is_open(request: HttpRequest) -> bool:
        path = request.path
        if path.startswith(_OPEN_PREFIXES):
            return True
        return path in (
            reverse("two_factor_verify"),
            reverse("two_factor_setup"),
            reverse("account_logout"),
        )


class SessionExpiryMiddleware:
    """Says "your session expired" instead of a bare login page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        had_session = request.COOKIES.get(SESSION_SEEN_COOKIE) == "1"
        if had_session and not request.user.is_authenticated and request.method == "GET":
            messages.info(request, _("Your session expired after a period of inactivity. Please log in again."))
            response = self.get_response(request)
            response.delete_cookie(SESSION_SEEN_COOKIE)
            return response
        response = self.get_response(request)
        if getattr(request, "explicit_logout", False):
            response.delete_cookie(SESSION_SEEN_COOKIE)
        elif request.user.is_authenticated and not had_session:
            response.set_cookie(SESSION_SEEN_COOKIE, "1", httponly=True, samesite="Lax")
        return response
