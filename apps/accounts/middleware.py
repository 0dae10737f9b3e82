"""Two-factor enforcement, idle and absolute session timeouts with a clear word when a
session ends, and the same second-factor check for WebSocket connections."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from urllib.parse import urlencode

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import DEVICE_ID_SESSION_KEY

from apps.accounts.two_factor import has_two_factor

SESSION_SEEN_COOKIE = "hs_seen"
# When the person logged in (seconds since the epoch): the absolute timeout counts from it.
SESSION_LOGIN_AT_KEY = "hs_login_at"
# When the session's expiry was last pushed back. Saving it on every request cost every request
# a write and a commit; once a minute keeps the idle timeout within a minute of exact.
SESSION_REFRESHED_AT_KEY = "hs_refreshed_at"
SESSION_REFRESH_SECONDS = 60


def session_outlived(session) -> bool:
    """True when the session is older than SESSION_ABSOLUTE_SECONDS, however active it was."""
    login_at = session.get(SESSION_LOGIN_AT_KEY)
    if not isinstance(login_at, int | float):
        return False
    return time.time() - login_at > settings.SESSION_ABSOLUTE_SECONDS


# Paths reachable before the second factor: what is needed to provide it or leave.
_OPEN_PREFIXES: tuple[str, ...] = ("/static/", "/healthz", "/manifest.webmanifest", "/i18n/", "/api/", "/favicon")
# OAuth endpoints that apps call with a code or a token, not a session (never /o/authorize/).
_OPEN_PREFIXES += ("/o/token/", "/o/revoke_token/", "/o/introspect/")


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
    """Ends a session after SESSION_ABSOLUTE_SECONDS from login even if it stayed active (the idle
    timeout is SESSION_COOKIE_AGE, renewed by activity at most once a minute), and says "your
    session expired" instead of a bare login page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and session_outlived(request.session):
            return self._end_outlived_session(request)
        had_session = request.COOKIES.get(SESSION_SEEN_COOKIE) == "1"
        if had_session and not request.user.is_authenticated and request.method == "GET":
            messages.info(request, _("Your session expired after a period of inactivity. Please log in again."))
            response = self.get_response(request)
            response.delete_cookie(SESSION_SEEN_COOKIE)
            return response
        user_before = request.user.pk if request.user.is_authenticated else None
        response = self.get_response(request)
        self._stamp_login(request, user_before)
        self._refresh_expiry(request)
        if getattr(request, "explicit_logout", False):
            response.delete_cookie(SESSION_SEEN_COOKIE)
        elif request.user.is_authenticated and not had_session:
            response.set_cookie(SESSION_SEEN_COOKIE, "1", httponly=True, samesite="Lax")
        return response

    def _end_outlived_session(self, request: HttpRequest) -> HttpResponse:
        logout(request)
        hours = max(1, settings.SESSION_ABSOLUTE_SECONDS // 3600)
        messages.info(
            request,
            ngettext(
                "For your safety, a session lasts %(hours)d hour at most. Please log in again.",
                "For your safety, a session lasts %(hours)d hours at most. Please log in again.",
                hours,
            )
            % {"hours": hours},
        )
        response = self.get_response(request)
        response.delete_cookie(SESSION_SEEN_COOKIE)
        return response

    @staticmethod
    def _stamp_login(request: HttpRequest, user_before: int | None) -> None:
        # A login during this request (or a session that predates the stamp) starts the clock;
        # later requests never move it, so activity cannot stretch a session past the limit.
        if not request.user.is_authenticated:
            return
        if request.user.pk != user_before or SESSION_LOGIN_AT_KEY not in request.session:
            request.session[SESSION_LOGIN_AT_KEY] = time.time()

    @staticmethod
    def _refresh_expiry(request: HttpRequest) -> None:
        # A modified session is saved with a new expiry (server side and cookie) by SessionMiddleware.
        # Only a logged-in session: an API call with a token has none to keep alive.
        if not request.user.is_authenticated or SESSION_KEY not in getattr(request, "session", {}):
            return
        refreshed_at = request.session.get(SESSION_REFRESHED_AT_KEY)
        now = time.time()
        if not isinstance(refreshed_at, int | float) or not 0 <= now - refreshed_at < SESSION_REFRESH_SECONDS:
            request.session[SESSION_REFRESHED_AT_KEY] = now


class WebSocketSecondFactorMiddleware(BaseMiddleware):
    """django-otp's OTPMiddleware for the WebSocket scope (inside channels' AuthMiddlewareStack).

    Installs ``user.otp_device`` and ``user.is_verified()`` from the session's verified device,
    exactly as for HTTP, so consumers can refuse a session that passed only the password step;
    a session past its absolute timeout is anonymous here too.
    """

    async def __call__(self, scope, receive, send):
        scope = dict(scope)
        scope["user"] = await _websocket_user(scope)
        return await super().__call__(scope, receive, send)


@database_sync_to_async
def _websocket_user(scope):
    from django_otp.middleware import is_verified
    from django_otp.models import Device

    user = scope.get("user")
    session = scope.get("session")
    if user is None or session is None or not user.is_authenticated or session_outlived(session):
        user = AnonymousUser()
    user = getattr(user, "_wrapped", user)  # channels' lazy wrapper, already resolved
    user.otp_device = None
    user.is_verified = partial(is_verified, user)
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if user.is_authenticated else None
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    if device is not None and device.user_id == user.pk and device.confirmed:
        user.otp_device = device
    return user
