from __future__ import annotations

from datetime import date
from typing import TypedDict

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import SignupForm
from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.records.models import Sex, validate_birth_date


class Identity(TypedDict):
    """Who a record is about, as ``record_create_own`` and ``dependent_create`` take it."""

    family_name: str
    given_names: str
    birth_date: date
    sex: str


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

    def identity(self) -> Identity:
        data = self.cleaned_data
        return Identity(
            family_name=data["family_name"],
            given_names=data["given_names"],
            birth_date=data["birth_date"],
            sex=data["sex"],
        )


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
