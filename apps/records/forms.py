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


class CareDateField(forms.DateField):
    """A date of care a person gives: optional, a calendar in the browser; whether it can be right
    (not in the future, not before the birth date) is the documents service's to say."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", _("Date of care (optional)"))
        kwargs.setdefault(
            "help_text",
            _(
                "The day of the consultation, exam or test. Leave it empty if the document says it "
                "or if you do not know."
            ),
        )
        super().__init__(required=False, widget=forms.DateInput(attrs={"type": "date"}), **kwargs)


class UploadForm(forms.Form):
    """The fields sent with the files (the files themselves are read from request.FILES)."""

    care_date = CareDateField()
