from __future__ import annotations

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import SignupForm
from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.records.models import Sex, validate_birth_date


class IdentityFieldsMixin(forms.Form):
    """The identity of the person a record is about."""

    family_name = forms.CharField(label=_("Family name"), max_length=150)
    given_names = forms.CharField(label=_("Given names"), max_length=150)
    birth_date = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Format: YYYY-MM-DD"),
        validators=[validate_birth_date],
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices)

    def identity(self) -> dict[str, object]:
        return {key: self.cleaned_data[key] for key in ("family_name", "given_names", "birth_date", "sex")}


class PatientSignupForm(IdentityFieldsMixin, SignupForm):
    """Open sign-up creates a patient and their own record, together or not at all."""

    field_order = ["email", "password1", "password2", "given_names", "family_name", "birth_date", "sex"]

    def save(self, request) -> User:
        from apps.records.services import record_create_own

        with transaction.atomic():
            user = super().save(request)
            record_create_own(user=user, **self.identity())
        return user


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
        help_text=_("The 6-digit code from your authenticator app, or one of your backup codes."),
    )


class LoginForm(AllauthLoginForm):
    """E-mail, or the login identifier printed on an activation letter."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("E-mail or login identifier")
        self.fields["login"].widget.attrs["placeholder"] = self.fields["login"].label
        self.fields["login"].widget.attrs["autocomplete"] = "username"
