"""The operators' side: accounts and structures only, never medical content, never a secret.

An operator must not be able to act as someone else: no API token, TOTP key or backup code is
shown (django-otp's and DRF's own admin pages are removed), a person's password and e-mail are
not changed here (those go through the person's own channels), and e-mail addresses are
read-only. What an operator needs is whether a second factor exists and when it was last used.
"""

from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import SupportStructure, User


def _unregister_secret_bearing_models() -> None:
    from django.apps import apps

    models = [TOTPDevice, StaticDevice]
    if apps.is_installed("rest_framework.authtoken"):
        from rest_framework.authtoken.models import Token, TokenProxy

        models += [Token, TokenProxy]
    for model in models:
        if admin.site.is_registered(model):
            admin.site.unregister(model)


_unregister_secret_bearing_models()


class OperatorUserCreationForm(BaseUserCreationForm):
    """How an operator creates a professional or a support agent (patients sign up themselves)."""

    class Meta:
        model = User
        fields = ("email", "display_name", "role", "rpps", "profession", "support_structure")


class OperatorUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = OperatorUserCreationForm
    form = OperatorUserChangeForm
    ordering = ["email"]
    list_display = ["email", "display_name", "role", "profession", "support_structure", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["email", "display_name", "rpps"]
    readonly_fields = ["uuid", "email", "second_factor", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["uuid", "email"]}),
        (_("Person"), {"fields": ["display_name", "role", "rpps", "profession", "support_structure"]}),
        (
            _("State"),
            {
                "fields": [
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "second_factor",
                    "otp_locked_until",
                    "date_joined",
                    "last_login",
                ]
            },
        ),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "email",
                    "display_name",
                    "role",
                    "rpps",
                    "profession",
                    "support_structure",
                    "password1",
                    "password2",
                ],
            },
        ),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        # The e-mail is typed once, at creation; changing it later would let an operator
        # receive the person's password-reset link.
        fields = list(super().get_readonly_fields(request, obj))
        return fields if obj is not None else [field for field in fields if field != "email"]

    @admin.display(description=_("two-step verification"))
    def second_factor(self, user: User) -> str:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).only("last_used_at").first()
        if device is None:
            return gettext("Off")
        if device.last_used_at is None:
            return gettext("On, never used yet")
        return gettext("On, last used %(when)s") % {"when": formats.date_format(device.last_used_at, "DATETIME_FORMAT")}

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        # An operator who sets a person's password can log in as them: people change their
        # password themselves, or reset it through their own e-mail.
        raise PermissionDenied


@admin.register(SupportStructure)
class SupportStructureAdmin(admin.ModelAdmin):
    list_display = ["name", "city"]
    search_fields = ["name", "city"]


if admin.site.is_registered(EmailAddress):
    admin.site.unregister(EmailAddress)


@admin.register(EmailAddress)
class ReadOnlyEmailAddressAdmin(EmailAddressAdmin):
    """Operators may check whether an address is verified; adding or changing one would let
    them receive the person's password-reset link."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: EmailAddress | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: EmailAddress | None = None) -> bool:
        return False
