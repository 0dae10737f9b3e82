"""Request types for views that only a logged-in person reaches."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from apps.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind ``@login_required`` or ``LoginRequiredMixin``: its user is a
    ``User``, never ``AnonymousUser``. An annotation only: Django still builds a plain HttpRequest."""

    user: User


class AuthenticatedRequest(Request):
    """DRF's request in an API view whose permission classes require a logged-in user. An
    annotation only: DRF still builds a plain Request."""

    if TYPE_CHECKING:

        @property
        def user(self) -> User: ...

        @user.setter
        def user(self, value: User) -> None: ...
