"""After login (and after the second factor): the person first sees what a support agent did to their
account; after "this wasn't me", they choose a new password before anything else."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from apps.assistance.review import NEW_PASSWORD_SESSION_KEY, REVIEW_SESSION_KEY

_OPEN_PREFIXES = ("/static/", "/healthz", "/manifest.webmanifest", "/i18n/", "/favicon")


class AccountActsReviewMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only the session is read: no query on ordinary requests.
        if request.user.is_authenticated and not request.path.startswith(_OPEN_PREFIXES):
            session = request.session
            if session.get(NEW_PASSWORD_SESSION_KEY):
                allowed = (
                    reverse("account_change_password"),
                    reverse("account_set_password"),
                    reverse("account_logout"),
                )
                if request.path not in allowed:
                    return redirect("account_change_password")
            elif session.get(REVIEW_SESSION_KEY) and request.path not in (
                reverse("account_acts_review"),
                reverse("account_logout"),
            ):
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                return redirect("account_acts_review")
        return self.get_response(request)
