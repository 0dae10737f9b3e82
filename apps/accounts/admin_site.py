"""The operators' admin site: reachable only after the second factor, entered through allauth.

Installed as Django's default admin site by ``OperatorAdminConfig`` (INSTALLED_APPS), so every
``admin.register`` lands here. TwoFactorMiddleware already sends an unverified operator to the
code page; this is the same rule held by the site itself, in case a path is ever left open.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse


class OperatorAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        is_verified = getattr(request.user, "is_verified", None)
        return super().has_permission(request) and callable(is_verified) and is_verified()

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        # The admin's own password form would skip allauth's lock-out and rate limits:
        # operators log in by the one door everyone uses, then give their code.
        # (Imported here: this module is loaded with INSTALLED_APPS, before the models.)
        from allauth.account.decorators import secure_admin_login

        return secure_admin_login(super().login)(request, extra_context)


class OperatorAdminConfig(AdminConfig):
    default_site = "apps.accounts.admin_site.OperatorAdminSite"
