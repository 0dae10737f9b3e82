"""The desk's forms: starting a mandate (scopes, duration, confirmation) and confirming it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.assistance.models import ConfirmationMethod, MandateScope

# What each scope lets the agent do, said plainly to the person (shown under each checkbox).
SCOPE_EXPLANATIONS = {
    MandateScope.ACCOUNT_HELP: _(
        "Help you open your account, choose a new password or set up your second factor again. "
        "They see your name and the state of your account, nothing medical."
    ),
    MandateScope.UPLOAD_DOCUMENTS: _("Add documents to your record for you. They cannot open your documents."),
    MandateScope.PRINT_SUMMARY: _("Print your health summary for you. They read it to print it."),
    MandateScope.READ_DOCUMENTS: _("Open and read your documents. Choose this only if you want them to."),
}

DURATIONS = [
    (1, _("1 day")),
    (7, _("1 week")),
    (30, _("1 month")),
    (91, _("3 months")),
    (182, _("6 months")),
    (365, _("12 months")),
]


class MandateStartForm(forms.Form):
    scopes = forms.MultipleChoiceField(
        label=_("What may you do for the person?"),
        choices=MandateScope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one thing you may do for the person.")},
    )
    days = forms.TypedChoiceField(label=_("For how long?"), choices=DURATIONS, coerce=int, initial=1)
    method = forms.ChoiceField(
        label=_("How does the person confirm?"),
        choices=ConfirmationMethod.choices,
        widget=forms.RadioSelect,
        initial=ConfirmationMethod.SIGNED_PAPER,
    )

    def scope_rows(self):
        """Each checkbox with its plain-language explanation, for the template."""
        return [(checkbox, SCOPE_EXPLANATIONS[MandateScope(checkbox.data["value"])]) for checkbox in self["scopes"]]


class MandateConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("The code the person received, or the number of the signed mandate"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class LetterCodeForm(forms.Form):
    """At home, the first step: what the printed letter says."""

    login_id = forms.CharField(
        label=_("Your login identifier"),
        max_length=60,
        help_text=_("It is printed on your letter, for example: marie.martin"),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}),
    )
    code = forms.CharField(
        label=_("The code on your letter"),
        max_length=20,
        help_text=_("10 letters and digits. Dashes and spaces do not matter."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "characters"}),
    )


class LetterPasswordForm(forms.Form):
    """The second step: the person's own password and, if they wish, an e-mail."""

    password1 = forms.CharField(
        label=_("Choose your password"),
        strip=False,
        help_text=_("At least 10 characters. A short sentence you remember is a good password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Type it again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    email = forms.EmailField(
        label=_("Your e-mail address (if you wish)"),
        required=False,
        help_text=_(
            "With an e-mail you can get a new password by yourself and be told when something happens. "
            "You can leave it empty."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("password1") and cleaned.get("password2") and cleaned["password1"] != cleaned["password2"]:
            self.add_error("password2", _("The two passwords are not the same. Type them again."))
        return cleaned


class LetterCurrentPasswordForm(forms.Form):
    """A second-factor reset: the person proves they know their own password."""

    password1 = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
