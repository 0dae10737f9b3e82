"""A child's record: invite the second parent, hand over at majority, accept an invitation,
and the professional's "confidential from the parents" switch."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.access.policy import Action
from apps.access.refusals import refusal_shown
from apps.accounts.http import AuthenticatedHttpRequest
from apps.records import dependents, selectors
from apps.records.models import RecordInvitation


class InviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail address"))


@login_required
@require_http_methods(["GET", "POST"])
def family(request: AuthenticatedHttpRequest, record_uuid) -> HttpResponse:
    # A parent's page (policy.ACTION_BASES): anyone else, the owner included, reads "nothing here".
    record, _decision = selectors.record_get_for(
        actor=request.user, record_uuid=record_uuid, action=Action.RECORD_INVITE
    )
    parent_form = InviteForm(request.POST if request.POST.get("kind") == "second_parent" else None, prefix="parent")
    handover_form = InviteForm(request.POST if request.POST.get("kind") == "handover" else None, prefix="handover")
    status = 200
    if request.method == "POST":
        form, action = (
            (parent_form, dependents.second_parent_invite)
            if request.POST.get("kind") == "second_parent"
            else (handover_form, dependents.handover_invite)
        )
        if form.is_valid():
            with refusal_shown(request, form):
                action(actor=request.user, record=record, email=form.cleaned_data["email"])
                messages.success(request, _("The invitation is sent."))
                return redirect("record_family", record_uuid=record.uuid)
        status = 400
    return render(
        request,
        "records/family.html",
        {
            "record": record,
            "parent_form": parent_form,
            "handover_form": handover_form,
            "adult_on": dependents.coming_of_age(record.birth_date),
            "guardians": record.guardianships.active().select_related("guardian"),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def invitation(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    found = (
        RecordInvitation.objects.select_related("record", "created_by")
        .filter(token_hash=dependents._hash(token))
        .first()
    )
    if request.method == "POST":
        try:
            record = dependents.invitation_accept(user=request.user, token=token)
        except dependents.FamilyRefused as refusal:
            return render(
                request, "records/invitation.html", {"invitation": found, "error": refusal.message}, status=400
            )
        messages.success(request, _("Done: you can now open this record."))
        return redirect("record_detail", record_uuid=record.uuid)
    return render(request, "records/invitation.html", {"invitation": found, "error": ""}, status=200 if found else 404)


@login_required
@require_POST
def document_confidential(request: AuthenticatedHttpRequest, document_uuid) -> HttpResponse:
    confidential = request.POST.get("confidential") == "1"
    dependents.document_confidential_set(actor=request.user, document_uuid=document_uuid, confidential=confidential)
    messages.success(
        request,
        _("The parents no longer see this document.")
        if confidential
        else _("The parents can see this document again."),
    )
    return redirect("document_detail", document_uuid=document_uuid)
