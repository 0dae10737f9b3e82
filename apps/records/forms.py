from typing import NotRequired

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.accounts.forms import Identity, IdentityFieldsMixin
from apps.records.models import ins_validator


class DependentIdentity(Identity):
    ins: str
    ins_system: NotRequired[str]


class DependentForm(IdentityFieldsMixin, forms.Form):
    ins = forms.CharField(
        label=_("National health identifier (INS), if you know it"),
        max_length=15,
        required=False,
        validators=[ins_validator],
        help_text=_("15 characters, on the child's health insurance certificate. You can leave it empty."),
    )

    def identity(self) -> DependentIdentity:
        return DependentIdentity(**super().identity(), ins=self.cleaned_data.get("ins", ""))
