"""The professional's door: find a patient by exact identity, attest care, type an access code,
declare an emergency. Reading then uses the same record pages as the patient, read-only."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from allauth.core import ratelimit
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.access.door import fetch
from apps.access.policy import Action
from apps.access.professional import services
from apps.access.refusals import RecordUnavailable
from apps.accounts.http import AuthenticatedHttpRequest
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

    def clean(self) -> dict[str, Any]:
        data = cast("dict[str, Any]", super().clean())  # Form.clean returns cleaned_data
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


def _professional(request: AuthenticatedHttpRequest) -> None:
    if not request.user.is_professional:
        raise PermissionDenied


@login_required
def pro_home(request: AuthenticatedHttpRequest) -> HttpResponse:
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
def pro_find(request: AuthenticatedHttpRequest) -> HttpResponse:
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


def _record_or_404(request: AuthenticatedHttpRequest, record_uuid: UUID, action: str) -> Record:
    # Only fetched: the service decides on the basis it is about to create (care, emergency).
    return fetch(request.user, Record, record_uuid, action)


@login_required
@require_POST
def pro_attest(request: AuthenticatedHttpRequest, record_uuid: UUID) -> HttpResponse:
    _professional(request)
    record = _record_or_404(request, record_uuid, Action.RECORD_VIEW)
    decision = services.care_attest(professional=request.user, record=record)
    if not decision.allowed:  # the person's choice reads like a missing record (the journal says which)
        raise RecordUnavailable(decision)
    return redirect("record_detail", record_uuid=record_uuid)


@login_required
@require_POST
def pro_code(request: AuthenticatedHttpRequest) -> HttpResponse:
    _professional(request)
    form = AccessCodeForm(request.POST)
    if form.is_valid() and not ratelimit.consume(request, action="access_code", key=str(request.user.uuid)):
        # Beside the per-professional lock-out of the service: one address guessing for many accounts.
        form.add_error("code", _("Too many codes were tried from your connection. Wait 10 minutes, then try again."))
    elif form.is_valid():
        try:
            record, decision = services.access_code_redeem(professional=request.user, code=form.cleaned_data["code"])
        except services.AccessRefused as refusal:
            form.add_error("code", refusal.message)
        else:
            if record is not None and decision and decision.allowed:
                return redirect("record_detail", record_uuid=record.uuid)
            # A valid code the person's settings refuse (a blocked professional) reads like a wrong one:
            # the reason is in the person's history, never told to the professional.
            form.add_error("code", _("This code is not valid. Check it with the patient."))
    return render(
        request,
        "access/pro_home.html",
        {"find_form": FindPatientForm(), "code_form": form, "records": records_for(actor=request.user)},
        status=400,
    )


@login_required
@require_http_methods(["POST"])
def pro_emergency(request: AuthenticatedHttpRequest, record_uuid: UUID) -> HttpResponse:
    _professional(request)
    record = _record_or_404(request, record_uuid, Action.RECORD_VIEW)
    form = EmergencyForm(request.POST)
    if form.is_valid():
        decision = services.emergency_declare(
            professional=request.user, record=record, justification=form.cleaned_data["justification"]
        )
        if not decision.allowed:  # says nothing of the person's choice: the same page as a missing record
            raise RecordUnavailable(decision)
        messages.warning(request, _("Emergency access is open for 12 hours. The patient has been told."))
        return redirect("record_detail", record_uuid=record.uuid)
    return render(
        request,
        "access/pro_find.html",
        {"find_form": FindPatientForm(), "record": record, "searched": True, "emergency_form": form},
        status=400,
    )
