"""Forms of the medical profile: they only read what was typed; the services decide what is accepted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.clinical.measurements import measurement_choices, unit_choices
from apps.clinical.models import FactKind

if TYPE_CHECKING:
    from apps.clinical.models import ClinicalFact

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _date(label) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=DATE_WIDGET)


class AllergyForm(forms.Form):
    kind = FactKind.ALLERGY
    title = _("Declare an allergy or intolerance")
    display = forms.CharField(
        label=_("Allergy or intolerance"), max_length=500, help_text=_("For example: penicillin, peanuts, lactose.")
    )
    detail = forms.CharField(
        label=_("Reaction"), max_length=500, required=False, help_text=_("What happens, how severe.")
    )
    effective_date = _date(_("Since (optional)"))


class ConditionForm(forms.Form):
    kind = FactKind.CONDITION
    title = _("Declare a condition or past illness")
    display = forms.CharField(label=_("Condition, illness or operation"), max_length=500)
    status = forms.ChoiceField(
        label=_("Is it still going on?"),
        choices=[("active", _("Yes, still going on")), ("resolved", _("No, it is over"))],
        required=False,
    )
    effective_date = _date(_("Since, or date (optional)"))
    detail = forms.CharField(label=_("Notes (optional)"), max_length=500, required=False)


class TreatmentForm(forms.Form):
    kind = FactKind.MEDICATION
    title = _("Declare a treatment")
    display = forms.CharField(label=_("Medicine or treatment"), max_length=500)
    detail = forms.CharField(label=_("Dose and how often (optional)"), max_length=500, required=False)
    status = forms.ChoiceField(
        label=_("Do you still take it?"),
        choices=[("active", _("Yes, I take it now")), ("stopped", _("No, I stopped"))],
        required=False,
    )
    effective_date = _date(_("Started on (optional)"))


class VaccinationForm(forms.Form):
    kind = FactKind.IMMUNIZATION
    title = _("Declare a vaccination")
    display = forms.CharField(label=_("Vaccine"), max_length=500, help_text=_("For example: tetanus, influenza."))
    effective_date = _date(_("Date"))
    detail = forms.CharField(label=_("Dose or batch (optional)"), max_length=500, required=False)


class MeasurementForm(forms.Form):
    kind = FactKind.OBSERVATION
    title = _("Add a measurement")
    code = forms.ChoiceField(label=_("Measurement"), choices=measurement_choices)
    # Text, not a number field: "72,5" is how many people write it; the service reads both.
    value = forms.CharField(label=_("Value"), max_length=30, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    unit = forms.ChoiceField(label=_("Unit"), choices=unit_choices)
    effective_date = _date(_("Date"))


DECLARE_FORMS: dict[str, type[forms.Form]] = {
    form.kind: form for form in (AllergyForm, ConditionForm, TreatmentForm, VaccinationForm, MeasurementForm)
}


def declare_form(kind: str, data: Any = None, *, initial: dict[str, Any] | None = None) -> forms.Form:
    # The kind as prefix: five forms on one page keep distinct field ids.
    return DECLARE_FORMS[kind](data, initial=initial, prefix=kind)


def edit_form(fact: ClinicalFact, data: Any = None) -> forms.Form:
    initial = {
        "display": fact.display,
        "detail": fact.detail,
        "status": fact.status,
        "effective_date": fact.effective_date,
        "code": fact.code,
        "value": f"{fact.value_decimal.normalize():f}" if fact.value_decimal is not None else "",
        "unit": fact.unit,
    }
    return declare_form(fact.kind, data, initial=initial)


class RectificationForm(forms.Form):
    reason = forms.CharField(
        label=_("What is wrong?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Your note is kept with this information and shown to the professionals who read it."),
    )
