"""The invitation form: an e-mail, what the caregiver may do, an optional end date."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.delegations.models import Scope

# What each scope lets the caregiver do, said plainly (shown under each checkbox).
SCOPE_EXPLANATIONS = {
    Scope.READ_DOCUMENTS: _("They can see the list of your documents and open them."),
    Scope.READ_PROFILE: _("They can read your medical profile: allergies, treatments, vaccinations, results."),
    Scope.UPLOAD_DOCUMENTS: _(
        "They can add documents to your record. They see the list of documents but cannot open them "
        "unless you also let them read documents."
    ),
    Scope.MANAGE_SETTINGS: _("They can read and change your privacy settings, but never choose another caregiver."),
    Scope.READ_HISTORY: _("They can read who opened your record, when and why."),
}


class DelegationInviteForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address of the caregiver"),
        help_text=_("They receive a link to accept. They need an account with this address."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("What may they do for you?"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one thing the caregiver may do.")},
    )
    ends_on = forms.DateField(
        label=_("Until (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The last day they may act for you. Leave it empty: until you end it."),
    )

    def clean_ends_on(self):
        ends_on = self.cleaned_data.get("ends_on")
        if ends_on is not None and ends_on < timezone.localdate():
            raise forms.ValidationError(_("The end date cannot be in the past."))
        return ends_on

    def expires_at(self) -> datetime | None:
        """The end of the chosen day (the start of the next one), in the local time zone."""
        ends_on = self.cleaned_data.get("ends_on")
        if ends_on is None:
            return None
        return timezone.make_aware(datetime.combine(ends_on + timedelta(days=1), time.min))

    def scope_rows(self):
        """Each checkbox with its plain-language explanation, for the template."""
        return [(checkbox, SCOPE_EXPLANATIONS[Scope(checkbox.data["value"])]) for checkbox in self["scopes"]]
