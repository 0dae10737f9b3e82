from django import forms
from django.utils.translation import gettext_lazy as _

from apps.accounts.forms import IdentityFieldsMixin
from apps.records.models import ins_validator


class DependentForm(IdentityFieldsMixin, forms.Form):
    ins = forms.CharField(
        label=_("National health identifier (INS), if you know it"),
        max_length=15,
        required=False,
        validators=[ins_validator],
        help_text=_("15 characters, on the child's health insurance certificate. You can leave it empty."),
    )

    def identity(self) -> dict[str, object]:
        return {**super().identity(), "ins": self.cleaned_data.get("ins", "")}
