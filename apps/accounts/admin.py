"""The operators' side: accounts and structures only, never medical content."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import SupportStructure, User


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
    readonly_fields = ["uuid", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["uuid", "email", "password"]}),
        (_("Person"), {"fields": ["display_name", "role", "rpps", "profession", "support_structure"]}),
        (
            _("State"),
            {"fields": ["is_active", "is_staff", "is_superuser", "otp_locked_until", "date_joined", "last_login"]},
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


@admin.register(SupportStructure)
class SupportStructureAdmin(admin.ModelAdmin):
    list_display = ["name", "city"]
    search_fields = ["name", "city"]
