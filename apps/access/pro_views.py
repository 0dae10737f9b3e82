"""The professional's door: find a patient by exact identity, attest care, type an access code,
declare an emergency. Reading then uses the same record pages as the patient, read-only."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.access import services
from apps.records.models import Record, ins_validator
from apps.records.selectors import records_for


class FindPatientForm(forms.Form):
    ins = forms.CharField(
        label=gettext_lazy("National health identifier (INS)"),
        max_length=15,
        required=False,
        validators=[ins_validator],
    )
    family_name = forms.CharField(label=gettext_lazy("Family name"), max_length=150, required=False)
    given_name = forms.CharField(label=gettext_lazy("First given name"), max_length=150, required=False)
    birth_date = forms.DateField(
        label=gettext_lazy("Date of birth"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if not data.get("ins") and not (data.get("family_name") and data.get("given_name") and data.get("birth_date")):
            raise forms.ValidationError(
                _("Give the INS, or the family name, first given name and date of birth together.")
            )
        return data


class AccessCodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Access code given by the patient"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class EmergencyForm(forms.Form):
    justification = forms.CharField(
        label=gettext_lazy("Why is this an emergency?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=services.JUSTIFICATION_MIN,
        max_length=2000,
        help_text=gettext_lazy("The patient will read this. Emergency access lasts 12 hours."),
    )


def _professional(request: HttpRequest) -> None:
    if not request.user.is_professional:
        raise PermissionDenied


@login_required
def pro_home(request: HttpRequest) -> HttpResponse:
    _professional(request)
    return render(
        request,
        "access/pro_home.html",
        {
            "find_form": FindPatientForm(),
            "code_form": AccessCodeForm(initial={"code": request.GET.get("code", "")}),
            "records": records_for(actor=request.user),
        },
    )


@login_required
@require_POST
def pro_find(request: HttpRequest) -> HttpResponse:
    _professional(request)
    form = FindPatientForm(request.POST)
    record = None
    searched = False
    if form.is_valid():
        searched = True
        record = services.patient_find(
            professional=request.user,
            ins=form.cleaned_data["ins"],
            family_name=form.cleaned_data["family_name"],
            given_name=form.cleaned_data["given_name"],
            birth_date=form.cleaned_data["birth_date"],
        )
    return render(
        request,
        "access/pro_find.html",
        {"find_form": form, "record": record, "searched": searched, "emergency_form": EmergencyForm()},
        status=200 if form.is_valid() else 400,
    )


def _record_or_404(record_uuid) -> Record:
    record = Record.objects.filter(uuid=record_uuid).first()
    if record is None:
        from django.http import Http404

        raise Http404
    return record


@login_required
@require_POST
def pro_attest(request: HttpRequest, record_uuid) -> HttpResponse:
    _professional(request)
    decision = services.care_attest(professional=request.user, record=_record_or_404(record_uuid))
    if decision.allowed:
        return redirect("record_detail", record_uuid=record_uuid)
    messages.error(request, decision.reason)
    return redirect("pro_home")


@login_required
@require_POST
def pro_code(request: HttpRequest) -> HttpResponse:
    _professional(request)
    form = AccessCodeForm(request.POST)
    if form.is_valid():
        try:
            record, decision = services.access_code_redeem(professional=request.user, code=form.cleaned_data["code"])
        except services.AccessRefused as refusal:
            form.add_error("code", refusal.message)
        else:
            if decision and decision.allowed:
                return redirect("record_detail", record_uuid=record.uuid)
            form.add_error("code", decision.reason if decision else _("This code is not valid."))
    return render(
        request,
        "access/pro_home.html",
        {"find_form": FindPatientForm(), "code_form": form, "records": records_for(actor=request.user)},
        status=400,
    )


@login_required
@require_http_methods(["POST"])
def pro_emergency(request: HttpRequest, record_uuid) -> HttpResponse:
    _professional(request)
    record = _record_or_404(record_uuid)
    form = EmergencyForm(request.POST)
    if form.is_valid():
        decision = services.emergency_declare(
            professional=request.user, record=record, justification=form.cleaned_data["justification"]
        )
        if decision.allowed:
            messages.warning(request, _("Emergency access is open for 12 hours. The patient has been told."))
            return redirect("record_detail", record_uuid=record.uuid)
        messages.error(request, _("This patient has refused emergency access to their record."))
        return redirect("pro_home")
    return render(
        request,
        "access/pro_find.html",
        {"find_form": FindPatientForm(), "record": record, "searched": True, "emergency_form": form},
        status=400,
    )
